import { isFinalInvocationStatus } from '../model/agent.js';
import { isFinalSessionStatus } from '../model/session.js';
import { completeCommand } from './complete-command.js';
import type { Dependencies } from './dependencies.js';

export interface ReconcileOptions {
  /** Commands younger than this are left to their completion event. */
  readonly overdueAfterSeconds: number;
  /** At most this many dispatches are looked at per run, oldest first. */
  readonly limit: number;
}

export interface ReconcileResult {
  readonly checked: number;
  /** Finished commands whose event had not arrived (or whose step was never told): completed now. */
  readonly completed: number;
  readonly stillRunning: number;
  /** Claimed by a step of a session that ended before any command went out: dropped from the worklist. */
  readonly abandoned: number;
  readonly failed: number;
}

/**
 * SSM's EventBridge events are best effort, and a completion can die between
 * recording a result and telling the workflow. Every few minutes this looks at
 * every dispatch whose workflow step is still unanswered past its expected
 * completion: a finished command is completed the way its status event would
 * have done it (a late event afterwards finds nothing to do); a dispatch whose
 * session already ended without sending anything leaves the worklist, so the
 * worklist cannot silt up with dead entries.
 */
export async function reconcileCommands(deps: Dependencies, options: ReconcileOptions): Promise<ReconcileResult> {
  const before = new Date(deps.clock.now().getTime() - options.overdueAfterSeconds * 1000).toISOString();
  const waiting = await deps.sessions.listWaitingDispatches(before, options.limit);
  let completed = 0;
  let stillRunning = 0;
  let abandoned = 0;
  let failed = 0;
  for (const dispatch of waiting) {
    const session = await deps.sessions.getSession(dispatch.sessionId);
    try {
      if (dispatch.status === 'Sending' || dispatch.commandId === undefined) {
        if (!session || isFinalSessionStatus(session.status)) {
          await deps.sessions.abandonDispatch(dispatch.sessionId, dispatch.key);
          abandoned++;
        }
        continue;
      }
      if (!session) continue;
      const invocation = await deps.agent.getInvocation(dispatch.commandId, session.agentId);
      if (!isFinalInvocationStatus(invocation.status)) {
        stillRunning++;
        continue;
      }
      const result = await completeCommand(deps, { commandId: dispatch.commandId, agentId: session.agentId });
      if (result === 'completed' || result === 'redelivered') completed++;
    } catch (error) {
      // one unreadable command must not stop the others; the next run tries it again
      failed++;
      deps.logger.warn('reconciling a command failed', {
        sessionId: dispatch.sessionId,
        key: dispatch.key,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  if (completed > 0) deps.logger.info('reconciled commands whose completion had not reached the workflow', { completed });
  return { checked: waiting.length, completed, stillRunning, abandoned, failed };
}
