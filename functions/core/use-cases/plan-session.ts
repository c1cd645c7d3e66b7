import { IllegalTransitionError } from '../errors.js';
import type { ItemKey } from '../model/catalog.js';
import { leftUndetermined, type Action, type DetectedItem, type PlannedItem } from '../model/session.js';
import { namedList } from '../named-list.js';
import { plan } from '../planning/planner.js';
import type { Dependencies } from './dependencies.js';
import { loadSessionWith, log, mutateSession, withStage } from './session-updates.js';

/**
 * What the workflow's Execute map runs per action: the action, the ones it
 * depends on and the item it acts on, read together in one call.
 */
export interface PlannedStep {
  readonly actionId: string;
  readonly dependsOn: readonly string[];
  readonly itemKey: ItemKey;
}

export interface PlanSessionResult {
  readonly sessionId: string;
  readonly actionIds: string[];
  readonly actions: PlannedStep[];
  readonly actionCount: number;
  /**
   * The computer's agent, for the workflow to hand each action's step: its
   * dispatch asks whether the computer is online while it reads the session,
   * not after.
   */
  readonly agentId: string;
  /** Whether the workflow goes on to execution: there are actions, and the session is not detection-only or cancelled. */
  readonly execute: boolean;
}

const ACTION_ID_DIGITS = 3;

/**
 * Turns the first detection into the session's actions. The plan is a pure
 * function of the frozen items and the stored detection, so a repeated Plan
 * step (a retry, or a session resumed by running its workflow again) computes
 * the same actions, its conditional writes find them there, and it answers
 * what the first one recorded without planning or logging anew.
 */
/** Past this many, a log line names the first few items and counts the rest. */
export const ITEMS_NAMED_IN_LOG = 5;

const whyUndetermined = (detected: DetectedItem): string =>
  detected.state === 'Undetermined' ? detected.reason : detected.state === 'Present' ? `version ${detected.version} cannot be compared` : detected.state;

export async function planSession(deps: Dependencies, sessionId: string): Promise<PlanSessionResult> {
  // read with the session in one call: the detection and an earlier step's snapshot are wasted only for a session that cannot plan
  const { session, detection, plan: earlier } = await loadSessionWith(deps, sessionId, { detection: 'Initial', plan: true });
  if (session.status === 'Cancelled') return { sessionId, actionIds: [], actions: [], actionCount: 0, agentId: session.agentId, execute: false };
  // postponed during detection: planning goes on, the gate will wait for the new time
  if (session.status !== 'Running' && session.status !== 'PendingConnectivity' && session.status !== 'Postponed') {
    throw new IllegalTransitionError('session', session.status, 'planning');
  }
  if (!detection) throw new IllegalTransitionError('session', 'undetected', 'planning');

  const decisions = plan(session.items, detection.items);
  const actionIdByKey = new Map<ItemKey, string>();
  for (const decision of decisions) {
    if (decision.action) actionIdByKey.set(decision.key, String(actionIdByKey.size + 1).padStart(ACTION_ID_DIGITS, '0'));
  }
  const actions: Action[] = decisions.flatMap((decision) => {
    const actionId = actionIdByKey.get(decision.key);
    // Stryker disable next-line LogicalOperator: an action id is given to exactly the decisions with an action; the second test is for the types
    if (!decision.action || !actionId) return [];
    return [
      {
        sessionId,
        actionId,
        itemKey: decision.key,
        itemId: decision.item.itemId,
        itemName: decision.item.itemName,
        type: decision.action,
        reason: decision.reason,
        // Stryker disable next-line ConditionalExpression: the store drops undefined attributes, so an absent version and an undefined one are stored alike
        ...(decision.fromVersion === undefined ? {} : { fromVersion: decision.fromVersion }),
        // Stryker disable next-line ConditionalExpression: as above
        ...(decision.toVersion === undefined ? {} : { toVersion: decision.toVersion }),
        // Stryker disable next-line ArrayDeclaration: the planner names as prerequisites only items with an action, each numbered above; the fallback is for the types
        dependsOn: decision.dependsOn.flatMap((key) => actionIdByKey.get(key) ?? []),
        // observations never fail a session
        critical: decision.item.critical && decision.action !== 'TaskAudit' && decision.action !== 'TaskMonitor',
        status: 'NotStarted',
        result: 'Pending',
      },
    ];
  });
  const now = deps.clock.now().toISOString();
  // the snapshot is written last, so finding it means the step was done before
  if (!earlier) {
    // no step has touched an action before the snapshot exists; a repeat before it writes the same actions again
    await deps.sessions.createPlannedActions(sessionId, actions);
    await deps.sessions.savePlan({
      sessionId,
      plannedAt: now,
      items: decisions.map(
        (decision): PlannedItem => ({
          key: decision.key,
          itemName: decision.item.itemName,
          reason: decision.reason,
          detected: decision.detected,
          ...(decision.action ? { action: decision.action } : {}),
          // Stryker disable next-line ConditionalExpression: the store drops undefined attributes, so an absent version and an undefined one are stored alike
          ...(decision.fromVersion === undefined ? {} : { fromVersion: decision.fromVersion }),
          // Stryker disable next-line ConditionalExpression: as above
          ...(decision.toVersion === undefined ? {} : { toVersion: decision.toVersion }),
          ...(actionIdByKey.has(decision.key) ? { actionId: actionIdByKey.get(decision.key) } : {}),
        }),
      ),
    });
  }

  // the plan's own actions: a restart that FinishExecution added later is not run by Execute
  const planned = new Set(actions.map((action) => action.actionId));
  const stored = earlier ? (await deps.sessions.getActions(sessionId)).filter((action) => planned.has(action.actionId)) : actions;
  const execute = stored.length > 0 && session.options.mode === 'Full';
  // execution starts at the gate, when the window comes; with nothing to run it is skipped now
  if (!execute) {
    await mutateSession(
      deps,
      sessionId,
      (s) => (s.stages.Execution.status !== 'Unstarted' ? undefined : { stages: withStage(s, 'Execution', { status: 'Skipped', startedAt: now, endedAt: now }) }),
      { current: session },
    );
  }
  const actionIds = stored.map((action) => action.actionId);
  const steps = stored.map((action): PlannedStep => {
    // the plan acts on items; only FinishExecution adds the computer's restart, and never to this list
    if (action.itemKey === 'computer:restart') throw new IllegalTransitionError('action', action.type, 'the plan');
    return { actionId: action.actionId, dependsOn: action.dependsOn, itemKey: action.itemKey };
  });
  const result: PlanSessionResult = { sessionId, actionIds, actions: steps, actionCount: actionIds.length, agentId: session.agentId, execute };
  if (earlier) return result;
  // an item detection could not read gets no action: the log says so, so "nothing to do" is never read as compliant
  const unread = decisions.filter(leftUndetermined);
  await log(
    deps,
    sessionId,
    'Stage',
    (stored.length === 0
      ? 'planned: nothing to do'
      : `planned ${stored.length} action(s)${execute ? '' : ' (detection only: nothing will run)'}: ${stored.map((a) => `${a.type} ${a.itemName}`).join(', ')}`) +
      (unread.length === 0 ? '' : `; left alone, could not determine: ${namedList(unread.map((d) => `${d.item.itemName} (${whyUndetermined(d.detected)})`), ITEMS_NAMED_IN_LOG)}`),
  );
  deps.logger.info('session planned', { sessionId, computerId: session.computerId, actionCount: actionIds.length });
  return result;
}
