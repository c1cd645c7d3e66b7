import { describe, expect, it, vi } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { ConflictError } from '../../functions/core/errors.js';
import type { Metrics } from '../../functions/core/ports/metrics.port.js';
import { describeWorkflowError, recordActionFailure, recordExecutionEnded, recordFailure } from '../../functions/core/use-cases/record-failure.js';
import { actionRecord } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const memory = (metrics: Metrics): InMemoryMetrics => {
  if (!(metrics instanceof InMemoryMetrics)) throw new Error('the harness records metrics in memory');
  return metrics;
};

describe('what a caught workflow error says (pure)', () => {
  it("takes the message out of a Lambda error's JSON cause, never its stack trace", () => {
    const cause = JSON.stringify({ errorType: 'ConfigurationError', errorMessage: 'task audit has no script', stackTrace: ['at x'] });
    expect(describeWorkflowError({ Error: 'ConfigurationError', Cause: cause })).toEqual({ code: 'CONFIGURATION_INVALID', message: 'task audit has no script' });
  });

  it('keeps a plain-text cause as the message', () => {
    expect(describeWorkflowError({ Error: 'AgentUnreachableError', Cause: 'computer pc is offline' })).toEqual({ code: 'AGENT_UNREACHABLE', message: 'computer pc is offline' });
  });

  it.each([
    ['a JSON object without errorMessage', '{"errorType":"X"}'],
    ['a JSON errorMessage that is not text', '{"errorMessage":42}'],
    ['JSON null', 'null'],
    ['a JSON string', '"just text"'],
    ['a JSON number', '17'],
  ])('keeps %s as it came', (_what, cause) => {
    expect(describeWorkflowError({ Error: 'ValidationError', Cause: cause })).toEqual({ code: 'VALIDATION_FAILED', message: cause });
  });

  it('cuts a long message at 1,000 characters', () => {
    const described = describeWorkflowError({ Error: 'Lambda.Unknown', Cause: 'x'.repeat(1_500) });
    expect(described).toEqual({ code: 'INTERNAL', message: 'x'.repeat(1_000) });
  });

  it("stands the code's summary in for a missing message, and the error name for a failure the table does not know", () => {
    expect(describeWorkflowError({ Error: 'States.Timeout' })).toEqual({ code: 'TIMED_OUT', message: "The session's workflow ran past its time limit." });
    expect(describeWorkflowError({ Error: 'NotFoundError', Cause: '{"errorMessage":""}' }).message).toBe(
      'The tenant, computer, item, deployment or session does not exist (or is not yours to see).',
    );
    expect(describeWorkflowError({ Error: 'Lambda.ServiceException' })).toEqual({ code: 'INTERNAL', message: 'Lambda.ServiceException' });
    expect(describeWorkflowError({ Error: 'Lambda.ServiceException', Cause: '' })).toEqual({ code: 'INTERNAL', message: 'Lambda.ServiceException' });
  });
});

describe('a session the workflow caught failing (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('ends it Failed with the reason; stages that were running fail, the others stay as they were', async () => {
    h = harness();
    const session = await h.session({
      stages: {
        Detection: { status: 'Succeeded', startedAt: '2026-11-23T08:00:00.000Z', endedAt: '2026-11-23T08:01:00.000Z' },
        Execution: { status: 'Running', startedAt: '2026-11-23T08:02:00.000Z' },
        Verification: { status: 'Unstarted' },
      },
    });
    h.clock.advance(5_000);
    const now = h.clock.now().toISOString();
    await recordFailure(h.deps, session.id, { Error: 'AgentUnreachableError', Cause: '{"errorMessage":"pc is offline"}' });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored).toMatchObject({
      status: 'Failed',
      failure: { code: 'AGENT_UNREACHABLE', message: 'pc is offline' },
      endedAt: now,
      stages: {
        Detection: { status: 'Succeeded', startedAt: '2026-11-23T08:00:00.000Z', endedAt: '2026-11-23T08:01:00.000Z' },
        Execution: { status: 'Failed', startedAt: '2026-11-23T08:02:00.000Z', endedAt: now },
        Verification: { status: 'Unstarted' },
      },
    });
    expect(stored?.stages.Verification.endedAt).toBeUndefined();
  });

  it('closes the actions it will not run, counts the failure, and says why in the log', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Success' },
      { actionId: '002', status: 'PerformingAction' },
      { actionId: '003' },
    ]);
    await recordFailure(h.deps, session.id, { Error: 'AgentUnreachableError', Cause: 'pc is offline' });
    const actions = await h.deps.sessions.getActions(session.id);
    expect(actions.map((a) => [a.actionId, a.status, a.result, a.resultReason])).toEqual([
      ['001', 'Complete', 'Success', undefined],
      ['002', 'Complete', 'Indeterminable', 'the session failed (AGENT_UNREACHABLE); its effect is unknown'],
      ['003', 'Cancelled', 'Cancelled', 'the session failed (AGENT_UNREACHABLE)'],
    ]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Problem', 'session failed: pc is offline (AGENT_UNREACHABLE)']]);
    expect(h.logged).toEqual([{ level: 'error', message: 'session failed', fields: { sessionId: session.id, code: 'AGENT_UNREACHABLE', message: 'pc is offline' } }]);
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(1);
    // the computer's own trouble: no alarm for Nightshift
    expect(memory(h.deps.metrics).total('SessionsFailedUnexpectedly')).toBe(0);
  });

  it.each([
    ['Lambda.Unknown', 'INTERNAL'],
    ['Sandbox.Timedout', 'STEP_TIMED_OUT'],
    ['States.Timeout', 'TIMED_OUT'],
    ['ExecutionAborted', 'ABORTED'],
    ['SessionNotStarted', 'NOT_STARTED'],
    ['ConfigurationError', 'CONFIGURATION_INVALID'],
  ])('raises the alarm metric for a failure that says Nightshift itself is wrong: %s (%s)', async (name, code) => {
    h = harness();
    const session = await h.session();
    await recordFailure(h.deps, session.id, { Error: name, Cause: 'why' });
    expect((await h.deps.sessions.getSession(session.id))?.failure?.code).toBe(code);
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(1);
    expect(memory(h.deps.metrics).total('SessionsFailedUnexpectedly')).toBe(1);
  });

  it.each(['ValidationError', 'AgentFailedError', 'NotFoundError'])('raises no alarm for %s, a failure of the computer or the request', async (name) => {
    h = harness();
    const session = await h.session();
    await recordFailure(h.deps, session.id, { Error: name, Cause: 'why' });
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(1);
    expect(memory(h.deps.metrics).total('SessionsFailedUnexpectedly')).toBe(0);
  });

  it('changes nothing, counts nothing and logs nothing for a session that already ended', async () => {
    h = harness();
    const session = await h.session({ status: 'Passed', endedAt: '2026-11-23T09:00:00.000Z' });
    await h.actions(session.id, [{ actionId: '001' }]);
    await recordFailure(h.deps, session.id, { Error: 'Lambda.Unknown', Cause: 'late' });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored).toMatchObject({ status: 'Passed', version: session.version });
    expect(stored?.failure).toBeUndefined();
    expect((await h.deps.sessions.getAction(session.id, '001'))?.status).toBe('NotStarted');
    expect(h.lines).toEqual([]);
    expect(h.logged).toEqual([]);
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(0);
  });

  it('counts a repeated Catch once', async () => {
    h = harness();
    const session = await h.session();
    await recordFailure(h.deps, session.id, { Error: 'Lambda.Unknown', Cause: 'boom' });
    await recordFailure(h.deps, session.id, { Error: 'Lambda.Unknown', Cause: 'boom' });
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(1);
    expect(h.lines).toHaveLength(1);
  });
});

describe('one action that could not be sent (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it.each(['NotStarted', 'PerformingAction'] as const)('fails an action that was %s at execution, and logs why; the session goes on', async (status) => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', status, itemName: 'App', type: 'Install' }]);
    h.clock.advance(1_000);
    await recordActionFailure(h.deps, session.id, '001', { Error: 'ConfigurationError', Cause: '{"errorMessage":"app left the catalog"}' });
    expect(await h.deps.sessions.getAction(session.id, '001')).toMatchObject({
      status: 'Complete',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: 'could not run: app left the catalog',
      endedAt: h.clock.now().toISOString(),
    });
    expect(h.lines.map((l) => [l.kind, l.message, l.actionId])).toEqual([['Problem', 'Install App could not run: app left the catalog (CONFIGURATION_INVALID)', '001']]);
    expect((await h.deps.sessions.getSession(session.id))?.status).toBe('Running');
  });

  it.each(['DeterminingResult', 'Complete', 'Skipped', 'Cancelled'] as const)('leaves an action that was already %s alone, without a log line', async (status) => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', status }]);
    await recordActionFailure(h.deps, session.id, '001', { Error: 'ConfigurationError', Cause: 'late' });
    const stored = await h.deps.sessions.getAction(session.id, '001');
    expect(stored?.status).toBe(status);
    expect(stored?.resultReason).toBeUndefined();
    expect(h.lines).toEqual([]);
  });

  it('does nothing for an action that does not exist', async () => {
    h = harness();
    const session = await h.session();
    await expect(recordActionFailure(h.deps, session.id, '404', { Error: 'ConfigurationError' })).resolves.toBeUndefined();
    expect(h.lines).toEqual([]);
  });

  it('keeps what a late completion recorded when it lands first, and still logs the failure to send', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', status: 'DeterminingResult' }]);
    // read before the completion moved it on
    vi.spyOn(h.deps.sessions, 'getAction').mockResolvedValueOnce(actionRecord(session.id, '001', { status: 'PerformingAction' }));
    await recordActionFailure(h.deps, session.id, '001', { Error: 'AgentUnreachableError', Cause: 'offline' });
    expect((await h.deps.sessions.getAction(session.id, '001'))?.status).toBe('DeterminingResult');
    expect(h.lines.map((l) => l.message)).toEqual(['Install App could not run: offline (AGENT_UNREACHABLE)']);
  });

  it('lets an error other than a lost race through', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001' }]);
    vi.spyOn(h.deps.sessions, 'updateAction').mockRejectedValueOnce(new Error('table gone'));
    await expect(recordActionFailure(h.deps, session.id, '001', { Error: 'AgentUnreachableError' })).rejects.toThrow('table gone');
  });

  it('swallows exactly the lost race (a ConflictError from the store)', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001' }]);
    vi.spyOn(h.deps.sessions, 'updateAction').mockRejectedValueOnce(new ConflictError('moved on'));
    await expect(recordActionFailure(h.deps, session.id, '001', { Error: 'AgentUnreachableError', Cause: 'offline' })).resolves.toBeUndefined();
    expect(h.lines).toHaveLength(1);
  });
});

describe('a workflow execution that ended badly (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('knows nothing of a session that does not exist', async () => {
    h = harness();
    expect(await recordExecutionEnded(h.deps, { sessionId: 'missing-session', status: 'FAILED' })).toEqual({ recorded: false });
    expect(h.timers.cleared).toEqual([]);
  });

  it.each([
    ['TIMED_OUT', undefined, 'TIMED_OUT'],
    ['ABORTED', undefined, 'ABORTED'],
    ['FAILED', 'Sandbox.Timedout', 'STEP_TIMED_OUT'],
    ['FAILED', undefined, 'INTERNAL'],
  ] as const)('fails a session its %s workflow (error %s) left Running, with code %s', async (status, error, code) => {
    h = harness();
    const session = await h.session();
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status, error })).toEqual({ recorded: true });
    expect((await h.deps.sessions.getSession(session.id))?.failure).toEqual({ code, message: `the session's workflow execution ended ${status}` });
    expect(h.timers.cleared).toEqual([session.id]);
  });

  it("keeps the event's cause as the message when it has one", async () => {
    h = harness();
    const session = await h.session();
    await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'FAILED', error: 'States.Runtime', cause: 'bad path' });
    expect((await h.deps.sessions.getSession(session.id))?.failure).toEqual({ code: 'INTERNAL', message: 'bad path' });
  });

  it('leaves a session that already ended as it is', async () => {
    h = harness();
    const session = await h.session({ status: 'Failed', endedAt: '2026-11-23T09:00:00.000Z', failure: { code: 'AGENT_UNREACHABLE', message: 'offline' } });
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'TIMED_OUT' })).toEqual({ recorded: false });
    expect((await h.deps.sessions.getSession(session.id))?.failure?.code).toBe('AGENT_UNREACHABLE');
    expect(h.timers.cleared).toEqual([]);
  });

  it('closes a cancelled session whose workflow died before its report: actions closed, end time set, timer cleared, once', async () => {
    h = harness();
    const session = await h.session({ status: 'Cancelled', cancelled: { at: '2026-11-23T08:59:00.000Z', by: { kind: 'Operator', name: 'ops@example.com' } } });
    await h.actions(session.id, [{ actionId: '001' }, { actionId: '002', status: 'PerformingAction' }]);
    h.clock.advance(2_000);
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'ABORTED' })).toEqual({ recorded: true });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored).toMatchObject({ status: 'Cancelled', endedAt: h.clock.now().toISOString() });
    expect(stored?.failure).toBeUndefined();
    expect((await h.deps.sessions.getActions(session.id)).map((a) => [a.status, a.resultReason])).toEqual([
      ['Cancelled', 'the session was cancelled by ops@example.com'],
      ['Complete', 'the session was cancelled by ops@example.com; its effect is unknown'],
    ]);
    expect(h.timers.cleared).toEqual([session.id]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'session ended Cancelled (its workflow ended ABORTED)']]);

    // a second event finds it closed: nothing recorded, nothing logged
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'ABORTED' })).toEqual({ recorded: false });
    expect(h.lines).toHaveLength(1);
  });

  it('leaves a cancelled session its report closed already alone: no action touched, no timer cleared', async () => {
    h = harness();
    const session = await h.session({ status: 'Cancelled', endedAt: '2026-11-23T09:00:00.000Z' });
    // left open by a cancel that raced a repeated Plan (see createPlannedActions): not this event's to close
    await h.actions(session.id, [{ actionId: '001' }]);
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'ABORTED' })).toEqual({ recorded: false });
    expect((await h.deps.sessions.getAction(session.id, '001'))?.status).toBe('NotStarted');
    expect(h.timers.cleared).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('names no one when the cancel did not say who asked', async () => {
    h = harness();
    const session = await h.session({ status: 'Cancelled' });
    await h.actions(session.id, [{ actionId: '001' }]);
    await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'FAILED' });
    expect((await h.deps.sessions.getAction(session.id, '001'))?.resultReason).toBe('the session was cancelled by request');
  });

  it('tells a cancelled session whose end was recorded meanwhile that nothing was recorded, and logs nothing', async () => {
    h = harness();
    const session = await h.session({ status: 'Cancelled' });
    // the report closes it between this read and the write
    const stale = await h.deps.sessions.getSession(session.id);
    await h.deps.sessions.updateSession(session.id, session.version, { endedAt: '2026-11-23T09:00:01.000Z' }, '2026-11-23T09:00:01.000Z');
    vi.spyOn(h.deps.sessions, 'getSession').mockResolvedValueOnce(stale);
    expect(await recordExecutionEnded(h.deps, { sessionId: session.id, status: 'FAILED' })).toEqual({ recorded: false });
    expect((await h.deps.sessions.getSession(session.id))?.endedAt).toBe('2026-11-23T09:00:01.000Z');
    expect(h.lines).toEqual([]);
  });
});
