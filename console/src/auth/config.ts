/**
 * How this console signs people in, read at start from `/config.json` next
 * to the app: the local server answers `local` (the printed console URL
 * carries a sign-in code); a deployment writes `oidc` with its issuer and
 * the public client the CLI uses. Without a config a token can be pasted.
 */
export type ConsoleAuth =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'oidc';
      /** The issuer, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf`. */
      readonly authority: string;
      readonly clientId: string;
      /** @default 'openid email profile' */
      readonly scope?: string;
      /** Which token the API takes: Cognito's API takes the ID token (it carries the groups). @default 'id_token' */
      readonly token?: 'id_token' | 'access_token';
    }
  | { readonly kind: 'token' };

export interface ConsoleConfig {
  readonly auth: ConsoleAuth;
}

const TOKEN_ONLY: ConsoleConfig = { auth: { kind: 'token' } };

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** A config as served, or `token` (paste a token) for anything else: a missing or malformed file must not lock people out. */
export function parseConsoleConfig(json: unknown): ConsoleConfig {
  if (typeof json !== 'object' || json === null || !('auth' in json)) return TOKEN_ONLY;
  const auth: unknown = json.auth;
  if (typeof auth !== 'object' || auth === null || !('kind' in auth)) return TOKEN_ONLY;
  if (auth.kind === 'local') return { auth: { kind: 'local' } };
  if (auth.kind === 'oidc' && 'authority' in auth && 'clientId' in auth && isString(auth.authority) && isString(auth.clientId)) {
    const scope = 'scope' in auth && isString(auth.scope) ? auth.scope : undefined;
    const token = 'token' in auth && auth.token === 'access_token' ? 'access_token' : 'id_token';
    return { auth: { kind: 'oidc', authority: auth.authority, clientId: auth.clientId, token, ...(scope === undefined ? {} : { scope }) } };
  }
  return TOKEN_ONLY;
}

export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  try {
    // its server says how long it may be kept (the local server: not at all)
    const response = await fetch('/config.json', { headers: { Accept: 'application/json' } });
    return response.ok ? parseConsoleConfig(await response.json()) : TOKEN_ONLY;
  } catch {
    return TOKEN_ONLY;
  }
}
