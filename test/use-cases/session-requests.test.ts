import { describe, expect, it } from 'vitest';
import { ConflictError, RequestRefusedError, TransientError, ValidationError } from '../../functions/core/errors.js';
import { newStages, sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import {
  cancelSession,
  decideCancel,
  decidePostpone,
  decideRunNow,
  postponeSession,
  runSessionNow,
} from '../../functions/core/use-cases/session-requests.js';
import { sessionRecord } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const ana = { kind: 'EndUser', name: 'ana' } as const;
const ops = { kind: 'Operator', name: 'ops' } as const;
const NOW = new Date('2026-11-23T20:00:00.000Z');
const at = (iso: string) => new Date(iso);
/** A session waiting for its window at 22:00, created at 09:00 the same day. */
const waiting = (overrides: Partial<Session> = {}): Session =>
  sessionRecord('s', {
    status: 'Running',
    executeAt: '2026-11-23T22:00:00.000Z',
    options: sessionOptionsSchema.parse({ executeAt: '2026-11-23T22:00:00.000Z' }),
    ...overrides,
  });
const withPostpone = (postpone: { delayMinutes?: number; maxCount?: number; deadline?: string; maxDelayMinutes?: number }) =>
  sessionOptionsSchema.parse({ executeAt: '2026-11-23T22:00:00.000Z', postpone });
const refusal = (decide: () => unknown): string => {
  try {
    decide();
  } catch (error) {
    if (error instanceof RequestRefusedError) return error.message;
    throw error;
  }
  return '(not refused)';
};

describe('the postpone rule (pure)', () => {
  it('moves execution later by the delay from the planned time, recording who asked', () => {
    expect(decidePostpone(waiting(), NOW, ana)).toEqual({
      status: 'Postponed',
      executeAt: '2026-11-23T23:00:00.000Z',
      postponements: [{ at: NOW.toISOString(), by: ana, from: '2026-11-23T22:00:00.000Z', to: '2026-11-23T23:00:00.000Z' }],
    });
  });

  it('counts the delay from now when the planned time has passed or there is none', () => {
    expect(decidePostpone(waiting({ executeAt: '2026-11-23T19:00:00.000Z' }), NOW, ana)?.executeAt).toBe('2026-11-23T21:00:00.000Z');
    const { executeAt: _, ...unplanned } = waiting();
    expect(decidePostpone(unplanned, NOW, ana)).toMatchObject({ executeAt: '2026-11-23T21:00:00.000Z', postponements: [{ from: NOW.toISOString() }] });
  });

  it('keeps earlier postponements and uses the session\'s own delay', () => {
    const earlier = { at: '2026-11-23T12:00:00.000Z', by: ops, from: '2026-11-23T21:00:00.000Z', to: '2026-11-23T22:00:00.000Z' };
    const session = waiting({ postponements: [earlier], options: withPostpone({ delayMinutes: 15, maxCount: 3 }) });
    expect(decidePostpone(session, NOW, ana)?.postponements).toEqual([earlier, { at: NOW.toISOString(), by: ana, from: '2026-11-23T22:00:00.000Z', to: '2026-11-23T22:15:00.000Z' }]);
  });

  it('moves execution to the time an operator chose, still within the count, the deadline and the longest window', () => {
    expect(decidePostpone(waiting(), NOW, ops, '2026-11-24T03:30:00.000Z')).toEqual({
      status: 'Postponed',
      executeAt: '2026-11-24T03:30:00.000Z',
      postponements: [{ at: NOW.toISOString(), by: ops, from: '2026-11-23T22:00:00.000Z', to: '2026-11-24T03:30:00.000Z' }],
    });
    expect(refusal(() => decidePostpone(waiting({ options: withPostpone({ deadline: '2026-11-24T03:00:00.000Z' }) }), NOW, ops, '2026-11-24T03:30:00.000Z'))).toBe(
      'postponing would move the maintenance to 2026-11-24T03:30:00.000Z, past its deadline of 2026-11-24T03:00:00.000Z',
    );
    expect(refusal(() => decidePostpone(waiting({ options: withPostpone({ maxCount: 0 }) }), NOW, ops, '2026-11-24T03:30:00.000Z'))).toBe('this session cannot be postponed');
  });

  it('refuses a chosen time that is not later than the maintenance\'s current time, naming the field (the current time itself included)', () => {
    for (const until of ['2026-11-23T22:00:00.000Z', '2026-11-23T21:00:00.000Z']) {
      const error: unknown = (() => {
        try {
          return decidePostpone(waiting(), NOW, ops, until);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toEqual([{ field: 'until', problem: "must be later than the maintenance's current time, 2026-11-23T22:00:00.000Z" }]);
    }
    // a planned time already passed: later than now is what counts
    expect(decidePostpone(waiting({ executeAt: '2026-11-23T19:00:00.000Z' }), NOW, ops, '2026-11-23T20:00:00.001Z')?.executeAt).toBe('2026-11-23T20:00:00.001Z');
  });

  it('refuses past the count, saying the limit, and says so differently when no postpone is allowed', () => {
    const once = { at: NOW.toISOString(), by: ana, from: 'a', to: 'b' };
    expect(refusal(() => decidePostpone(waiting({ postponements: [once, once] }), NOW, ana))).toBe('the session was already postponed 2 time(s); the limit is 2');
    expect(decidePostpone(waiting({ postponements: [once], options: withPostpone({ maxCount: 2 }) }), NOW, ana)?.status).toBe('Postponed');
    expect(refusal(() => decidePostpone(waiting({ options: withPostpone({ maxCount: 0 }) }), NOW, ana))).toBe('this session cannot be postponed');
  });

  it('refuses a postpone past the deadline, and allows one that lands on it exactly', () => {
    expect(refusal(() => decidePostpone(waiting({ options: withPostpone({ deadline: '2026-11-23T22:59:59.000Z' }) }), NOW, ana))).toBe(
      'postponing would move the maintenance to 2026-11-23T23:00:00.000Z, past its deadline of 2026-11-23T22:59:59.000Z',
    );
    expect(decidePostpone(waiting({ options: withPostpone({ deadline: '2026-11-23T23:00:00.000Z' }) }), NOW, ana)?.executeAt).toBe('2026-11-23T23:00:00.000Z');
  });

  it('postpones once per email link: the same ref again changes nothing, even past the count (a repeated POST)', () => {
    const first = decidePostpone(waiting(), NOW, ana, undefined, 'lnk-1');
    expect(first?.postponements?.[0]).toMatchObject({ ref: 'lnk-1' });
    const after = waiting({ status: 'Postponed', executeAt: first?.executeAt ?? '', postponements: first?.postponements ?? [], options: withPostpone({ maxCount: 1 }) });
    expect(decidePostpone(after, NOW, ana, undefined, 'lnk-1')).toBeUndefined();
    expect(() => decidePostpone(after, NOW, ana, undefined, 'lnk-2')).toThrow(/limit is 1/);
  });

  it("refuses past a schedule's deadline relative to the first window, however the window moved since", () => {
    const options = withPostpone({ delayMinutes: 60, maxCount: 5, maxDelayMinutes: 90 });
    const first = decidePostpone(waiting({ options }), NOW, ana);
    expect(first?.executeAt).toBe('2026-11-23T23:00:00.000Z');
    const moved = waiting({ status: 'Postponed', executeAt: first?.executeAt ?? '', postponements: first?.postponements ?? [], options });
    // 22:00 + 90 minutes is the last moment: 23:00 + 60 would be 00:00
    expect(() => decidePostpone(moved, NOW, ana)).toThrow(/past its deadline of 2026-11-23T23:30:00.000Z/);
  });

  it('refuses a postpone that would end more than two weeks after the session started, to the millisecond', () => {
    const createdAt = '2026-11-10T00:00:00.000Z';
    // the limit is 2026-11-24T00:00:00.000Z: exactly on it is allowed, a millisecond past is not
    expect(decidePostpone(waiting({ createdAt, executeAt: '2026-11-23T23:00:00.000Z' }), NOW, ana)?.executeAt).toBe('2026-11-24T00:00:00.000Z');
    expect(refusal(() => decidePostpone(waiting({ createdAt, executeAt: '2026-11-23T23:00:00.001Z' }), NOW, ana))).toBe(
      "postponing would move the maintenance more than 14 days past the session's start",
    );
  });

  it.each([
    [{ status: 'Passed' as const }, 'the session has already ended (Passed)'],
    [{ status: 'Cancelled' as const }, 'the session has already ended (Cancelled)'],
    [{ status: 'PendingConnectivity' as const }, 'the computer is offline; the maintenance waits for it anyway, so there is nothing to postpone yet'],
    [{ status: 'Created' as const }, 'the session has not started yet; postpone once it has'],
    [{ options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) }, 'this session only detects; there is no execution to postpone'],
    [{ stages: { ...newStages(), Execution: { status: 'Running' as const } } }, 'execution has already started, so it can no longer be postponed'],
    [{ stages: { ...newStages(), Execution: { status: 'Succeeded' as const } } }, 'execution has already started, so it can no longer be postponed'],
  ])('refuses %j with the reason', (overrides, reason) => {
    expect(refusal(() => decidePostpone(waiting(overrides), NOW, ana))).toBe(reason);
  });

  it('postpones a session postponed before, within its count', () => {
    expect(decidePostpone(waiting({ status: 'Postponed' }), NOW, ana)?.status).toBe('Postponed');
  });
});

describe('the run-now rule (pure)', () => {
  it('moves a waiting session to now, and a postponed one back to running', () => {
    expect(decideRunNow(waiting(), NOW)).toEqual({ status: 'Running', executeAt: NOW.toISOString() });
    expect(decideRunNow(waiting({ status: 'Postponed' }), NOW)).toEqual({ status: 'Running', executeAt: NOW.toISOString() });
    expect(decideRunNow(waiting({ status: 'PendingConnectivity' }), NOW)).toEqual({ status: 'PendingConnectivity', executeAt: NOW.toISOString() });
  });

  it('changes nothing for a session already due or executing', () => {
    expect(decideRunNow(waiting({ executeAt: NOW.toISOString() }), NOW)).toBeUndefined();
    expect(decideRunNow(waiting({ executeAt: '2026-11-23T19:00:00.000Z' }), NOW)).toBeUndefined();
    expect(decideRunNow(waiting({ stages: { ...newStages(), Execution: { status: 'Running' } } }), NOW)).toBeUndefined();
    // a postponed session is moved even when its time has passed: it must leave Postponed to run
    expect(decideRunNow(waiting({ status: 'Postponed', executeAt: '2026-11-23T19:00:00.000Z' }), NOW)).toEqual({ status: 'Running', executeAt: NOW.toISOString() });
  });

  it('moves a session with no planned time to now', () => {
    const { executeAt: _, ...unplanned } = waiting();
    expect(decideRunNow(unplanned, NOW)).toEqual({ status: 'Running', executeAt: NOW.toISOString() });
  });

  it('refuses an ended, detection-only or finished-executing session', () => {
    expect(refusal(() => decideRunNow(waiting({ status: 'Failed' }), NOW))).toBe('the session has already ended (Failed)');
    expect(refusal(() => decideRunNow(waiting({ options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) }), NOW))).toBe('this session only detects; there is no execution to run now');
    expect(refusal(() => decideRunNow(waiting({ stages: { ...newStages(), Execution: { status: 'Failed' } } }), NOW))).toBe('execution has already started, so it can no longer be moved');
  });
});

describe('the cancel rule (pure)', () => {
  it('cancels once, recording who asked and when', () => {
    expect(decideCancel(waiting(), NOW, ana)).toEqual({ status: 'Cancelled', cancelled: { at: NOW.toISOString(), by: ana } });
    expect(decideCancel(waiting({ status: 'Created' }), NOW, ana)?.status).toBe('Cancelled');
    expect(decideCancel(waiting({ status: 'Cancelled' }), NOW, ops)).toBeUndefined();
  });

  it('refuses a session that ended otherwise', () => {
    for (const status of ['Passed', 'PartialPassed', 'Failed'] as const) expect(refusal(() => decideCancel(waiting({ status }), NOW, ana))).toBe(`the session has already ended (${status})`);
  });
});

describe('requests on a stored session (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  const stored = async (overrides: Partial<Session> = {}) => {
    h = harness();
    h.clock.advance(at('2026-11-23T20:00:00.000Z').getTime() - h.clock.now().getTime());
    return h.session({
      createdAt: '2026-11-23T09:00:00.000Z',
      executeAt: '2026-11-23T22:00:00.000Z',
      options: sessionOptionsSchema.parse({ executeAt: '2026-11-23T22:00:00.000Z' }),
      ...overrides,
    });
  };
  const parked = { taskToken: 'gate', since: '2026-11-23T10:00:00.000Z', until: '2026-11-23T22:00:00.000Z' };

  it('postpones: one write, the parked gate\'s timer moved, one log line naming who asked, the count left', async () => {
    const session = await stored({ windowWait: parked });
    expect(await postponeSession(h.deps, { sessionId: session.id, by: ana })).toEqual({ executeAt: '2026-11-23T23:00:00.000Z', postponesLeft: 1 });
    expect(await h.deps.sessions.getSession(session.id)).toMatchObject({ status: 'Postponed', version: session.version + 1, executeAt: '2026-11-23T23:00:00.000Z' });
    expect(h.timers.set).toEqual([[session.id, '2026-11-23T23:00:00.000Z']]);
    expect(h.lines.map((l) => [l.kind, l.message, l.by])).toEqual([['Request', 'maintenance postponed to 2026-11-23T23:00:00.000Z', ana]]);
  });

  it('postpones a gate not parked yet without arming a timer (the gate arms it when it gets there)', async () => {
    const session = await stored();
    await postponeSession(h.deps, { sessionId: session.id, by: ana });
    expect(h.timers.set).toEqual([]);
  });

  it('refuses a postpone with the reason and changes nothing', async () => {
    const session = await stored({ options: sessionOptionsSchema.parse({ postpone: { maxCount: 0 } }) });
    await expect(postponeSession(h.deps, { sessionId: session.id, by: ana })).rejects.toThrow(new RequestRefusedError('this session cannot be postponed'));
    expect((await h.deps.sessions.getSession(session.id))?.version).toBe(session.version);
    expect(h.lines).toEqual([]);
  });

  it('runs now: moves the window, wakes the parked gate, clears the timer, logs once however often it is asked', async () => {
    const session = await stored({ status: 'Postponed', windowWait: parked });
    expect(await runSessionNow(h.deps, { sessionId: session.id, by: ops })).toEqual({ executeAt: '2026-11-23T20:00:00.000Z' });
    const after = await h.deps.sessions.getSession(session.id);
    expect(after).toMatchObject({ status: 'Running', stages: { Execution: { status: 'Running', startedAt: '2026-11-23T20:00:00.000Z' } } });
    expect(h.workflow.answers).toEqual([{ token: 'gate', kind: 'complete', output: { decision: 'Run' } }]);
    expect(h.timers.cleared).toEqual([session.id]);
    expect(await runSessionNow(h.deps, { sessionId: session.id, by: ops })).toEqual({ executeAt: '2026-11-23T20:00:00.000Z' });
    expect(h.lines.filter((l) => l.kind === 'Request').map((l) => [l.message, l.by])).toEqual([['maintenance moved to now', ops]]);
  });

  it('answers run-now for a session with nothing parked with the new time', async () => {
    const session = await stored();
    expect(await runSessionNow(h.deps, { sessionId: session.id, by: ops })).toEqual({ executeAt: '2026-11-23T20:00:00.000Z' });
    expect((await h.deps.sessions.getSession(session.id))?.executeAt).toBe('2026-11-23T20:00:00.000Z');
    expect(h.workflow.answers).toEqual([]);
  });

  it('cancels: one write, the gate woken to end, the timer cleared, waiting actions closed, running commands stopped', async () => {
    const session = await stored({ windowWait: parked });
    await h.actions(session.id, [{ actionId: '001', status: 'Complete', result: 'Success' }, { actionId: '002', status: 'PerformingAction' }, { actionId: '003' }]);
    await h.deps.sessions.startActionDispatch(
      { sessionId: session.id, key: 'Action#003', taskToken: 'step', status: 'Sending', attempts: 1, nonce: 'n_3', createdAt: h.clock.now().toISOString() },
      { status: 'PerformingAction' },
    );
    await h.deps.sessions.claimDispatch({ sessionId: session.id, key: 'Verify', taskToken: 'v', status: 'Sending', attempts: 1, nonce: 'n_v', createdAt: h.clock.now().toISOString() });
    h.agent.sent.push({ agentId: session.agentId, platform: 'linux', script: '', comment: `nightshift/${session.id}/Action#003/n_3`, deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    await h.actions(session.id, [{ actionId: '004' }]);
    // detection finished long ago: its command is found by its comment, but there is nothing to stop
    await h.deps.sessions.claimDispatch({ sessionId: session.id, key: 'Detect', taskToken: 'd', status: 'Sending', attempts: 1, nonce: 'n_d', createdAt: h.clock.now().toISOString() });
    await h.deps.sessions.completeDispatch(session.id, 'Detect', 'n_d', { key: 'Detect', commandId: 'cmd-2', status: 'Success', summary: 'done' }, h.clock.now().toISOString());
    h.agent.sent.push({ agentId: session.agentId, platform: 'linux', script: '', comment: `nightshift/${session.id}/Detect/n_d`, deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });

    expect(await cancelSession(h.deps, { sessionId: session.id, by: ana })).toEqual({ status: 'Cancelled' });
    expect(await h.deps.sessions.getSession(session.id)).toMatchObject({ status: 'Cancelled', cancelled: { at: h.clock.now().toISOString(), by: ana } });
    expect(h.workflow.answers).toEqual([{ token: 'gate', kind: 'complete', output: { decision: 'End' } }]);
    expect(h.timers.cleared).toEqual([session.id]);
    expect((await h.deps.sessions.getActions(session.id)).map((a) => [a.actionId, a.status, a.result, a.resultReason])).toEqual([
      ['001', 'Complete', 'Success', undefined],
      ['002', 'PerformingAction', 'Pending', undefined],
      ['003', 'PerformingAction', 'Pending', undefined],
      ['004', 'Cancelled', 'Cancelled', 'cancelled by ana'],
    ]);
    // the command found by its comment is cancelled; the Verify claim has no command out, so there is nothing to stop
    expect(h.agent.cancelled).toEqual(['cmd-1']);
    expect(h.lines.map((l) => [l.kind, l.message, l.by])).toEqual([
      ['Request', 'session cancelled', ana],
      ['Agent', 'cancelled the running command (Action#003)', undefined],
    ]);
  });

  it('cancels again without a second log line, still doing the rest (the retry of one that failed half-way)', async () => {
    const session = await stored({ windowWait: parked });
    await cancelSession(h.deps, { sessionId: session.id, by: ana });
    await cancelSession(h.deps, { sessionId: session.id, by: ops });
    expect(h.lines.filter((l) => l.kind === 'Request')).toHaveLength(1);
    expect((await h.deps.sessions.getSession(session.id))?.cancelled?.by).toEqual(ana);
    expect(h.timers.cleared).toEqual([session.id, session.id]);
  });

  it('says the session is cancelled but a command could not be stopped yet, when one cannot', async () => {
    const session = await stored();
    await h.deps.sessions.claimDispatch({ sessionId: session.id, key: 'Detect', taskToken: 'd', status: 'Sending', attempts: 1, nonce: 'n_d', createdAt: h.clock.now().toISOString() });
    h.agent.sent.push({ agentId: session.agentId, platform: 'linux', script: '', comment: `nightshift/${session.id}/Detect/n_d`, deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    h.agent.failCancel = new Error('throttled');
    await expect(cancelSession(h.deps, { sessionId: session.id, by: ana })).rejects.toThrow(
      new TransientError('the session is cancelled, but 1 running command(s) could not be stopped yet; try again'),
    );
    expect((await h.deps.sessions.getSession(session.id))?.status).toBe('Cancelled');
    expect(h.logged).toEqual([{ level: 'warn', message: 'cancelling a command failed', fields: { sessionId: session.id, key: 'Detect', error: 'throttled' } }]);
  });

  it('refuses to cancel a session that ended, changing nothing', async () => {
    const session = await stored({ status: 'Passed' });
    await expect(cancelSession(h.deps, { sessionId: session.id, by: ana })).rejects.toThrow(new RequestRefusedError('the session has already ended (Passed)'));
    expect(h.lines).toEqual([]);
    expect(h.timers.cleared).toEqual([]);
  });

  it('answers a storm of requests with a conflict naming the status, never a transient error', async () => {
    const session = await stored();
    // every write loses to someone else's
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        updateSession: () => Promise.reject(new ConflictError('someone else wrote first')),
      }),
    };
    await expect(postponeSession(h.deps, { sessionId: session.id, by: ana })).rejects.toThrow(/being changed by many requests at once \(now Running\)/);
  });
});
