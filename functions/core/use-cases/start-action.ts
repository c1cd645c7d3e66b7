import { NotFoundError } from '../errors.js';
import type { Dependencies } from './dependencies.js';
import { log, moveAction } from './session-updates.js';

export interface StartActionResult {
  /** Whether the workflow should send the action's command. */
  readonly run: boolean;
  readonly status: string;
}

/**
 * The gate in front of each action. Starting is a conditional write
 * (NotStarted → PerformingAction), so a repeated step never starts an action
 * twice; a step repeated after the start answers "run" again, and the
 * dispatch finds the command already sent.
 */
export async function startAction(deps: Dependencies, sessionId: string, actionId: string): Promise<StartActionResult> {
  const actions = await deps.sessions.getActions(sessionId);
  const action = actions.find((a) => a.actionId === actionId);
  if (!action) throw new NotFoundError('action', `${sessionId}/${actionId}`);
  const session = await deps.sessions.getSession(sessionId);
  if (session?.status === 'Cancelled') {
    // cancelled during execution: the next action does not start
    if (action.status === 'NotStarted') {
      await moveAction(deps, sessionId, actionId, ['NotStarted'], {
        status: 'Cancelled',
        result: 'Cancelled',
        resultReason: `cancelled by ${session.cancelled?.by.name ?? 'request'}`,
        endedAt: deps.clock.now().toISOString(),
      }).catch(() => undefined);
    }
    return { run: false, status: 'Cancelled' };
  }
  if (action.status === 'PerformingAction') return { run: true, status: action.status };
  if (action.status !== 'NotStarted') return { run: false, status: action.status };

  const now = deps.clock.now().toISOString();
  const failedPrerequisite = actions.find(
    (a) => action.dependsOn.includes(a.actionId) && (a.result === 'Failed' || a.status === 'Skipped'),
  );
  if (failedPrerequisite) {
    await log(deps, sessionId, 'Action', `${action.type} ${action.itemName} skipped: ${failedPrerequisite.itemName} did not succeed`, { actionId });
    await moveAction(deps, sessionId, actionId, ['NotStarted'], {
      status: 'Skipped',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: `prerequisite ${failedPrerequisite.itemName} (${failedPrerequisite.type}) did not succeed`,
      endedAt: now,
    });
    return { run: false, status: 'Skipped' };
  }
  if (action.type === 'TaskMonitor') {
    // monitoring reports what detection found; nothing runs on the computer
    await moveAction(deps, sessionId, actionId, ['NotStarted'], {
      status: 'Complete',
      result: 'Success',
      resultStage: 'Execution',
      resultReason: 'ReportedNotCompliant',
      startedAt: now,
      endedAt: now,
    });
    return { run: false, status: 'Complete' };
  }
  await moveAction(deps, sessionId, actionId, ['NotStarted'], { status: 'PerformingAction', startedAt: now });
  await log(deps, sessionId, 'Action', `${action.type} ${action.itemName}${action.toVersion ? ` ${action.toVersion}` : ''} started`, { actionId });
  return { run: true, status: 'PerformingAction' };
}
