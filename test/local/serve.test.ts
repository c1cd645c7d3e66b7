import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/runtime.js';
import { until } from '../support/wait.js';

describe('npm start serves the operator API until Ctrl-C', () => {
  let dataDir = '';
  let child: ChildProcessWithoutNullStreams | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the api: and token: lines, answers with that token (also in a 0600 file), and on SIGINT closes and exits 0', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-serve-'));
    // what `npm start` runs, without npm in between and without the demo sessions
    const started = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--serve', '--skip-demo'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NIGHTSHIFT_DATA_DIR: dataDir, NIGHTSHIFT_PORT: '0', NO_COLOR: '1' },
    });
    child = started;
    let stdout = '';
    let stderr = '';
    started.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => started.on('close', (code) => resolve(code)));

    await until(() => /^token: \S+$/m.test(stdout), 60_000);
    const base = /^api: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1] ?? '';
    const token = /^token: (\S+)$/m.exec(stdout)?.[1] ?? '';
    const tokenFile = path.join(dataDir, 'api', 'dev-token');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);

    // the stack's rate rules run from here on, on the runtime clock (test/local/scheduled-rules.e2e.test.ts shows them at work)
    expect(stdout).toMatch(/^ {2}rules: reconcile-commands every 5 min, sweep-sessions every 5 min, retire-secrets every 60 min, reconcile-schedules every 15 min, advance-runs every minute \(runtime clock\)$/m);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'Admin' });
    // the demo tenant is seeded even without the demo sessions, so the API has something to show
    const tenants = await fetch(`${base}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await tenants.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);

    started.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 120_000);
});
