import { buildSessionReport, type SessionReport } from '../model/session-report.js';
import type { Dependencies } from './dependencies.js';
import { loadSession } from './session-updates.js';

/** The report of one session, read side by side: session, actions, plan and verification. */
export async function getSessionReport(deps: Dependencies, sessionId: string): Promise<SessionReport> {
  const session = await loadSession(deps, sessionId);
  const [actions, plan, verification] = await Promise.all([
    deps.sessions.getActions(sessionId),
    deps.sessions.getPlan(sessionId),
    deps.sessions.getDetection(sessionId, 'Verification'),
  ]);
  return buildSessionReport({ session, actions, ...(plan ? { plan } : {}), ...(verification ? { verification } : {}) });
}
