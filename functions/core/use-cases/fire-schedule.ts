import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { EMPTY_OUTCOME, type ScheduleRun } from '../model/schedule-run.js';
import type { Requester } from '../model/session.js';
import type { Schedule } from '../model/schedule.js';
import { indexDeployments } from '../planning/resolution.js';
import { assignRings } from '../schedules/rollout.js';
import { decideTarget, selectTargets, sessionOptionsFor } from '../schedules/targets.js';
import { scheduleTimeZone } from '../schedules/windows.js';
import type { Dependencies } from './dependencies.js';
import { advanceRun, RUN_LEASE_SECONDS, skippedCounts, WRITES_AT_ONCE } from './advance-run.js';
import { publishEvents, runEvent } from './publish-events.js';
import { requestRunWork } from './run-work.js';
import { loadCatalogFor } from './prepare-session.js';

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
 * A schedule fired: records the run once, writes each targeted computer's
 * target (its ring and window rule, or why it is skipped), then lets the
 * rollout controller start what the rollout allows now (every session, or
 * the first ring, or `maxConcurrent` of them).
 *
 * Everything is keyed so that the same fire delivered again (Scheduler
 * retries, a duplicate delivery, a Lambda retry after a timeout) finds what
 * the first delivery did and only finishes what it left: the run id derives
 * from (schedule, fire time), each target is one item written once, and each
 * session id derives from (run, computer). While one delivery fans out it
 * holds a lease on the run; the others leave it alone until it lapses.
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

  const now = deps.clock.now();
  const runId = deps.ids.derive('run', [schedule.id, scheduledTime.toISOString()]);
  // a redelivery of a fire whose fan-out is done answers from one read
  const earlier = await deps.schedules.getRun(runId);
  if (earlier && earlier.status !== 'Starting') return { fired: true, run: earlier, created: false };
  const leaseUntil = new Date(now.getTime() + RUN_LEASE_SECONDS * 1000).toISOString();
  const { run, created } = await recordRun(deps, schedule, { runId, scheduledTime: scheduledTime.toISOString(), trigger: command.trigger, by: command.by, fanOutLeaseUntil: leaseUntil });
  if (run.status !== 'Starting') return { fired: true, run, created: false };
  let holding = run;
  if (!created) {
    // another delivery holds the fan-out: leave it to that one while its lease runs, take over once it has lapsed
    const taken = await takeLapsedLease(deps, run, leaseUntil);
    if (!taken) return { fired: true, run, created: false, inProgress: true };
    holding = taken;
  }
  return { fired: true, run: await fanOut(deps, schedule, holding), created };
}

export interface RequestRunNowCommand {
  readonly scheduleId: string;
  readonly by: Requester;
  /**
   * The run's id when the caller keys its ask (an `Idempotency-Key`): the
   * same key asks for the same run once. Without it the time of the ask
   * keys the run, as a Scheduler fire's time does.
   */
  readonly runId?: string;
}

/**
 * An operator's run-now for a caller that must answer quickly (the API's
 * 29 s): records the run as `Starting` with no fan-out lease and hands the
 * fan-out to the run worker, which may take the 15 minutes a fleet of
 * thousands needs. The run is never lost between the two: a request that
 * does not reach the worker leaves a `Starting` run with no lease, which
 * the controller's minute sweep fans out. A run-now also fires a disabled
 * schedule (it is the operator's explicit ask). Audited as the run's start.
 */
export async function requestRunNow(deps: Dependencies, command: RequestRunNowCommand): Promise<{ readonly run: ScheduleRun; readonly created: boolean }> {
  const schedule = await deps.schedules.getSchedule(command.scheduleId);
  if (!schedule) throw new NotFoundError('schedule', command.scheduleId);
  const askedAt = deps.clock.now().toISOString();
  const runId = command.runId ?? deps.ids.derive('run', [schedule.id, askedAt]);
  const { run, created } = await recordRun(deps, schedule, { runId, scheduledTime: askedAt, trigger: 'RunNow', by: command.by });
  if (created) {
    await deps.audit.record({
      resource: 'Run',
      resourceId: run.id,
      // Stryker disable next-line OptionalChaining: a run this call created has the owner recordRun gave it
      ...(run.owner?.tenantId === undefined ? {} : { tenantId: run.owner.tenantId }),
      version: run.version,
      at: run.createdAt,
      by: command.by,
      action: 'Started',
      changes: [{ field: 'status', after: run.status }, { field: 'scheduleId', after: run.scheduleId }],
    });
  }
  // a retried ask finds its run; one still starting is asked for again (the worker's step is idempotent)
  if (run.status === 'Starting') await requestRunWork(deps, run.id);
  return { run, created };
}

/**
 * The run worker's (and the controller's) step on a run still `Starting`:
 * an operator's run-now waiting for its fan-out, or a fire whose every
 * delivery stopped. Fans it out unless a live holder is doing so; a run
 * whose schedule was deleted meanwhile is cancelled. Answers the run as
 * the step left it.
 */
export async function fanOutStartingRun(deps: Dependencies, run: ScheduleRun): Promise<ScheduleRun> {
  const schedule = await deps.schedules.getSchedule(run.scheduleId);
  if (!schedule) {
    const { fanOutLeaseUntil: _lease, ...rest } = run;
    const cancelled: ScheduleRun = {
      ...rest,
      status: 'Cancelled',
      haltReason: 'its schedule was deleted before its fan-out finished',
      haltCause: 'ScheduleDeleted',
      version: run.version + 1,
      updatedAt: deps.clock.now().toISOString(),
    };
    await deps.schedules.updateRun(cancelled, run.version);
    await publishEvents(deps, [runEvent('RunCancelled', cancelled, cancelled.updatedAt)]);
    return cancelled;
  }
  const leaseUntil = new Date(deps.clock.now().getTime() + RUN_LEASE_SECONDS * 1000).toISOString();
  const taken = await takeLapsedLease(deps, run, leaseUntil);
  return taken ? fanOut(deps, schedule, taken) : run;
}

/** Creates the run record once: `Starting`, with the schedule's rollout and session options fixed as they are now. */
async function recordRun(
  deps: Dependencies,
  schedule: Schedule,
  fire: { readonly runId: string; readonly scheduledTime: string; readonly trigger: ScheduleRun['trigger']; readonly by: Requester; readonly fanOutLeaseUntil?: string },
): Promise<{ readonly run: ScheduleRun; readonly created: boolean }> {
  const now = deps.clock.now().toISOString();
  const recorded = await deps.schedules.createRun({
    id: fire.runId,
    scheduleId: schedule.id,
    scheduleName: schedule.name,
    scheduleVersion: schedule.version,
    owner: schedule.tenantId === undefined ? {} : { tenantId: schedule.tenantId },
    scheduledTime: fire.scheduledTime,
    trigger: fire.trigger,
    by: fire.by,
    status: 'Starting',
    version: 1,
    ...(fire.fanOutLeaseUntil === undefined ? {} : { fanOutLeaseUntil: fire.fanOutLeaseUntil }),
    rollout: schedule.rollout,
    sessionBasis: sessionOptionsFor(schedule, undefined),
    currentRing: 0,
    failuresAccepted: 0,
    outcome: EMPTY_OUTCOME,
    createdAt: now,
    updatedAt: now,
    targeted: 0,
    started: 0,
    skipped: {},
  });
  if (recorded.created) deps.metrics.count('ScheduleRunsStarted');
  return recorded;
}

/** Takes the fan-out lease of a `Starting` run whose holder's lease lapsed (or that never had one); undefined while a live holder fans out. */
async function takeLapsedLease(deps: Dependencies, run: ScheduleRun, leaseUntil: string): Promise<ScheduleRun | undefined> {
  const heldUntil = run.fanOutLeaseUntil;
  // Stryker disable next-line ConditionalExpression: without a lease Date.parse gives NaN, which is never later than now, so the first test only names the intent
  if (heldUntil !== undefined && Date.parse(heldUntil) > deps.clock.now().getTime()) return undefined;
  const taken = await deps.schedules.takeRunLease(run.id, heldUntil, leaseUntil);
  if (taken && heldUntil !== undefined) deps.logger.warn('schedule run taken over from a delivery that stopped', { scheduleId: run.scheduleId, runId: run.id });
  return taken;
}

/** Writes every target of a run whose fan-out lease this step holds, marks it Running, and takes its first rollout step. */
async function fanOut(deps: Dependencies, schedule: Schedule, holding: ScheduleRun): Promise<ScheduleRun> {
  const { catalog, deployments } = await loadCatalogFor(deps);
  const { computers: targets, unknownComputerIds } = selectTargets(schedule, await deps.catalog.listComputers(), catalog.tenants);
  for (const id of unknownComputerIds) deps.logger.warn('schedule names a computer that is gone or outside its tenants', { scheduleId: schedule.id, computerId: id });
  const context = {
    catalog,
    index: indexDeployments(deployments),
    // Stryker disable next-line ConditionalExpression: the tenants map has no entry under undefined, so looking one up gives the same undefined
    scheduleZone: scheduleTimeZone(schedule, schedule.tenantId === undefined ? undefined : catalog.tenants.get(schedule.tenantId)),
  };
  const rings = assignRings(schedule.id, targets.map((c) => c.id), schedule.rollout.rings);

  const written = [];
  // Stryker disable next-line EqualityOperator: one more turn at from === length writes an empty batch, which changes nothing
  for (let from = 0; from < targets.length; from += WRITES_AT_ONCE) {
    written.push(
      ...(await Promise.all(
        targets.slice(from, from + WRITES_AT_ONCE).map(async (computer) => {
          const decision = decideTarget(schedule, computer, context);
          const { target } = await deps.schedules.putRunTarget({
            runId: holding.id,
            computerId: computer.id,
            computerName: computer.name,
            tenantId: computer.tenantId,
            ring: rings.get(computer.id) ?? 0,
            ...(decision.start && decision.window ? { window: decision.window } : {}),
          });
          if (decision.start || target.sessionId !== undefined || target.skipped !== undefined) return target;
          return deps.schedules.settleRunTarget(holding.id, computer.id, { skipped: decision.skipped, detail: decision.detail });
        }),
      )),
    );
  }
  const running: ScheduleRun = {
    ...holding,
    status: 'Running',
    version: holding.version + 1,
    updatedAt: deps.clock.now().toISOString(),
    targeted: written.length,
    skipped: skippedCounts(written),
  };
  const { fanOutLeaseUntil: _lease, ...withoutLease } = running;
  try {
    await deps.schedules.updateRun(withoutLease, holding.version);
    await publishEvents(deps, [runEvent('RunStarted', running, running.updatedAt)]);
  } catch (error) {
    // a delivery that took over finished first (its run is the run, and it told the listeners), or an operator cancelled it
    if (!(error instanceof ConflictError)) throw error;
  }
  const advanced = await advanceRun(deps, holding.id);
  deps.logger.info('schedule run started', { scheduleId: schedule.id, runId: holding.id, targeted: advanced.targeted, started: advanced.started });
  return advanced;
}
