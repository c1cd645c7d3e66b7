import { NotFoundError } from '../errors.js';
import type { Action, Session } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { log, moveAction } from './session-updates.js';

export interface StartActionResult {
  /** Whether the workflow should send the action's command. */
  readonly run: boolean;
  readonly status: string;
  /** The action as it stands after starting, for building its command without reading it again. */
  readonly action: Action;
}

/**
 * The gate in front of each action. Starting is a conditional write
 * (NotStarted → PerformingAction), so a repeated step never starts an action
 * twice; a step repeated after the start answers "run" again, and the
 * dispatch finds the command already sent.
 */
export async function startAction(deps: Dependencies, session: Session, actionId: string): Promise<StartActionResult> {
  const sessionId = session.id;
  // one Query reads the action and the prerequisites it may be skipped for
  const actions = await deps.sessions.getActions(sessionId);
  const action = actions.find((a) => a.actionId === actionId);
  if (!action) throw new NotFoundError('action', `${sessionId}/${actionId}`);
  if (session.status === 'Cancelled') {
    // cancelled during execution: the next action does not start
    if (action.status === 'NotStarted') {
      await moveAction(deps, sessionId, actionId, ['NotStarted'], {
        status: 'Cancelled',
        result: 'Cancelled',
        resultReason: `cancelled by ${session.cancelled?.by.name ?? 'request'}`,
        endedAt: deps.clock.now().toISOString(),
      }).catch(() => undefined);
    }
    return { run: false, status: 'Cancelled', action };
  }
  if (action.status === 'PerformingAction') return { run: true, status: action.status, action };
  if (action.status !== 'NotStarted') return { run: false, status: action.status, action };

  const now = deps.clock.now().toISOString();
  const failedPrerequisite = actions.find(
    (a) => action.dependsOn.includes(a.actionId) && (a.result === 'Failed' || a.status === 'Skipped'),
  );
  if (failedPrerequisite) {
    await log(deps, sessionId, 'Action', `${action.type} ${action.itemName} skipped: ${failedPrerequisite.itemName} did not succeed`, { actionId });
    const skipped = await moveAction(deps, sessionId, actionId, ['NotStarted'], {
      status: 'Skipped',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: `prerequisite ${failedPrerequisite.itemName} (${failedPrerequisite.type}) did not succeed`,
      endedAt: now,
    });
    return { run: false, status: 'Skipped', action: skipped };
  }
  if (action.type === 'TaskMonitor') {
    // monitoring reports what detection found; nothing runs on the computer
    const observed = await moveAction(deps, sessionId, actionId, ['NotStarted'], {
      status: 'Complete',
      result: 'Success',
      resultStage: 'Execution',
      resultReason: 'ReportedNotCompliant',
      startedAt: now,
      endedAt: now,
    });
    return { run: false, status: 'Complete', action: observed };
  }
  const started = await moveAction(deps, sessionId, actionId, ['NotStarted'], { status: 'PerformingAction', startedAt: now });
  await log(deps, sessionId, 'Action', `${action.type} ${action.itemName}${action.toVersion ? ` ${action.toVersion}` : ''} started`, { actionId });
  return { run: true, status: 'PerformingAction', action: started };
}
