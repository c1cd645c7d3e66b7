import type { Rollout } from './schedule.js';
import type { Requester, SessionOptions } from './session.js';

/** Why a targeted computer got no session in a run, as the run shows it. */
export type SkipReason =
  /** Offline, and the schedule skips offline computers. */
  | 'Offline'
  /** Nothing is deployed to it (within the schedule's limit, if any). */
  | 'NoApplicableDeployments'
  /** It already has an unfinished session. */
  | 'ActiveSession'
  /** Its tenant is disabled. */
  | 'TenantDisabled'
  /** Its session could not be started (the detail says why). */
  | 'StartFailed';

export const SKIP_REASONS: readonly SkipReason[] = ['Offline', 'NoApplicableDeployments', 'ActiveSession', 'TenantDisabled', 'StartFailed'];

/**
 * One fire of a schedule: the computers it targeted and what became of each.
 * Its id derives from the schedule and the fire time, so a fire delivered
 * many times is one run.
 */
export interface ScheduleRun {
  readonly id: string;
  readonly scheduleId: string;
  readonly scheduleName: string;
  /** The schedule version the run used: later edits do not change a run under way. */
  readonly scheduleVersion: number;
  /**
   * The schedule's tenant when it fired (`tenantId` absent: every tenant): who
   * may see the run, whatever tenant the schedule is moved to later. Runs
   * recorded before it was kept have none and are judged by their schedule.
   */
  readonly owner?: { readonly tenantId?: string };
  /** When the occurrence was due (a run-now: when it was asked for). */
  readonly scheduledTime: string;
  readonly trigger: 'Schedule' | 'RunNow';
  readonly by: Requester;
  /**
   * Starting: the fire is writing the run's targets and starting the first
   * sessions. Running: sessions run, and queued targets (later rings, or
   * held back by `maxConcurrent`) start as the rollout allows. Halted: no
   * more sessions start (the error budget ran out, a ring fell short, or an
   * operator halted it); started ones run to their end; it can be resumed.
   * Completed: every target's session ended or was skipped. Cancelled: an
   * operator ended it; its queued targets never start.
   */
  readonly status: RunStatus;
  /** Bumped by every change after the fan-out; each write names the version it read. */
  readonly version: number;
  /** The rollout the run follows, copied from the schedule when it fired. */
  readonly rollout: Rollout;
  /**
   * The options every session of the run gets (each adds its own window),
   * fixed when the schedule fired: an edit of the schedule meanwhile changes
   * neither a run under way nor a retried start.
   */
  readonly sessionBasis: SessionOptions;
  /** A ring whose success threshold an operator waived by resuming the run it halted. */
  readonly thresholdWaivedForRing?: number;
  /** The ring whose sessions may start (0 without rings). */
  readonly currentRing: number;
  /** When the current ring's last session ended: its soak counts from here. */
  readonly ringEndedAt?: string;
  /** Why the run halted, in words. */
  readonly haltReason?: string;
  /** What halted it: the error budget, a ring's success rate, an operator (or the schedule's deletion). */
  readonly haltCause?: 'ErrorBudget' | 'RingThreshold' | 'Operator' | 'ScheduleDeleted';
  /** Failed sessions an operator accepted when resuming: the error budget counts failures after these. */
  readonly failuresAccepted: number;
  /** What became of the started sessions, as the run last counted them. */
  readonly outcome: RunOutcome;
  /**
   * Until when the delivery that is fanning out, or the controller step that
   * is starting sessions, holds the run. Another one leaves it alone until
   * then, and takes over after (the holder died), so a fire delivered many
   * times, or a controller look during a long fan-out, starts each session
   * once rather than racing for the quota. Writing the run releases it.
   */
  readonly fanOutLeaseUntil?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly targeted: number;
  readonly started: number;
  readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
}

export type RunStatus = 'Starting' | 'Running' | 'Halted' | 'Completed' | 'Cancelled';

export interface RunOutcome {
  /** Targets waiting for their ring or for room under `maxConcurrent`. */
  readonly queued: number;
  readonly running: number;
  /**
   * Of those running, the ones detected and waiting to execute: for their
   * window (hours, maybe), as postponed, or for one of the run's execution
   * slots. Absent on runs last counted before it was.
   */
  readonly awaitingExecution?: number;
  readonly passed: number;
  readonly partiallyPassed: number;
  readonly failed: number;
  readonly cancelled: number;
}

export const EMPTY_OUTCOME: RunOutcome = { queued: 0, running: 0, awaitingExecution: 0, passed: 0, partiallyPassed: 0, failed: 0, cancelled: 0 };

/** One computer of a run: the session it got, or why it got none. Written once, before its session is started. */
export interface RunTarget {
  readonly runId: string;
  readonly computerId: string;
  readonly computerName: string;
  readonly tenantId: string;
  /** The session started for it (its id derives from the run and the computer). */
  readonly sessionId?: string;
  readonly skipped?: SkipReason;
  /** Words for the skip: which session is active, what failed. */
  readonly detail?: string;
  /** Its window rule (absent when execution follows detection): the window opens after its session starts, whichever ring that is in. */
  readonly window?: WindowSpec;
  /** When its maintenance window opens, fixed just before its session starts (so a repeated start asks for the same session). */
  readonly executeAt?: string;
  /** Its rollout ring (0 without rings): the same computers lead every run of a schedule. */
  readonly ring: number;
}

/** One computer's window rule: the wall time, the zone it is read in, and the active hours it must avoid. */
export interface WindowSpec {
  readonly time: string;
  readonly zone: string;
  readonly avoid?: { readonly start: string; readonly end: string };
  /** The zone the active hours are the computer's own in (its zone, whatever zone the window is read in). */
  readonly avoidZone?: string;
}
