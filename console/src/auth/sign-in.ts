import type { UserManager } from 'oidc-client-ts';
import type { ConsoleAuth, ConsoleConfig } from './config.js';
import { tokenStore } from './token-store.js';

/**
 * Signing in, before the app renders:
 *
 * - local: the URL `npm start` prints ends in `#sign-in=<code>`. The fragment
 *   never reaches a server or a log; it is taken off the address bar at once
 *   and the code is exchanged (POST, same origin) for a short-lived token.
 *   The code only works at that loopback server while it runs.
 * - oidc: authorization code with PKCE (oidc-client-ts) against the issuer
 *   the API trusts, with the same public client as the CLI; the issuer sends
 *   the browser back to `/callback`.
 */

/** The local server's exchange (local/api-server.ts). */
const LOCAL_SIGN_IN_PATH = '/local/sign-in';
const SIGN_IN_FRAGMENT = /^#sign-in=([A-Za-z0-9_-]{16,256})$/;
export const OIDC_CALLBACK_PATH = '/callback';

/** oidc-client-ts is loaded only where an issuer is configured: the local console never downloads it. */
async function userManager(auth: Extract<ConsoleAuth, { kind: 'oidc' }>): Promise<UserManager> {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const origin = globalThis.location.origin;
  return new UserManager({
    authority: auth.authority,
    client_id: auth.clientId,
    redirect_uri: `${origin}${OIDC_CALLBACK_PATH}`,
    post_logout_redirect_uri: `${origin}/`,
    response_type: 'code',
    scope: auth.scope ?? 'openid email profile',
    // the console keeps its own copy of the token (token-store); the library's state lives as long as the tab
    userStore: new WebStorageStateStore({ store: globalThis.sessionStorage }),
    stateStore: new WebStorageStateStore({ store: globalThis.sessionStorage }),
    loadUserInfo: false,
    automaticSilentRenew: false,
  });
}

async function exchangeLocalCode(code: string): Promise<void> {
  try {
    const response = await fetch(LOCAL_SIGN_IN_PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
    const body: unknown = await response.json();
    if (response.ok && typeof body === 'object' && body !== null && 'token' in body && typeof body.token === 'string') tokenStore.signIn(body.token);
    else tokenStore.clear('That sign-in link is not valid for this server (it changes each time npm start runs). Open the console: URL it printed last.');
  } catch {
    tokenStore.clear('The local server did not answer the sign-in. Is npm start still running?');
  }
}

/** Finishes a sign-in the address carries (a local code, or the issuer's redirect back); does nothing otherwise. */
export async function completeSignIn(config: ConsoleConfig): Promise<void> {
  const { location, history } = globalThis;
  const local = SIGN_IN_FRAGMENT.exec(location.hash);
  if (local?.[1] !== undefined) {
    // off the address bar (and out of what a screenshot or a copied URL shows) before anything else
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    if (config.auth.kind === 'local') await exchangeLocalCode(local[1]);
    return;
  }
  if (config.auth.kind === 'oidc' && location.pathname === OIDC_CALLBACK_PATH) {
    const auth = config.auth;
    try {
      const user = await (await userManager(auth)).signinRedirectCallback();
      const token = auth.token === 'access_token' ? user.access_token : user.id_token;
      if (token === undefined || token === '') throw new Error(`the issuer sent no ${auth.token ?? 'id_token'}`);
      tokenStore.signIn(token);
      const back = typeof user.state === 'string' && user.state.startsWith('/') && !user.state.startsWith('//') ? user.state : '/';
      history.replaceState(null, '', back);
    } catch (error) {
      tokenStore.clear(`Sign-in did not complete: ${error instanceof Error ? error.message : 'the issuer refused it'}.`);
      history.replaceState(null, '', '/');
    }
  }
}

/** Sends the browser to the issuer's sign-in page; it comes back to `returnTo`. */
export async function beginOidcSignIn(auth: Extract<ConsoleAuth, { kind: 'oidc' }>, returnTo: string): Promise<void> {
  await (await userManager(auth)).signinRedirect({ state: returnTo });
}

/** Forgets the token here; with an issuer, its session too where it says how (Cognito's discovery does not). */
export async function signOut(config: ConsoleConfig): Promise<void> {
  tokenStore.clear();
  if (config.auth.kind !== 'oidc') return;
  const manager = await userManager(config.auth);
  await manager.removeUser();
  const metadata = await manager.metadataService.getMetadata().catch(() => undefined);
  if (metadata?.end_session_endpoint !== undefined) await manager.signoutRedirect();
}
