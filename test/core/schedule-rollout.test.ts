import { describe, expect, it } from 'vitest';
import { rolloutSchema, type Rollout } from '../../functions/core/model/schedule.js';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { amountOf, assignRings, countOutcome, decideRollout, type TargetState } from '../../functions/core/schedules/rollout.js';

const NOW = new Date('2026-12-01T15:00:00Z');
const rollout = (input: unknown): Rollout => rolloutSchema.parse(input);
const RINGS = rollout({
  rings: [
    { name: 'canary', percent: 10, successThresholdPercent: 100, soakMinutes: 60 },
    { name: 'broad', percent: 100 },
  ],
});
const run = (
  overrides: Partial<ScheduleRun> = {},
): Pick<ScheduleRun, 'status' | 'rollout' | 'currentRing' | 'ringEndedAt' | 'haltReason' | 'haltCause' | 'failuresAccepted' | 'thresholdWaivedForRing'> => ({
  status: 'Running',
  rollout: rollout({}),
  currentRing: 0,
  failuresAccepted: 0,
  ...overrides,
});
const targets = (states: readonly TargetState['state'][], ring = 0): TargetState[] => states.map((state, index) => ({ computerId: `pc-${ring}-${index}`, ring, state }));

describe('rollout rings: the same canaries every run, sized by percentage', () => {
  it('puts each ring up to its cumulative share (at least one computer in the first), stable across calls and input order', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `pc-${i}`);
    const rings = assignRings('weekly', ids, RINGS.rings);
    expect([...rings.values()].filter((ring) => ring === 0)).toHaveLength(4);
    expect([...rings.values()].filter((ring) => ring === 1)).toHaveLength(36);
    expect(assignRings('weekly', [...ids].reverse(), RINGS.rings)).toEqual(new Map([...rings.entries()].sort(() => 0)));
    expect([...assignRings('weekly', ids, RINGS.rings).entries()]).toEqual([...rings.entries()]);
    // another schedule picks other canaries
    const other = assignRings('monthly', ids, RINGS.rings);
    expect(ids.filter((id) => other.get(id) === 0)).not.toEqual(ids.filter((id) => rings.get(id) === 0));
    expect([...assignRings('weekly', ['only'], RINGS.rings).values()]).toEqual([0]);
    expect([...assignRings('weekly', ids, []).values()].every((ring) => ring === 0)).toBe(true);
  });

  it('refuses rings that do not grow or do not end at 100 percent', () => {
    expect(rolloutSchema.safeParse({ rings: [{ name: 'a', percent: 50 }, { name: 'b', percent: 50 }] }).success).toBe(false);
    expect(rolloutSchema.safeParse({ rings: [{ name: 'a', percent: 5 }, { name: 'b', percent: 25 }] }).success).toBe(false);
    expect(rolloutSchema.safeParse({ rings: [{ name: 'a', percent: 5 }, { name: 'b', percent: 100 }] }).success).toBe(true);
  });
});

describe('rollout decisions: error budget, rings, concurrency', () => {
  it('starts every queued computer when nothing limits it, and completes once all ended', () => {
    expect(decideRollout(run(), targets(['Queued', 'Queued', 'Passed']), NOW)).toMatchObject({ status: 'Running', start: ['pc-0-0', 'pc-0-1'] });
    expect(decideRollout(run(), targets(['Passed', 'Failed', 'Cancelled', 'PartialPassed']), NOW)).toMatchObject({
      status: 'Completed',
      start: [],
      outcome: { queued: 0, running: 0, passed: 1, failed: 1, cancelled: 1, partiallyPassed: 1 },
    });
  });

  it('starts every queued computer of the rings reached whatever maxConcurrent says: that limit is kept at the window, by execution slots', () => {
    const states = targets(['Running', 'Postponed', 'Queued', 'Queued']);
    expect(decideRollout(run({ rollout: rollout({ maxConcurrent: { kind: 'Count', value: 1 } }) }), states, NOW).start).toEqual(['pc-0-2', 'pc-0-3']);
  });

  it('halts when failures exceed the budget (SSM semantics: 2 allowed, the third halts), less those accepted on resume', () => {
    const budget = rollout({ errorBudget: { kind: 'Count', value: 2 } });
    expect(decideRollout(run({ rollout: budget }), targets(['Failed', 'Failed', 'Queued']), NOW)).toMatchObject({ status: 'Running', start: ['pc-0-2'] });
    const halted = decideRollout(run({ rollout: budget }), targets(['Failed', 'Failed', 'Failed', 'Queued', 'Running']), NOW);
    expect(halted).toMatchObject({ status: 'Halted', start: [], haltReason: 'error budget spent: 3 failed session(s), more than the 2 allowed' });
    expect(decideRollout(run({ rollout: budget, failuresAccepted: 3 }), targets(['Failed', 'Failed', 'Failed', 'Queued']), NOW).status).toBe('Running');
    // 10 % of 20 targets: 2 allowed
    const share = rollout({ errorBudget: { kind: 'Percent', value: 10 } });
    expect(decideRollout(run({ rollout: share }), targets([...Array.from({ length: 3 }, () => 'Failed' as const), ...Array.from({ length: 17 }, () => 'Queued' as const)]), NOW).status).toBe('Halted');
  });

  it('starts only the current ring; once it ended well and soaked, the next ring starts', () => {
    const canary = targets(['Passed', 'PartialPassed'], 0);
    const broad = targets(['Queued', 'Queued'], 1);
    expect(decideRollout(run({ rollout: RINGS }), [...targets(['Queued', 'Running'], 0), ...broad], NOW)).toMatchObject({ start: ['pc-0-0'], currentRing: 0 });
    const ended = decideRollout(run({ rollout: RINGS }), [...canary, ...broad], NOW);
    expect(ended).toMatchObject({ status: 'Running', currentRing: 0, ringEndedAt: NOW.toISOString(), start: [] });
    const early = decideRollout(run({ rollout: RINGS, ringEndedAt: NOW.toISOString() }), [...canary, ...broad], new Date(NOW.getTime() + 59 * 60_000));
    expect(early).toMatchObject({ currentRing: 0, start: [] });
    const soaked = decideRollout(run({ rollout: RINGS, ringEndedAt: NOW.toISOString() }), [...canary, ...broad], new Date(NOW.getTime() + 60 * 60_000));
    expect(soaked).toMatchObject({ status: 'Running', currentRing: 1, start: ['pc-1-0', 'pc-1-1'] });
    expect(soaked.ringEndedAt).toBeUndefined();
  });

  it('halts when a ring ends below its success threshold, saying which ring and by how much', () => {
    const decision = decideRollout(run({ rollout: RINGS }), [...targets(['Passed', 'Failed'], 0), ...targets(['Queued'], 1)], NOW);
    expect(decision).toMatchObject({ status: 'Halted', start: [], haltReason: 'ring canary: 1 of 2 session(s) passed (50%), below the 100% it needs' });
  });

  it('leaves a halted, completed or cancelled run alone', () => {
    for (const status of ['Halted', 'Completed', 'Cancelled'] as const) {
      expect(decideRollout(run({ status }), targets(['Queued']), NOW)).toMatchObject({ status, start: [] });
    }
  });
});

describe('rollout rules, one by one', () => {
  const THREE = rollout({
    rings: [
      { name: 'canary', percent: 10, successThresholdPercent: 50, soakMinutes: 0 },
      { name: 'early', percent: 50, successThresholdPercent: 100, soakMinutes: 30 },
      { name: 'broad', percent: 100, successThresholdPercent: 100 },
    ],
  });

  it('keeps the same canaries across releases: the order is FNV-1a of schedule and computer, pinned here', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `pc-${i}`);
    const rings = assignRings('weekly', ids, RINGS.rings);
    expect(ids.filter((id) => rings.get(id) === 0)).toEqual(['pc-20', 'pc-26', 'pc-27', 'pc-37']);
  });

  it('sizes amounts: a count as it is, a percentage of the total rounded up', () => {
    expect(amountOf({ kind: 'Count', value: 3 }, 50)).toBe(3);
    expect(amountOf({ kind: 'Percent', value: 10 }, 41)).toBe(5);
    expect(amountOf({ kind: 'Percent', value: 10 }, 40)).toBe(4);
    expect(amountOf({ kind: 'Percent', value: 25 }, 0)).toBe(0);
  });

  it('counts running sessions apart from queued and ended ones', () => {
    expect(countOutcome(targets(['Queued', 'Running', 'Postponed', 'Passed', 'Failed']))).toEqual({
      queued: 1,
      running: 2,
      awaitingExecution: 1,
      passed: 1,
      partiallyPassed: 0,
      failed: 1,
      cancelled: 0,
    });
  });

  it('counts, among the running, the sessions detected and waiting to execute: for their window, or postponed to a later one', () => {
    const waiting: TargetState = { computerId: 'pc-waiting', ring: 0, state: 'Running', awaitingExecution: true };
    const atWork: TargetState = { computerId: 'pc-at-work', ring: 0, state: 'Running', awaitingExecution: false };
    const postponed: TargetState = { computerId: 'pc-postponed', ring: 0, state: 'Postponed' };
    expect(countOutcome([waiting, atWork, postponed])).toMatchObject({ running: 3, awaitingExecution: 2 });
    expect(countOutcome([atWork, { ...atWork, computerId: 'pc-2', state: 'Created' }])).toMatchObject({ running: 2, awaitingExecution: 0 });
    // only a running session waits: an ended one that once waited is counted by how it ended
    expect(countOutcome([{ ...waiting, state: 'Passed' }])).toMatchObject({ running: 0, awaitingExecution: 0, passed: 1 });
  });

  it('stays running while a session runs, though nothing is queued', () => {
    expect(decideRollout(run(), targets(['Passed', 'Running']), NOW)).toMatchObject({ status: 'Running', start: [] });
  });

  it('reads a percentage budget as that share of the targets, rounded down (10 % of 20: the third failure halts, not the second)', () => {
    const share = rollout({ errorBudget: { kind: 'Percent', value: 10 } });
    const states = (failed: number): TargetState[] => targets([...Array.from({ length: failed }, () => 'Failed' as const), ...Array.from({ length: 20 - failed }, () => 'Queued' as const)]);
    expect(decideRollout(run({ rollout: share }), states(2), NOW).status).toBe('Running');
    expect(decideRollout(run({ rollout: share }), states(3), NOW)).toMatchObject({
      status: 'Halted',
      haltCause: 'ErrorBudget',
      haltReason: 'error budget spent: 3 failed session(s), more than the 2 allowed',
    });
  });

  it('leaves a settled run as it was: its ring, when it ended, why and by what it halted', () => {
    const halted = run({ status: 'Halted', currentRing: 1, ringEndedAt: NOW.toISOString(), haltReason: 'by hand', haltCause: 'Operator' });
    expect(decideRollout(halted, targets(['Queued']), NOW)).toEqual({
      status: 'Halted',
      currentRing: 1,
      ringEndedAt: NOW.toISOString(),
      haltReason: 'by hand',
      haltCause: 'Operator',
      start: [],
      outcome: { queued: 1, running: 0, awaitingExecution: 0, passed: 0, partiallyPassed: 0, failed: 0, cancelled: 0 },
    });
    expect(decideRollout(run({ status: 'Completed', currentRing: 2 }), [], NOW)).toEqual({
      status: 'Completed',
      currentRing: 2,
      start: [],
      outcome: { queued: 0, running: 0, awaitingExecution: 0, passed: 0, partiallyPassed: 0, failed: 0, cancelled: 0 },
    });
  });

  it('waits for every session of the current ring to end before judging it', () => {
    const decision = decideRollout(run({ rollout: RINGS }), [...targets(['Passed', 'Running'], 0), ...targets(['Queued'], 1)], NOW);
    expect(decision).toMatchObject({ status: 'Running', currentRing: 0, start: [] });
    expect(decision.ringEndedAt).toBeUndefined();
  });

  it('judges a ring by its own sessions only, not by the rings before it', () => {
    // canary: 1 of 2 passed, enough for its 50 %; early: all passed, as its 100 % needs
    const states = [...targets(['Passed', 'Failed'], 0), ...targets(['Passed', 'Passed'], 1), ...targets(['Queued'], 2)];
    const decision = decideRollout(run({ rollout: THREE, currentRing: 1, ringEndedAt: NOW.toISOString() }), states, new Date(NOW.getTime() + 30 * 60_000));
    expect(decision).toMatchObject({ status: 'Running', currentRing: 2, start: ['pc-2-0'] });
  });

  it('counts a cancelled session neither way, and a ring where every session was cancelled passes', () => {
    const mostlyCancelled = [...targets(['Passed', 'Cancelled', 'Cancelled'], 1), ...targets(['Queued'], 2)];
    expect(decideRollout(run({ rollout: THREE, currentRing: 1 }), mostlyCancelled, NOW)).toMatchObject({ status: 'Running', currentRing: 1, ringEndedAt: NOW.toISOString() });
    const allCancelled = [...targets(['Cancelled', 'Cancelled'], 1), ...targets(['Queued'], 2)];
    expect(decideRollout(run({ rollout: THREE, currentRing: 1 }), allCancelled, NOW)).toMatchObject({ status: 'Running', currentRing: 1, ringEndedAt: NOW.toISOString() });
  });

  it('halts below a ring threshold with the cause named, unless an operator waived that ring threshold on resume', () => {
    const states = [...targets(['Passed', 'Failed'], 1), ...targets(['Queued'], 2)];
    expect(decideRollout(run({ rollout: THREE, currentRing: 1 }), states, NOW)).toMatchObject({
      status: 'Halted',
      haltCause: 'RingThreshold',
      haltReason: 'ring early: 1 of 2 session(s) passed (50%), below the 100% it needs',
    });
    expect(decideRollout(run({ rollout: THREE, currentRing: 1, thresholdWaivedForRing: 1 }), states, NOW)).toMatchObject({ status: 'Running', currentRing: 1 });
    expect(decideRollout(run({ rollout: THREE, currentRing: 1, thresholdWaivedForRing: 0 }), states, NOW).status).toBe('Halted');
  });

  it('moves on at once after a ring without soak time', () => {
    const states = [...targets(['Passed'], 0), ...targets(['Queued'], 1)];
    expect(decideRollout(run({ rollout: THREE }), states, NOW)).toMatchObject({ status: 'Running', currentRing: 1, start: ['pc-1-0'] });
  });

  it('completes after the last ring whatever its success rate: its threshold gates no ring after it', () => {
    const states = [...targets(['Passed'], 0), ...targets(['Passed'], 1), ...targets(['Failed', 'Passed'], 2)];
    expect(decideRollout(run({ rollout: THREE, currentRing: 2 }), states, NOW)).toEqual({
      status: 'Completed',
      currentRing: 2,
      start: [],
      outcome: { queued: 0, running: 0, awaitingExecution: 0, passed: 3, partiallyPassed: 0, failed: 1, cancelled: 0 },
    });
  });
});
