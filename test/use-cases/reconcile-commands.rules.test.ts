import { describe, expect, it, vi } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { ConflictError } from '../../functions/core/errors.js';
import { commandComment, type Dispatch, type DispatchKey } from '../../functions/core/model/agent.js';
import type { SessionStatus } from '../../functions/core/model/session.js';
import type { Metrics } from '../../functions/core/ports/metrics.port.js';
import { RECONCILE_DEFAULTS, RELOOK_FIRST_SECONDS, RELOOK_MAX_SECONDS, reconcileCommands, relookAfterSeconds } from '../../functions/core/use-cases/reconcile-commands.js';
import { useCaseHarness, type Harness } from './harness.js';

const memory = (metrics: Metrics): InMemoryMetrics => {
  if (!(metrics instanceof InMemoryMetrics)) throw new Error('the harness records metrics in memory');
  return metrics;
};
const OPTIONS = { overdueAfterSeconds: 60, limit: 100, budgetSeconds: 20 };
const FOREVER = '9999-01-01T00:00:00.000Z';

/** Each test reads the whole worklist of its table: one table per test. */
function withOwnTable(name: string, test: (h: Harness) => Promise<void>): void {
  describe(name, () => {
    const harness = useCaseHarness();
    it(name, async () => test(harness()));
  });
}

/** A step's claim on a command: Sending, created now, its nonce named after its session. */
async function claimed(h: Harness, sessionId: string, key: DispatchKey = 'Detect', extra: Partial<Dispatch> = {}): Promise<Dispatch> {
  const dispatch: Dispatch = { sessionId, key, taskToken: `token-${sessionId}`, status: 'Sending', attempts: 1, nonce: `n_${sessionId}`, createdAt: h.clock.now().toISOString(), ...extra };
  await h.deps.sessions.claimDispatch(dispatch);
  return dispatch;
}
/** The command of that claim, out on the computer (the harness agent finds it by its comment). */
const sent = (h: Harness, dispatch: Dispatch): string => {
  const comment = commandComment(dispatch.sessionId, dispatch.key, dispatch.nonce);
  h.agent.sent.push({ agentId: 'i-0123456789abcdef0', platform: 'linux', script: '', comment, deliveryTimeoutSeconds: 600, executionTimeoutSeconds: 60 });
  return comment;
};
const waiting = async (h: Harness, dueBefore = FOREVER): Promise<string[]> => (await h.deps.sessions.listWaitingDispatches(dueBefore, 1_000)).map((d) => `${d.sessionId}/${d.key}`);
const sessionIn = async (h: Harness, status: SessionStatus = 'Running') => (await h.session({ status })).id;

describe('when a waiting dispatch is looked at again (pure)', () => {
  it('doubles the wait with every look, from five minutes up to an hour', () => {
    expect([0, 1, 2, 3, 4, 10].map(relookAfterSeconds)).toEqual([300, 600, 1_200, 2_400, 3_600, 3_600]);
    expect([RELOOK_FIRST_SECONDS, RELOOK_MAX_SECONDS]).toEqual([300, 3_600]);
    expect(RECONCILE_DEFAULTS).toEqual({ overdueAfterSeconds: 300, limit: 5_000, budgetSeconds: 20 });
  });
});

withOwnTable('drops the dispatch of a session that is gone, and records a lag of how overdue it was', async (h) => {
  await claimed(h, 'vanished');
  h.clock.advance(90_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 1, failed: 0 });
  expect(await waiting(h)).toEqual([]);
  expect(memory(h.deps.metrics).values('ReconcilerLagSeconds')).toEqual([90]);
});

withOwnTable('looks only at dispatches overdue by the grace, and records a lag of 0 when none is', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(60_000);
  // due exactly 60 s ago: not yet past its grace
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 0, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
  expect(memory(h.deps.metrics).values('ReconcilerLagSeconds')).toEqual([0]);
  h.clock.advance(1);
  expect((await reconcileCommands(h.deps, OPTIONS)).checked).toBe(1);
});

withOwnTable('abandons a claim whose session ended before any command went out, once its lease is over', async (h) => {
  const sessionId = await sessionIn(h, 'Failed');
  const leaseUntil = new Date(h.clock.now().getTime() + 600_000).toISOString();
  await claimed(h, sessionId, 'Detect', { leaseUntil });
  h.clock.advance(120_000);
  // the lease still runs: its step may be sending right now
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, abandoned: 0 });
  expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Sending');
  h.clock.advance(600_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, abandoned: 1 });
  expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Abandoned');
  expect(await waiting(h)).toEqual([]);
});

withOwnTable('leaves the claim of a running session that sent nothing yet to its step, looking again later', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
  // nothing completed and the worklist ended: nothing to tell the operator
  expect(h.logged).toEqual([]);
  const dispatch = await h.deps.sessions.getDispatch(sessionId, 'Detect');
  expect(dispatch).toMatchObject({ status: 'Sending', dueAt: new Date(h.clock.now().getTime() + 300_000).toISOString(), looks: 1 });
  // the second look waits twice as long
  h.clock.advance(400_000);
  await reconcileCommands(h.deps, OPTIONS);
  expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.dueAt).toBe(new Date(h.clock.now().getTime() + 600_000).toISOString());
});

withOwnTable('counts a command still running, looks again later, and stops one that a cancel missed', async (h) => {
  const running = await sessionIn(h);
  const cancelled = await sessionIn(h, 'Cancelled');
  const first = await claimed(h, running);
  const second = await claimed(h, cancelled);
  h.agent.finish(sent(h, first), 'InProgress');
  h.agent.finish(sent(h, second), 'Pending');
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 2, completed: 0, stillRunning: 2, abandoned: 0, failed: 0 });
  expect(h.agent.cancelled).toEqual(['cmd-2']);
  expect(await waiting(h, h.clock.now().toISOString())).toEqual([]);
  expect(h.workflow.answers).toEqual([]);
});

withOwnTable('completes a finished command whose event was lost, telling its step, and logs how many', async (h) => {
  const sessionId = await sessionIn(h);
  const dispatch = await claimed(h, sessionId);
  h.agent.finish(sent(h, dispatch), 'Failed', { stderr: 'boom' });
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 1, stillRunning: 0, abandoned: 0, failed: 0 });
  expect(h.workflow.answers.map((a) => a.token)).toEqual([`token-${sessionId}`]);
  expect(h.logged).toContainEqual({ level: 'info', message: 'reconciled commands whose completion had not reached the workflow', fields: { completed: 1 } });
  expect(await waiting(h)).toEqual([]);
});

withOwnTable('tells again the step of a recorded completion it may never have heard of', async (h) => {
  const sessionId = await sessionIn(h);
  const dispatch = await claimed(h, sessionId);
  const commandId = h.agent.finish(sent(h, dispatch), 'Success');
  await h.deps.sessions.completeDispatch(sessionId, 'Detect', dispatch.nonce, { key: 'Detect', commandId, status: 'Success', summary: 'done' }, h.clock.now().toISOString());
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, completed: 1 });
  expect(h.workflow.answers.map((a) => [a.token, a.kind])).toEqual([[`token-${sessionId}`, 'complete']]);
  expect(await waiting(h)).toEqual([]);
});

withOwnTable('looks again later at a command it cannot complete, instead of on every run', async (h) => {
  const sessionId = await sessionIn(h);
  const dispatch = await claimed(h, sessionId);
  const commandId = h.agent.finish(sent(h, dispatch), 'Success');
  // SSM answers with someone else's comment: not a command this dispatch can complete
  const invocation = h.agent.invocations.get(commandId);
  if (!invocation) throw new Error('no invocation');
  h.agent.invocations.set(commandId, { ...invocation, comment: 'patch tuesday' });
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
  expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.looks).toBe(1);
  expect(await waiting(h, h.clock.now().toISOString())).toEqual([]);
});

withOwnTable('looks again later at a recorded completion whose answer it cannot give', async (h) => {
  const sessionId = await sessionIn(h);
  const dispatch = await claimed(h, sessionId);
  const commandId = h.agent.finish(sent(h, dispatch), 'Success');
  await h.deps.sessions.completeDispatch(sessionId, 'Detect', dispatch.nonce, { key: 'Detect', commandId, status: 'Success', summary: 'done' }, h.clock.now().toISOString());
  const invocation = h.agent.invocations.get(commandId);
  if (!invocation) throw new Error('no invocation');
  h.agent.invocations.set(commandId, { ...invocation, comment: 'patch tuesday' });
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, completed: 0 });
  expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.looks).toBe(1);
});

withOwnTable('counts a dispatch it could not read as failed, goes on with the others, and still moves it out of the way', async (h) => {
  const broken = await sessionIn(h);
  const fine = await sessionIn(h);
  await claimed(h, broken);
  h.clock.advance(1);
  await claimed(h, fine);
  h.clock.advance(120_000);
  const read = h.agent.findCommand.bind(h.agent);
  vi.spyOn(h.agent, 'findCommand').mockImplementation((agentId: string, comment: string) => (comment.includes(broken) ? Promise.reject(new Error('SSM throttled')) : read(agentId, comment)));
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 2, completed: 0, stillRunning: 0, abandoned: 0, failed: 1 });
  expect(h.logged).toContainEqual({ level: 'warn', message: 'reconciling a command failed', fields: { sessionId: broken, key: 'Detect', error: 'SSM throttled' } });
  expect(await waiting(h, h.clock.now().toISOString())).toEqual([]);
});

withOwnTable('names what was thrown when it is not an Error, and survives a reschedule that fails too', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(120_000);
  vi.spyOn(h.agent, 'findCommand').mockRejectedValue('a bare string');
  vi.spyOn(h.deps.sessions, 'rescheduleDispatch').mockRejectedValue(new Error('table gone'));
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, failed: 1 });
  expect(h.logged).toContainEqual({ level: 'warn', message: 'reconciling a command failed', fields: { sessionId, key: 'Detect', error: 'a bare string' } });
});

withOwnTable('counts a reschedule that failed for another reason than a lost race as a failed look', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(120_000);
  vi.spyOn(h.deps.sessions, 'rescheduleDispatch').mockRejectedValue(new Error('table gone'));
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 0, failed: 1 });
});

withOwnTable('abandons the claim of an ended session the moment its lease ends', async (h) => {
  const sessionId = await sessionIn(h, 'Cancelled');
  const leaseUntil = new Date(h.clock.now().getTime() + 120_000).toISOString();
  await claimed(h, sessionId, 'Detect', { leaseUntil });
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1, abandoned: 1 });
});

withOwnTable('lets a reschedule that lost to another writer stand as it is', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(120_000);
  vi.spyOn(h.deps.sessions, 'rescheduleDispatch').mockRejectedValue(new ConflictError('answered meanwhile'));
  expect(await reconcileCommands(h.deps, OPTIONS)).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
});

withOwnTable('stops at its limit, earliest due first, and the next run goes on from there', async (h) => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const sessionId = await sessionIn(h);
    ids.push(sessionId);
    await claimed(h, sessionId);
    h.clock.advance(1_000);
  }
  h.clock.advance(120_000);
  expect(await reconcileCommands(h.deps, { ...OPTIONS, limit: 2 })).toEqual({ checked: 2, completed: 0, stillRunning: 0, abandoned: 0, failed: 0, stoppedBy: 'limit' });
  expect(h.logged).toContainEqual({ level: 'info', message: 'reconciler stopped before the end of its worklist; the next run goes on from there', fields: { stoppedBy: 'limit', checked: 2 } });
  expect(await waiting(h, h.clock.now().toISOString())).toEqual([`${ids[2] ?? ''}/Detect`]);
  expect(await reconcileCommands(h.deps, { ...OPTIONS, limit: 2 })).toEqual({ checked: 1, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
});

withOwnTable('asks the worklist for no more than it may still look at', async (h) => {
  for (let i = 0; i < 3; i++) await claimed(h, await sessionIn(h));
  h.clock.advance(120_000);
  const list = vi.spyOn(h.deps.sessions, 'listWaitingDispatches');
  await reconcileCommands(h.deps, { ...OPTIONS, limit: 2 });
  // the store may answer fewer than asked: each later page asks only for what is left of the limit
  const asked = list.mock.calls.map(([, limit]) => limit);
  expect(asked[0]).toBe(2);
  expect(asked.every((limit, page) => limit <= 2 - page)).toBe(true);
  list.mockClear();
  h.clock.advance(3_600_000);
  await reconcileCommands(h.deps, { ...OPTIONS, limit: 500 });
  expect(list.mock.calls[0]?.[1]).toBe(100);
});

withOwnTable('stops starting new looks once its time budget is spent', async (h) => {
  for (let i = 0; i < 3; i++) await claimed(h, await sessionIn(h));
  h.clock.advance(120_000);
  const read = h.deps.sessions.getSession.bind(h.deps.sessions);
  vi.spyOn(h.deps.sessions, 'getSession').mockImplementation(async (id) => {
    // each look takes 10 s on the injected clock
    h.clock.advance(10_000);
    return read(id);
  });
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 2, stoppedBy: 'budget' });
  // a run with no time at all looks at nothing
  expect(await reconcileCommands(h.deps, { ...OPTIONS, budgetSeconds: 0 })).toMatchObject({ checked: 0, stoppedBy: 'budget' });
  expect(await reconcileCommands(h.deps, { ...OPTIONS, limit: 0 })).toMatchObject({ checked: 0, stoppedBy: 'limit' });
});

withOwnTable('looks at each dispatch once per run, even when its reschedule failed and it is listed again', async (h) => {
  const sessionId = await sessionIn(h);
  await claimed(h, sessionId);
  h.clock.advance(120_000);
  vi.spyOn(h.deps.sessions, 'rescheduleDispatch').mockRejectedValue(new ConflictError('moved'));
  const list = vi.spyOn(h.deps.sessions, 'listWaitingDispatches');
  expect(await reconcileCommands(h.deps, OPTIONS)).toMatchObject({ checked: 1 });
  expect(list).toHaveBeenCalledTimes(2);
});
