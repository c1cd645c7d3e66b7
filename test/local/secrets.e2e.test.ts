import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretReference } from '../../functions/core/catalog/secrets.js';
import type { Deployment, MaintenanceTask } from '../../functions/core/model/catalog.js';
import { isErrorEnvelope } from '../../functions/handlers/handler-kit.js';
import { createLocalRuntime, type LocalRuntime, type SessionOutcome } from '../../local/runtime.js';
import { LocalSecretStore, sandboxBinDir } from '../../local/secret-store.local.js';
import { sequentialIds, TEST_TENANT, testComputer } from '../support/fleet.js';
import { leaksIn, secretNeedles } from '../support/secret-needles.js';

const run = promisify(execFile);

/**
 * A task that needs its licence key for real: `set` records the key's
 * SHA-256 on the machine (so the test can tell the script got the value, not
 * the marker or the reference, without the machine's files holding the key)
 * and prints the key, on both streams, as a careless vendor script would.
 */
const LICENSED_TASK: MaintenanceTask = {
  id: 'licensed-app',
  name: 'Licensed app',
  platform: 'linux',
  scripts: {
    style: 'Combined',
    script: [
      'state="$NIGHTSHIFT_ROOT/opt/licence.sha256"',
      "digest() { printf '%s' \"$1\" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d' ' -f1; }",
      'case "$NIGHTSHIFT_TASK_METHOD" in',
      '  test) [ -f "$state" ] && [ "$(cat "$state")" = "$(digest "$NIGHTSHIFT_PARAM_licenceKey")" ] ;;',
      '  set)',
      '    echo "licence key: $NIGHTSHIFT_PARAM_licenceKey"',
      '    echo "parameters: $NIGHTSHIFT_PARAMETERS_JSON"',
      '    echo "edition: $NIGHTSHIFT_PARAM_edition"',
      '    echo "activating with $NIGHTSHIFT_PARAM_licenceKey" >&2',
      '    mkdir -p "$NIGHTSHIFT_ROOT/opt" && digest "$NIGHTSHIFT_PARAM_licenceKey" > "$state" ;;',
      'esac',
      '',
    ].join('\n'),
  },
  parameters: [
    { name: 'edition', type: 'string', required: true },
    { name: 'licenceKey', type: 'secret', required: true },
  ],
};

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]))));
  return nested.flat();
}

describe('secret task parameters on the embedded runtime, with DynamoDB, logs and machines on disk', () => {
  const secret = `S3cr3t-${randomBytes(12).toString('hex')}`;
  const needles = secretNeedles(secret);
  const computer = testComputer('pc-sec', 'i-0000000000000f5c1');
  let dataDir: string;
  let runtime: LocalRuntime | undefined;
  let outcome: SessionOutcome;
  let savedAnswer: unknown;
  let storedDeployment: Deployment | undefined;
  let tableItems: string;
  const handlerTraffic: string[] = [];
  const workflowEvents: string[] = [];
  /** Each script as the sandbox received it, read as it starts (the sandbox deletes it once the command ends). */
  const scriptsSent: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-secrets-e2e-'));
    const started = await createLocalRuntime({
      dataDir,
      retryIntervalMs: 0,
      ids: sequentialIds(),
      wrapHandler: (name, handler) => async (event, context) => {
        // the one payload that holds the value: the operator's own request to save the deployment
        if (name !== 'save-catalog') handlerTraffic.push(JSON.stringify({ name, event }));
        try {
          const result = await handler(event, context);
          handlerTraffic.push(JSON.stringify({ name, result }));
          return result;
        } catch (error) {
          handlerTraffic.push(JSON.stringify({ name, error: String(error) }));
          throw error;
        }
      },
      onAgentActivity: (record, phase) => {
        if (phase === 'started') scriptsSent.push(readFileSync(path.join(dataDir, 'machines', computer.id, '.sandbox', 'commands', record.commandId, 'script.sh'), 'utf8'));
      },
    });
    runtime = started;
    started.workflow.events.on('event', (event) => workflowEvents.push(JSON.stringify(event)));

    const save = async (kind: string, entity: unknown) => {
      const answer = await started.invoke('save-catalog', { kind, entity, by: { kind: 'Operator', name: 'ops@msp.example' } });
      if (isErrorEnvelope(answer)) throw new Error(`save-catalog refused ${kind}: ${answer.error.message}`);
      return answer;
    };
    await save('Tenant', TEST_TENANT);
    await save('Computer', computer);
    await save('Task', LICENSED_TASK);
    savedAnswer = await save('Deployment', {
      id: 'licensed-everywhere',
      itemKind: 'Task',
      taskId: LICENSED_TASK.id,
      target: { kind: 'AllTenants' },
      mode: 'Enforce',
      parameters: { edition: 'pro', licenceKey: secret },
    });
    await started.agent.addMachine({ agentId: computer.agentId, name: computer.id, platform: 'linux', online: true, latencyMs: 0 });

    const { sessionId } = await started.startSession(computer.id);
    outcome = await started.waitForSession(sessionId);
    storedDeployment = await started.deps.catalog.getDeployment('licensed-everywhere');
    tableItems = JSON.stringify((await started.dynamoClient.send(new ScanCommand({ TableName: 'nightshift-local' }))).Items);
    // closed here so dynalite, the log and the sandbox have written everything they will
    await started.close();
    runtime = undefined;
  }, 120_000);

  afterAll(async () => {
    await runtime?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the session runs the task with the real value on the machine, while the deployment, the answer and the session show "(secret)"', async () => {
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions).toMatchObject([{ type: 'TaskEnforce', result: 'Success', exitCode: 0 }]);
    // the script hashed the value itself: neither the marker nor the reference would give this digest
    const digest = (await readFile(path.join(dataDir, 'machines', computer.id, 'opt', 'licence.sha256'), 'utf8')).trim();
    expect(digest).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(savedAnswer).toMatchObject({ kind: 'Deployment', entity: { parameters: { edition: 'pro', licenceKey: '(secret)' } } });
    expect(storedDeployment).toMatchObject({ parameters: { edition: 'pro', licenceKey: '(secret)' } });
    expect(outcome.session.items).toMatchObject([{ key: 'task:licensed-app', parameters: { edition: 'pro', licenceKey: '(secret)' } }]);
  });

  it('a value the task prints reaches the stored output as ***, on stdout and stderr alike', async () => {
    const output = outcome.actions[0]?.outputTail ?? '';
    expect(output).toContain('licence key: ***');
    expect(output).toContain('"licenceKey":"***"');
    expect(output).toContain('edition: pro');
    const records = await Promise.all(
      (await filesUnder(path.join(dataDir, 'machines', computer.id, '.sandbox', 'commands'))).filter((file) => file.endsWith('command.json')).map((file) => readFile(file, 'utf8')),
    );
    const invocations = records.map((text) => (JSON.parse(text) as { record: { invocation: { stdout: string; stderr: string } } }).record.invocation);
    expect(invocations.some((invocation) => invocation.stdout.includes('licence key: ***'))).toBe(true);
    expect(invocations.some((invocation) => invocation.stderr.includes('activating with ***'))).toBe(true);
  });

  it('no stored byte holds the secret: the DynamoDB folder and items, the logs, the machines\' folders and command records, handler payloads, workflow events and the scripts sent', async () => {
    const store = path.join(dataDir, 'secrets');
    const files = (await filesUnder(dataDir)).filter((file) => file !== store);
    // the scan covers what it must: the table on disk, the log, every command record
    expect(files.some((file) => file.startsWith(path.join(dataDir, 'dynamodb')))).toBe(true);
    expect((await stat(path.join(dataDir, 'logs', 'nightshift.log'))).size).toBeGreaterThan(0);
    expect(files.filter((file) => file.endsWith('command.json'))).toHaveLength(outcome.agentRoundTrips);
    const leaks = (await Promise.all(files.map(async (file) => leaksIn(await readFile(file), needles).map((needle) => `${path.relative(dataDir, file)}: ${needle}`)))).flat();
    expect(leaks).toEqual([]);
    expect(leaksIn(tableItems, needles)).toEqual([]);
    expect(leaksIn(handlerTraffic.join('\n'), needles)).toEqual([]);
    expect(leaksIn(workflowEvents.join('\n'), needles)).toEqual([]);
    expect(scriptsSent).toHaveLength(outcome.agentRoundTrips);
    expect(leaksIn(scriptsSent.join('\n'), needles)).toEqual([]);
    // what the machine was given instead: the reference, in detection, the action and verification
    expect(scriptsSent.every((script) => script.includes("'NIGHTSHIFT_SECRET_REFS_JSON="))).toBe(true);
  });

  it('the only place the secret exists is the store file, private to its owner (and the needles do find it there)', async () => {
    const store = path.join(dataDir, 'secrets');
    expect((await stat(store)).mode & 0o777).toBe(0o600);
    expect(leaksIn(await readFile(store), needles).length).toBeGreaterThan(0);
  });
});

describe("the sandbox's aws command, answering from the local secret store", () => {
  let folder: string;
  let store: LocalSecretStore;
  let aws: string;
  const cli = (...args: string[]) =>
    run(aws, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      // execFile rejects a non-zero exit with the code and both streams on the error
      (error: unknown) => {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      },
    );

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'nightshift-aws-shim-'));
    store = await LocalSecretStore.open(path.join(folder, 'secrets'), path.join(folder, 'machines'));
    aws = path.join(sandboxBinDir(path.join(folder, 'machines')), 'aws');
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('prints the value and a newline, like the CLI with --output text, for any value (spaces, quotes, tabs, newlines, non-ASCII)', async () => {
    const value = "p@ss w'o\"rd\twith\nlines é ✓";
    await store.put(secretReference({ kind: 'Shared' }, 'd1', 'key'), value);
    await store.put(secretReference({ kind: 'Shared' }, 'd1', 'other'), 'other-value');
    expect(await cli('ssm', 'get-parameter', '--with-decryption', '--name', '/nightshift/secrets/shared/d1/key', '--query', 'Parameter.Value', '--output', 'text')).toEqual({ code: 0, stdout: `${value}\n`, stderr: '' });
    expect((await cli('ssm', 'get-parameter', '--name=/nightshift/secrets/shared/d1/other', '--region', 'eu-west-1', '--with-decryption', '--output', 'text', '--query', 'Parameter.Value')).stdout).toBe('other-value\n');
  });

  it('fails like the CLI: ParameterNotFound with exit 254 for a missing or deleted secret, exit 252 for a call it does not answer', async () => {
    await store.put(secretReference({ kind: 'Shared' }, 'd2', 'key'), 'gone-soon');
    await store.delete([secretReference({ kind: 'Shared' }, 'd2', 'key')]);
    const missing = await cli('ssm', 'get-parameter', '--with-decryption', '--name', '/nightshift/secrets/shared/d2/key', '--query', 'Parameter.Value', '--output', 'text');
    expect(missing).toMatchObject({ code: 254, stdout: '' });
    expect(missing.stderr).toContain('An error occurred (ParameterNotFound) when calling the GetParameter operation');
    expect(await cli('ssm', 'get-parameter', '--name', '/nightshift/secrets/shared/d1/key', '--query', 'Parameter.Value', '--output', 'text')).toMatchObject({ code: 252, stdout: '' });
    expect(await cli('s3', 'cp', 'a', 'b')).toMatchObject({ code: 252, stdout: '' });
  });

  it('keeps the store file private (0600) through every rewrite, even one created with looser permissions', async () => {
    const loose = path.join(folder, 'loose');
    await writeFile(loose, '', { mode: 0o644 });
    const reopened = await LocalSecretStore.open(loose, path.join(folder, 'machines'));
    expect((await stat(loose)).mode & 0o777).toBe(0o600);
    await reopened.put('/nightshift/secrets/shared/d3/key', 'value');
    expect((await stat(loose)).mode & 0o777).toBe(0o600);
    expect(await reopened.get('/nightshift/secrets/shared/d3/key')).toBe('value');
  });
});
