import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { runtimeWithFleet } from '../support/fleet.js';
import { API_FLEET } from './support.js';

/** The local server: the API on 127.0.0.1, a dev token that works, and a signing key that outlives a restart. */

let runtime: LocalRuntime;
let dataDir: string;
beforeAll(async () => {
  runtime = await runtimeWithFleet(API_FLEET);
  dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-api-'));
});
afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('startApiServer', () => {
  it('serves the API on a free loopback port, and its dev token is an Admin’s (proves `npm start` hands out a working token)', async () => {
    const server = await startApiServer(runtime, { port: 0, dataDir });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
      const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${server.devToken}` } });
      expect(await me.json()).toMatchObject({ role: 'Admin' });
      const refused = await fetch(`${server.url}/v1/me`);
      expect(refused.status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('keeps its signing key in the data folder, private to the user, so a token survives a restart (proves restarts do not log people out)', async () => {
    const first = await startApiServer(runtime, { dataDir });
    const token = await first.mintDevToken({ role: 'Viewer', tenantId: 'acme' });
    await first.close();
    expect((await stat(path.join(dataDir, 'api', 'signing-key.json'))).mode & 0o777).toBe(0o600);
    const second = await startApiServer(runtime, { dataDir });
    try {
      const me = await fetch(`${second.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ role: 'Viewer', tenantId: 'acme' });
    } finally {
      await second.close();
    }
  });

  it('refuses a token of another data folder’s key (proves each local issuer trusts only itself)', async () => {
    const otherDir = await mkdtemp(path.join(tmpdir(), 'nightshift-api-other-'));
    const other = await startApiServer(runtime, { dataDir: otherDir });
    const foreign = other.devToken;
    await other.close();
    await rm(otherDir, { recursive: true, force: true });
    const server = await startApiServer(runtime, { dataDir });
    try {
      expect((await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
