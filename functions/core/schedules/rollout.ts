import type { Rollout } from '../model/schedule.js';
import type { RunOutcome, RunStatus, ScheduleRun } from '../model/schedule-run.js';
import { isFinalSessionStatus, type SessionStatus } from '../model/session.js';

/**
 * The rollout rules of a run, as pure decisions: which ring each computer is
 * in, and given what became of the started sessions, what the run does next.
 */

/** FNV-1a: a stable, well-spread order of computers, the same for every run of a schedule. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** `Count` as it is; `Percent` of `total`, rounded up so a small run still moves. */
export function amountOf(amount: NonNullable<Rollout['maxConcurrent']>, total: number): number {
  return amount.kind === 'Count' ? amount.value : Math.ceil((amount.value * total) / 100);
}

/**
 * Each computer's ring. Computers are ordered by a hash of the schedule and
 * computer ids, so the canaries of a schedule are the same computers run
 * after run (an MSP learns which machines break first), and ring `i` takes
 * computers up to its cumulative percentage of the targets (ring 0 at least one).
 */
export function assignRings(scheduleId: string, computerIds: readonly string[], rings: Rollout['rings']): Map<string, number> {
  const ordered = [...computerIds].sort((a, b) => stableHash(`${scheduleId}\u0000${a}`) - stableHash(`${scheduleId}\u0000${b}`) || a.localeCompare(b));
  // Stryker disable next-line ObjectLiteral: with no rings every computer is in ring 0 either way (a ring of no size ends nowhere, and what no ring takes goes to the last)
  const rings_ = rings.length === 0 ? [{ percent: 100 }] : rings;
  const ends = rings_.map((ring) => Math.max(1, Math.ceil((ring.percent * ordered.length) / 100)));
  const assigned = new Map<string, number>();
  ordered.forEach((computerId, position) => {
    const ring = ends.findIndex((end) => position < end);
    assigned.set(computerId, ring < 0 ? rings_.length - 1 : ring);
  });
  return assigned;
}

/** A target as the controller sees it: its ring and its session's status, `Queued` before it has one. */
export interface TargetState {
  readonly computerId: string;
  readonly ring: number;
  readonly state: 'Queued' | SessionStatus;
  /** Its session is detected and waits to execute (see `isAwaitingExecution`). */
  readonly awaitingExecution?: boolean;
}

export function countOutcome(targets: readonly TargetState[]): RunOutcome {
  const count = (test: (state: TargetState['state']) => boolean) => targets.filter((t) => test(t.state)).length;
  return {
    queued: count((s) => s === 'Queued'),
    running: count((s) => s !== 'Queued' && !isFinalSessionStatus(s)),
    // of those running: a postponed session waits for its moved window, so it is counted here with those waiting for theirs
    awaitingExecution: targets.filter((t) => t.state === 'Postponed' || (t.state === 'Running' && t.awaitingExecution === true)).length,
    passed: count((s) => s === 'Passed'),
    partiallyPassed: count((s) => s === 'PartialPassed'),
    failed: count((s) => s === 'Failed'),
    cancelled: count((s) => s === 'Cancelled'),
  };
}

export interface RolloutDecision {
  readonly status: RunStatus;
  readonly currentRing: number;
  readonly ringEndedAt?: string;
  readonly haltReason?: string;
  readonly haltCause?: ScheduleRun['haltCause'];
  /** Queued computers to start now, in rollout order. */
  readonly start: readonly string[];
  readonly outcome: RunOutcome;
}

// Stryker disable next-line ConditionalExpression: 0 of 0 would be NaN, below no threshold, so a ring with no ended session passes either way; 100 keeps the number honest
const percent = (part: number, whole: number): number => (whole === 0 ? 100 : Math.floor((part * 100) / whole));

/**
 * What a running run does next, given its targets (skipped ones left out).
 * - The error budget: more failed sessions than it allows (after those an
 *   operator accepted on resume) halts the run. Nothing more starts; what
 *   runs, runs to its end.
 * - Rings: once every session of the current ring has ended, the ring's
 *   success rate (passed and partly passed, of its ended sessions) must reach
 *   its threshold, or the run halts saying so; otherwise the next ring starts
 *   after the soak time, counted from the ring's last session's end.
 * - Then every queued computer of the rings reached starts (its detection
 *   runs at once); `maxConcurrent` is kept later, at each session's window,
 *   by the run's execution slots (`gate-session`).
 * - A run with nothing queued and nothing running is complete.
 */
export function decideRollout(
  run: Pick<ScheduleRun, 'status' | 'rollout' | 'currentRing' | 'ringEndedAt' | 'haltReason' | 'haltCause' | 'failuresAccepted' | 'thresholdWaivedForRing'>, targets: readonly TargetState[], now: Date): RolloutDecision {
  const outcome = countOutcome(targets);
  const settled = {
    currentRing: run.currentRing,
    ...(run.ringEndedAt ? { ringEndedAt: run.ringEndedAt } : {}),
    ...(run.haltReason ? { haltReason: run.haltReason } : {}),
    ...(run.haltCause ? { haltCause: run.haltCause } : {}),
  };
  if (run.status !== 'Running') return { status: run.status, ...settled, start: [], outcome };

  const { rollout } = run;
  const failures = outcome.failed - run.failuresAccepted;
  if (rollout.errorBudget) {
    const allowed = rollout.errorBudget.kind === 'Count' ? rollout.errorBudget.value : Math.floor((rollout.errorBudget.value * targets.length) / 100);
    if (failures > allowed) {
      return { status: 'Halted', ...settled, haltReason: `error budget spent: ${failures} failed session(s), more than the ${allowed} allowed`, haltCause: 'ErrorBudget', start: [], outcome };
    }
  }

  let currentRing = run.currentRing;
  let ringEndedAt = run.ringEndedAt;
  const lastRing = Math.max(0, rollout.rings.length - 1);
  const reached = (ring: number) => targets.filter((t) => t.ring <= ring);
  const unfinished = (ring: number) => reached(ring).some((t) => t.state === 'Queued' || !isFinalSessionStatus(t.state));
  // without rings the last ring is 0, which no current ring is below: nothing to judge
  if (currentRing < lastRing && !unfinished(currentRing)) {
    const ring = rollout.rings[currentRing];
    // every session of the ring has ended here (nothing queued, nothing running);
    // a session cancelled (by its user, by an operator) did not run: it neither passes nor fails its ring
    const ended = targets.filter((t) => t.ring === currentRing && t.state !== 'Cancelled');
    const good = ended.filter((t) => t.state === 'Passed' || t.state === 'PartialPassed').length;
    const rate = percent(good, ended.length);
    if (ring && rate < ring.successThresholdPercent && run.thresholdWaivedForRing !== currentRing) {
      return {
        status: 'Halted',
        currentRing,
        haltReason: `ring ${ring.name}: ${good} of ${ended.length} session(s) passed (${rate}%), below the ${ring.successThresholdPercent}% it needs`,
        haltCause: 'RingThreshold',
        start: [],
        outcome,
      };
    }
    ringEndedAt ??= now.toISOString();
    // Stryker disable next-line OptionalChaining: the current ring is below the last, so it exists; the `?.` is for the types
    if (now.getTime() >= Date.parse(ringEndedAt) + (ring?.soakMinutes ?? 0) * 60_000) {
      currentRing += 1;
      ringEndedAt = undefined;
    }
  }

  // every computer of the rings reached starts (detection at once); maxConcurrent is kept at the window, by execution slots
  const start = targets.filter((t) => t.state === 'Queued' && t.ring <= currentRing).map((t) => t.computerId);
  const done = outcome.queued === 0 && outcome.running === 0;
  return {
    status: done ? 'Completed' : 'Running',
    currentRing,
    ...(ringEndedAt ? { ringEndedAt } : {}),
    start,
    outcome,
  };
}
