import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../cli/program.js';
import { startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * The catalog commands in-process against the real API on a local port over a
 * real runtime: `put` creates a new id and replaces a stored one only at the
 * revision decided on, `delete` removes one at its revision, and the API's
 * refusals (a stale revision, an item still deployed) come out as they are.
 */

let runtime: LocalRuntime;
let server: ApiServer;
let configHome: string;

beforeAll(async () => {
  runtime = await runtimeWithFleet({
    software: [testSoftware('app', '2.0.0')],
    deployments: [everywhere('app')],
    machines: [{ computer: testComputer('pc-1', 'i-0000000000000d001') }],
  });
  server = await startApiServer(runtime);
  configHome = await mkdtemp(join(tmpdir(), 'nightshift-cli-catalog-'));
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

async function nightshift(args: string[], env: CliIo['env'] = { NIGHTSHIFT_API_URL: server.url, NIGHTSHIFT_TOKEN: server.devToken }): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { XDG_CONFIG_HOME: configHome, NIGHTSHIFT_DATA_DIR: configHome, TZ: 'UTC', ...env },
  });
  return { code, stdout, stderr };
}

const fileOf = async (name: string, content: unknown): Promise<string> => {
  const file = join(configHome, name);
  await writeFile(file, JSON.stringify(content));
  return file;
};

describe('software, tasks and deployments from the CLI', () => {
  it('put creates a new id at revision 1, then replaces it at the revision a show --json file names; a stale one is refused with CONFLICT and changes nothing', async () => {
    const editor = testSoftware('editor', '1.0');
    expect(await nightshift(['software', 'put', '--file', await fileOf('editor.json', editor)])).toEqual({ code: 0, stdout: 'Created software item editor (revision 1).\n', stderr: '' });

    const shown = await nightshift(['software', 'show', 'editor', '--json']);
    const stored = JSON.parse(shown.stdout) as { revision: number; latestVersion: string };
    expect(stored).toMatchObject({ id: 'editor', revision: 1 });
    const edited = await fileOf('editor-1.1.json', { ...stored, latestVersion: '1.1' });
    expect(await nightshift(['software', 'put', '--file', edited])).toMatchObject({ code: 0, stdout: 'Saved software item editor (revision 2).\n' });

    // the same file again: it was decided on revision 1, which is gone
    const stale = await nightshift(['software', 'put', '--file', await fileOf('editor-1.2.json', { ...stored, latestVersion: '1.2' })]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe('error: CONFLICT: software editor is at revision 2, not 1: someone else changed it since it was read; read it again\n');
    expect(await nightshift(['software', 'put', '--file', await fileOf('editor-1.3.json', editor), '--expected-revision', '1'])).toMatchObject({ code: 1, stderr: expect.stringContaining('CONFLICT') as string });
    expect((await runtime.deps.catalog.getSoftware(['editor']))[0]).toMatchObject({ latestVersion: '1.1', revision: 2 });

    // a file without a revision replaces whatever is stored now
    expect(await nightshift(['software', 'put', '--file', await fileOf('editor-2.0.json', testSoftware('editor', '2.0'))])).toMatchObject({ code: 0, stdout: 'Saved software item editor (revision 3).\n' });
  });

  it('delete removes a software item at the revision stored now or the one given, and is refused, naming them, while deployments use it', async () => {
    const used = await nightshift(['software', 'delete', 'app']);
    expect(used.code).toBe(1);
    expect(used.stderr).toBe('error: CONFLICT: software app is still used by deployment deploy-app; change or delete those first\n');
    expect(await nightshift(['deployments', 'delete', 'deploy-app', '--expected-revision', '7'])).toMatchObject({ code: 1, stderr: expect.stringContaining('is at revision 1, not 7') as string });
    expect(await nightshift(['deployments', 'delete', 'deploy-app', '--expected-revision', '1'])).toEqual({ code: 0, stdout: 'Deleted deployment deploy-app.\n', stderr: '' });
    expect(await nightshift(['software', 'delete', 'app'])).toEqual({ code: 0, stdout: 'Deleted software item app.\n', stderr: '' });
    expect(await runtime.deps.catalog.getSoftware(['app'])).toEqual([]);
    expect(await nightshift(['software', 'delete', 'app'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: NOT_FOUND: /) as string });
  });

  it('says in put’s help that a file without a revision replaces what is stored (an upsert)', async () => {
    let help = '';
    await runCli(['deployments', 'put', '--help'], { stdout: { write: (text: string) => (help += text) }, stderr: { write: () => true }, env: {} });
    expect(help.replace(/\s+/g, ' ')).toContain('whatever is stored now is replaced (upsert)');
    expect(help).toContain('--expected-revision <n>');
  });
});
