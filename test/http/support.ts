import type { Tenant } from '../../functions/core/model/catalog.js';
import type { Role } from '../../functions/core/access/principal.js';
import { createApiApp, type ApiApp } from '../../functions/http/app.js';
import { createLocalSigner, startApiServer, type ApiServer, type LocalSigner } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { runtimeWithFleet, testComputer, testSoftware, everywhere, type FleetSpec } from '../support/fleet.js';

/**
 * The API over a real local runtime, called in-process (`app.request`): the
 * same app, dependencies and principal mapping as the local server, without
 * a socket per request. Tenants: `msp` at the top, `acme` with its child
 * `acme-east`, and `globex` beside them.
 */
export const TENANTS: readonly Tenant[] = [
  { id: 'acme', name: 'Acme', excludeFromCrossTenant: false },
  { id: 'acme-east', name: 'Acme East', parentTenantId: 'acme', excludeFromCrossTenant: false },
  { id: 'globex', name: 'Globex', excludeFromCrossTenant: false },
];

export const API_FLEET: FleetSpec = {
  tenants: TENANTS,
  software: [testSoftware('app', '2.0.0')],
  deployments: [everywhere('app')],
  machines: [
    { computer: testComputer('pc-acme', 'i-0000000000000a001', { tenantId: 'acme' }) },
    { computer: testComputer('pc-east', 'i-0000000000000a002', { tenantId: 'acme-east' }) },
    { computer: testComputer('pc-globex', 'i-0000000000000a003', { tenantId: 'globex' }) },
  ],
};

export type Caller = Role | 'ViewerAcme' | 'ViewerEast' | 'ViewerGlobex';

export interface ApiHarness {
  readonly runtime: LocalRuntime;
  readonly app: ApiApp;
  readonly signer: LocalSigner;
  token(caller: Caller): Promise<string>;
  /** The server's base URL when the harness calls over HTTP. */
  readonly url?: string;
  /** One request as `caller` (or with no token when `caller` is undefined); answers the status and the parsed JSON. */
  call(caller: Caller | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const CALLERS: Readonly<Record<Caller, { role: Role; tenantId?: string }>> = {
  Admin: { role: 'Admin' },
  Technician: { role: 'Technician' },
  Viewer: { role: 'Viewer', tenantId: 'acme' },
  ViewerAcme: { role: 'Viewer', tenantId: 'acme' },
  ViewerEast: { role: 'Viewer', tenantId: 'acme-east' },
  ViewerGlobex: { role: 'Viewer', tenantId: 'globex' },
};

export interface HarnessOptions {
  readonly fleet?: FleetSpec;
  /** A runtime the caller owns (and closes). */
  readonly runtime?: LocalRuntime;
  /** Calls go over real HTTP to the local API server instead of `app.request`. */
  readonly http?: boolean;
}

export async function apiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const runtime = options.runtime;
  const rt = runtime ?? (await runtimeWithFleet(options.fleet ?? API_FLEET));
  const signer = await createLocalSigner();
  const server: ApiServer | undefined = options.http ? await startApiServer(rt) : undefined;
  const deps = rt.handlerDependencies('api');
  const app = createApiApp(() => deps, { principal: { kind: 'bearer', verify: signer.verify } });
  const tokens = new Map<Caller, Promise<string>>();
  const token = (caller: Caller): Promise<string> => {
    let minted = tokens.get(caller);
    if (!minted) {
      minted = (server ?? signer).mintDevToken(CALLERS[caller]);
      tokens.set(caller, minted);
    }
    return minted;
  };
  return {
    ...(server ? { url: server.url } : {}),
    runtime: rt,
    app,
    signer,
    token,
    async call(caller, method, path, body, headers = {}) {
      const request = server ? (url: string, init: RequestInit) => fetch(`${server.url}${url}`, init) : (url: string, init: RequestInit) => app.request(url, init);
      const response = await request(path, {
        method,
        headers: {
          ...(caller === undefined ? {} : { authorization: `Bearer ${await token(caller)}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: kept as text so the assertion shows it
      }
      return { status: response.status, body: parsed };
    },
    async close() {
      await server?.close();
      if (!runtime) await rt.close();
    },
  };
}
