import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, ConflictError, TransientError } from '../../functions/core/errors.js';
import { sessionOptionsSchema } from '../../functions/core/model/session.js';
import { startSession } from '../../functions/core/use-cases/start-session.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { DEFAULT_START_PACING } from '../../functions/adapters/paced-workflow.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const MINUTE = 60_000;
const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;
const defaults = sessionOptionsSchema.parse({});

describe('no session is left stuck or orphaned', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    vi.restoreAllMocks();
    await runtime?.close();
    runtime = undefined;
  });

  const computers = [testComputer('pc-s1', 'i-0000000000000d001'), testComputer('pc-s2', 'i-0000000000000d002')];
  const software = [testSoftware('one', '2.0')];
  const fleet = async (options: Parameters<typeof runtimeWithFleet>[1] = {}) => {
    runtime = await runtimeWithFleet(
      { software, deployments: [everywhere('one')], machines: computers.map((computer) => ({ computer })) },
      { clock, timerPollMs: 10, agentPollMs: 10, ...options },
    );
    return runtime;
  };
  const computerId = computers[0]?.id ?? '';

  it('an execution that dies where RecordFailure cannot write is still recorded Failed, with the reason', async () => {
    // RecordFailure itself breaks (a bad deploy, a permission gone): only the execution status event is left
    const rt = await fleet({
      wrapHandler: (name, handler) =>
        name === 'record-failure' ? () => Promise.reject(new ConfigurationError('record-failure is misconfigured')) : name === 'plan-session' ? () => Promise.reject(new ConfigurationError('planner broke')) : handler,
    });
    const { sessionId } = await rt.startSession(computerId);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.executionStatus).toBe('FAILED');
    expect(outcome.session.status).toBe('Failed');
    expect(outcome.session.failure?.message).toMatch(/could not finish/);
  });

  it.each([
    ['TIMED_OUT', 'TIMED_OUT'],
    ['ABORTED', 'ABORTED'],
  ] as const)('an execution %s in AWS ends its waiting session Failed and clears its window timer', async (status, code) => {
    const rt = await fleet();
    const { sessionId } = await rt.startSession(computerId, undefined, { executeAt: new Date(clock.now().getTime() + 60 * MINUTE).toISOString() });
    await until(() => rt.timers.armed().length === 1);
    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status, error: null, cause: null } })).toEqual({ recorded: true });
    const session = await rt.deps.sessions.getSession(sessionId);
    expect(session).toMatchObject({ status: 'Failed', failure: { code } });
    expect(rt.timers.armed()).toEqual([]);
    expect((await rt.deps.sessions.getActions(sessionId)).map((a) => a.status)).toEqual(['Cancelled']);
    // a second delivery of the same event changes nothing
    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status, error: null, cause: null } })).toEqual({ recorded: false });
    expect(await rt.deps.sessions.getSession(sessionId)).toEqual(session);
  });

  it('a cancelled session whose execution dies before its report is closed: actions ended, endedAt set, timer cleared', async () => {
    const rt = await fleet();
    const { sessionId } = await rt.startSession(computerId, undefined, { executeAt: new Date(clock.now().getTime() + 60 * MINUTE).toISOString() });
    await until(() => rt.timers.armed().length === 1);
    // cancelled as far as the record goes, but the workflow never got to its report (aborted in the console)
    const parked = await rt.deps.sessions.getSession(sessionId);
    await rt.deps.sessions.updateSession(sessionId, parked?.version ?? 0, { status: 'Cancelled', cancelled: { at: clock.now().toISOString(), by: operator } }, clock.now().toISOString());
    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status: 'ABORTED' } })).toEqual({ recorded: true });
    const session = await rt.deps.sessions.getSession(sessionId);
    expect(session).toMatchObject({ status: 'Cancelled', endedAt: clock.now().toISOString() });
    expect((await rt.deps.sessions.getActions(sessionId)).map((a) => [a.status, a.result])).toEqual([['Cancelled', 'Cancelled']]);
    expect(rt.timers.armed()).toEqual([]);
    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status: 'ABORTED' } })).toEqual({ recorded: false });
  });

  it('a session whose workflow start was throttled past the pacer retries is started by the sweeper a minute later, once', async () => {
    // the pacer absorbs a throttle or two; here the throttling outlasts its one attempt
    const rt = await fleet({ startPacing: { ...DEFAULT_START_PACING, maxAttempts: 1 } });
    const start = vi.spyOn(rt.workflow, 'startSession').mockRejectedValueOnce(new TransientError('StartExecution throttled'));
    await expect(rt.startSession(computerId, 'ses-throttled')).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect((await rt.deps.sessions.getSession('ses-throttled'))?.status).toBe('Created');

    // too young: the first start may still be on its way
    expect(await rt.invoke('sweep-sessions', {})).toEqual({ checked: 0, started: 0, failed: 0 });
    clock.advance(MINUTE + 1);
    expect(await rt.invoke('sweep-sessions', {})).toEqual({ checked: 1, started: 1, failed: 0 });
    expect((await rt.waitForSession('ses-throttled')).session.status).toBe('Passed');
    expect(await rt.invoke('sweep-sessions', {})).toEqual({ checked: 0, started: 0, failed: 0 });
    expect(start).toHaveBeenCalledTimes(2);
  });

  it('a session whose execution exists but never began it is failed by the sweeper after the give-up time', async () => {
    const rt = await fleet();
    vi.spyOn(rt.workflow, 'startSession').mockResolvedValue({ alreadyRunning: true });
    await rt.startSession(computerId, 'ses-limbo');
    clock.advance(2 * MINUTE);
    expect(await rt.invoke('sweep-sessions', {})).toEqual({ checked: 1, started: 0, failed: 0 });
    clock.advance(15 * MINUTE);
    expect(await rt.invoke('sweep-sessions', {})).toEqual({ checked: 1, started: 0, failed: 1 });
    expect(await rt.deps.sessions.getSession('ses-limbo')).toMatchObject({ status: 'Failed', failure: { code: 'NOT_STARTED' } });
  });
});

describe('starting sessions: idempotency keys and one active session per computer', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const computers = [testComputer('pc-k1', 'i-0000000000000e001'), testComputer('pc-k2', 'i-0000000000000e002')];
  const [first, second] = computers.map((c) => c.id) as [string, string];
  const fleet = async () => {
    runtime = await runtimeWithFleet(
      { software: [testSoftware('one', '2.0')], deployments: [everywhere('one')], machines: computers.map((computer) => ({ computer })) },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    return runtime;
  };
  const later = (minutes: number) => ({ ...defaults, executeAt: new Date(clock.now().getTime() + minutes * MINUTE).toISOString() });

  it('an idempotency key reused for another computer or other options is a conflict, not someone else’s session', async () => {
    const rt = await fleet();
    const options = later(60);
    expect(await startSession(rt.deps, { computerId: first, sessionId: 'key-1', options, by: operator })).toEqual({ sessionId: 'key-1', created: true });
    expect(await startSession(rt.deps, { computerId: first, sessionId: 'key-1', options, by: operator })).toEqual({ sessionId: 'key-1', created: false, existing: 'SameRequest' });
    await expect(startSession(rt.deps, { computerId: second, sessionId: 'key-1', options, by: operator })).rejects.toThrow(ConflictError);
    await expect(startSession(rt.deps, { computerId: first, sessionId: 'key-1', options: later(90), by: operator })).rejects.toThrow(/other options/);
    expect(await rt.deps.sessions.listSessionsByComputer(second, 10)).toEqual([]);
  });

  it('a retry with the same key matches however the stored options come back ordered (DynamoDB keeps no map key order)', async () => {
    const rt = await fleet();
    const options = later(60);
    await startSession(rt.deps, { computerId: first, sessionId: 'key-a', options, by: operator });
    const stored = await rt.deps.sessions.getSession('key-a');
    if (!stored) throw new Error('no session key-a');
    const reversed = Object.fromEntries(Object.entries(stored.options).reverse()) as typeof stored.options;
    await rt.deps.sessions.createSession({ ...stored, id: 'key-b', options: reversed });
    expect(Object.keys((await rt.deps.sessions.getSession('key-b'))?.options ?? {})).toEqual(Object.keys(reversed));
    expect(await startSession(rt.deps, { computerId: first, sessionId: 'key-b', options, by: operator })).toMatchObject({ created: false, existing: 'SameRequest' });
  });

  it('a start landing between another start’s claim and its create answers with that session, never a second one', async () => {
    const rt = await fleet();
    const store = rt.deps.sessions;
    const create = store.createSession.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const spy = vi.spyOn(store, 'createSession').mockImplementationOnce(async (session) => {
      await held;
      return create(session);
    });
    const winner = startSession(rt.deps, { computerId: second, sessionId: 'race-a', options: later(60), by: operator });
    await until(() => spy.mock.calls.length === 1);
    expect(await startSession(rt.deps, { computerId: second, sessionId: 'race-b', options: later(60), by: operator })).toEqual({
      sessionId: 'race-a',
      created: false,
      existing: 'ComputerBusy',
    });
    release();
    expect(await winner).toEqual({ sessionId: 'race-a', created: true });
    expect((await store.listSessionsByComputer(second, 10)).map((s) => s.id)).toEqual(['race-a']);
  });

  it('a second start for a busy computer answers with its unfinished session; supersede cancels it and starts anew', async () => {
    const rt = await fleet();
    const waiting = await startSession(rt.deps, { computerId: first, options: later(60), by: operator });
    const again = await startSession(rt.deps, { computerId: first, options: defaults, by: operator });
    expect(again).toEqual({ sessionId: waiting.sessionId, created: false, existing: 'ComputerBusy' });
    expect(await rt.deps.sessions.listSessionsByComputer(first, 10)).toHaveLength(1);

    const replacement = await startSession(rt.deps, { computerId: first, options: defaults, by: operator, supersede: true });
    expect(replacement.created).toBe(true);
    expect((await rt.deps.sessions.getSession(waiting.sessionId))?.status).toBe('Cancelled');
    expect((await rt.waitForSession(replacement.sessionId)).session.status).toBe('Passed');
    // finished: the computer is free again
    expect((await startSession(rt.deps, { computerId: first, options: defaults, by: operator, sessionId: 'after' })).created).toBe(true);
  });

  it('ten concurrent starts for one computer create one session; the others answer with it', async () => {
    const rt = await fleet();
    const results = await Promise.all(Array.from({ length: 10 }, () => startSession(rt.deps, { computerId: second, options: later(60), by: operator })));
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    expect(new Set(results.map((r) => r.sessionId))).toEqual(new Set([created[0]?.sessionId]));
    expect(await rt.deps.sessions.listSessionsByComputer(second, 20)).toHaveLength(1);
  });
});
