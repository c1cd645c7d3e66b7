import { NotFoundError, TransientError, ValidationError, ConflictError } from '../errors.js';
import type { Computer } from '../model/catalog.js';
import type { Schedule } from '../model/schedule.js';
import { SKIP_REASONS, type RunTarget, type ScheduleRun, type SkipReason } from '../model/schedule-run.js';
import type { Requester } from '../model/session.js';
import { indexDeployments } from '../planning/resolution.js';
import { decideTarget, selectTargets, sessionOptionsFor } from '../schedules/targets.js';
import { scheduleTimeZone } from '../schedules/windows.js';
import type { Dependencies } from './dependencies.js';
import { loadCatalogFor } from './prepare-session.js';
import { startSession } from './start-session.js';

export interface FireScheduleCommand {
  readonly scheduleId: string;
  /** When the occurrence was due; a run-now passes the time it was asked for. It keys the run. */
  readonly scheduledTime: string;
  readonly trigger: ScheduleRun['trigger'];
  readonly by: Requester;
}

export type FireScheduleResult =
  | { readonly fired: false; readonly reason: 'ScheduleNotFound' | 'ScheduleDisabled' }
  /** `inProgress`: another delivery of the same fire is fanning out now; this one left it to that one. */
  | { readonly fired: true; readonly run: ScheduleRun; readonly created: boolean; readonly inProgress?: true };

/**
 * How long a delivery holds a run's fan-out: longer than the fire-schedule
 * function may run (900 s), so a live holder is never taken over.
 */
const FAN_OUT_LEASE_SECONDS = 960;

/**
 * Targets worked on side by side by one fan-out: enough to keep the pacer's
 * rate (StartExecution, see PacedWorkflow) fed while each target's table
 * writes are in flight; the pacer, not this number, sets the pace.
 */
const STARTS_AT_ONCE = 32;

/**
 * A schedule fired: records the run once, then gives every targeted computer
 * its session or its skip reason, once. Everything is keyed so that the same
 * fire delivered again (Scheduler retries, a duplicate delivery, a Lambda
 * retry after a timeout) finds what the first delivery did and only finishes
 * what it left: the run id derives from (schedule, fire time), each target is
 * one item written before its session is started, and each session id derives
 * from (run, computer).
 */
export async function fireSchedule(deps: Dependencies, command: FireScheduleCommand): Promise<FireScheduleResult> {
  const schedule = await deps.schedules.getSchedule(command.scheduleId);
  if (!schedule) {
    deps.logger.warn('schedule fired but no longer exists', { scheduleId: command.scheduleId });
    return { fired: false, reason: 'ScheduleNotFound' };
  }
  // Scheduler may deliver a fire made just before the schedule was disabled; a run-now is the operator's explicit ask
  if (!schedule.enabled && command.trigger === 'Schedule') {
    deps.logger.info('schedule fired while disabled; nothing started', { scheduleId: schedule.id });
    return { fired: false, reason: 'ScheduleDisabled' };
  }
  const scheduledTime = new Date(command.scheduledTime);
  if (Number.isNaN(scheduledTime.getTime())) throw new ValidationError('schedule fire', [{ field: 'scheduledTime', problem: 'must be an ISO 8601 instant' }]);

  const now = deps.clock.now().toISOString();
  const runId = deps.ids.derive('run', [schedule.id, scheduledTime.toISOString()]);
  // a redelivery of a finished fire answers from one read
  const finished = await deps.schedules.getRun(runId);
  if (finished?.status === 'Started') return { fired: true, run: finished, created: false };
  const leaseUntil = new Date(deps.clock.now().getTime() + FAN_OUT_LEASE_SECONDS * 1000).toISOString();
  const { run, created } = await deps.schedules.createRun({
    id: runId,
    scheduleId: schedule.id,
    scheduleName: schedule.name,
    scheduleVersion: schedule.version,
    scheduledTime: scheduledTime.toISOString(),
    trigger: command.trigger,
    by: command.by,
    status: 'Starting',
    fanOutLeaseUntil: leaseUntil,
    createdAt: now,
    updatedAt: now,
    targeted: 0,
    started: 0,
    skipped: {},
  });
  if (created) deps.metrics.count('ScheduleRunsStarted');
  if (run.status === 'Started') return { fired: true, run, created: false };
  if (!created) {
    // another delivery holds the fan-out: leave it to that one while its lease runs, take over once it has lapsed
    const heldUntil = run.fanOutLeaseUntil;
    if (heldUntil !== undefined && Date.parse(heldUntil) > deps.clock.now().getTime()) return { fired: true, run, created: false, inProgress: true };
    if (!(await deps.schedules.takeOverRunFanOut(run.id, heldUntil, leaseUntil))) return { fired: true, run, created: false, inProgress: true };
    deps.logger.warn('schedule run taken over from a delivery that stopped', { scheduleId: schedule.id, runId: run.id });
  }

  const { catalog, deployments } = await loadCatalogFor(deps);
  const computers = await deps.catalog.listComputers();
  const { computers: targets, unknownComputerIds } = selectTargets(schedule, computers, catalog.tenants);
  for (const id of unknownComputerIds) deps.logger.warn('schedule names a computer that is gone or outside its tenants', { scheduleId: schedule.id, computerId: id });
  const context = {
    catalog,
    index: indexDeployments(deployments),
    scheduleZone: scheduleTimeZone(schedule, schedule.tenantId === undefined ? undefined : catalog.tenants.get(schedule.tenantId)),
    firedAt: scheduledTime,
  };

  const outcomes: RunTarget[] = [];
  for (let from = 0; from < targets.length; from += STARTS_AT_ONCE) {
    outcomes.push(...(await Promise.all(targets.slice(from, from + STARTS_AT_ONCE).map((computer) => startTarget(deps, schedule, run, computer, context)))));
  }
  const skipped: Partial<Record<SkipReason, number>> = {};
  for (const reason of SKIP_REASONS) {
    const count = outcomes.filter((outcome) => outcome.skipped === reason).length;
    if (count > 0) skipped[reason] = count;
  }
  const skippedTotal = outcomes.filter((outcome) => outcome.skipped !== undefined).length;
  if (skippedTotal > 0) deps.metrics.count('ScheduleTargetsSkipped', skippedTotal);
  const counted = await deps.schedules.finishRunFanOut(
    run.id,
    { targeted: outcomes.length, started: outcomes.filter((outcome) => outcome.sessionId !== undefined).length, skipped },
    deps.clock.now().toISOString(),
  );
  deps.logger.info('schedule run started', { scheduleId: schedule.id, runId: run.id, targeted: counted.targeted, started: counted.started });
  return { fired: true, run: counted, created };
}

async function startTarget(
  deps: Dependencies,
  schedule: Schedule,
  run: ScheduleRun,
  computer: Computer,
  context: Parameters<typeof decideTarget>[2],
): Promise<RunTarget> {
  const decision = decideTarget(schedule, computer, context);
  const { target } = await deps.schedules.putRunTarget({
    runId: run.id,
    computerId: computer.id,
    computerName: computer.name,
    tenantId: computer.tenantId,
    ...(decision.start && decision.executeAt ? { executeAt: decision.executeAt.toISOString() } : {}),
  });
  // settled by an earlier delivery of this fire: its outcome stands
  if (target.sessionId !== undefined || target.skipped !== undefined) return target;
  if (!decision.start) return deps.schedules.settleRunTarget(run.id, computer.id, { skipped: decision.skipped, detail: decision.detail });

  const sessionId = deps.ids.derive('ses', [run.id, computer.id]);
  const executeAt = target.executeAt === undefined ? undefined : new Date(target.executeAt);
  try {
    const started = await startSession(deps, {
      computerId: computer.id,
      sessionId,
      options: sessionOptionsFor(schedule, executeAt),
      by: { kind: 'Schedule', name: `${schedule.name} (${run.scheduledTime})` },
    });
    if (started.existing === 'ComputerBusy') {
      return await deps.schedules.settleRunTarget(run.id, computer.id, { skipped: 'ActiveSession', detail: `session ${started.sessionId} is still running on ${computer.name}` });
    }
    return await deps.schedules.settleRunTarget(run.id, computer.id, { sessionId: started.sessionId });
  } catch (error) {
    // a transient failure fails the delivery, which is retried and finishes what this one left
    if (error instanceof TransientError) throw error;
    if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof ConflictError) {
      return deps.schedules.settleRunTarget(run.id, computer.id, { skipped: 'StartFailed', detail: error.message });
    }
    throw error;
  }
}
