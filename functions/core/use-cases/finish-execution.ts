import type { Action } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, log, mutateSessionReporting } from './session-updates.js';

export interface FinishExecutionResult {
  /** Restart the computer now (an agent command, recorded as the Reboot action). */
  readonly reboot: boolean;
  readonly rebootActionId?: string;
  /** Detect again: something changed the computer. */
  readonly verify: boolean;
}

const OBSERVATIONS = new Set<Action['type']>(['TaskAudit', 'TaskMonitor']);

/**
 * After the last action: applies the reboot preference. IfNecessary restarts
 * once if any action asked for it, Force restarts whenever execution ran,
 * Suppress never restarts and records that a restart is pending. The restart
 * is an action of its own, created ready to run; verification follows it, so
 * it sees the computer as it is after the restart.
 */
export async function finishExecution(deps: Dependencies, sessionId: string): Promise<FinishExecutionResult> {
  // read side by side: the actions are a wasted read only for a cancelled session
  const [session, actions] = await Promise.all([loadSession(deps, sessionId), deps.sessions.getActions(sessionId)]);
  if (session.status === 'Cancelled') return { reboot: false, verify: false };
  const existing = actions.find((a) => a.type === 'Reboot');
  const ran = actions.filter((a) => a.type !== 'Reboot' && (a.status === 'Complete' || a.status === 'DeterminingResult'));
  const verify = ran.some((a) => !OBSERVATIONS.has(a.type));
  if (existing) return { reboot: existing.status === 'NotStarted' || existing.status === 'PerformingAction', rebootActionId: existing.actionId, verify };

  const askedBy = ran.filter((a) => a.rebootRequired).map((a) => a.itemName);
  const preference = session.options.reboot;
  const reboot = ran.length > 0 && (preference === 'Force' || (preference === 'IfNecessary' && askedBy.length > 0));
  if (!reboot) {
    if (askedBy.length > 0) {
      // a repeated step (a retry, a resumed session) finds it recorded and says nothing again
      const { written } = await mutateSessionReporting(deps, sessionId, (s) => (s.rebootPending ? undefined : { rebootPending: true }));
      if (written) await log(deps, sessionId, 'Stage', `restart pending (suppressed by preference), asked for by ${askedBy.join(', ')}`);
    }
    return { reboot: false, verify };
  }

  const rebootActionId = String(actions.length + 1).padStart(3, '0');
  await deps.sessions.createActions(sessionId, [
    {
      sessionId,
      actionId: rebootActionId,
      itemKey: 'computer:restart',
      itemId: 'restart',
      itemName: 'Restart',
      type: 'Reboot',
      reason: askedBy.length > 0 ? 'RebootRequested' : 'RebootForced',
      dependsOn: [],
      // a restart that fails leaves the software in place: the session is partial, not failed
      critical: false,
      // its step starts it and claims its command in one write, as for every action
      status: 'NotStarted',
      result: 'Pending',
    },
  ]);
  await log(deps, sessionId, 'Stage', askedBy.length > 0 ? `restarting, as asked for by ${askedBy.join(', ')}` : 'restarting (the session forces a restart)');
  return { reboot: true, rebootActionId, verify };
}
