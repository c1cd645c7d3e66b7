import { useRouteContext } from '@tanstack/react-router';
import { useId, useState, type SubmitEvent } from 'react';
import { beginOidcSignIn } from '../auth/sign-in.js';
import { tokenExpiry, tokenStore } from '../auth/token-store.js';
import { usePageTitle } from './page-title.js';

/**
 * Signed out: sign in with the issuer (a deployment), or open the console
 * URL `npm start` printed (locally); a bearer token (as the CLI's login takes)
 * can always be pasted.
 */
export function SignInPage({ notice }: { readonly notice: string | undefined }) {
  usePageTitle('Sign in');
  const { config } = useRouteContext({ from: '__root__' });
  const id = useId();
  const [problem, setProblem] = useState<string>();
  const auth = config.auth;
  const paste = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = new FormData(event.currentTarget).get('token');
    const token = typeof value === 'string' ? value.trim() : '';
    if (tokenExpiry(token) === undefined) {
      setProblem('That is not a bearer token (a JWT with an expiry).');
      return;
    }
    tokenStore.signIn(token);
  };
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Nightshift</h1>
      {notice === undefined ? null : (
        <p role="alert" className="problem">
          {notice}
        </p>
      )}
      {auth.kind === 'oidc' ? (
        <p>
          <button type="button" onClick={() => void beginOidcSignIn(auth, `${location.pathname}${location.search}`)}>
            Sign in
          </button>
        </p>
      ) : null}
      {auth.kind === 'local' ? (
        <p>
          Open the <code>console:</code> address that <code>npm start</code> printed: it signs you in as the local MSP admin.
        </p>
      ) : null}
      <form onSubmit={paste} className="token-form">
        <label htmlFor={`${id}-token`}>Or paste a bearer token</label>
        <textarea id={`${id}-token`} name="token" rows={4} spellCheck={false} autoComplete="off" aria-describedby={problem === undefined ? undefined : `${id}-problem`} />
        {problem === undefined ? null : (
          <p id={`${id}-problem`} className="field-problem">
            {problem}
          </p>
        )}
        <button type="submit">Sign in with this token</button>
      </form>
    </main>
  );
}
