import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, RequestRefusedError } from '../../functions/core/errors.js';
import type { SessionOptions } from '../../functions/core/model/session.js';
import { cancelSession, postponeSession, runSessionNow } from '../../functions/core/use-cases/session-requests.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const endUser = { kind: 'EndUser', name: 'ana@contoso.example' } as const;
const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;

describe('the maintenance window: one parked token, one timer', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  const software = ['one', 'two', 'three'].map((id) => testSoftware(id, '2.0'));
  async function fleet(machines: number) {
    const computers = Array.from({ length: machines }, (_, index) => testComputer(`pc-w${index}`, `i-00000000000w${String(index).padStart(4, '0')}`));
    runtime = await runtimeWithFleet(
      { software, deployments: software.map((s) => everywhere(s.id)), machines: computers.map((computer) => ({ computer })) },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    return { runtime, computers };
  }
  const parked = async (rt: LocalRuntime, sessionId: string) => {
    const s = await rt.deps.sessions.getSession(sessionId);
    return s?.windowWait !== undefined && rt.timers.armed().some((t) => t.sessionId === sessionId);
  };
  const start = (rt: LocalRuntime, computerId: string, options: Partial<SessionOptions>) => rt.startSession(computerId, undefined, options);
  const logMessages = async (rt: LocalRuntime, sessionId: string) => (await rt.deps.sessionLog.read(sessionId, { limit: 500 })).entries.map((e) => e.message);

  it('costs the same state transitions whether the window is a minute, a day or fourteen days away', async () => {
    const { runtime: rt, computers } = await fleet(3);
    const offsetsMs = [MINUTE, DAY, 14 * DAY - HOUR];
    const sessions = [];
    for (const [index, computer] of computers.entries()) {
      const executeAt = new Date(clock.now().getTime() + (offsetsMs[index] ?? 0)).toISOString();
      sessions.push((await start(rt, computer.id, { executeAt })).sessionId);
    }
    for (const id of sessions) await until(() => parked(rt, id));
    const transitions: number[] = [];
    let elapsedMs = 0;
    for (const [index, id] of sessions.entries()) {
      const offsetMs = offsetsMs[index] ?? 0;
      clock.advance(offsetMs - elapsedMs);
      elapsedMs = offsetMs;
      const outcome = await rt.waitForSession(id);
      expect(outcome.session.status).toBe('Passed');
      expect(outcome.actions).toHaveLength(3);
      transitions.push(outcome.stateTransitions);
    }
    expect(new Set(transitions).size).toBe(1);
    expect(transitions[0]).toBeLessThanOrEqual(12 + 2 * 3);
  });

  it('arms one timer, persisted; a postpone moves that timer rather than adding one', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const { sessionId } = await start(rt, computers[0]?.id ?? '', { executeAt });
    await until(() => parked(rt, sessionId));
    expect(rt.timers.armed()).toEqual([{ sessionId, at: executeAt }]);

    const { executeAt: moved } = await postponeSession(rt.deps, { sessionId, by: endUser });
    expect(rt.timers.armed()).toEqual([{ sessionId, at: moved }]);
    // the timers live in the data folder, so a restarted runtime still wakes the session
    const stored = JSON.parse(await readFile(path.join(rt.dataDir, 'timers.json'), 'utf8')) as { sessionId: string; at: string }[];
    expect(stored.map(({ sessionId: id, at }) => ({ sessionId: id, at }))).toEqual([{ sessionId, at: moved }]);

    clock.advance(HOUR);
    await rt.timers.fireDue();
    expect(rt.agent.history(computers[0]?.agentId ?? '')).toHaveLength(1);
    clock.advance(HOUR);
    expect((await rt.waitForSession(sessionId)).session.status).toBe('Passed');
    expect(rt.timers.armed()).toEqual([]);
  });

  it('a timer that fires early (the window moved on) arms itself again for the window and runs nothing', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const { sessionId } = await start(rt, computers[0]?.id ?? '', { executeAt });
    await until(() => parked(rt, sessionId));
    // as if moving the timer had failed while the window moved: it is now due well before the window
    await rt.timers.set(sessionId, clock.now().toISOString());
    await rt.timers.fireDue();
    expect(rt.timers.armed()).toEqual([{ sessionId, at: executeAt }]);
    expect(rt.agent.history(computers[0]?.agentId ?? '')).toHaveLength(1);
    expect((await rt.deps.sessions.getSession(sessionId))?.stages.Execution.status).toBe('Unstarted');
    await cancelSession(rt.deps, { sessionId, by: operator });
  });

  it('run-now wakes the parked gate at once; the timer firing afterwards changes nothing', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const { sessionId } = await start(rt, computers[0]?.id ?? '', { executeAt: new Date(clock.now().getTime() + 12 * HOUR).toISOString() });
    await until(() => parked(rt, sessionId));
    await runSessionNow(rt.deps, { sessionId, by: operator });
    expect(rt.timers.armed()).toEqual([]);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');

    const before = await rt.deps.sessions.getSession(sessionId);
    const linesBefore = await logMessages(rt, sessionId);
    expect(await rt.invoke('window-timer', { sessionId })).toEqual({ result: 'not-waiting' });
    expect(await rt.deps.sessions.getSession(sessionId)).toEqual(before);
    expect(await logMessages(rt, sessionId)).toEqual(linesBefore);
    expect(rt.timers.armed()).toEqual([]);
  });

  it('cancel wakes the parked gate at once; the timer firing afterwards changes nothing and runs nothing', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const { sessionId } = await start(rt, computers[0]?.id ?? '', { executeAt: new Date(clock.now().getTime() + HOUR).toISOString() });
    await until(() => parked(rt, sessionId));
    await cancelSession(rt.deps, { sessionId, by: endUser });
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Cancelled');
    expect(rt.timers.armed()).toEqual([]);

    clock.advance(HOUR);
    const before = await rt.deps.sessions.getSession(sessionId);
    expect(await rt.invoke('window-timer', { sessionId })).toEqual({ result: 'not-waiting' });
    expect(await rt.deps.sessions.getSession(sessionId)).toEqual(before);
    expect(rt.agent.history(computers[0]?.agentId ?? '')).toHaveLength(1);
  });

  it('100 concurrent postpones: each takes effect or is refused with the reason, never a transient error; one log line per postpone', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const { sessionId } = await start(rt, computers[0]?.id ?? '', {
      executeAt: new Date(clock.now().getTime() + HOUR).toISOString(),
      postpone: { delayMinutes: 30, maxCount: 5 },
    });
    await until(() => parked(rt, sessionId));
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => postponeSession(rt.deps, { sessionId, by: endUser })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(5);
    for (const refusal of refusals) expect(refusal instanceof RequestRefusedError || refusal instanceof ConflictError, String(refusal)).toBe(true);
    expect(refusals.filter((r) => r instanceof RequestRefusedError).map((r) => (r as Error).message)).toContain('the session was already postponed 5 time(s); the limit is 5');

    const session = await rt.deps.sessions.getSession(sessionId);
    expect(session?.postponements).toHaveLength(5);
    expect((await logMessages(rt, sessionId)).filter((m) => m.startsWith('maintenance postponed'))).toHaveLength(5);
    expect(rt.timers.armed()).toEqual([{ sessionId, at: session?.executeAt }]);
    await cancelSession(rt.deps, { sessionId, by: operator });
  });

  it('100 concurrent cancels: all answer Cancelled, one cancellation is recorded and logged', async () => {
    const { runtime: rt, computers } = await fleet(1);
    const { sessionId } = await start(rt, computers[0]?.id ?? '', { executeAt: new Date(clock.now().getTime() + HOUR).toISOString() });
    await until(() => parked(rt, sessionId));
    const results = await Promise.all(Array.from({ length: 100 }, (_, index) => cancelSession(rt.deps, { sessionId, by: { kind: 'Operator', name: `tech-${index}@msp.example` } })));
    expect(results).toEqual(Array.from({ length: 100 }, () => ({ status: 'Cancelled' })));
    expect((await logMessages(rt, sessionId)).filter((m) => m === 'session cancelled')).toHaveLength(1);
    expect((await rt.waitForSession(sessionId)).session.status).toBe('Cancelled');
  });
});
