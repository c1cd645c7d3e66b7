import { serve, type ServerType } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_CLAIM_NAMES, ROLE_GROUPS, type Role } from '../functions/core/access/principal.js';
import { pricingFromEnvironment } from '../functions/adapters/pricing-config.js';
import { createApiApp } from '../functions/http/app.js';
import { createJwtVerifier, type TokenVerifier } from '../functions/http/auth.js';
import { REPO_ROOT, type LocalRuntime } from './runtime.js';

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

/** Where `npm run build:console` writes the operator console (console/vite.config.ts). */
export const CONSOLE_DIST_DIR = path.join(REPO_ROOT, 'console', 'dist');
/** A console sign-in lasts a working day; opening the printed URL again signs in again. */
const CONSOLE_TOKEN_SECONDS = 12 * 3_600;
/** The console's local sign-in (console/src/auth/sign-in.ts): the printed URL's code for a token. */
const CONSOLE_SIGN_IN_PATH = '/local/sign-in';

export interface ApiServerOptions {
  /** 0 (the default) takes any free port. */
  readonly port?: number;
  /** Where the signing key is kept; the runtime's data folder when absent. */
  readonly dataDir?: string;
  /** The built console to serve at `/`. @default CONSOLE_DIST_DIR */
  readonly consoleDir?: string;
}

export interface ApiServer {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` (routes are under `/v1`). */
  readonly url: string;
  /** An Admin token for the local issuer. */
  readonly devToken: string;
  /**
   * The operator console, signed in as the local Admin on opening:
   * `<url>/#sign-in=<code>`. The code is made when the server starts, works
   * only at this server while it runs, and is exchanged for a 12-hour token;
   * the fragment never reaches a server or a log, and the page takes it off
   * the address bar at once.
   */
  readonly consoleUrl: string;
  mintDevToken(claims: DevTokenClaims): Promise<string>;
  close(): Promise<void>;
}

/** The first segment of each path the API app routes (`/v1`, `/l`, `/openapi.json`, …): everything else is the console's. */
function apiRoots(app: { readonly routes: readonly { readonly path: string }[] }): ReadonlySet<string> {
  const roots = app.routes.map((route) => `/${route.path.split('/')[1] ?? ''}`).filter((root) => root !== '/' && !/[*:]/.test(root));
  return new Set(roots);
}

const rootOf = (pathname: string): string => `/${pathname.split('/')[1] ?? ''}`;

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
};

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nightshift console not built</title></head>
<body><h1>The console is not built</h1><p>Run <code>npm run build:console</code> (npm start, npm run demo and npm test do it first), then reload.</p></body></html>`;

/**
 * The operator console, next to the API on the same origin (no CORS): the
 * static files Vite built, `index.html` for every other path (the console
 * routes in the browser), its sign-in config, and the exchange of the
 * printed URL's code for a token. Strict security headers: the console runs
 * only its own scripts and talks only to its own origin.
 */
function consoleSite(options: { readonly dir: string; readonly signInCode: string; mintToken: () => Promise<string> }): Hono {
  const site = new Hono();
  site.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // as CloudFront sends it (infra/console-hosting.ts): the branding preview's sandboxed srcdoc frame inherits this
        // policy, and an email's styles are inline by necessity; scripts stay 'self' only
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'https:', 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
    }),
  );
  site.get('/config.json', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ auth: { kind: 'local' } });
  });
  site.post(CONSOLE_SIGN_IN_PATH, async (c) => {
    c.header('Cache-Control', 'no-store');
    const body: unknown = await c.req.json().catch(() => undefined);
    const code = typeof body === 'object' && body !== null && 'code' in body && typeof body.code === 'string' ? body.code : undefined;
    if (code === undefined || !sameSecret(code, options.signInCode)) {
      return c.json({ error: { code: 'UNAUTHENTICATED', message: "the sign-in code is not this server's" } }, 401);
    }
    return c.json({ token: await options.mintToken() });
  });
  const indexFile = path.join(options.dir, 'index.html');
  site.use(
    '*',
    serveStatic({
      root: options.dir,
      onFound: (found, c) => {
        // Vite names built assets by their content: they never change under a name
        c.header('Cache-Control', found.startsWith(path.join(options.dir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  site.get('*', async (c, next) => {
    // a missing file (an asset of an older build) is a 404, not the app in its place
    if (/\.[^/]*$/.test(c.req.path)) return c.text('not found', 404);
    if (!existsSync(indexFile)) return c.html(NOT_BUILT_PAGE, 503);
    c.header('Cache-Control', 'no-cache');
    return serveStatic({ path: indexFile })(c, next);
  });
  return site;
}

/**
 * The operator API on a local port: the same app the `api` Lambda serves,
 * with the `api` handler's dependencies (only the ports it declares) and the
 * same principal mapping; only the token check differs, done here by the
 * local signer's key instead of API Gateway's authorizer. The operator
 * console is served beside it, on the same origin. Listens on 127.0.0.1
 * only: the dev token is an Admin's.
 */
export async function startApiServer(runtime: Pick<LocalRuntime, 'dataDir' | 'handlerDependencies' | 'setLinkBaseUrl'>, options: ApiServerOptions = {}): Promise<ApiServer> {
  const signer = await createLocalSigner(options.dataDir ?? runtime.dataDir);
  const deps = runtime.handlerDependencies('api');
  const app = createApiApp(() => deps, { principal: { kind: 'bearer', verify: signer.verify }, pricing: pricingFromEnvironment(process.env) });
  const signInCode = randomBytes(32).toString('base64url');
  const site = consoleSite({
    dir: options.consoleDir ?? CONSOLE_DIST_DIR,
    signInCode,
    mintToken: () => signer.mintDevToken({ role: 'Admin', expiresInSeconds: CONSOLE_TOKEN_SECONDS }),
  });
  const roots = apiRoots(app);
  // the API answers its own paths exactly as in AWS (its 404s included); every other path is the console's
  const fetch = (request: Request, env: Parameters<typeof app.fetch>[1]) => (roots.has(rootOf(new URL(request.url).pathname)) ? app.fetch(request, env) : site.fetch(request, env));
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const started = serve({ fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ server: started, port: info.port });
    });
    started.once('error', reject);
  });
  // the end-user link pages are served here too: links the runtime mails from now on point at them
  runtime.setLinkBaseUrl(`http://127.0.0.1:${port}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    devToken: await signer.mintDevToken({ role: 'Admin' }),
    consoleUrl: `${url}/#sign-in=${signInCode}`,
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
