import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../cli/program.js';
import { startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * The CLI's program, run in-process against the real API on a local port over
 * a real runtime: what a technician types, what the API answers, what is printed.
 */

let runtime: LocalRuntime;
let server: ApiServer;
let configHome: string;

beforeAll(async () => {
  runtime = await runtimeWithFleet({
    software: [testSoftware('app', '2.0.0')],
    deployments: [everywhere('app')],
    machines: [
      { computer: testComputer('pc-1', 'i-0000000000000c001', { name: 'Front desk' }) },
      { computer: testComputer('pc-2', 'i-0000000000000c002', { name: 'Back office' }) },
      { computer: testComputer('pc-3', 'i-0000000000000c003', { name: 'Server room' }) },
      { computer: testComputer('pc-4', 'i-0000000000000c004', { name: 'Reception' }) },
      // a node the agent service knows, tagged for tenant-a, that the catalog is told about only by an import
      { computer: testComputer('pc-5', 'i-0000000000000c005', { name: 'Lab bench' }), ssmTags: { Customer: 'tenant-a' } },
    ],
  });
  server = await startApiServer(runtime);
  configHome = await mkdtemp(join(tmpdir(), 'nightshift-cli-e2e-'));
});

afterAll(async () => {
  await server.close();
  await runtime.close();
  await rm(configHome, { recursive: true, force: true });
});

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One command line as the binary would run it, with its own stdout and stderr. */
async function nightshift(args: string[], env: CliIo['env'] = { NIGHTSHIFT_API_URL: server.url, NIGHTSHIFT_TOKEN: server.devToken }, stdin?: string): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    // never the developer's own ~/.config; times in one zone whatever the machine's
    env: { XDG_CONFIG_HOME: configHome, NIGHTSHIFT_DATA_DIR: configHome, TZ: 'UTC', ...env },
    ...(stdin === undefined ? {} : { stdin: Readable.from([stdin]) }),
  });
  return { code, stdout, stderr };
}

/** What a `--json` command printed, after checking it succeeded and printed nothing else. */
const json = (result: Result): unknown => {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
};

describe('who am I', () => {
  it('whoami prints the role and name the token carries', async () => {
    const result = await nightshift(['whoami']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/role\s+Admin/);
    expect(result.stdout).toMatch(/name\s+admin@nightshift\.local/);
    expect(result.stdout).toMatch(new RegExp(`api\\s+${server.url}`));
    expect(result.stdout + result.stderr).not.toContain(server.devToken);
  });

  it('login stores the URL and token (mode 0600, never printed), and later commands use them without any environment', async () => {
    const login = await nightshift(['login', '--url', server.url, '--token-stdin'], {}, `${server.devToken}\n`);
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(server.devToken);
    expect((await stat(join(configHome, 'nightshift', 'config.json'))).mode & 0o777).toBe(0o600);

    const me = json(await nightshift(['whoami', '--json'], {})) as { role: string; subject: string };
    expect(me).toEqual({ subject: 'local-admin', name: 'admin@nightshift.local', role: 'Admin' });
    await rm(join(configHome, 'nightshift'), { recursive: true });
  });
});

describe('sessions', () => {
  it('start -> list -> show -> cancel: a waiting session is listed, reported and cancelled', async () => {
    // an instant, not "2h": a retry with the same key must ask for the very same session
    const executeAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const started = await nightshift(['sessions', 'start', 'pc-1', '--execute-at', executeAt, '--idempotency-key', 'cli-e2e-1']);
    expect(started.code).toBe(0);
    const sessionId = /Started session (\S+)\./.exec(started.stdout)?.[1];
    expect(sessionId, started.stdout + started.stderr).toBeDefined();

    const again = json(await nightshift(['sessions', 'start', 'pc-1', '--execute-at', executeAt, '--idempotency-key', 'cli-e2e-1', '--json'])) as { sessionId: string; created: boolean };
    expect(again).toMatchObject({ sessionId, created: false });

    const listed = await nightshift(['sessions', 'list', '--computer', 'pc-1']);
    expect(listed.code).toBe(0);
    const [header, row] = listed.stdout.split('\n');
    expect(header).toMatch(/^SESSION\s+STATUS\s+STAGE\s+COMPUTER\s+TENANT\s+TRIGGER\s+CREATED/);
    expect(row).toContain(sessionId);
    // the computer by its name, which the listing indexes now carry
    expect(row).toContain('Front desk');
    expect(row).toContain('tenant-a');
    expect(listed.stdout).toMatch(/counts {2}\S+ 1/);

    const shown = await nightshift(['sessions', 'show', sessionId!]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`session\\s+${sessionId!}`));
    expect(shown.stdout).toMatch(/computer\s+Front desk \(pc-1\)/);

    const cancelled = await nightshift(['sessions', 'cancel', sessionId!]);
    expect(cancelled).toMatchObject({ code: 0, stdout: `Session ${sessionId!}: Cancelled.\n`, stderr: '' });
    expect((await runtime.waitForSession(sessionId!)).session.status).toBe('Cancelled');

    const after = await nightshift(['sessions', 'show', sessionId!]);
    expect(after.stdout).toMatch(/status\s+Cancelled/);
    const log = await nightshift(['sessions', 'log', sessionId!]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/Request .*cancel/i);
  });

  it('--json prints the list as the API answered it, parseable by a script', async () => {
    const page = json(await nightshift(['--json', 'sessions', 'list', '--since', '1d'])) as { items: { id: string; computerId: string; status: string }[]; counts: Record<string, number> };
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((item) => typeof item.id === 'string' && typeof item.status === 'string')).toBe(true);
    expect(Object.keys(page.counts)).toContain('Cancelled');
  });

  it('log --follow prints every line of the log once, until the session ends', async () => {
    const { sessionId } = await runtime.startSession('pc-3');
    const followed = await nightshift(['sessions', 'log', sessionId, '--follow', '--interval', '0.05']);
    expect(followed).toMatchObject({ code: 0, stderr: '' });
    expect((await runtime.waitForSession(sessionId)).session.status).toBe('Passed');
    const lines = followed.stdout.trim().split('\n');
    // the end so far is read again on each look: nothing is printed twice
    expect(new Set(lines).size).toBe(lines.length);
    const complete = await nightshift(['sessions', 'log', sessionId]);
    expect(followed.stdout).toBe(complete.stdout);
  });

  it('follow shows progress lines off a terminal, then the final report', async () => {
    const { sessionId } = await runtime.startSession('pc-4');
    const followed = await nightshift(['sessions', 'follow', sessionId, '--interval', '0.05']);
    expect(followed).toMatchObject({ code: 0, stderr: '' });
    expect(followed.stdout).toMatch(new RegExp(`session\\s+${sessionId}`));
    expect(followed.stdout).toMatch(/status\s+Passed/);
    expect(followed.stdout).toMatch(/Install\s+App app\s+absent\s+2\.0\.0\s+Success/);
  });
});

describe('schedules and runs', () => {
  it('create from a file -> list -> run-now -> runs show and targets: the run reaches its computer', async () => {
    const file = join(configHome, 'schedule.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'Nightly back office',
        tenantId: 'tenant-a',
        target: { kind: 'Computers', computerIds: ['pc-2'] },
        recurrence: { kind: 'Daily' },
        detectionTime: '02:00',
        executeImmediatelyAfterDetection: true,
      }),
    );
    const created = await nightshift(['schedules', 'create', '--file', file, '--id', 'nightly-back-office']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('Created schedule nightly-back-office (version 1, enabled).');

    const listed = await nightshift(['schedules', 'list']);
    expect(listed.stdout).toMatch(/nightly-back-office\s+Nightly back office\s+yes\s+tenant-a\s+1 computer\(s\)\s+daily\s+02:00\s+after detection/);

    const fired = json(await nightshift(['schedules', 'run-now', 'nightly-back-office', '--json'])) as { run: { id: string; targeted: number } };
    expect(fired.run.targeted).toBe(1);

    const shown = await nightshift(['runs', 'show', fired.run.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`run\\s+${fired.run.id}`));
    expect(shown.stdout).toMatch(/schedule\s+Nightly back office \(nightly-back-office, version 1\)/);
    expect(shown.stdout).toMatch(/targeted\s+1/);

    const targets = json(await nightshift(['runs', 'targets', fired.run.id, '--json'])) as { items: { computerId: string; sessionId?: string }[] };
    expect(targets.items).toHaveLength(1);
    expect(targets.items[0]).toMatchObject({ computerId: 'pc-2' });
    const sessionId = targets.items[0]!.sessionId!;
    expect((await runtime.waitForSession(sessionId)).session.status).toBe('Passed');

    const runSessions = await nightshift(['sessions', 'list', '--run', fired.run.id]);
    expect(runSessions.stdout).toContain(sessionId);
  });

  it('show --json -> edit -> update takes the file back at the version it was read, and history and audit tell who changed what', async () => {
    const file = join(configHome, 'edit.json');
    await writeFile(file, JSON.stringify({ name: 'Weekly', tenantId: 'tenant-a', target: { kind: 'AllComputers' }, recurrence: { kind: 'Weekly', days: ['MON'] }, detectionTime: '03:00', executeImmediatelyAfterDetection: true }));
    expect((await nightshift(['schedules', 'create', '--file', file, '--id', 'weekly'])).code).toBe(0);

    const shown = json(await nightshift(['schedules', 'show', 'weekly', '--json'])) as { name: string; version: number };
    await writeFile(file, JSON.stringify({ ...shown, name: 'Weekly, renamed' }));
    const updated = await nightshift(['schedules', 'update', 'weekly', '--file', file]);
    expect(updated.stdout).toContain('Updated schedule weekly (version 2, enabled).');
    // the same file again is a retry of the change made: answered, not made twice
    expect((await nightshift(['schedules', 'update', 'weekly', '--file', file])).stdout).toContain('Updated schedule weekly (version 2, enabled).');
    // another edit of version 1, which is gone: refused, nothing is overwritten
    await writeFile(file, JSON.stringify({ ...shown, name: 'Weekly, edited elsewhere' }));
    const stale = await nightshift(['schedules', 'update', 'weekly', '--file', file]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error: CONFLICT: schedule weekly is at version 2, not 1/);

    expect((await nightshift(['schedules', 'disable', 'weekly'])).stdout).toContain('Disabled schedule weekly (version 3, disabled).');
    const history = await nightshift(['schedules', 'history', 'weekly']);
    expect(history.stdout).toMatch(/admin@nightshift\.local\s+Created\s+Schedule\s+weekly/);
    expect(history.stdout).toMatch(/Updated\s+Schedule\s+weekly\s+tenant-a\s+2\s+name/);
    expect(history.stdout).toMatch(/Disabled\s+Schedule\s+weekly/);
    const audit = json(await nightshift(['audit', '--resource', 'Schedule', '--id', 'weekly', '--json'])) as { items: { action: string }[] };
    expect(audit.items.map((entry) => entry.action)).toEqual(['Created', 'Updated', 'Disabled']);
  });
});

describe('catalog and computers', () => {
  it('software list shows the catalog; computers import --dry-run reports and changes nothing, then the import creates the node', async () => {
    const listed = await nightshift(['software', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/app\s+App app\s+linux\s+2\.0\.0/);

    const rules = join(configHome, 'import.json');
    await writeFile(rules, JSON.stringify({ rules: [{ tag: { key: 'Customer', value: 'tenant-a' }, tenantId: 'tenant-a' }] }));
    const dry = await nightshift(['computers', 'import', '--file', rules, '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toContain('Dry run, nothing changed: would have 0 created, 1 updated');
    expect((await nightshift(['computers', 'show', 'pc-5'])).stdout).toContain('Lab bench');
    const real = await nightshift(['computers', 'import', '--file', rules]);
    expect(real.stdout).toMatch(/Imported: 0 created, 1 updated/);
    expect(real.stdout).toMatch(/pc-5\s+pc-5\s+tenant-a\s+Updated/);
  });
});

describe('failures', () => {
  it('an API refusal exits 1 with the code, the message and the field at fault', async () => {
    const file = join(configHome, 'bad-schedule.json');
    await writeFile(file, JSON.stringify({ name: 'Broken', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '25:00', executeImmediatelyAfterDetection: true }));
    const refused = await nightshift(['schedules', 'create', '--file', file]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: VALIDATION_FAILED: .+\nfield: body\.schedule\.detectionTime\n$/);
  });

  it('a missing resource is a refusal too, and an unknown token says how to log in again', async () => {
    const missing = await nightshift(['sessions', 'show', 'ses_nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: NOT_FOUND: /);
    const forged = await nightshift(['whoami'], { NIGHTSHIFT_API_URL: server.url, NIGHTSHIFT_TOKEN: 'not.a.token' });
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/^error: UNAUTHENTICATED: .+\nhint: .*nightshift login/);
  });

  it('a base URL that already ends in /v1 is refused with a hint to drop it', async () => {
    const result = await nightshift(['whoami'], { NIGHTSHIFT_API_URL: `${server.url}/v1`, NIGHTSHIFT_TOKEN: server.devToken });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: NOT_FOUND: no route GET \/v1\/v1\/me\nhint: .*without \/v1/);
  });

  it('an API that cannot be reached exits 3 and names the URL', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const url = `http://127.0.0.1:${String(closedPort)}`;
    const result = await nightshift(['sessions', 'list'], { NIGHTSHIFT_API_URL: url, NIGHTSHIFT_TOKEN: 'x.y.z' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`error: cannot reach the API at ${url}: ECONNREFUSED`);
  });

  it('a usage mistake exits 2 before any request', async () => {
    const unknownCommand = await nightshift(['sesions', 'list']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("error: unknown command 'sesions'");
    const badLimit = await nightshift(['sessions', 'list', '--limit', '500']);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit');
    const badStatus = await nightshift(['sessions', 'list', '--status', 'Done']);
    expect(badStatus.code).toBe(2);
  });
});

it('the binary runs as a process against the API: whoami --json answers the token\'s person, and a refusal exits 1 with the field on stderr', async () => {
  const run = promisify(execFile);
  const env = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: configHome, NIGHTSHIFT_API_URL: server.url, NIGHTSHIFT_TOKEN: server.devToken };
  const cwd = join(import.meta.dirname, '..', '..');
  const { stdout } = await run('npx', ['tsx', 'cli/nightshift.ts', 'whoami', '--json'], { cwd, env });
  expect(JSON.parse(stdout)).toMatchObject({ role: 'Admin' });
  const refused = await run('npx', ['tsx', 'cli/nightshift.ts', 'sessions', 'list', '--since', '40d'], { cwd, env }).then(
    () => ({ code: 0, stderr: '' }),
    (error: unknown) => error as { code: number; stderr: string },
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^error: VALIDATION_FAILED: /m);
  expect(refused.stderr).toMatch(/^field: /m);
}, 60_000);

it('the binary runs as a process: `npx tsx cli/nightshift.ts --help` prints the commands and exits 0', async () => {
  const { stdout } = await promisify(execFile)('npx', ['tsx', 'cli/nightshift.ts', '--help'], { cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, NO_COLOR: '1' } });
  expect(stdout).toContain('Usage: nightshift [options] [command]');
  for (const group of ['sessions', 'schedules', 'runs', 'computers', 'tenants', 'deployments']) expect(stdout).toMatch(new RegExp(`^ {2}${group}\\b`, 'm'));
});
