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
  const executeAt = session.executeAt ? Date.parse(session.executeAt) : undefined;
  if (executeAt !== undefined && executeAt > now.getTime()) {
    const nextLook = now.getTime() + deps.lifecycle.windowCheckSeconds * 1000;
    return { decision: 'Wait', waitUntil: new Date(Math.min(executeAt, nextLook)).toISOString() };
  }
  const started = now.toISOString();
  const updated = await mutateSession(deps, sessionId, (s) => {
    if (s.status === 'Cancelled' || isFinalSessionStatus(s.status) || s.stages.Execution.status === 'Running') return undefined;
    return { status: 'Running', stages: withStage(s, 'Execution', { status: 'Running', startedAt: started }) };
  });
  if (updated.status === 'Cancelled' || isFinalSessionStatus(updated.status)) return { decision: 'End' };
  await log(deps, sessionId, 'Stage', 'execution started');
  return { decision: 'Run' };
}
