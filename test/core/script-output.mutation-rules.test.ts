import { describe, expect, it } from 'vitest';
import { ITEM_RECORD_TAG, REBOOT_MARKER, RESULT_RECORD_TAG, SECRET_UNRESOLVED_TAG } from '../../functions/core/scripts/contract.js';
import { encodeBase64 } from '../../functions/core/scripts/encoding.js';
import { parseActionOutput, parseDetectionOutput, type ExpectedItem } from '../../functions/core/scripts/output.js';

/*
 * The rules by which a detection's record lines and an action's output
 * become states, checked on hand-made output (the scripts that print them
 * are tested in bash-scripts and powershell-scripts).
 */

const NONCE = 'n_1';

/** One record line as the scripts print it: key, outputs and test output base64. */
function record(key: string, rc: string | number, out = '', err = '', testRc: string | number = '-', testOut = ''): string {
  return `${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64(key)} ${rc} ${encodeBase64(out)} ${encodeBase64(err)} ${testRc} ${encodeBase64(testOut)}`;
}

const software = (key = 'software:app'): ExpectedItem => ({ key, kind: 'Software' });
const task = (key = 'task:policy'): ExpectedItem => ({ key, kind: 'Task' });

/** The state of the one item a hand-made record line reports. */
function softwareState(line: string): unknown {
  return parseDetectionOutput(line, NONCE, [software()])['software:app'];
}
function taskState(line: string): unknown {
  return parseDetectionOutput(line, NONCE, [task()])['task:policy'];
}

describe('reading a detection record: which lines are records', () => {
  it('reads a record among chatter and CRLF line ends, and ignores records of another nonce or with the tag only as a prefix', () => {
    const stdout = [
      'banner',
      `${ITEM_RECORD_TAG} other ${encodeBase64('software:app')} 0 ${encodeBase64('9.9')} `,
      `${ITEM_RECORD_TAG} ${NONCE}x ${encodeBase64('software:app')} 0 ${encodeBase64('8.8')} `,
      ` ${record('software:app', 0, '7.7')}`,
      `${record('software:app', 0, '1.2.3')}   `,
      'trailer',
    ].join('\r\n');
    expect(softwareState(stdout)).toEqual({ state: 'Present', version: '1.2.3' });
  });

  it('keeps the first record of an item, not a later one', () => {
    expect(softwareState([record('software:app', 0, '1.0'), record('software:app', 0, '2.0')].join('\n'))).toEqual({ state: 'Present', version: '1.0' });
  });

  it('takes a well-formed record even after a garbled one for the same item', () => {
    expect(softwareState([`${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64('software:app')} x`, record('software:app', 0, '3.0')].join('\n'))).toEqual({
      state: 'Present',
      version: '3.0',
    });
  });

  it('reads a short record: missing outputs are empty and a missing test means none ran', () => {
    expect(softwareState(`${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64('software:app')} 0`)).toEqual({ state: 'Absent' });
    expect(softwareState(`${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64('software:app')} 0 ${encodeBase64('1.0')}`)).toEqual({ state: 'Present', version: '1.0' });
    expect(softwareState(`${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} 0`)).toEqual({
      state: 'Present',
      version: '1.0',
      test: 'Passed',
    });
  });

  it.each([
    ['an exit code of four digits', `${encodeBase64('software:app')} 1000 ${encodeBase64('1.0')}`],
    ['a negative exit code', `${encodeBase64('software:app')} -1 ${encodeBase64('1.0')}`],
    ['an exit code with a letter after it', `${encodeBase64('software:app')} 0x ${encodeBase64('1.0')}`],
    ['an exit code with a letter before it', `${encodeBase64('software:app')} x0 ${encodeBase64('1.0')}`],
    ['no exit code', encodeBase64('software:app')],
    ['stdout that is not base64', `${encodeBase64('software:app')} 0 1.0!`],
    ['stderr that is not base64', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} err!`],
    ['a test code of four digits', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} 1000 ${encodeBase64('')}`],
    ['a test code that is a word', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} ok ${encodeBase64('')}`],
    ['a test code with a letter after it', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} 1x ${encodeBase64('')}`],
    ['a test code with a letter before it', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} x1 ${encodeBase64('')}`],
    ['test output that is not base64', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} 0 ok!`],
    ['a seventh field', `${encodeBase64('software:app')} 0 ${encodeBase64('1.0')} ${encodeBase64('')} 0 ${encodeBase64('')} extra`],
  ])('calls a record with %s garbled', (_why, fields) => {
    expect(softwareState(`${ITEM_RECORD_TAG} ${NONCE} ${fields}`)).toEqual({ state: 'Undetermined', reason: 'the detection record was garbled' });
  });

  it('accepts three-digit exit codes and test codes', () => {
    expect(softwareState(record('software:app', 0, '1.0', '', 255))).toEqual({ state: 'Present', version: '1.0', test: 'Failed' });
    expect(softwareState(record('software:app', 255, '', 'boom'))).toEqual({ state: 'Undetermined', reason: 'the detection script exited 255: boom' });
  });

  it('ignores a record whose key is not base64, so it cannot mark any item garbled', () => {
    expect(softwareState(`${ITEM_RECORD_TAG} ${NONCE} software:app 0`)).toEqual({ state: 'Undetermined', reason: 'the detection reported nothing for this item' });
  });

  it('says why an item has no record: garbled, cut off, or nothing reported', () => {
    const garbled = `${ITEM_RECORD_TAG} ${NONCE} ${encodeBase64('software:a')} x`;
    const expected = [software('software:a'), software('software:b')];
    expect(parseDetectionOutput(garbled, NONCE, expected, { truncated: true })).toEqual({
      'software:a': { state: 'Undetermined', reason: 'the detection record was garbled' },
      'software:b': { state: 'Undetermined', reason: 'the detection output was cut off before this item reported' },
    });
    expect(parseDetectionOutput(garbled, NONCE, expected, { truncated: false })['software:b']).toEqual({
      state: 'Undetermined',
      reason: 'the detection reported nothing for this item',
    });
    expect(parseDetectionOutput('', NONCE, expected)['software:b']).toEqual({ state: 'Undetermined', reason: 'the detection reported nothing for this item' });
  });

  it('reports only the items expected, each by its own kind', () => {
    const stdout = [record('software:app', 0, '1.0'), record('task:policy', 0, 'ok'), record('software:other', 0, '2.0')].join('\n');
    expect(parseDetectionOutput(stdout, NONCE, [software(), task()])).toEqual({
      'software:app': { state: 'Present', version: '1.0' },
      'task:policy': { state: 'Compliant', detail: 'ok' },
    });
  });
});

describe('what a software detection record means', () => {
  it('takes the last non-blank line, trimmed, as the version', () => {
    expect(softwareState(record('software:app', 0, 'banner\n  1.2.3  \n\n  \n'))).toEqual({ state: 'Present', version: '1.2.3' });
    expect(softwareState(record('software:app', 0, '0.9\r\n1.0\r\n'))).toEqual({ state: 'Present', version: '1.0' });
  });

  it('is Absent when nothing but blank lines was printed', () => {
    expect(softwareState(record('software:app', 0, '\n  \n'))).toEqual({ state: 'Absent' });
  });

  it('quotes at most 80 characters of output that is not a version', () => {
    const printed = `v${'x'.repeat(100)}`;
    expect(softwareState(record('software:app', 0, printed))).toEqual({
      state: 'Undetermined',
      reason: `the detection script printed "${printed.slice(0, 80)}", which is not a version`,
    });
  });

  it('adds the health check: exit 0 passed, anything else failed', () => {
    expect(softwareState(record('software:app', 0, '1.0', '', 0))).toEqual({ state: 'Present', version: '1.0', test: 'Passed' });
    expect(softwareState(record('software:app', 0, '1.0', '', 1))).toEqual({ state: 'Present', version: '1.0', test: 'Failed' });
    expect(softwareState(record('software:app', 0, '1.0', '', 3))).toEqual({ state: 'Present', version: '1.0', test: 'Failed' });
  });

  it('reads 124 and 137 (killed by timeout, TERM then KILL) as a timeout', () => {
    expect(softwareState(record('software:app', 124, '', 'Terminated'))).toEqual({ state: 'Undetermined', reason: 'the detection script timed out' });
    expect(softwareState(record('software:app', 137, '', 'Killed'))).toEqual({ state: 'Undetermined', reason: 'the detection script timed out' });
  });

  it('explains another exit code with the last line of stderr, else of stdout, at most 200 characters, else with the code alone', () => {
    expect(softwareState(record('software:app', 4, 'out line\n', 'first\nlast error\n\n'))).toEqual({ state: 'Undetermined', reason: 'the detection script exited 4: last error' });
    expect(softwareState(record('software:app', 4, 'only stdout\n', ''))).toEqual({ state: 'Undetermined', reason: 'the detection script exited 4: only stdout' });
    expect(softwareState(record('software:app', 4))).toEqual({ state: 'Undetermined', reason: 'the detection script exited 4' });
    const long = 'e'.repeat(300);
    expect(softwareState(record('software:app', 4, '', long))).toEqual({ state: 'Undetermined', reason: `the detection script exited 4: ${'e'.repeat(200)}` });
  });
});

describe('what a task test record means', () => {
  it('exit 0 is compliant and exit 1 not compliant, with the last stdout line (at most 200 characters) as detail when there is one', () => {
    expect(taskState(record('task:policy', 0, 'checked\nall good\n'))).toEqual({ state: 'Compliant', detail: 'all good' });
    expect(taskState(record('task:policy', 0))).toEqual({ state: 'Compliant' });
    expect(taskState(record('task:policy', 1, 'drifted'))).toEqual({ state: 'NotCompliant', detail: 'drifted' });
    expect(taskState(record('task:policy', 1))).toEqual({ state: 'NotCompliant' });
    expect(taskState(record('task:policy', 0, 'd'.repeat(300)))).toEqual({ state: 'Compliant', detail: 'd'.repeat(200) });
  });

  it('any other code means the test could not tell', () => {
    expect(taskState(record('task:policy', 2, '', 'no such key'))).toEqual({ state: 'Undetermined', reason: 'the task test exited 2: no such key' });
    expect(taskState(record('task:policy', 124))).toEqual({ state: 'Undetermined', reason: 'the task test timed out' });
  });

  it('says the test did not run when a secret could not be resolved (exit 78 with the script\'s own line), in at most 200 characters', () => {
    const refs = 'nightshift: NIGHTSHIFT_SECRET_REFS_JSON is not a JSON object';
    expect(taskState(record('task:policy', 78, '', `aws: noise\n${refs}\n`))).toEqual({
      state: 'Undetermined',
      reason: 'the task test did not run: NIGHTSHIFT_SECRET_REFS_JSON is not a JSON object',
    });
    const secret = `nightshift: secret parameter token could not be resolved from SSM parameter /x: ${'w'.repeat(250)}`;
    expect(taskState(record('task:policy', 78, '', secret))).toEqual({
      state: 'Undetermined',
      reason: `the task test did not run: ${secret.slice('nightshift: '.length, 'nightshift: '.length + 200)}`,
    });
  });

  it('treats the same line as ordinary stderr when the code is not 78, and 78 without that line as an ordinary code', () => {
    const secret = 'nightshift: secret parameter token could not be resolved';
    expect(taskState(record('task:policy', 3, '', secret))).toEqual({ state: 'Undetermined', reason: `the task test exited 3: ${secret}` });
    expect(taskState(record('task:policy', 78, '', 'config missing'))).toEqual({ state: 'Undetermined', reason: 'the task test exited 78: config missing' });
    expect(taskState(record('task:policy', 78, '', `catalog says ${secret}`))).toEqual({
      state: 'Undetermined',
      reason: `the task test exited 78: catalog says ${secret}`,
    });
    expect(taskState(record('task:policy', 78, '', `${secret}\nthen the script went on`))).toEqual({
      state: 'Undetermined',
      reason: 'the task test exited 78: then the script went on',
    });
  });
});

describe('reading an action result', () => {
  const result = (fields: string): string => `${RESULT_RECORD_TAG} ${NONCE} ${fields}`;

  it('takes code, duration and failed step from the record, and keeps everything else as output', () => {
    expect(parseActionOutput(`step 1\n${result('3 1500 2')}\n`, '', NONCE, 0)).toEqual({
      exitCode: 3,
      durationMs: 1500,
      failedStep: 2,
      rebootRequired: false,
      outputTail: 'step 1',
    });
  });

  it('falls back to the agent\'s exit code without a record, and leaves out what it cannot read', () => {
    expect(parseActionOutput('killed\n', '', NONCE, 137)).toEqual({ exitCode: 137, rebootRequired: false, outputTail: 'killed' });
    expect(parseActionOutput(result('x 1500 -'), '', NONCE, 9)).toEqual({ exitCode: 9, durationMs: 1500, rebootRequired: false, outputTail: '' });
  });

  it('reads negative Windows codes and refuses malformed fields one by one', () => {
    expect(parseActionOutput(result('-1073741819 5 1'), '', NONCE, 0)).toMatchObject({ exitCode: -1073741819, durationMs: 5, failedStep: 1 });
    for (const rc of ['x5', '5x', '12345678901', '--5']) expect(parseActionOutput(result(`${rc} 5 1`), '', NONCE, 9).exitCode).toBe(9);
    for (const ms of ['x5', '5x', '-5', '1.5']) expect(parseActionOutput(result(`0 ${ms} 1`), '', NONCE, 0)).not.toHaveProperty('durationMs');
    for (const step of ['x5', '5x', '-', '-1']) expect(parseActionOutput(result(`1 5 ${step}`), '', NONCE, 0)).not.toHaveProperty('failedStep');
    expect(parseActionOutput(result('0'), '', NONCE, 0)).toEqual({ exitCode: 0, rebootRequired: false, outputTail: '' });
  });

  it('reads a record with extra spaces around its fields, and failed steps past the ninth', () => {
    expect(parseActionOutput(`${RESULT_RECORD_TAG} ${NONCE}   3 1500 12  `, '', NONCE, 0)).toEqual({ exitCode: 3, durationMs: 1500, failedStep: 12, rebootRequired: false, outputTail: '' });
  });

  it('keeps records of another nonce as output', () => {
    const other = `${RESULT_RECORD_TAG} other 5 10 1`;
    expect(parseActionOutput(other, '', NONCE, 0)).toEqual({ exitCode: 0, rebootRequired: false, outputTail: other });
  });

  it('names the secret that could not be resolved, only when it is a parameter name, and never keeps that line', () => {
    const line = (name: string): string => `${SECRET_UNRESOLVED_TAG} ${NONCE} ${name}`;
    expect(parseActionOutput(`${line('api_token ')}\n${result('78 3 1')}`, '', NONCE, 0)).toEqual({
      exitCode: 78,
      durationMs: 3,
      failedStep: 1,
      unresolvedSecret: 'api_token',
      rebootRequired: false,
      outputTail: '',
    });
    expect(parseActionOutput(`${line('not a name')}\nafter`, '', NONCE, 78)).toEqual({ exitCode: 78, rebootRequired: false, outputTail: 'after' });
    expect(parseActionOutput(`${SECRET_UNRESOLVED_TAG} other api_token`, '', NONCE, 78)).not.toHaveProperty('unresolvedSecret');
  });

  it('counts Windows restart codes (3010, 1641) as success needing a restart, from the record or the agent', () => {
    expect(parseActionOutput(result('3010 5 -'), '', NONCE, 3010)).toMatchObject({ exitCode: 0, rebootRequired: true });
    expect(parseActionOutput(result('1641 5 -'), '', NONCE, 1641)).toMatchObject({ exitCode: 0, rebootRequired: true });
    expect(parseActionOutput('', '', NONCE, 3010)).toMatchObject({ exitCode: 0, rebootRequired: true });
    expect(parseActionOutput(result('3011 5 1'), '', NONCE, 3011)).toMatchObject({ exitCode: 3011, rebootRequired: false });
  });

  it('needs a restart when a line is the marker alone (spaces aside), not when the marker is part of a line', () => {
    expect(parseActionOutput(`installed\n  ${REBOOT_MARKER} \n${result('0 5 -')}`, '', NONCE, 0)).toMatchObject({ exitCode: 0, rebootRequired: true });
    expect(parseActionOutput(`${REBOOT_MARKER} soon`, '', NONCE, 0).rebootRequired).toBe(false);
    expect(parseActionOutput('', REBOOT_MARKER, NONCE, 0).rebootRequired).toBe(false);
  });

  it('joins output and stderr without trailing blank lines, and keeps the last 2,000 characters', () => {
    expect(parseActionOutput('a\nb\n\n', 'e\n', NONCE, 0).outputTail).toBe('a\nb\ne');
    expect(parseActionOutput('a\n', '', NONCE, 0).outputTail).toBe('a');
    expect(parseActionOutput('', 'e\n\n', NONCE, 0).outputTail).toBe('e');
    expect(parseActionOutput(`  \n${result('0 1 -')}\n`, '  ', NONCE, 0).outputTail).toBe('');
    const long = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    const tail = parseActionOutput(long, 'end', NONCE, 0).outputTail;
    expect(tail).toBe(`${long}\nend`.slice(-2_000));
    expect(tail).toHaveLength(2_000);
  });
});
