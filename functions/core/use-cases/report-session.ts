import { ConflictError } from '../errors.js';
import { isFinalSessionStatus, leftUndetermined, type Action, type PlanSnapshot, type Session, type Stage } from '../model/session.js';
import { isCompliant } from '../planning/planner.js';
import type { CountMetric } from '../ports/metrics.port.js';
import type { ActionChanges } from '../ports/session-store.port.js';
import { namedList } from '../named-list.js';
import { releaseExecutionSlot } from './gate-session.js';
import { ITEMS_NAMED_IN_LOG } from './plan-session.js';
import { publishEvents, sessionEndedEvents } from './publish-events.js';
import type { Dependencies } from './dependencies.js';
import { closeUnfinishedActions, loadSessionWith, log, moveAction, mutateSessionReporting } from './session-updates.js';
import { sendSessionEmailQuietly } from './session-emails.js';

export interface ReportSessionResult {
  readonly sessionId: string;
  readonly status: Session['status'];
  readonly actions: number;
  readonly failed: number;
}

/** Writes to one partition stay few at a time: a session of 999 actions must not throttle itself. */
const REPORT_WRITES_AT_ONCE = 10;

async function inGroups<T, R>(items: readonly T[], write: (item: T) => Promise<R>): Promise<R[]> {
  const done: R[] = [];
  // Stryker disable next-line EqualityOperator: one more round past the end writes an empty group, which changes nothing
  for (let from = 0; from < items.length; from += REPORT_WRITES_AT_ONCE) {
    done.push(...(await Promise.all(items.slice(from, from + REPORT_WRITES_AT_ONCE).map(write))));
  }
  return done;
}

/** An action that ran: its command was sent to the computer (a monitoring task only reads what detection found). */
const ranOnTheComputer = (action: Action): boolean => action.startedAt !== undefined && action.type !== 'TaskMonitor';

/**
 * An action that ran a command and ended at execution (failed, audited,
 * restarted, cancelled): its dispatch leaves the worklist. One that ran
 * nothing, or is still open (a cancelled session closes those below), is left.
 */
async function settle(deps: Dependencies, sessionId: string, action: Action): Promise<Action> {
  if (!ranOnTheComputer(action) || (action.status !== 'Complete' && action.status !== 'Cancelled')) return action;
  return moveAction(deps, sessionId, action.actionId, [action.status], {}, { settleDispatch: true }).catch((error: unknown) => {
    if (error instanceof ConflictError) return action;
    throw error;
  });
}

/**
 * The enforced items the plan left alone because detection could not read
 * them (a failed detection script, a denied secret, an unparsable version): the
 * session cannot say they are compliant, so each counts as its deployment's
 * failure, as a failed action would.
 */
function undeterminedItems(session: Session, plan: PlanSnapshot | undefined): { readonly itemName: string; readonly critical: boolean }[] {
  // Stryker disable next-line ArrayDeclaration: with no plan, any stand-in element is no planned item (its reason is not Undetermined) and yields nothing
  return (plan?.items ?? []).flatMap((planned) => {
    if (!leftUndetermined(planned)) return [];
    const item = session.items.find((i) => i.key === planned.key);
    return item ? [{ itemName: planned.itemName, critical: item.critical }] : [];
  });
}

/** The metric each final status counts in; a cancelled session's end is counted by nothing here. */
const SESSION_END_METRICS: Partial<Record<Session['status'], CountMetric>> = {
  Passed: 'SessionsPassed',
  PartialPassed: 'SessionsPartiallyPassed',
  Failed: 'SessionsFailed',
};

/**
 * Final stage: verification decides each executed action's result (an item
 * still not compliant fails its action), then the session takes its final
 * status. Safe to repeat: finished actions and a finished session are left alone.
 */
export async function reportSession(deps: Dependencies, sessionId: string): Promise<ReportSessionResult> {
  // independent reads, side by side: the actions' query, and one read of the session with its snapshots
  const [{ session, detection: verification, plan }, stored] = await Promise.all([
    loadSessionWith(deps, sessionId, { detection: 'Verification', plan: true }),
    deps.sessions.getActions(sessionId),
  ]);
  const now = deps.clock.now().toISOString();

  // each executed action's dispatch leaves the reconciler's worklist in its result's write: the workflow is past it
  const actions: Action[] = await inGroups(
    stored,
    async (action) => {
      if (action.status !== 'DeterminingResult') return settle(deps, sessionId, action);
      const item = session.items.find((i) => i.key === action.itemKey);
      const detected = verification?.items[action.itemKey];
      if (!verification) {
        // no verification ran (the session was cancelled after this action): its effect is unknown
        return moveAction(
          deps,
          sessionId,
          action.actionId,
          ['DeterminingResult'],
          {
            status: 'Complete',
            result: 'Indeterminable',
            resultStage: 'Verification',
            resultReason: 'not verified: the session ended before verification',
            endedAt: now,
          },
          { settleDispatch: true },
        );
      }
      const compliant = item !== undefined && detected !== undefined && isCompliant(item, detected);
      const changes: ActionChanges = {
        status: 'Complete',
        result: compliant ? 'Success' : 'Failed',
        resultStage: 'Verification',
        resultReason: compliant
          ? 'Compliant'
          : detected?.state === 'Undetermined'
            ? `verification could not tell: ${detected.reason}`
            : 'StillNotCompliant',
        endedAt: now,
        ...(detected?.state === 'Present' ? { versionAfter: detected.version } : {}),
      };
      return moveAction(deps, sessionId, action.actionId, ['DeterminingResult'], changes, { settleDispatch: true });
    },
  );

  if (session.status === 'Cancelled') {
    const why = `the session was cancelled by ${session.cancelled?.by.name ?? 'request'}`;
    actions.splice(0, actions.length, ...(await closeUnfinishedActions(deps, sessionId, why)));
  }
  const failures = actions.filter((a) => a.result === 'Failed');
  const executionFailed = failures.some((a) => a.resultStage === 'Execution');
  const verificationFailed = failures.some((a) => a.resultStage === 'Verification');
  const unread = undeterminedItems(session, plan);
  const finalStatus: Session['status'] =
    failures.some((a) => a.critical) || unread.some((item) => item.critical) ? 'Failed' : failures.length + unread.length > 0 ? 'PartialPassed' : 'Passed';
  const close = (stage: Stage, bad: boolean): Stage =>
    stage.status === 'Running'
      ? { ...stage, status: bad ? 'Failed' : 'Succeeded', endedAt: now }
      : stage.status === 'Unstarted'
        ? { status: 'Skipped', startedAt: now, endedAt: now }
        : stage;
  const { session: updated, written } = await mutateSessionReporting(deps, sessionId, (s) => {
    if (s.endedAt !== undefined || (s.status !== 'Cancelled' && isFinalSessionStatus(s.status))) return undefined;
    return {
      // a cancelled session stays cancelled; the others take the status their actions earned
      status: s.status === 'Cancelled' ? 'Cancelled' : finalStatus,
      stages: {
        Detection: close(s.stages.Detection, false),
        Execution: close(s.stages.Execution, executionFailed),
        Verification: close(s.stages.Verification, verificationFailed),
      },
      endedAt: now,
      actionCount: actions.length,
    };
  }, { current: session });
  if (written) {
    // counted by the write that ended the session, so a repeated report counts nothing
    const ended = SESSION_END_METRICS[updated.status];
    if (ended) deps.metrics.count(ended);
    deps.metrics.count('ActionsRun', actions.filter(ranOnTheComputer).length);
    const counts = `${actions.length} action(s), ${failures.length} failed${unread.length > 0 ? `; could not determine ${namedList(unread.map((item) => item.itemName), ITEMS_NAMED_IN_LOG)}` : ''}`;
    // three writes elsewhere, each from the write that ended the session: side by side
    await Promise.all([
      log(deps, sessionId, 'Stage', `session ended ${updated.status}: ${counts}${updated.rebootPending ? '; a restart is pending' : ''}`),
      releaseExecutionSlot(deps, updated),
      publishEvents(deps, sessionEndedEvents(updated, now)),
    ]);
  }
  // also on a repeated report: the send record keeps it to one email, and a report retried after a failed send tries again
  if (updated.endedAt !== undefined) await sendSessionEmailQuietly(deps, { sessionId, kind: 'FollowUp', current: { session: updated, actions } });
  deps.logger.info('session reported', { sessionId, computerId: session.computerId, status: updated.status, failed: failures.length });
  return { sessionId, status: updated.status, actions: actions.length, failed: failures.length };
}
