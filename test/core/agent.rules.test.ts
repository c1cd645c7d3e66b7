import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/core/errors.js';
import {
  FINAL_INVOCATION_STATUSES,
  INVOCATION_STATUSES,
  MAX_DELIVERY_TIMEOUT_SECONDS,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  OUTPUT_TAIL_BYTES,
  OUTPUT_TRUNCATED_PREFIX,
  assertCommandLimits,
  boundedExecutionTimeout,
  commandComment,
  dispatchDueAt,
  isFinalInvocationStatus,
  isInvocationStatus,
  keptTail,
  parseCommandComment,
} from '../../functions/core/model/agent.js';

describe('command time limits', () => {
  it('keeps every command within what SSM allows with AWS-RunRemoteScript: 8 hours', () => {
    expect(MAX_EXECUTION_TIMEOUT_SECONDS).toBe(28_800);
    expect(MAX_DELIVERY_TIMEOUT_SECONDS).toBe(2_592_000);
  });

  it.each([
    [0, 1],
    [-30, 1],
    [0.2, 1],
    [1, 1],
    [10.1, 11],
    [299.5, 300],
    [28_800, 28_800],
    [28_800.5, 28_800],
    [1_000_000, 28_800],
  ])('bounds a time limit of %s s to %s s: at least one whole second, at most the maximum', (seconds, bounded) => {
    expect(boundedExecutionTimeout(seconds)).toBe(bounded);
  });

  it.each([
    [1, 30],
    [28_800, 30],
    [60, 2_592_000],
  ])('lets a command through at the edges of the limits (execution %s s, delivery %s s)', (execution, delivery) => {
    expect(() => assertCommandLimits({ executionTimeoutSeconds: execution, deliveryTimeoutSeconds: delivery })).not.toThrow();
  });

  it.each([0, -1, 28_801, 1.5, Number.NaN])('refuses an execution time limit of %s s, naming the field and the range', (execution) => {
    const attempt = () => assertCommandLimits({ executionTimeoutSeconds: execution, deliveryTimeoutSeconds: 600 });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(`executionTimeoutSeconds: ${execution} is not a whole number of seconds from 1 to 28800`);
  });

  it.each([29, 0, 2_592_001, 30.5, Number.POSITIVE_INFINITY])('refuses a delivery time limit of %s s, naming the field and the range', (delivery) => {
    const attempt = () => assertCommandLimits({ executionTimeoutSeconds: 60, deliveryTimeoutSeconds: delivery });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(`deliveryTimeoutSeconds: ${delivery} is not a whole number of seconds from 30 to 2592000`);
  });
});

describe('the kept end of a long output', () => {
  it('keeps 10 MiB of each stream', () => {
    expect(OUTPUT_TAIL_BYTES).toBe(10_485_760);
  });

  it('returns an output no longer than the limit whole, untouched', () => {
    const tail = 'cut line\nrecord 1\n';
    expect(keptTail(tail, OUTPUT_TAIL_BYTES)).toEqual({ text: tail, truncated: false });
    expect(keptTail(tail, 18)).toEqual({ text: tail, truncated: false });
  });

  it('drops the partial first line of a cut output and says how much is missing', () => {
    const kept = keptTail('t of a cut line\nrecord 1\nrecord 2\n', OUTPUT_TAIL_BYTES + 1);
    expect(kept).toEqual({
      text: '[output truncated: only the last 10,485,760 of its 10,485,761 bytes were kept]\nrecord 1\nrecord 2\n',
      truncated: true,
    });
    expect(kept.text.startsWith(OUTPUT_TRUNCATED_PREFIX)).toBe(true);
  });

  it('keeps the whole tail of a cut output that has no line break to cut at', () => {
    expect(keptTail('abcdef', 20_000_000).text).toBe('[output truncated: only the last 10,485,760 of its 20,000,000 bytes were kept]\nabcdef');
  });
});

describe('invocation statuses', () => {
  const inFlight = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];
  const final = ['Success', 'Failed', 'Cancelled', 'TimedOut', 'DeliveryTimedOut', 'ExecutionTimedOut', 'Undeliverable', 'Terminated', 'InvalidPlatform', 'AccessDenied'];

  it('knows every status SSM reports, as SSM spells them, and nothing else', () => {
    expect(INVOCATION_STATUSES).toEqual([...inFlight, ...final]);
    for (const status of [...inFlight, ...final]) expect(isInvocationStatus(status)).toBe(true);
    for (const text of ['', 'success', 'Timed Out', 'Unknown']) expect(isInvocationStatus(text)).toBe(false);
  });

  it('counts a command still on its way or running as not final, every other status as final', () => {
    expect(FINAL_INVOCATION_STATUSES).toEqual(final);
    for (const status of INVOCATION_STATUSES) expect(isFinalInvocationStatus(status)).toBe(final.includes(status));
  });
});

describe('dispatch bookkeeping', () => {
  it('expects an answer from the moment the command exists, until a look moves it further out', () => {
    expect(dispatchDueAt({ createdAt: '2026-11-23T09:00:00.000Z' })).toBe('2026-11-23T09:00:00.000Z');
    expect(dispatchDueAt({ createdAt: '2026-11-23T09:00:00.000Z', dueAt: '2026-11-23T09:10:00.000Z' })).toBe('2026-11-23T09:10:00.000Z');
  });
});

describe('command comments', () => {
  it('names session, dispatch and nonce, and reads them back', () => {
    const comment = commandComment('s-1_A', 'Action#0042', 'n_9-Z');
    expect(comment).toBe('nightshift/s-1_A/Action#0042/n_9-Z');
    expect(parseCommandComment(comment)).toEqual({ sessionId: 's-1_A', key: 'Action#0042', nonce: 'n_9-Z' });
  });

  it('fits the 100 characters SSM keeps, and refuses to build a longer one', () => {
    // "nightshift/" + session + "/Detect/" + nonce: 11 + 8 = 19 characters around the two ids
    const exactly100 = commandComment('s'.repeat(48), 'Detect', 'n'.repeat(33));
    expect(exactly100).toHaveLength(100);
    expect(() => commandComment('s'.repeat(48), 'Detect', 'n'.repeat(34))).toThrow(RangeError);
    expect(() => commandComment('s'.repeat(48), 'Detect', 'n'.repeat(34))).toThrow(/is longer than SSM's 100 characters/);
  });

  it.each([
    ['nightshift/abc/Detect/n1', { sessionId: 'abc', key: 'Detect', nonce: 'n1' }],
    ['nightshift/abc/Verify/n1', { sessionId: 'abc', key: 'Verify', nonce: 'n1' }],
    ['nightshift/abc/Action#001/n1', { sessionId: 'abc', key: 'Action#001', nonce: 'n1' }],
    ['nightshift/abc/Action#1234/n1', { sessionId: 'abc', key: 'Action#1234', nonce: 'n1' }],
    ['nightshift/abc/Action#123456/n1', { sessionId: 'abc', key: 'Action#123456', nonce: 'n1' }],
    ['nightshift/AZaz09_-/Detect/AZaz09_-', { sessionId: 'AZaz09_-', key: 'Detect', nonce: 'AZaz09_-' }],
  ])('reads %s back', (comment, reference) => {
    expect(parseCommandComment(comment)).toEqual(reference);
  });

  it.each([
    ['a comment of someone else', 'deploy agent'],
    ['text before the prefix', 'xnightshift/abc/Detect/n1'],
    ['text after the nonce', 'nightshift/abc/Detect/n1/extra'],
    ['an unknown dispatch key', 'nightshift/abc/Plan/n1'],
    ['an action number too short', 'nightshift/abc/Action#12/n1'],
    ['an action number too long', 'nightshift/abc/Action#1234567/n1'],
    ['an action number that is not a number', 'nightshift/abc/Action#12a/n1'],
    ['an empty session id', 'nightshift//Detect/n1'],
    ['an empty nonce', 'nightshift/abc/Detect/'],
    ['a session id with a space', 'nightshift/a c/Detect/n1'],
    ['a session id with a dot', 'nightshift/a.c/Detect/n1'],
    ['a nonce with a space', 'nightshift/abc/Detect/n 1'],
    ['a nonce with a dot', 'nightshift/abc/Detect/n.1'],
    ['text before the key', 'nightshift/abc/xDetect/n1'],
    ['text after the key', 'nightshift/abc/Detectx/n1'],
  ])('does not read a comment with %s as one of its own', (_what, comment) => {
    expect(parseCommandComment(comment)).toBeUndefined();
  });
});
