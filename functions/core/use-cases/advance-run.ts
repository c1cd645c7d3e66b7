import { ConflictError, NotFoundError, RequestRefusedError, TransientError, ValidationError } from '../errors.js';
import { SKIP_REASONS, type RunOutcome, type RunTarget, type ScheduleRun, type SkipReason } from '../model/schedule-run.js';
import { canonicalJson } from '../canonical-json.js';
import { fieldChanges, type AuditAction } from '../model/audit.js';
import type { Requester } from '../model/session.js';
import { amountOf, countOutcome, decideRollout, type RolloutDecision, type TargetState } from '../schedules/rollout.js';
import { windowOpensAfter } from '../schedules/windows.js';
import type { NightshiftEvent, RunEventName } from '../ports/events.port.js';
import { publishEvents, runEvent } from './publish-events.js';
import type { Dependencies } from './dependencies.js';
import { startSession } from './start-session.js';
import { requestRunWork } from './run-work.js';

/**
 * Targets worked on side by side: enough to keep the pacer's rate
 * (StartExecution, see PacedWorkflow) fed while each target's table writes
 * are in flight; the pacer, not this number, sets the pace.
 */
export const WRITES_AT_ONCE = 32;

/** How long a step that starts sessions holds its run: longer than a function may run (900 s), so a live holder is never overtaken. */
export const RUN_LEASE_SECONDS = 960;

/** A run's skip counts by reason, from its targets. */
export function skippedCounts(targets: readonly RunTarget[]): Partial<Record<SkipReason, number>> {
  const skipped: Partial<Record<SkipReason, number>> = {};
  for (const reason of SKIP_REASONS) {
    const count = targets.filter((target) => target.skipped === reason).length;
    if (count > 0) skipped[reason] = count;
  }
  return skipped;
}

const isFinished = (run: ScheduleRun): boolean => run.status === 'Completed' || run.status === 'Cancelled';

/** The events a change of a run's record stands for: its status, and a ring that started. */
function changeEvents(before: ScheduleRun, after: ScheduleRun, at: string): NightshiftEvent[] {
  const events: NightshiftEvent[] = [];
  if (after.currentRing > before.currentRing) events.push(runEvent('RingStarted', after, at));
  if (after.status !== before.status) {
    const name: RunEventName | undefined =
      after.status === 'Halted' ? 'RunHalted' : after.status === 'Completed' ? 'RunCompleted' : after.status === 'Cancelled' ? 'RunCancelled' : before.status === 'Halted' ? 'RunResumed' : undefined;
    if (name) events.push(runEvent(name, after, at));
  }
  return events;
}

/**
 * Starts one queued target's session, once: the window is fixed on the
 * target first (the same options on every retry), the session id derives
 * from the run and the computer, and the target records the outcome.
 */
async function startTarget(deps: Dependencies, run: ScheduleRun, target: RunTarget): Promise<RunTarget> {
  // detection starts now, or at the fire's time for a fire handled early (a test clock, Scheduler's clock ahead of ours)
  const detectionAt = new Date(Math.max(deps.clock.now().getTime(), Date.parse(run.scheduledTime)));
  const fixed =
    target.window && target.executeAt === undefined
      ? await deps.schedules.fixRunTargetWindow(run.id, target.computerId, windowOpensAfter(target.window, detectionAt).toISOString())
      : target;
  const sessionId = deps.ids.derive('ses', [run.id, target.computerId]);
  try {
    const started = await startSession(deps, {
      computerId: target.computerId,
      sessionId,
      // the options fixed when the schedule fired, with this computer's window: the same on every retry
      options: { ...run.sessionBasis, ...(fixed.executeAt === undefined ? {} : { executeAt: fixed.executeAt }) },
      origin: {
        scheduleId: run.scheduleId,
        runId: run.id,
        // the run's execution slots, taken at each session's window (every computer is detected at the fire)
        ...(run.rollout.maxConcurrent ? { maxExecuting: Math.max(1, amountOf(run.rollout.maxConcurrent, run.targeted)) } : {}),
      },
      by: { kind: 'Schedule', name: `${run.scheduleName} (${run.scheduledTime})` },
      trigger: run.trigger === 'RunNow' ? 'RunNow' : 'Scheduled',
    });
    if (started.created) {
      await publishEvents(deps, [
        {
          detailType: 'nightshift.session',
          detail: {
            event: 'SessionStarted',
            sessionId: started.sessionId,
            computerId: target.computerId,
            computerName: target.computerName,
            tenantId: target.tenantId,
            runId: run.id,
            scheduleId: run.scheduleId,
            status: 'Created',
            ...(fixed.executeAt === undefined ? {} : { executeAt: fixed.executeAt }),
            at: deps.clock.now().toISOString(),
          },
        },
      ]);
    }
    if (started.existing === 'ComputerBusy') {
      return await deps.schedules.settleRunTarget(run.id, target.computerId, { skipped: 'ActiveSession', detail: `session ${started.sessionId} is still running on ${target.computerName}` });
    }
    return await deps.schedules.settleRunTarget(run.id, target.computerId, { sessionId: started.sessionId });
  } catch (error) {
    // a transient failure leaves the target queued: the next look starts it (the same session, by its id)
    if (error instanceof TransientError) throw error;
    if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof ConflictError) {
      return deps.schedules.settleRunTarget(run.id, target.computerId, { skipped: 'StartFailed', detail: error.message });
    }
    throw error;
  }
}


/** Each target as the rollout sees it: its ring and its session's status (skipped targets left out). */
async function targetStates(deps: Dependencies, targets: readonly RunTarget[]): Promise<TargetState[]> {
  const statuses = await deps.sessions.getSessionStatuses(targets.flatMap((t) => (t.sessionId ? [t.sessionId] : [])));
  return targets
    .filter((t) => t.skipped === undefined)
    .map((t): TargetState => {
      if (t.sessionId === undefined) return { computerId: t.computerId, ring: t.ring, state: 'Queued' };
      const progress = statuses.get(t.sessionId);
      return { computerId: t.computerId, ring: t.ring, state: progress?.status ?? 'Created', awaitingExecution: progress?.awaitingExecution ?? false };
    });
}

/**
 * The rollout controller's step for one run: counts what became of its
 * sessions, applies the error budget and the rings (`decideRollout`), starts
 * the queued targets the rollout allows now, and records the run. Safe to
 * run at any time and from several places at once: starts are idempotent per
 * target, and the run is written only at the version read.
 */
export async function advanceRun(deps: Dependencies, runId: string): Promise<ScheduleRun> {
  const run = await deps.schedules.getRun(runId);
  if (!run) throw new NotFoundError('run', runId);
  if (run.status === 'Starting' || isFinished(run)) return run;

  let targets = await deps.schedules.listRunTargets(runId);
  const statesOf = (list: readonly RunTarget[]) => targetStates(deps, list);
  const decision = decideRollout(run, await statesOf(targets), deps.clock.now());

  if (decision.start.length === 0) return record(deps, run, recordOf(run, decision, targets, decision.outcome));

  // one step starts sessions at a time: another one (a fire's, the minute's controller, an operator's) waits its turn
  const held = run.fanOutLeaseUntil;
  if (held !== undefined && Date.parse(held) > deps.clock.now().getTime()) return record(deps, run, recordOf(run, { ...decision, start: [] }, targets, decision.outcome));
  const lease = new Date(deps.clock.now().getTime() + RUN_LEASE_SECONDS * 1000).toISOString();
  const holding = await deps.schedules.takeRunLease(run.id, held, lease);
  if (!holding) return run;
  try {
    const byComputer = new Map(targets.map((t) => [t.computerId, t]));
    const toStart = decision.start.flatMap((id) => byComputer.get(id) ?? []);
    for (let from = 0; from < toStart.length; from += WRITES_AT_ONCE) {
      // an operator's halt or cancel (or another step's) stops what is not started yet
      if (from > 0 && (await deps.schedules.getRun(run.id))?.status !== 'Running') break;
      const done = await Promise.all(toStart.slice(from, from + WRITES_AT_ONCE).map((target) => startTarget(deps, holding, target)));
      for (const target of done) byComputer.set(target.computerId, target);
    }
    targets = [...byComputer.values()];
  } catch (error) {
    // a start that failed (throttled past the pacer's retries) stays queued: the lease goes back so the next look retries it
    await deps.schedules.releaseRunLease(run.id, lease);
    throw error;
  }
  // counted again after the starts, so the record says what is running now (a start may have been skipped as busy)
  return record(deps, holding, recordOf(holding, decision, targets, countOutcome(await statesOf(targets))), lease);
}

/** The run as a step leaves it: the decision, the counts, the targets' sessions and skips (the record is written whole, without a lease). */
function recordOf(run: ScheduleRun, decision: RolloutDecision, targets: readonly RunTarget[], outcome: RunOutcome): ScheduleRun {
  const { ringEndedAt: _ended, haltReason: _reason, haltCause: _cause, fanOutLeaseUntil: _lease, ...rest } = run;
  return {
    ...rest,
    // a lease another step holds stays with the run
    ...(run.fanOutLeaseUntil !== undefined && decision.start.length === 0 ? { fanOutLeaseUntil: run.fanOutLeaseUntil } : {}),
    status: decision.status === 'Running' && outcome.queued === 0 && outcome.running === 0 ? 'Completed' : decision.status,
    currentRing: decision.currentRing,
    outcome,
    started: targets.filter((t) => t.sessionId !== undefined).length,
    skipped: skippedCounts(targets),
    ...(decision.ringEndedAt ? { ringEndedAt: decision.ringEndedAt } : {}),
    ...(decision.haltReason ? { haltReason: decision.haltReason } : {}),
    ...(decision.haltCause ? { haltCause: decision.haltCause } : {}),
  };
}

/** Writes `next` over `run` at its version unless nothing changed; a lost race answers the winner's record. */
async function record(deps: Dependencies, run: ScheduleRun, next: ScheduleRun, lease?: string): Promise<ScheduleRun> {
  if (canonicalJson(bookkeepingAside(next)) === canonicalJson(bookkeepingAside(run)) && lease === undefined) return run;
  const recorded: ScheduleRun = { ...next, version: run.version + 1, updatedAt: deps.clock.now().toISOString() };
  try {
    await deps.schedules.updateRun(recorded, run.version);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // an operator's change landed meanwhile and kept the lease this step took: give it back, or starts would wait for it to lapse
    if (lease !== undefined) await deps.schedules.releaseRunLease(run.id, lease);
    // another step advanced it meanwhile: its record stands, and the next look goes on from there
    return (await deps.schedules.getRun(run.id)) ?? run;
  }
  await publishEvents(deps, changeEvents(run, recorded, recorded.updatedAt));
  if (recorded.status !== run.status) {
    deps.logger.info('schedule run status changed', { runId: run.id, scheduleId: run.scheduleId, from: run.status, to: recorded.status, ...(recorded.haltReason ? { reason: recorded.haltReason } : {}) });
  }
  return recorded;
}

/** A run apart from its bookkeeping: when that is all that differs, there is nothing to write. */
const bookkeepingAside = ({ version: _version, updatedAt: _updatedAt, ...rest }: ScheduleRun) => rest;

export type RunOperation = 'halt' | 'resume' | 'promote' | 'cancel';

/**
 * An operator's hand on a run: halt it (no more starts), resume it (the
 * failures so far are accepted against the error budget), promote it to
 * the next ring now (no waiting for soak or threshold), or cancel it (its
 * queued targets never start; started sessions run to their end).
 */
export async function operateRun(deps: Dependencies, command: { readonly runId: string; readonly operation: RunOperation; readonly by: Requester; readonly reason?: string }): Promise<ScheduleRun> {
  const run = await deps.schedules.getRun(command.runId);
  if (!run) throw new NotFoundError('run', command.runId);
  const refuse = (why: string): never => {
    throw new RequestRefusedError(`cannot ${command.operation} run ${run.id}: ${why}`);
  };
  if (isFinished(run)) refuse(`it is ${run.status}`);
  // a run still starting can be cancelled (its fan-out then starts nothing), not steered
  if (run.status === 'Starting' && command.operation !== 'cancel') refuse('its fan-out is still starting; try again in a moment');
  const by = `${command.by.name}${command.reason ? `: ${command.reason}` : ''}`;
  let next: ScheduleRun;
  const { haltReason: _reason, ringEndedAt: _ended, haltCause: _cause, ...base } = run;
  // failures are counted now, not as the last look saw them: what the operator accepts is what has happened
  const failedNow = async () => countOutcome(await targetStates(deps, await deps.schedules.listRunTargets(run.id))).failed;
  switch (command.operation) {
    case 'halt':
      if (run.status === 'Halted') return run;
      next = { ...run, status: 'Halted', haltReason: `halted by ${by}`, haltCause: 'Operator' };
      break;
    case 'resume':
      if (run.status !== 'Halted') refuse('it is not halted');
      next = {
        ...base,
        status: 'Running',
        failuresAccepted: await failedNow(),
        // resuming a run its ring's success rate halted goes on to the next ring, after the soak
        ...(run.haltCause === 'RingThreshold' ? { thresholdWaivedForRing: run.currentRing } : {}),
        ...(run.ringEndedAt ? { ringEndedAt: run.ringEndedAt } : {}),
      };
      break;
    case 'promote':
      if (run.currentRing >= run.rollout.rings.length - 1) refuse('it is in its last ring');
      next = { ...base, status: 'Running', currentRing: run.currentRing + 1, failuresAccepted: await failedNow() };
      break;
    case 'cancel':
      next = { ...run, status: 'Cancelled', haltReason: `cancelled by ${by}`, haltCause: 'Operator' };
      break;
  }
  const recorded: ScheduleRun = { ...next, version: run.version + 1, updatedAt: deps.clock.now().toISOString() };
  // an operator's change is not merged with a controller step that landed meanwhile: they read again and decide
  await deps.schedules.updateRun(recorded, run.version);
  await publishEvents(deps, changeEvents(run, recorded, recorded.updatedAt));
  await deps.audit.record({
    resource: 'Run',
    resourceId: run.id,
    ...(run.owner?.tenantId === undefined ? {} : { tenantId: run.owner.tenantId }),
    version: recorded.version,
    at: recorded.updatedAt,
    by: command.by,
    action: OPERATION_AUDITED_AS[command.operation],
    changes: fieldChanges(run, recorded, RUN_BOOKKEEPING),
  });
  deps.logger.info('schedule run operated', { runId: run.id, operation: command.operation, by: command.by.name });
  // the sessions a resume or promote allows may be thousands: the run worker starts them, not the operator's request
  if (command.operation === 'resume' || command.operation === 'promote') await requestRunWork(deps, run.id);
  return recorded;
}

const OPERATION_AUDITED_AS: Readonly<Record<RunOperation, AuditAction>> = { halt: 'Halted', resume: 'Resumed', promote: 'Promoted', cancel: 'Cancelled' };

/** A run's fields that are its machinery, not what the operator changed. */
const RUN_BOOKKEEPING = ['version', 'updatedAt', 'fanOutLeaseUntil', 'outcome', 'started', 'skipped', 'targeted'];
