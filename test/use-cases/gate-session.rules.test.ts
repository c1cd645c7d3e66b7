import { describe, expect, it, vi } from 'vitest';
import type { Session } from '../../functions/core/model/session.js';
import { gateDecision, gateSession, wakeGate, windowTimerFired } from '../../functions/core/use-cases/gate-session.js';
import { sessionRecord } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const NOW = new Date('2026-11-23T09:00:00.000Z');
const at = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();
const session = (overrides: Partial<Session> = {}): Session => sessionRecord('s', overrides);

describe('the gate rule (pure)', () => {
  it.each(['Cancelled', 'Passed', 'PartialPassed', 'Failed'] as const)('ends a %s session without touching the computer, whatever its window', (status) => {
    expect(gateDecision(session({ status }), NOW)).toBe('End');
    expect(gateDecision(session({ status, executeAt: at(3_600_000) }), NOW)).toBe('End');
    expect(gateDecision(session({ status, stages: { ...session().stages, Execution: { status: 'Running' } } }), NOW)).toBe('End');
  });

  it('waits for a window that has not come yet', () => {
    expect(gateDecision(session({ executeAt: at(1) }), NOW)).toBe('Wait');
    expect(gateDecision(session({ status: 'Postponed', executeAt: at(3_600_000) }), NOW)).toBe('Wait');
  });

  it('runs when the window has come, at its very instant, or when there is none', () => {
    expect(gateDecision(session({ executeAt: at(0) }), NOW)).toBe('Run');
    expect(gateDecision(session({ executeAt: at(-1) }), NOW)).toBe('Run');
    expect(gateDecision(session(), NOW)).toBe('Run');
    expect(gateDecision(session({ status: 'Postponed', executeAt: at(-60_000) }), NOW)).toBe('Run');
  });

  it('keeps running an execution that already started, even if the window moved later since', () => {
    expect(gateDecision(session({ executeAt: at(3_600_000), stages: { ...session().stages, Execution: { status: 'Running' } } }), NOW)).toBe('Run');
  });
});

describe('the gate between planning and execution (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('starts execution at once when there is no window, answers Run, and logs it once', async () => {
    h = harness();
    const s = await h.session({ stages: { ...session().stages, Detection: { status: 'Succeeded' } } });
    expect(await gateSession(h.deps, s.id, 'token-1')).toEqual({ decision: 'Run' });
    const stored = await h.deps.sessions.getSession(s.id);
    expect(stored?.status).toBe('Running');
    expect(stored?.stages).toEqual({
      Detection: { status: 'Succeeded' },
      Execution: { status: 'Running', startedAt: h.clock.now().toISOString() },
      Verification: { status: 'Unstarted' },
    });
    expect(h.workflow.answers).toEqual([{ token: 'token-1', kind: 'complete', output: { decision: 'Run' } }]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'execution started']]);
    expect(h.timers.set).toEqual([]);

    // a retried gate: the execution is running already, nothing written, the new token answered
    h.clock.advance(1_000);
    expect(await gateSession(h.deps, s.id, 'token-2')).toEqual({ decision: 'Run' });
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(stored?.version);
    expect(h.workflow.answers.map((a) => a.token)).toEqual(['token-1', 'token-2']);
    expect(h.lines).toHaveLength(1);
  });

  it('moves a postponed session whose window came back to Running', async () => {
    h = harness();
    const s = await h.session({ status: 'Postponed', executeAt: at(-1_000) });
    expect(await gateSession(h.deps, s.id, 'token')).toEqual({ decision: 'Run' });
    expect((await h.deps.sessions.getSession(s.id))?.status).toBe('Running');
  });

  it('parks its token on the session and arms one timer for the window, logging the wait once', async () => {
    h = harness();
    const window = at(3_600_000);
    const s = await h.session({ executeAt: window });
    expect(await gateSession(h.deps, s.id, 'token-1')).toEqual({ decision: 'Wait' });
    const stored = await h.deps.sessions.getSession(s.id);
    expect(stored?.windowWait).toEqual({ taskToken: 'token-1', since: NOW.toISOString(), until: window });
    expect(stored?.stages.Execution.status).toBe('Unstarted');
    expect(h.timers.set).toEqual([[s.id, window]]);
    expect(h.workflow.answers).toEqual([]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', `waiting for the maintenance window at ${window}`]]);

    // the same attempt again: nothing new to write or log, the timer armed again
    expect(await gateSession(h.deps, s.id, 'token-1')).toEqual({ decision: 'Wait' });
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(stored?.version);
    expect(h.lines).toHaveLength(1);
    expect(h.timers.set).toHaveLength(2);

    // a retried gate parks its new token over the old one
    h.clock.advance(1_000);
    await gateSession(h.deps, s.id, 'token-2');
    expect((await h.deps.sessions.getSession(s.id))?.windowWait).toEqual({ taskToken: 'token-2', since: at(1_000), until: window });
  });

  it('ends a cancelled session at once, writing nothing', async () => {
    h = harness();
    const s = await h.session({ status: 'Cancelled', executeAt: at(3_600_000) });
    expect(await gateSession(h.deps, s.id, 'token')).toEqual({ decision: 'End' });
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(s.version);
    expect(h.workflow.answers).toEqual([{ token: 'token', kind: 'complete', output: { decision: 'End' } }]);
    expect(h.lines).toEqual([]);
    expect(h.timers.set).toEqual([]);
  });
});

describe('waking a gate parked on its window (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  const parked = async (overrides: Partial<Session> = {}): Promise<Session> => {
    const s = await h.session({ executeAt: at(600_000), ...overrides });
    await gateSession(h.deps, s.id, 'parked-token');
    h.lines.length = 0;
    return s;
  };

  it('does nothing for a session that is not waiting', async () => {
    h = harness();
    const s = await h.session();
    expect(await wakeGate(h.deps, s.id)).toBe('not-waiting');
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(s.version);
    expect(h.workflow.answers).toEqual([]);
  });

  it('leaves a gate whose window has not come waiting', async () => {
    h = harness();
    const s = await parked();
    const before = await h.deps.sessions.getSession(s.id);
    expect(await wakeGate(h.deps, s.id)).toBe('still-waiting');
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(before?.version);
    expect(h.workflow.answers).toEqual([]);
  });

  it('starts execution when the window came, answers the parked token with Run, and logs it', async () => {
    h = harness();
    const s = await parked();
    h.clock.advance(600_000);
    expect(await wakeGate(h.deps, s.id)).toBe('woken');
    const stored = await h.deps.sessions.getSession(s.id);
    expect(stored?.stages.Execution).toEqual({ status: 'Running', startedAt: at(600_000) });
    expect(h.workflow.answers).toEqual([{ token: 'parked-token', kind: 'complete', output: { decision: 'Run' } }]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'execution started']]);
  });

  it('answers End for a cancelled session, writing and logging nothing', async () => {
    h = harness();
    const s = await parked();
    const current = await h.deps.sessions.getSession(s.id);
    await h.deps.sessions.updateSession(s.id, current?.version ?? 0, { status: 'Cancelled' }, NOW.toISOString());
    const cancelled = await h.deps.sessions.getSession(s.id);
    expect(await wakeGate(h.deps, s.id)).toBe('woken');
    expect((await h.deps.sessions.getSession(s.id))?.version).toBe(cancelled?.version);
    expect(h.workflow.answers).toEqual([{ token: 'parked-token', kind: 'complete', output: { decision: 'End' } }]);
    expect(h.lines).toEqual([]);
  });

  it('says not-waiting when the parked token was answered already (its step is gone)', async () => {
    h = harness();
    const s = await parked();
    h.workflow.gone.add('parked-token');
    h.clock.advance(600_000);
    expect(await wakeGate(h.deps, s.id)).toBe('not-waiting');
  });

  it('does not start an execution twice: a second wake writes and logs nothing', async () => {
    h = harness();
    const s = await parked();
    h.clock.advance(600_000);
    await wakeGate(h.deps, s.id);
    const started = await h.deps.sessions.getSession(s.id);
    h.clock.advance(1_000);
    expect(await wakeGate(h.deps, s.id)).toBe('woken');
    expect(await h.deps.sessions.getSession(s.id)).toEqual(started);
    expect(h.lines).toHaveLength(1);
  });
});

describe('the window timer firing (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('wakes the gate when the window came, arming nothing more', async () => {
    h = harness();
    const s = await h.session({ executeAt: at(600_000) });
    await gateSession(h.deps, s.id, 'token');
    h.clock.advance(600_000);
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'woken' });
    expect(h.timers.set).toEqual([[s.id, at(600_000)]]);
  });

  it('arms the timer again for a window that moved later', async () => {
    h = harness();
    const s = await h.session({ executeAt: at(600_000) });
    await gateSession(h.deps, s.id, 'token');
    const current = await h.deps.sessions.getSession(s.id);
    await h.deps.sessions.updateSession(s.id, current?.version ?? 0, { executeAt: at(7_200_000) }, NOW.toISOString());
    h.clock.advance(600_000);
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'still-waiting' });
    expect(h.timers.set.at(-1)).toEqual([s.id, at(7_200_000)]);
  });

  it('arms it at least a minute ahead, never for a time about to pass', async () => {
    h = harness();
    const s = await h.session({ executeAt: at(600_000) });
    await gateSession(h.deps, s.id, 'token');
    // fired early, ten seconds before the window
    h.clock.advance(590_000);
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'still-waiting' });
    expect(h.timers.set.at(-1)).toEqual([s.id, at(650_000)]);
  });

  it('arms nothing when the session it read back has no window, or is gone', async () => {
    h = harness();
    const s = await h.session({ executeAt: at(600_000) });
    await gateSession(h.deps, s.id, 'token');
    const waitingSession = await h.deps.sessions.getSession(s.id);
    if (!waitingSession) throw new Error('no session');
    const { executeAt: _window, ...withoutWindow } = waitingSession;
    const read = h.deps.sessions.getSession.bind(h.deps.sessions);
    const second = vi.spyOn(h.deps.sessions, 'getSession');
    // the wake reads the real session (for its run's execution slot, then to decide); the re-arm's own read finds it changed under it
    second.mockImplementationOnce(read).mockImplementationOnce(read).mockResolvedValueOnce(withoutWindow);
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'still-waiting' });
    second.mockImplementationOnce(read).mockImplementationOnce(read).mockResolvedValueOnce(undefined);
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'still-waiting' });
    expect(h.timers.set).toEqual([[s.id, at(600_000)]]);
  });

  it('does nothing when the session is not waiting any more', async () => {
    h = harness();
    const s = await h.session();
    expect(await windowTimerFired(h.deps, s.id)).toEqual({ result: 'not-waiting' });
    expect(h.timers.set).toEqual([]);
  });
});
