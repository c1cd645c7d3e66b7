import { isFinalInvocationStatus } from '../model/agent.js';
import { completeCommand } from './complete-command.js';
import type { Dependencies } from './dependencies.js';

export interface ReconcileOptions {
  /** Commands younger than this are left to their completion event. */
  readonly overdueAfterSeconds: number;
  /** At most this many commands are polled per run, oldest first. */
  readonly limit: number;
}

export interface ReconcileResult {
  readonly checked: number;
  /** Finished commands whose event had not arrived: completed now. */
  readonly completed: number;
  readonly stillRunning: number;
  readonly failed: number;
}

/**
 * SSM's EventBridge events are best effort. Every few minutes this polls the
 * commands still waiting past their expected completion and, for those that
 * finished, runs the same completion a status event would have: a lost event
 * never leaves a session hanging, and a late one afterwards finds nothing to do.
 */
export async function reconcileCommands(deps: Dependencies, options: ReconcileOptions): Promise<ReconcileResult> {
  const before = new Date(deps.clock.now().getTime() - options.overdueAfterSeconds * 1000).toISOString();
  const waiting = await deps.sessions.listWaitingDispatches(before, options.limit);
  let completed = 0;
  let stillRunning = 0;
  let failed = 0;
  for (const dispatch of waiting) {
    if (dispatch.status !== 'Sent' || dispatch.commandId === undefined) continue;
    const session = await deps.sessions.getSession(dispatch.sessionId);
    if (!session) continue;
    try {
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
        sessionId: session.id,
        commandId: dispatch.commandId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  if (completed > 0) deps.logger.info('reconciled commands whose events were lost', { completed });
  return { checked: waiting.length, completed, stillRunning, failed };
}
