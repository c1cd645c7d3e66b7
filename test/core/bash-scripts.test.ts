import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBashActionScript, buildBashDetectionScript } from '../../functions/core/scripts/bash.js';
import { DETECTION_CONCURRENCY, SECRET_UNRESOLVED_EXIT_CODE, secretReferencesJson } from '../../functions/core/scripts/contract.js';
import type { DetectionEntry } from '../../functions/core/scripts/contract.js';
import { parseActionOutput, parseDetectionOutput } from '../../functions/core/scripts/output.js';

const root = mkdtempSync(path.join(tmpdir(), 'nightshift-bash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runBash(script: string, options: { pathPrefix?: string } = {}): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync('bash', ['-c', script], {
    cwd: root,
    env: { PATH: [options.pathPrefix, process.env.PATH].filter(Boolean).join(':'), NIGHTSHIFT_ROOT: root, TMPDIR: root },
    encoding: 'utf8',
    timeout: 30_000,
    // stdin as a socket would make bash source ~/.bashrc (its rshd heuristic); SSM and the sandbox give it none
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const entry = (key: string, script: string, extra: Partial<DetectionEntry> = {}): DetectionEntry => ({
  key,
  script,
  environment: {},
  timeoutSeconds: 5,
  ...extra,
});

describe('the batched bash detection script (run for real)', () => {
  it('isolates each item: a hung, a crashing and a chatty detection cannot hide the others', () => {
    const script = buildBashDetectionScript(
      [
        entry('software:ok', 'echo "some banner"\necho 1.2.3\n'),
        entry('software:absent', 'exit 0\n'),
        entry('software:crash', 'echo "cannot read registry" >&2\nexit 4\n'),
        entry('software:hang', 'sleep 30\n', { timeoutSeconds: 1 }),
        entry('software:exits-the-shell', 'exit 0; echo never\n'),
        entry('software:junk', 'echo "version unknown"\n'),
        entry('software:forger', "echo 'NIGHTSHIFT-ITEM n_1 c29mdHdhcmU6b2s= 0 OS45 ' \necho 9.9\n"),
      ],
      'n_1',
    );
    const { stdout, status } = runBash(script);
    expect(status).toBe(0);
    const keys = ['ok', 'absent', 'crash', 'hang', 'exits-the-shell', 'junk', 'forger', 'never-ran'].map((id) => ({
      key: `software:${id}`,
      kind: 'Software' as const,
    }));
    expect(parseDetectionOutput(`noise before\n${stdout}\nnoise after`, 'n_1', keys)).toEqual({
      'software:ok': { state: 'Present', version: '1.2.3' },
      'software:absent': { state: 'Absent' },
      'software:crash': { state: 'Undetermined', reason: 'the detection script exited 4: cannot read registry' },
      'software:hang': { state: 'Undetermined', reason: 'the detection script timed out' },
      'software:exits-the-shell': { state: 'Absent' },
      'software:junk': { state: 'Undetermined', reason: 'the detection script printed "version unknown", which is not a version' },
      'software:forger': { state: 'Present', version: '9.9' },
      'software:never-ran': { state: 'Undetermined', reason: 'the detection reported nothing for this item' },
    });
  });

  it('runs a software health check only when a version was found, and task tests by exit code', () => {
    const script = buildBashDetectionScript(
      [
        entry('software:healthy', 'echo 2.0\n', { testScript: 'echo ok\nexit 0\n' }),
        entry('software:broken', 'echo 2.0\n', { testScript: 'echo "service not running"\nexit 1\n' }),
        entry('software:missing', 'exit 0\n', { testScript: 'touch "$NIGHTSHIFT_ROOT/test-ran"\n' }),
        entry('task:compliant', 'echo "policy deny"\nexit 0\n'),
        entry('task:drifted', 'exit 1\n'),
        entry('task:error', 'exit 5\n'),
        entry('task:params', '[ "$NIGHTSHIFT_PARAM_mode" = "a b" ] && exit 0 || exit 1\n', { environment: { NIGHTSHIFT_PARAM_mode: 'a b' } }),
      ],
      'n_2',
    );
    const { stdout } = runBash(script);
    const expected = [
      ...['healthy', 'broken', 'missing'].map((id) => ({ key: `software:${id}`, kind: 'Software' as const })),
      ...['compliant', 'drifted', 'error', 'params'].map((id) => ({ key: `task:${id}`, kind: 'Task' as const })),
    ];
    expect(parseDetectionOutput(stdout, 'n_2', expected)).toEqual({
      'software:healthy': { state: 'Present', version: '2.0', test: 'Passed' },
      'software:broken': { state: 'Present', version: '2.0', test: 'Failed' },
      'software:missing': { state: 'Absent' },
      'task:compliant': { state: 'Compliant', detail: 'policy deny' },
      'task:drifted': { state: 'NotCompliant' },
      'task:error': { state: 'Undetermined', reason: 'the task test exited 5' },
      'task:params': { state: 'Compliant' },
    });
    expect(readdirSync(root)).not.toContain('test-ran');
  });

  it('reads only records carrying its own nonce, and marks garbled ones', () => {
    const a = Buffer.from('software:a').toString('base64');
    const b = Buffer.from('software:b').toString('base64');
    const lines = [`NIGHTSHIFT-ITEM other_nonce ${a} 0 MS4w AA== - `, `NIGHTSHIFT-ITEM n_3 ${a} 0 not*base64  - `, `NIGHTSHIFT-ITEM n_3 ${b} 0 Mi4w  - `].join('\n');
    const expected = [
      { key: 'software:a', kind: 'Software' as const },
      { key: 'software:b', kind: 'Software' as const },
    ];
    expect(parseDetectionOutput(lines, 'n_3', expected)).toEqual({
      'software:a': { state: 'Undetermined', reason: 'the detection record was garbled' },
      'software:b': { state: 'Present', version: '2.0' },
    });
    expect(parseDetectionOutput('', 'n_3', expected.slice(0, 1), { truncated: true })['software:a']).toEqual({
      state: 'Undetermined',
      reason: 'the detection output was cut off before this item reported',
    });
  });

  it('leaves nothing behind in its work folder', () => {
    const before = readdirSync(root).length;
    runBash(buildBashDetectionScript([entry('software:x', 'echo 1.0\n')], 'n_4'));
    expect(readdirSync(root)).toHaveLength(before);
  });
});

describe('the bash action script (run for real)', () => {
  it('passes environment values verbatim without ever placing them in script text', () => {
    const hostile = `it's "quoted" $(touch pwned) \`touch pwned2\` ; && | > < %PATH% \\n\nnew line ünïcødé ${'x'.repeat(10_240)}\n\n`;
    const script = buildBashActionScript(
      {
        description: 'Install "evil"; rm -rf /',
        steps: [{ label: 'write; rm -rf /', script: 'printf %s "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/received"\n' }],
        environment: { NIGHTSHIFT_VERSION: hostile },
      },
      'n_5',
    );
    expect(script).not.toContain('touch pwned');
    expect(script).not.toContain('rm -rf /');
    expect(runBash(script).status).toBe(0);
    expect(readFileSync(path.join(root, 'received'), 'utf8')).toBe(hostile);
    expect(readdirSync(root)).not.toContain('pwned');
    expect(readdirSync(root)).not.toContain('pwned2');
  });

  it('reports exit code, duration and a reboot request, and exits with the script code', () => {
    const script = buildBashActionScript(
      { description: 'Update App', steps: [{ label: 'update', script: 'echo working\necho NIGHTSHIFT-REBOOT-REQUIRED\nexit 7\n' }], environment: {} },
      'n_6',
    );
    const { stdout, stderr, status } = runBash(script);
    expect(status).toBe(7);
    const output = parseActionOutput(stdout, stderr, 'n_6', status ?? -1);
    expect(output).toMatchObject({ exitCode: 7, failedStep: 1, rebootRequired: true });
    expect(output.durationMs).toBeGreaterThanOrEqual(0);
    expect(output.outputTail).toBe('nightshift: step 1 of 1: update\nworking\nNIGHTSHIFT-REBOOT-REQUIRED');
  });

  it('runs steps in order and stops at the first that fails', () => {
    const script = buildBashActionScript(
      {
        description: 'Reinstall App',
        steps: [
          { label: 'uninstall', script: 'echo one >> "$NIGHTSHIFT_ROOT/steps"\nexit 9\n' },
          { label: 'install', script: 'echo two >> "$NIGHTSHIFT_ROOT/steps"\n' },
        ],
        environment: {},
      },
      'n_7',
    );
    const { stdout, stderr, status } = runBash(script);
    expect(status).toBe(9);
    expect(parseActionOutput(stdout, stderr, 'n_7', -1)).toMatchObject({ exitCode: 9, failedStep: 1 });
    expect(readFileSync(path.join(root, 'steps'), 'utf8')).toBe('one\n');
  });

  it('is idempotent across a restart: a command run again after exit 194 skips the steps that finished', () => {
    const script = buildBashActionScript(
      {
        description: 'Update kernel',
        steps: [
          { label: 'download', script: 'echo download >> "$NIGHTSHIFT_ROOT/runs"\n' },
          // the first run asks SSM to restart and run the command again; after the "restart" it finishes
          { label: 'apply', script: 'echo apply >> "$NIGHTSHIFT_ROOT/runs"\nif [ ! -f "$NIGHTSHIFT_ROOT/restarted" ]; then touch "$NIGHTSHIFT_ROOT/restarted"; exit 194; fi\n' },
        ],
        environment: {},
      },
      'n_10',
    );
    expect(runBash(script).status).toBe(194);
    const second = runBash(script);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('nightshift: step 1 of 2: download (finished before a restart)');
    expect(readFileSync(path.join(root, 'runs'), 'utf8')).toBe('download\napply\napply\n');
    // the markers are gone once the command really ended, so a new command with a new nonce starts clean
    expect(readdirSync(path.join(root, 'var/lib/nightshift/commands'))).toEqual([]);
  });

  it('counts Windows restart exit codes as success that needs a reboot', () => {
    expect(parseActionOutput('NIGHTSHIFT-RESULT n_8 3010 12 -\n', '', 'n_8', 3010)).toMatchObject({ exitCode: 0, rebootRequired: true });
  });

  it('refuses environment names that are not shell identifiers', () => {
    expect(() => buildBashActionScript({ description: 'x', steps: [], environment: { 'A;rm': 'x' } }, 'n_9')).toThrow(/not a shell identifier/);
  });

  it('passes a parameter with the longest name the catalog allows (48 characters) to the step', () => {
    const name = `NIGHTSHIFT_PARAM_${'P'.repeat(48)}`;
    const script = buildBashActionScript({ description: 'x', steps: [{ label: 'x', script: `echo "seen=$${name}"\n` }], environment: { [name]: 'v1' } }, 'n_10');
    const { stdout, status } = runBash(script);
    expect(status).toBe(0);
    expect(stdout).toContain('seen=v1\n');
  });
});

describe('secret parameters in bash scripts (run for real, with a fake aws on PATH)', () => {
  // quotes, $, &, backslash, glob and path characters, control characters, a line break inside and one at the end
  const SECRET = `p'a"s$s&\\*/ [x]\t\u0001end\nsecond line of it\n`;
  const KNOWN = '/nightshift/secrets/dep-1/AdminPassword';
  const MISSING = '/nightshift/secrets/dep-1/LicenceKey';
  const SHORT = '/nightshift/secrets/dep-2/Short';
  const LONG = '/nightshift/secrets/dep-2/Long';
  const fakeBin = path.join(root, 'fake-bin');
  const calls = path.join(root, 'aws-calls');

  // Answers exactly the CLI call of the contract, for one name; logs every call so the test can see its shape.
  mkdirSync(fakeBin, { recursive: true });
  writeFileSync(
    path.join(fakeBin, 'aws'),
    [
      '#!/usr/bin/env bash',
      `printf '%s\\n' "$*" >> '${calls}'`,
      '[ "$#" -eq 9 ] && [ "$1 $2 $3 $4" = "ssm get-parameter --with-decryption --name" ] && [ "$6 $7 $8 $9" = "--query Parameter.Value --output text" ] || { echo "aws: unexpected call" >&2; exit 2; }',
      `if [ "$5" = '${KNOWN}' ]; then printf '%s' '${Buffer.from(SECRET).toString('base64')}' | base64 -d; echo; exit 0; fi`,
      // two secrets, one inside the other
      `if [ "$5" = '${SHORT}' ]; then echo hunter2; exit 0; fi`,
      `if [ "$5" = '${LONG}' ]; then echo hunter2-and-more; exit 0; fi`,
      'echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter $5 not found." >&2',
      'exit 254',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );

  /** Every piece of the secret a script could leak: the whole value and each of its lines. */
  const leaks = (text: string): string[] => [SECRET, ...SECRET.split('\n').filter((line) => line.length >= 4)].filter((piece) => text.includes(piece));
  const secretEnvironment = (references: Record<string, string>, clear: Record<string, string> = {}): Record<string, string> => ({
    NIGHTSHIFT_PARAMETERS_JSON: JSON.stringify(clear),
    ...Object.fromEntries(Object.entries(clear).map(([name, value]) => [`NIGHTSHIFT_PARAM_${name}`, value])),
    NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson(references),
  });

  it('masks a secret that contains another secret whole, whichever was resolved first', () => {
    const script = buildBashActionScript(
      {
        description: 'Two secrets',
        steps: [{ label: 'print', script: 'echo "A=$NIGHTSHIFT_PARAM_a B=$NIGHTSHIFT_PARAM_b"\necho "$NIGHTSHIFT_PARAMETERS_JSON"\n' }],
        environment: secretEnvironment({ a: SHORT, b: LONG }),
      },
      'n_s0',
    );
    const { stdout, status } = runBash(script, { pathPrefix: fakeBin });
    expect(status).toBe(0);
    expect(stdout).toContain('A=*** B=***\n');
    expect(stdout).toContain('{"a":"***","b":"***"}');
    expect(stdout).not.toContain('and-more');
  });

  it('hands a resolved secret to the step verbatim, in its variable and in the parameters JSON, and prints it only masked', () => {
    rmSync(calls, { force: true });
    // what the value's first line matches as a glob pattern ("\\*" a literal star, "[x]" any of "x"), but is not the value
    const decoy = `p'a"s$s&*/ x\t\u0001end`;
    const script = buildBashActionScript(
      {
        description: 'Set admin password',
        steps: [
          {
            label: 'set',
            script: [
              'printf %s "$NIGHTSHIFT_PARAM_AdminPassword" > "$NIGHTSHIFT_ROOT/seen-value"',
              'printf %s "$NIGHTSHIFT_PARAMETERS_JSON" > "$NIGHTSHIFT_ROOT/seen-json"',
              'echo "password is $NIGHTSHIFT_PARAM_AdminPassword"',
              'echo "json is $NIGHTSHIFT_PARAMETERS_JSON"',
              'echo "error with $NIGHTSHIFT_PARAM_AdminPassword" >&2',
              // would be masked too if the value were matched as a pattern rather than literally
              `echo '${decoy.replace(/'/g, "'\\''")}'`,
              '',
            ].join('\n'),
          },
        ],
        environment: secretEnvironment({ AdminPassword: KNOWN }, { mode: 'fast' }),
      },
      'n_s1',
    );
    expect(leaks(script)).toEqual([]);
    const { stdout, stderr, status } = runBash(script, { pathPrefix: fakeBin });
    expect(stderr).toBe('error with ***\n');
    expect(status).toBe(0);
    expect(readFileSync(path.join(root, 'seen-value'), 'utf8')).toBe(SECRET);
    expect(JSON.parse(readFileSync(path.join(root, 'seen-json'), 'utf8'))).toEqual({ mode: 'fast', AdminPassword: SECRET });
    expect(leaks(stdout)).toEqual([]);
    expect(stdout).toContain('password is ***\n');
    expect(stdout).toContain('json is {"mode":"fast","AdminPassword":"***"}\n');
    expect(stdout).toContain(`\n${decoy}\n`);
    expect(parseActionOutput(stdout, stderr, 'n_s1', status ?? -1)).toMatchObject({ exitCode: 0 });
    expect(readFileSync(calls, 'utf8')).toBe(`ssm get-parameter --with-decryption --name ${KNOWN} --query Parameter.Value --output text\n`);
    // the private work folder with the captured output is gone
    expect(readdirSync(root).filter((name) => name.startsWith('nightshift.'))).toEqual([]);
  });

  it('fails the step with 78 naming the parameter, without running it, when a reference cannot be resolved', () => {
    const script = buildBashActionScript(
      {
        description: 'Activate licence',
        steps: [{ label: 'activate', script: 'touch "$NIGHTSHIFT_ROOT/activated"\n' }],
        environment: secretEnvironment({ AdminPassword: KNOWN, LicenceKey: MISSING }),
      },
      'n_s2',
    );
    const { stdout, stderr, status } = runBash(script, { pathPrefix: fakeBin });
    expect(status).toBe(SECRET_UNRESOLVED_EXIT_CODE);
    expect(existsSync(path.join(root, 'activated'))).toBe(false);
    expect(stderr).toBe(
      `nightshift: secret parameter LicenceKey could not be resolved from SSM parameter ${MISSING}: An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter ${MISSING} not found.\n`,
    );
    expect(leaks(stdout + stderr)).toEqual([]);
    const output = parseActionOutput(stdout, stderr, 'n_s2', status ?? -1);
    expect(output).toMatchObject({ exitCode: SECRET_UNRESOLVED_EXIT_CODE, failedStep: 1, unresolvedSecret: 'LicenceKey' });
    expect(output.outputTail).toContain('secret parameter LicenceKey could not be resolved');
    expect(output.outputTail).not.toContain('NIGHTSHIFT-SECRET-UNRESOLVED');
  });

  it('says so when the computer has no AWS CLI', () => {
    const script = buildBashActionScript(
      { description: 'x', steps: [{ label: 'x', script: 'exit 0\n' }], environment: secretEnvironment({ AdminPassword: KNOWN }) },
      'n_s3',
    );
    // a PATH with bash's own tools but no aws
    const tools = path.join(root, 'no-aws-bin');
    mkdirSync(tools, { recursive: true });
    for (const tool of ['bash', 'base64', 'tr', 'mktemp', 'rm', 'mkdir', 'date', 'timeout', 'grep', 'tail', 'cut', 'cat']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found && !existsSync(path.join(tools, tool))) writeFileSync(path.join(tools, tool), `#!/bin/sh\nexec ${found} "$@"\n`, { mode: 0o755 });
    }
    const result = spawnSync(path.join(tools, 'bash'), ['-c', script], {
      cwd: root,
      env: { PATH: tools, NIGHTSHIFT_ROOT: root, TMPDIR: root },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(result.status).toBe(SECRET_UNRESOLVED_EXIT_CODE);
    expect(result.stderr).toContain(`nightshift: secret parameter AdminPassword could not be resolved from SSM parameter ${KNOWN}: the AWS CLI (aws) is not installed`);
  });

  it('resolves an item\'s references for its test only, masks them in its record, and fails only the item that cannot resolve', () => {
    const script = buildBashDetectionScript(
      [
        entry('task:password-set', 'printf "value: %s\\n" "$NIGHTSHIFT_PARAM_AdminPassword"\necho "$NIGHTSHIFT_PARAMETERS_JSON"\necho "$NIGHTSHIFT_PARAM_AdminPassword" >&2\nexit 0\n', {
          environment: { NIGHTSHIFT_TASK_METHOD: 'test', ...secretEnvironment({ AdminPassword: KNOWN }, { mode: 'fast' }) },
        }),
        entry('task:licence', 'touch "$NIGHTSHIFT_ROOT/licence-test-ran"\nexit 0\n', { environment: secretEnvironment({ LicenceKey: MISSING }) }),
        // no secrets, and it must not see the other items' values
        entry('task:plain', '[ -z "${NIGHTSHIFT_PARAM_AdminPassword-}" ] && exit 0 || exit 1\n'),
      ],
      'n_s4',
    );
    const { stdout, status } = runBash(script, { pathPrefix: fakeBin });
    expect(status).toBe(0);
    // every field of every record, decoded: nothing of the secret in any of them
    const fields = stdout
      .split('\n')
      .filter((line) => line.startsWith('NIGHTSHIFT-ITEM n_s4 '))
      .flatMap((line) => line.split(' ').slice(2))
      .map((field) => Buffer.from(field, 'base64').toString('utf8'));
    expect(fields.join('\n')).toContain('value: ***');
    expect(leaks(fields.join('\n') + stdout)).toEqual([]);
    const expected = ['password-set', 'licence', 'plain'].map((id) => ({ key: `task:${id}`, kind: 'Task' as const }));
    expect(parseDetectionOutput(stdout, 'n_s4', expected)).toEqual({
      'task:password-set': { state: 'Compliant', detail: '{"mode":"fast","AdminPassword":"***"}' },
      'task:licence': {
        state: 'Undetermined',
        reason: `the task test did not run: ${`secret parameter LicenceKey could not be resolved from SSM parameter ${MISSING}: An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter ${MISSING} not found.`.slice(0, 200)}`,
      },
      'task:plain': { state: 'Compliant' },
    });
    expect(existsSync(path.join(root, 'licence-test-ran'))).toBe(false);
  });

  it('refuses references the scripts could not parse, and a secret that also arrives in clear', () => {
    const build = (environment: Record<string, string>) => () =>
      buildBashActionScript({ description: 'x', steps: [], environment }, 'n_s5');
    expect(build({ NIGHTSHIFT_SECRET_REFS_JSON: '{"A":"/x y"}' })).toThrow(/not an SSM parameter name/);
    expect(build({ NIGHTSHIFT_SECRET_REFS_JSON: '{"1A":"/x"}' })).toThrow(/not a parameter name/);
    expect(build({ NIGHTSHIFT_SECRET_REFS_JSON: '["/x"]' })).toThrow(/must map parameter names/);
    expect(build({ NIGHTSHIFT_SECRET_REFS_JSON: '{"A":"/x"}', NIGHTSHIFT_PARAM_A: 'clear' })).toThrow(/only as a reference/);
    expect(build({ NIGHTSHIFT_SECRET_REFS_JSON: '{"A":"/x"}', NIGHTSHIFT_PARAMETERS_JSON: '{"a":"clear"}' })).toThrow(/only as a reference/);
    expect(() => secretReferencesJson({ A: '/x"y' })).toThrow(/not an SSM parameter name/);
  });
});

describe('detection concurrency', () => {
  it('bounds the items running at once by the bound PowerShell shares (contract.ts)', () => {
    const script = buildBashDetectionScript([entry('software:a', 'echo 1.0\n')], 'n_c1');
    expect(script).toContain(`__ns_parallel=${DETECTION_CONCURRENCY}\n`);
    expect(script).toContain('if [ "$__ns_running" -ge "$__ns_parallel" ]; then wait -n;');
  });
});
