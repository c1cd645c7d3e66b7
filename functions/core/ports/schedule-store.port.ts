import type { Schedule } from '../model/schedule.js';
import type { RunTarget, ScheduleRun } from '../model/schedule-run.js';
import type { CountedUsage, RunUsage } from '../model/usage.js';

/**
 * Schedules, their runs and each run's targets. Every write is one
 * conditional single-item write: a schedule changes only at the version the
 * caller read (`ConflictError` otherwise), and a run or a run target is
 * created once, whatever the number of deliveries.
 */
export interface ScheduleStore {
  /** `ConflictError` if a schedule with that id exists. */
  createSchedule(schedule: Schedule): Promise<void>;
  getSchedule(scheduleId: string): Promise<Schedule | undefined>;
  listSchedules(): Promise<Schedule[]>;
  /** Replaces the schedule if it is still at `expectedVersion` (the new one carries `expectedVersion + 1`). */
  replaceSchedule(schedule: Schedule, expectedVersion: number): Promise<void>;
  /** Deletes the schedule if it is still at `expectedVersion`. */
  deleteSchedule(scheduleId: string, expectedVersion: number): Promise<void>;

  /** Creates the run unless it exists; answers the stored run and whether this call created it. */
  createRun(run: ScheduleRun): Promise<{ readonly run: ScheduleRun; readonly created: boolean }>;
  getRun(runId: string): Promise<ScheduleRun | undefined>;
  /** The schedule's runs, newest first. */
  listRuns(scheduleId: string, limit: number): Promise<ScheduleRun[]>;
  /**
   * Takes the run's lease (who is starting its sessions) from `expectedLeaseUntil`
   * (none, or a holder whose lease lapsed) until `leaseUntil`; false if another
   * delivery or controller step took it first. Taking it bumps the run's
   * version (so a step that read the run before cannot write over the lease)
   * and answers the run as it now is; writing the run releases it.
   */
  takeRunLease(runId: string, expectedLeaseUntil: string | undefined, leaseUntil: string): Promise<ScheduleRun | undefined>;
  /** Gives the lease back if it is still `leaseUntil` (a holder whose record lost a race to an operator's change). */
  releaseRunLease(runId: string, leaseUntil: string): Promise<void>;
  /** Replaces the run if it is still at `expectedVersion` (the new one carries `expectedVersion + 1`); `ConflictError` otherwise. */
  updateRun(run: ScheduleRun, expectedVersion: number): Promise<void>;
  /** Runs not yet Completed or Cancelled, oldest first: the rollout controller's worklist. */
  listActiveRuns(limit: number): Promise<ScheduleRun[]>;

  /** Creates the target unless it exists; answers the stored one and whether this call created it. */
  putRunTarget(target: RunTarget): Promise<{ readonly target: RunTarget; readonly created: boolean }>;
  /** Sets a target's session or skip once its start is known; a target that has either keeps it. */
  settleRunTarget(runId: string, computerId: string, outcome: Pick<RunTarget, 'sessionId' | 'skipped' | 'detail'>): Promise<RunTarget>;
  /**
   * Takes one of the run's `max` execution slots for the session; true when
   * it holds one (now or already), false when all are taken.
   */
  acquireExecutionSlot(runId: string, sessionId: string, max: number, now: string): Promise<boolean>;
  /** Gives the session's slot back; one it does not hold is fine. */
  releaseExecutionSlot(runId: string, sessionId: string): Promise<void>;
  /** Fixes when the target's window opens, once: a later call answers the target with the time fixed first. */
  fixRunTargetWindow(runId: string, computerId: string, executeAt: string): Promise<RunTarget>;
  /** The run's targets, by computer id. */
  listRunTargets(runId: string): Promise<RunTarget[]>;

  /**
   * Adds a session's usage, as frozen when its execution ended, to the run:
   * once per session, whatever the number of calls; true when this call added it.
   */
  addSessionUsage(runId: string, sessionId: string, usage: CountedUsage, at: string): Promise<boolean>;
  /** What the run used: its own fan-out and rollout steps, and every session added to it. */
  getRunUsage(runId: string): Promise<RunUsage>;
}
