import { serve, type ServerType } from '@hono/node-server';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_CLAIM_NAMES, ROLE_GROUPS, type Role } from '../functions/core/access/principal.js';
import { pricingFromEnvironment } from '../functions/adapters/pricing-config.js';
import { createApiApp } from '../functions/http/app.js';
import { createJwtVerifier, type TokenVerifier } from '../functions/http/auth.js';
import type { LocalRuntime } from './runtime.js';

/** The local issuer and audience: a token from here is refused by a deployed API, and the other way round. */
export const LOCAL_ISSUER = 'https://nightshift.local/issuer';
export const LOCAL_AUDIENCE = 'nightshift-local-api';
const ALGORITHM = 'ES256';
/** Long enough for a working week of `npm start` restarts (the key is kept in the data folder); short enough that a copied token goes stale. */
const DEV_TOKEN_SECONDS = 7 * 86_400;

export interface DevTokenClaims {
  readonly role: Role;
  /** Required for a Viewer. */
  readonly tenantId?: string;
  /** @default `local-<role>` */
  readonly subject?: string;
  /** @default `<role>@nightshift.local` */
  readonly email?: string;
  /** @default 7 days */
  readonly expiresInSeconds?: number;
  /** Replaces the role's group (a test's token in no Nightshift group). */
  readonly groups?: readonly string[];
}

/** The local stand-in for an OIDC issuer: one ES256 key that signs dev tokens, and the verifier the API checks them with. */
export interface LocalSigner {
  readonly verify: TokenVerifier;
  mintDevToken(claims: DevTokenClaims): Promise<string>;
}

interface StoredKey {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

async function loadOrCreateKey(dataDir: string | undefined): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const file = dataDir === undefined ? undefined : path.join(dataDir, 'api', 'signing-key.json');
  if (file !== undefined) {
    const stored = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as StoredKey,
      () => undefined,
    );
    if (stored) {
      return {
        privateKey: (await importJWK(stored.privateJwk, ALGORITHM)) as CryptoKey,
        publicKey: (await importJWK(stored.publicJwk, ALGORITHM)) as CryptoKey,
      };
    }
  }
  const pair = await generateKeyPair(ALGORITHM, { extractable: true });
  if (file !== undefined) {
    await mkdir(path.dirname(file), { recursive: true });
    const stored: StoredKey = { privateJwk: await exportJWK(pair.privateKey), publicJwk: await exportJWK(pair.publicKey) };
    // the private key signs Admin tokens: readable by this user only
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
  }
  return pair;
}

/** A signer whose key lives under `dataDir` when given (tokens survive restarts), or only in memory. */
export async function createLocalSigner(dataDir?: string): Promise<LocalSigner> {
  const { privateKey, publicKey } = await loadOrCreateKey(dataDir);
  return {
    verify: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, key: publicKey, algorithms: [ALGORITHM] }),
    mintDevToken: (claims) =>
      new SignJWT({
        email: claims.email ?? `${claims.role.toLowerCase()}@nightshift.local`,
        [DEFAULT_CLAIM_NAMES.groups]: claims.groups ?? [ROLE_GROUPS[claims.role]],
        ...(claims.tenantId === undefined ? {} : { [DEFAULT_CLAIM_NAMES.tenant]: claims.tenantId }),
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(claims.subject ?? `local-${claims.role.toLowerCase()}`)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${claims.expiresInSeconds ?? DEV_TOKEN_SECONDS}s`)
        .sign(privateKey),
  };
}

export interface ApiServerOptions {
  /** 0 (the default) takes any free port. */
  readonly port?: number;
  /** Where the signing key is kept; the runtime's data folder when absent. */
  readonly dataDir?: string;
}

export interface ApiServer {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` (routes are under `/v1`). */
  readonly url: string;
  /** An Admin token for the local issuer. */
  readonly devToken: string;
  mintDevToken(claims: DevTokenClaims): Promise<string>;
  close(): Promise<void>;
}

/**
 * The operator API on a local port: the same app the `api` Lambda serves,
 * with the `api` handler's dependencies (only the ports it declares) and the
 * same principal mapping; only the token check differs, done here by the
 * local signer's key instead of API Gateway's authorizer. Listens on
 * 127.0.0.1 only: the dev token is an Admin's.
 */
export async function startApiServer(runtime: Pick<LocalRuntime, 'dataDir' | 'handlerDependencies' | 'setLinkBaseUrl'>, options: ApiServerOptions = {}): Promise<ApiServer> {
  const signer = await createLocalSigner(options.dataDir ?? runtime.dataDir);
  const deps = runtime.handlerDependencies('api');
  const app = createApiApp(() => deps, { principal: { kind: 'bearer', verify: signer.verify }, pricing: pricingFromEnvironment(process.env) });
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ server: started, port: info.port });
    });
    started.once('error', reject);
  });
  // the end-user link pages are served here too: links the runtime mails from now on point at them
  runtime.setLinkBaseUrl(`http://127.0.0.1:${port}`);
  return {
    url: `http://127.0.0.1:${port}`,
    devToken: await signer.mintDevToken({ role: 'Admin' }),
    mintDevToken: (claims) => signer.mintDevToken(claims),
    close: () =>
      new Promise<void>((resolve, reject) => {
        // keep-alive connections of a client that is done would hold close() open
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
