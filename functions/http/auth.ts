import { errors as joseErrors, jwtVerify, type CryptoKey, type JWTVerifyGetKey, type KeyObject } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { DEFAULT_CLAIM_NAMES, principalFromClaims, type ClaimNames } from '../core/access/principal.js';
import type { DependencyProvider } from '../handlers/handler-kit.js';
import { RequestAccess } from './access.js';
import type { ApiEnv } from './env.js';
import { ApiRefusal } from './errors.js';

/** Verified claims of a bearer token, or a thrown refusal. */
export type TokenVerifier = (token: string) => Promise<Record<string, unknown>>;

/**
 * Where the caller's claims come from. `authorizer`: API Gateway's JWT
 * authorizer verified the token and put its claims in the event (AWS).
 * `bearer`: the app verifies the `Authorization` header itself (the local
 * server, tests). Either way the same `principalFromClaims` reads them.
 */
export type PrincipalSource = { readonly kind: 'authorizer' } | { readonly kind: 'bearer'; readonly verify: TokenVerifier };

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** A public key, or a key set (e.g. jose's `createRemoteJWKSet` for an OIDC issuer). */
  readonly key: CryptoKey | KeyObject | JWTVerifyGetKey;
  /** @default ['ES256', 'RS256'] */
  readonly algorithms?: readonly string[];
}

/** What a token that does not pass is told: enough to fix it, nothing about the key. */
function tokenProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted here`;
  return 'the token is not a valid signed token from this API\'s issuer';
}

/** Checks what API Gateway's JWT authorizer checks: signature, issuer, audience, expiry. An unsigned (`alg: none`) token never passes. */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const verifyOptions = { issuer: options.issuer, audience: options.audience, algorithms: [...(options.algorithms ?? ['ES256', 'RS256'])], requiredClaims: ['exp', 'sub'] };
  const key = options.key;
  return async (token) => {
    try {
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      return payload;
    } catch (error) {
      throw new ApiRefusal('UNAUTHENTICATED', tokenProblem(error));
    }
  };
}

/** The claims API Gateway's HTTP API JWT authorizer leaves in the event it hands the Lambda. */
export function authorizerClaims(event: unknown): Record<string, unknown> | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const requestContext: unknown = Reflect.get(event, 'requestContext');
  if (typeof requestContext !== 'object' || requestContext === null) return undefined;
  const authorizer: unknown = Reflect.get(requestContext, 'authorizer');
  if (typeof authorizer !== 'object' || authorizer === null) return undefined;
  const jwt: unknown = Reflect.get(authorizer, 'jwt');
  if (typeof jwt !== 'object' || jwt === null) return undefined;
  const claims: unknown = Reflect.get(jwt, 'claims');
  return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,8192})$/i;

async function claimsOf(source: PrincipalSource, authorization: string | undefined, event: unknown): Promise<Record<string, unknown>> {
  if (source.kind === 'authorizer') {
    const claims = authorizerClaims(event);
    if (!claims) throw new ApiRefusal('UNAUTHENTICATED', 'the request carries no verified token');
    return claims;
  }
  if (authorization === undefined) throw new ApiRefusal('UNAUTHENTICATED', 'send a bearer token: Authorization: Bearer <token>');
  const token = BEARER.exec(authorization.trim())?.[1];
  if (token === undefined) throw new ApiRefusal('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
  return source.verify(token);
}

/**
 * Who is calling, before anything else runs: no or a bad token is 401, a
 * token that grants no Nightshift role is 403. The request's dependencies and
 * access checks are set up here, once.
 */
export function authenticate(source: PrincipalSource, provide: DependencyProvider, claimNames: ClaimNames = DEFAULT_CLAIM_NAMES): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    // hono/aws-lambda hands the event over as `c.env.event`; elsewhere there is no env at all
    const env = c.env as ApiEnv['Bindings'] | undefined;
    const claims = await claimsOf(source, c.req.header('authorization'), env?.event);
    const result = principalFromClaims(claims, claimNames);
    if (!result.ok) throw new ApiRefusal('FORBIDDEN', result.reason);
    const deps = provide();
    c.set('principal', result.principal);
    c.set('deps', deps);
    c.set('access', new RequestAccess(result.principal, deps));
    await next();
  };
}
