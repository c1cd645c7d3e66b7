import { describe, expect, it } from 'vitest';
import { parseConsoleConfig } from '../../console/src/auth/config.js';

/**
 * How the console learns to sign in: `/config.json`, written by the local
 * server (local) or at deploy time (the issuer and public client). Anything
 * it cannot use leaves the token form, never a console no one can enter.
 */
describe('parseConsoleConfig', () => {
  it('reads the local server’s and a deployment’s sign-in', () => {
    expect(parseConsoleConfig({ auth: { kind: 'local' } })).toEqual({ auth: { kind: 'local' } });
    expect(parseConsoleConfig({ auth: { kind: 'oidc', authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC', clientId: 'abc123', token: 'id_token' } })).toEqual({
      auth: { kind: 'oidc', authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC', clientId: 'abc123', token: 'id_token' },
    });
  });

  it('takes the ID token unless told the API wants the access token, and keeps a scope it is given', () => {
    expect(parseConsoleConfig({ auth: { kind: 'oidc', authority: 'https://login.example.com', clientId: 'c' } })).toMatchObject({ auth: { token: 'id_token' } });
    expect(parseConsoleConfig({ auth: { kind: 'oidc', authority: 'https://login.example.com', clientId: 'c', token: 'access_token', scope: 'openid api' } })).toMatchObject({ auth: { token: 'access_token', scope: 'openid api' } });
  });

  it('falls back to pasting a token for a missing, malformed or incomplete config', () => {
    for (const config of [undefined, null, 'local', {}, { auth: null }, { auth: { kind: 'saml' } }, { auth: { kind: 'oidc', authority: 'https://login.example.com' } }, { auth: { kind: 'oidc', authority: '', clientId: 'c' } }]) {
      expect(parseConsoleConfig(config)).toEqual({ auth: { kind: 'token' } });
    }
  });
});
