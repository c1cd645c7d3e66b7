import { ConflictError } from '../errors.js';
import type { Action, Session } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { log, moveAction } from './session-updates.js';

/** What an action's step does, decided from the action and its prerequisites as read. */
export type StartDecision =
  | { readonly kind: 'run' }
  /** Already past NotStarted without a command of its own (skipped, closed): nothing to do. */
  | { readonly kind: 'done'; readonly status: Action['status'] }
  | { readonly kind: 'skip'; readonly failedPrerequisite: Action }
  /** Monitoring reports what detection found; nothing runs on the computer. */
  | { readonly kind: 'observe' };

/**
 * The gate in front of each action. Starting is a conditional write
 * (NotStarted → PerformingAction, with the command's claim), so a repeated
 * step never starts an action twice; a repeated step finds the claim and
 * answers from it.
 */
export function decideStart(action: Action, prerequisites: readonly Action[]): StartDecision {
  if (action.status !== 'NotStarted') return { kind: 'done', status: action.status };
  const failedPrerequisite = prerequisites.find(
    (a) => action.dependsOn.includes(a.actionId) && (a.result === 'Failed' || a.status === 'Skipped'),
  );
  if (failedPrerequisite) return { kind: 'skip', failedPrerequisite };
  if (action.type === 'TaskMonitor') return { kind: 'observe' };
  return { kind: 'run' };
}

/** Records an action that runs nothing; returns the status it ends in. */
export async function settleWithoutRunning(
  deps: Dependencies,
  session: Session,
  action: Action,
  decision: Exclude<StartDecision, { kind: 'run' }>,
): Promise<Action['status']> {
  if (decision.kind === 'done') return decision.status;
  const now = deps.clock.now().toISOString();
  try {
    if (decision.kind === 'skip') {
      const prerequisite = decision.failedPrerequisite;
      const skipped = await moveAction(deps, session.id, action.actionId, ['NotStarted'], {
        status: 'Skipped',
        result: 'Failed',
        resultStage: 'Execution',
        resultReason: `prerequisite ${prerequisite.itemName} (${prerequisite.type}) did not succeed`,
        endedAt: now,
      });
      await log(deps, session.id, 'Action', `${action.type} ${action.itemName} skipped: ${prerequisite.itemName} did not succeed`, {
        actionId: action.actionId,
      });
      return skipped.status;
    }
    const observed = await moveAction(deps, session.id, action.actionId, ['NotStarted'], {
      status: 'Complete',
      result: 'Success',
      resultStage: 'Execution',
      resultReason: 'ReportedNotCompliant',
      startedAt: now,
      endedAt: now,
    });
    return observed.status;
  } catch (error) {
    // a repeated step (or a cancel) moved it first: where it stands now is the answer
    if (!(error instanceof ConflictError)) throw error;
    return (await deps.sessions.getAction(session.id, action.actionId))?.status ?? action.status;
  }
}
