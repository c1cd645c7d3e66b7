import { ConflictError } from '../errors.js';
import { commandComment, dispatchDueAt, isFinalInvocationStatus, type Dispatch } from '../model/agent.js';
import { isFinalSessionStatus } from '../model/session.js';
import { completeCommand } from './complete-command.js';
import type { Dependencies } from './dependencies.js';

export interface ReconcileOptions {
  /** Grace for a late completion event: a dispatch is looked at once its answer is this long overdue. */
  readonly overdueAfterSeconds: number;
  /** At most this many dispatches are looked at per run. */
  readonly limit: number;
  /** A run starts no new look after this long (on the injected clock), so it ends before its function's timeout. */
  readonly budgetSeconds: number;
}

/** A run's options when its event names none (the scheduled rule names its own, longer budget). */
export const RECONCILE_DEFAULTS: ReconcileOptions = { overdueAfterSeconds: 300, limit: 5_000, budgetSeconds: 20 };

/** A dispatch found still waiting is looked at again after this long, doubling with every look up to the cap. */
export const RELOOK_FIRST_SECONDS = 300;
export const RELOOK_MAX_SECONDS = 3_600;

/** Dispatches read from the worklist at a time; small enough that a run stopped by its budget has read little it did not use. */
const PAGE_SIZE = 100;

export interface ReconcileResult {
  readonly checked: number;
  /** Finished commands whose event had not arrived (or whose step was never told): completed now. */
  readonly completed: number;
  readonly stillRunning: number;
  /** Claimed by a step of a session that ended before any command went out: dropped from the worklist. */
  readonly abandoned: number;
  readonly failed: number;
  /** Present when the run ended on its budget or limit rather than on an empty worklist: the next run goes on from there. */
  readonly stoppedBy?: 'budget' | 'limit';
}

type Tally = { -readonly [K in Exclude<keyof ReconcileResult, 'stoppedBy' | 'checked'>]: number };

export const relookAfterSeconds = (looks: number): number => Math.min(RELOOK_MAX_SECONDS, RELOOK_FIRST_SECONDS * 2 ** looks);

/**
 * SSM's EventBridge events are best effort, and a completion can die between
 * recording a result and telling the workflow. Every few minutes this looks at
 * the dispatches whose answer is overdue, earliest due first: a finished
 * command is completed the way its status event would have done it (a late
 * event afterwards finds nothing to do); a dispatch whose session already
 * ended without sending anything leaves the worklist; one still waiting is
 * due again later, further out with each look.
 *
 * Every look moves its dispatch out of the overdue range, so the worklist's
 * order is its own cursor: a run stopped by its budget leaves the rest at the
 * front for the next run, and no dispatch is looked at twice before every
 * overdue one has been looked at once. Newer lost events cannot starve behind
 * older commands that are merely slow.
 */
export async function reconcileCommands(deps: Dependencies, options: ReconcileOptions): Promise<ReconcileResult> {
  const startMs = deps.clock.now().getTime();
  const budgetEndMs = startMs + options.budgetSeconds * 1000;
  // fixed for the run: what this run reschedules lands after it, so it is not read again
  const dueBefore = new Date(startMs - options.overdueAfterSeconds * 1000).toISOString();
  const tally: Tally = { completed: 0, stillRunning: 0, abandoned: 0, failed: 0 };
  // a look whose reschedule failed leaves its entry in range; it waits for the next run instead of being read again
  const looked = new Set<string>();
  const stopReason = (): ReconcileResult['stoppedBy'] =>
    looked.size >= options.limit ? 'limit' : deps.clock.now().getTime() >= budgetEndMs ? 'budget' : undefined;

  const page: Dispatch[] = [];
  let lagSeconds = 0;
  let stoppedBy = stopReason();
  while (!stoppedBy) {
    if (page.length === 0) {
      const next = await deps.sessions.listWaitingDispatches(dueBefore, Math.min(PAGE_SIZE, options.limit - looked.size));
      page.push(...next.filter((dispatch) => !looked.has(idOf(dispatch))));
    }
    const dispatch = page.shift();
    if (!dispatch) break;
    looked.add(idOf(dispatch));
    lagSeconds = Math.max(lagSeconds, overdueSeconds(deps, dispatch));
    await lookAt(deps, dispatch, tally);
    stoppedBy = stopReason();
  }
  // every run records one, 0 when nothing was due: a lag that grows says runs fall behind their worklist
  deps.metrics.seconds('ReconcilerLagSeconds', lagSeconds);

  if (tally.completed > 0) deps.logger.info('reconciled commands whose completion had not reached the workflow', { completed: tally.completed });
  if (stoppedBy) deps.logger.info('reconciler stopped before the end of its worklist; the next run goes on from there', { stoppedBy, checked: looked.size });
  return { checked: looked.size, ...tally, ...(stoppedBy ? { stoppedBy } : {}) };
}

const idOf = (dispatch: Dispatch): string => `${dispatch.sessionId}/${dispatch.key}`;

/** How long past its due time in the worklist a dispatch is when this run looks at it. */
const overdueSeconds = (deps: Pick<Dependencies, 'clock'>, dispatch: Dispatch): number =>
  Math.max(0, (deps.clock.now().getTime() - Date.parse(dispatchDueAt(dispatch))) / 1000);

async function lookAt(deps: Dependencies, dispatch: Dispatch, tally: Tally): Promise<void> {
  try {
    const session = await deps.sessions.getSession(dispatch.sessionId);
    if (!session) {
      // its session is gone (expired or removed): nothing will answer it, and no step waits to be told
      await deps.sessions.markTokenDelivered(dispatch.sessionId, dispatch.key);
      tally.abandoned++;
      return;
    }
    if (dispatch.status === 'Completed' && dispatch.commandId !== undefined) {
      // recorded, but its step may never have been told: tell it (a no-op if it was) and take it off the list
      const result = await completeCommand(deps, { commandId: dispatch.commandId, agentId: session.agentId });
      if (result === 'redelivered') tally.completed++;
      else if (result !== 'duplicate') await relookLater(deps, dispatch);
      return;
    }
    const leaseRunning = dispatch.leaseUntil !== undefined && Date.parse(dispatch.leaseUntil) > deps.clock.now().getTime();
    const commandId =
      dispatch.commandId ?? (await deps.agent.findCommand(session.agentId, commandComment(dispatch.sessionId, dispatch.key, dispatch.nonce), new Date(dispatch.createdAt)));
    if (commandId === undefined) {
      if (isFinalSessionStatus(session.status) && !leaseRunning) {
        // claimed by a step whose session ended before anything went out
        await deps.sessions.abandonDispatch(dispatch.sessionId, dispatch.key);
        tally.abandoned++;
        return;
      }
      // its step is alive (sending right now, or retrying after its lease): not ours to finish
      await relookLater(deps, dispatch);
      return;
    }
    const invocation = await deps.agent.getInvocation(commandId, session.agentId);
    if (!isFinalInvocationStatus(invocation.status)) {
      // a command that went out as its session was being cancelled, after the cancel looked: stop it now
      if (session.status === 'Cancelled') await deps.agent.cancel(commandId, session.agentId);
      tally.stillRunning++;
      await relookLater(deps, dispatch);
      return;
    }
    const result = await completeCommand(deps, { commandId, agentId: session.agentId });
    if (result === 'completed' || result === 'redelivered') tally.completed++;
    // anything else (an answer racing us, a command that is not ours) must not come back on every run
    else await relookLater(deps, dispatch);
  } catch (error) {
    // one unreadable command must not stop the others, nor stay at the front of the worklist
    tally.failed++;
    deps.logger.warn('reconciling a command failed', {
      sessionId: dispatch.sessionId,
      key: dispatch.key,
      error: error instanceof Error ? error.message : String(error),
    });
    await relookLater(deps, dispatch).catch(() => undefined);
  }
}

async function relookLater(deps: Dependencies, dispatch: Dispatch): Promise<void> {
  const dueAt = new Date(deps.clock.now().getTime() + relookAfterSeconds(dispatch.looks ?? 0) * 1000).toISOString();
  try {
    await deps.sessions.rescheduleDispatch(dispatch.sessionId, dispatch.key, dispatchDueAt(dispatch), dueAt);
  } catch (error) {
    // answered or looked at by someone else since we read it: their write stands
    if (!(error instanceof ConflictError)) throw error;
  }
}
