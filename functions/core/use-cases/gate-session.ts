import { isFinalSessionStatus } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, log, mutateSession, withStage } from './session-updates.js';

export interface GateResult {
  readonly decision: 'Run' | 'Wait' | 'End';
  /** For Wait: when to look again (the window, or sooner, so run-now, postpone and cancel take effect). */
  readonly waitUntil?: string;
}

/**
 * The gate between planning and execution, passed every time the workflow
 * wakes up: a cancelled or finished session ends without touching the
 * computer; a session whose window has not come (or was postponed) waits
 * again; otherwise execution starts.
 */
export async function gateSession(deps: Dependencies, sessionId: string): Promise<GateResult> {
  const session = await loadSession(deps, sessionId);
  if (session.status === 'Cancelled' || isFinalSessionStatus(session.status)) return { decision: 'End' };
  if (session.stages.Execution.status === 'Running') return { decision: 'Run' };

  const now = deps.clock.now();
  const started = now.toISOString();
  // the window is re-read inside the write: a postpone landing meanwhile must win over starting
  const updated = await mutateSession(deps, sessionId, (s) => {
    if (s.status === 'Cancelled' || isFinalSessionStatus(s.status) || s.stages.Execution.status === 'Running') return undefined;
    if (s.executeAt !== undefined && Date.parse(s.executeAt) > now.getTime()) return undefined;
    return { status: 'Running', stages: withStage(s, 'Execution', { status: 'Running', startedAt: started }) };
  });
  if (updated.status === 'Cancelled' || isFinalSessionStatus(updated.status)) return { decision: 'End' };
  if (updated.stages.Execution.status !== 'Running') return { decision: 'Wait', waitUntil: nextLook(deps, now, updated.executeAt ?? started) };
  await log(deps, sessionId, 'Stage', 'execution started');
  return { decision: 'Run' };
}

/**
 * The window itself, or an earlier look: every windowCheckSeconds, and less
 * often while the window is far off (a 200th of the remaining time), so a wait
 * of days stays within Step Functions' history limit while run-now, postpone
 * and cancel still take effect within minutes as the window nears.
 */
function nextLook(deps: Dependencies, now: Date, executeAt: string): string {
  const remainingMs = Date.parse(executeAt) - now.getTime();
  const stepMs = Math.max(deps.lifecycle.windowCheckSeconds * 1000, remainingMs / 200);
  return new Date(Math.min(Date.parse(executeAt), now.getTime() + stepMs)).toISOString();
}
