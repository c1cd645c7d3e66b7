import { buildSessionReport, type SessionReport } from '../model/session-report.js';
import { sessionCostOf, type PricingOptions } from '../model/usage.js';
import type { Dependencies } from './dependencies.js';
import { allowedRequests } from './session-requests.js';
import { loadSessionWith } from './session-updates.js';

/**
 * The report of one session, read side by side: session, actions, plan,
 * verification and what it cost so far, priced at `pricing`'s list prices
 * (us-east-1 and arm64 by default), and what may be asked of it now.
 */
export async function getSessionReport(deps: Dependencies, sessionId: string, pricing: PricingOptions = {}): Promise<SessionReport> {
  // the session with its plan and verification is one batched read; the actions and usage are queries beside it
  const [{ session, plan, detection: verification }, actions, usage] = await Promise.all([
    loadSessionWith(deps, sessionId, { plan: true, detection: 'Verification' }),
    deps.sessions.getActions(sessionId),
    deps.sessions.getUsage(sessionId),
  ]);
  const report = buildSessionReport({
    session,
    actions,
    ...(plan ? { plan } : {}),
    ...(verification ? { verification } : {}),
    cost: sessionCostOf(usage, pricing),
  });
  return { ...report, allowed: allowedRequests(session, deps.clock.now()) };
}
