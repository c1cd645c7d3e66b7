import type { Requester } from './session.js';

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
  /** When the occurrence was due (a run-now: when it was asked for). */
  readonly scheduledTime: string;
  readonly trigger: 'Schedule' | 'RunNow';
  readonly by: Requester;
  /** Starting: sessions are being started. Started: every target has its session or its skip reason. */
  readonly status: 'Starting' | 'Started';
  /**
   * While `Starting`: until when the delivery that is fanning out holds the
   * run. Another delivery of the same fire leaves it alone until then, and
   * takes over after (the first one died), so a fire delivered many times
   * starts each computer's session through one fan-out, not many.
   */
  readonly fanOutLeaseUntil?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly targeted: number;
  readonly started: number;
  readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
}

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
  /** When its maintenance window opens; absent when execution follows detection. */
  readonly executeAt?: string;
}
