import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { createHandler, claimNamesFrom } from '../../functions/handlers/api.js';
import { fakeLambdaContext } from '../../local/lambda-context.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../local/api-server.js';
import { apiHarness, type ApiHarness } from './support.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await apiHarness();
});
afterAll(async () => {
  await api.close();
});

const me = async (authorization: string | undefined) => {
  const response = await api.app.request('/v1/me', { headers: authorization === undefined ? {} : { authorization } });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
};

const signWith = async (claims: Record<string, unknown>, options: { issuer?: string; audience?: string; expiresAt?: number } = {}) => {
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject('intruder')
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setExpirationTime(options.expiresAt ?? '1h')
    .sign(privateKey);
};

describe('who is calling: tokens the local verifier checks as API Gateway does', () => {
  it('answers a valid token with its principal (proves the happy path)', async () => {
    const response = await me(`Bearer ${await api.token('ViewerEast')}`);
    expect(response).toEqual({ status: 200, body: { subject: 'local-viewer', name: 'viewer@nightshift.local', role: 'Viewer', tenantId: 'acme-east' } });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a scheme other than Bearer', 'Basic YWRtaW46YWRtaW4='],
    ['an empty bearer', 'Bearer '],
    ['garbage', 'Bearer not.a.token'],
  ])('refuses %s with 401 UNAUTHENTICATED (proves no token, no answer)', async (_name, authorization) => {
    const response = await me(authorization);
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed by another key, an unsigned one, and ones for another issuer or audience (proves forged tokens fail)', async () => {
    const admin = { 'cognito:groups': ['nightshift-admin'] };
    const forged = await signWith(admin);
    const unsigned = new UnsecuredJWT(admin).setSubject('intruder').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').encode();
    for (const token of [forged, unsigned]) {
      const response = await me(`Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.body.error?.code).toBe('UNAUTHENTICATED');
    }
    // a token of the right key but the wrong issuer or audience is as good as forged
    const ours = await api.signer.mintDevToken({ role: 'Admin' });
    const [header = '', payload = '', signature = ''] = ours.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const retargeted = Buffer.from(JSON.stringify({ ...claims, aud: 'someone-else' })).toString('base64url');
    expect((await me(`Bearer ${header}.${retargeted}.${signature}`)).status).toBe(401);
  });

  it('refuses an expired token with 401 saying so (proves expiry is checked)', async () => {
    const expired = await api.signer.mintDevToken({ role: 'Admin', expiresInSeconds: -60 });
    const response = await me(`Bearer ${expired}`);
    expect(response).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'the token has expired' } } });
  });

  it('refuses a valid token in no Nightshift group, or a viewer token naming no tenant, with 403 FORBIDDEN (proves authenticated is not authorized)', async () => {
    for (const token of [await api.signer.mintDevToken({ role: 'Admin', groups: ['staff'] }), await api.signer.mintDevToken({ role: 'Viewer' })]) {
      const response = await me(`Bearer ${token}`);
      expect(response.status).toBe(403);
      expect(response.body.error?.code).toBe('FORBIDDEN');
    }
  });

  it('keeps /healthz and /openapi.json open (proves the documented exceptions)', async () => {
    expect((await api.app.request('/healthz')).status).toBe(200);
    expect((await api.app.request('/openapi.json')).status).toBe(200);
  });
});

describe('the Lambda entry: the same app behind API Gateway, principal from the authorizer claims', () => {
  const event = (claims: Record<string, string> | undefined, path = '/v1/me') => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '23/Nov/2026:09:00:00 +0000',
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    isBase64Encoded: false,
  });

  it('reads the claims API Gateway flattened (`[a b]` groups) into the same principal (proves both runtimes agree)', async () => {
    const handler = createHandler(() => api.runtime.handlerDependencies('api'));
    const claims = { sub: 'u-9', email: 'tech@msp.example', 'cognito:groups': '[nightshift-technician staff]' };
    const result = (await handler(event(claims), fakeLambdaContext('nightshift-api'))) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ subject: 'u-9', name: 'tech@msp.example', role: 'Technician' });
  });

  it('answers 401 in the envelope when the event carries no authorizer claims (proves a misrouted request is refused)', async () => {
    const handler = createHandler(() => api.runtime.handlerDependencies('api'));
    const result = (await handler(event(undefined), fakeLambdaContext('nightshift-api'))) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('takes the claim names from API_GROUPS_CLAIM and API_TENANT_CLAIM (proves another issuer is configuration)', () => {
    expect(claimNamesFrom({})).toEqual({ groups: 'cognito:groups', tenant: 'custom:tenantId' });
    expect(claimNamesFrom({ API_GROUPS_CLAIM: 'roles', API_TENANT_CLAIM: 'tid' })).toEqual({ groups: 'roles', tenant: 'tid' });
  });
});
