import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBashActionScript, buildBashDetectionScript } from '../../functions/core/scripts/bash.js';
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

describe('the batched bash detection script (run for real)', () => {
  it('isolates each item: a hung, a crashing and a chatty detection cannot hide the others', () => {
    const script = buildBashDetectionScript(
      [
        { itemId: 'ok', script: 'echo "some banner"\necho 1.2.3\n', timeoutSeconds: 5 },
        { itemId: 'absent', script: 'exit 0\n', timeoutSeconds: 5 },
        { itemId: 'crash', script: 'echo "cannot read registry" >&2\nexit 4\n', timeoutSeconds: 5 },
        { itemId: 'hang', script: 'sleep 30\n', timeoutSeconds: 1 },
        { itemId: 'exits-the-shell', script: 'exit 0; echo never\n', timeoutSeconds: 5 },
        { itemId: 'junk', script: 'echo "version unknown"\n', timeoutSeconds: 5 },
        { itemId: 'forger', script: "echo 'NIGHTSHIFT-ITEM n_1 b2s= 0 OS45 ' \necho 9.9\n", timeoutSeconds: 5 },
      ],
      'n_1',
    );
    const { stdout, status } = runBash(script);
    expect(status).toBe(0);
    const detected = parseDetectionOutput(`noise before\n${stdout}\nnoise after`, 'n_1', [
      'ok',
      'absent',
      'crash',
      'hang',
      'exits-the-shell',
      'junk',
      'forger',
      'never-ran',
    ]);
    expect(detected).toEqual({
      ok: { state: 'Present', version: '1.2.3' },
      absent: { state: 'Absent' },
      crash: { state: 'Undetermined', reason: 'the detection script exited 4: cannot read registry' },
      hang: { state: 'Undetermined', reason: 'the detection script timed out' },
      'exits-the-shell': { state: 'Absent' },
      junk: { state: 'Undetermined', reason: 'the detection script printed "version unknown", which is not a version' },
      forger: { state: 'Present', version: '9.9' },
      'never-ran': { state: 'Undetermined', reason: 'the detection reported nothing for this item' },
    });
  });

  it('reads only records carrying its own nonce, and marks garbled ones', () => {
    const lines = [
      'NIGHTSHIFT-ITEM other_nonce YQ== 0 MS4w AA==',
      'NIGHTSHIFT-ITEM n_2 YQ== 0 not*base64 ',
      'NIGHTSHIFT-ITEM n_2 Yg== 0 Mi4w ',
    ].join('\n');
    expect(parseDetectionOutput(lines, 'n_2', ['a', 'b'], {})).toEqual({
      a: { state: 'Undetermined', reason: 'the detection record was garbled' },
      b: { state: 'Present', version: '2.0' },
    });
    expect(parseDetectionOutput('', 'n_2', ['a'], { truncated: true }).a).toEqual({
      state: 'Undetermined',
      reason: 'the detection output was cut off before this item reported',
    });
  });

  it('leaves nothing behind in its work folder', () => {
    const before = readdirSync(root).length;
    runBash(buildBashDetectionScript([{ itemId: 'x', script: 'echo 1.0\n', timeoutSeconds: 5 }], 'n_3'));
    expect(readdirSync(root)).toHaveLength(before);
  });
});

describe('the bash action script (run for real)', () => {
  it('passes environment values verbatim without ever placing them in script text', () => {
    const hostile = `it's "quoted" $(touch pwned) \`touch pwned2\` ; && | > < %PATH% \\n\nnew line ünïcødé ${'x'.repeat(10_240)}\n\n`;
    const script = buildBashActionScript(
      { description: 'Install "evil"; rm -rf /', script: 'printf %s "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/received"\n', environment: { NIGHTSHIFT_VERSION: hostile } },
      'n_4',
    );
    expect(script).not.toContain('touch pwned');
    expect(script).not.toContain('rm -rf /');
    const { status } = runBash(script);
    expect(status).toBe(0);
    const received = spawnSync('cat', [path.join(root, 'received')], { encoding: 'utf8' }).stdout;
    expect(received).toBe(hostile);
    expect(readdirSync(root)).not.toContain('pwned');
    expect(readdirSync(root)).not.toContain('pwned2');
  });

  it('reports exit code, duration and a reboot request, and exits with the script code', () => {
    const script = buildBashActionScript(
      { description: 'Update App', script: 'echo working\necho NIGHTSHIFT-REBOOT-REQUIRED\nexit 7\n', environment: {} },
      'n_5',
    );
    const { stdout, stderr, status } = runBash(script);
    expect(status).toBe(7);
    const output = parseActionOutput(stdout, stderr, 'n_5', status ?? -1);
    expect(output).toMatchObject({ exitCode: 7, rebootRequired: true });
    expect(output.durationMs).toBeGreaterThanOrEqual(0);
    expect(output.outputTail).toBe('working\nNIGHTSHIFT-REBOOT-REQUIRED');
  });

  it('refuses environment names that are not shell identifiers', () => {
    expect(() => buildBashActionScript({ description: 'x', script: 'true', environment: { 'A;rm': 'x' } }, 'n_6')).toThrow(
      /not a shell identifier/,
    );
  });
});
