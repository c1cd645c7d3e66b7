import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBashActionScript, buildBashDetectionScript } from '../../functions/core/scripts/bash.js';
import type { DetectionEntry } from '../../functions/core/scripts/contract.js';
import { parseActionOutput, parseDetectionOutput } from '../../functions/core/scripts/output.js';

const root = mkdtempSync(path.join(tmpdir(), 'nightshift-bash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runBash(script: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync('bash', ['-c', script], {
    cwd: root,
    env: { PATH: process.env.PATH, NIGHTSHIFT_ROOT: root, TMPDIR: root },
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
});
