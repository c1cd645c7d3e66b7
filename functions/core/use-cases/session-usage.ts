import { NotFoundError } from '../errors.js';
import { runCostOf, sessionCostOf, type PricingOptions, type RunCost, type SessionCost } from '../model/usage.js';
import type { Dependencies } from './dependencies.js';
import { recordExecutionEnded, type ExecutionEndStatus } from './record-failure.js';
import { loadSession } from './session-updates.js';

/**
 * Closes a session's usage when its execution has ended: the state
 * transitions Step Functions billed are recorded, the usage is frozen, and,
 * for a session a schedule run started, added to the run. Each of those is
 * one conditional write, so a redelivered event (or one whose first delivery
 * died half way) finishes what the first left and adds nothing twice.
 */
export async function closeSessionUsage(deps: Dependencies, sessionId: string): Promise<{ closedNow: boolean; addedToRun?: boolean }> {
  const session = await deps.sessions.getSession(sessionId);
  if (!session) return { closedNow: false };
  const stateTransitions = deps.workflow.countStateTransitions ? await deps.workflow.countStateTransitions(sessionId) : undefined;
  const runId = session.origin?.runId;
  const at = deps.clock.now().toISOString();
  const closed = await deps.sessions.closeUsage(sessionId, { stateTransitions, runId, at });
  if (runId === undefined) return { closedNow: closed.closedNow };
  return { closedNow: closed.closedNow, addedToRun: await deps.schedules.addSessionUsage(runId, sessionId, closed.atEnd, at) };
}

export type ExecutionStatus = 'SUCCEEDED' | ExecutionEndStatus;

/**
 * Step Functions says a session's execution ended (its Execution Status
 * Change event). One that ended badly is recorded first (see
 * `recordExecutionEnded`): the session's status never waits on its cost.
 * Then, whatever the status, the session's usage is closed. `recorded` says
 * whether this delivery recorded the failure.
 */
export async function executionEnded(
  deps: Dependencies,
  input: { sessionId: string; status: ExecutionStatus; error?: string | undefined; cause?: string | undefined },
): Promise<{ recorded: boolean }> {
  const { status } = input;
  const { recorded } = status === 'SUCCEEDED' ? { recorded: false } : await recordExecutionEnded(deps, { ...input, status });
  await closeSessionUsage(deps, input.sessionId);
  return { recorded };
}

/** What a session used and what that comes to; `final` once its execution ended. */
export async function getSessionCost(deps: Pick<Dependencies, 'sessions'>, sessionId: string, pricing: PricingOptions = {}): Promise<SessionCost> {
  await loadSession(deps, sessionId);
  return sessionCostOf(await deps.sessions.getUsage(sessionId), pricing);
}

/** What a schedule run used: its fan-out and rollout steps, and each of its sessions once it ended. */
export async function getRunCost(deps: Pick<Dependencies, 'schedules'>, runId: string, pricing: PricingOptions = {}): Promise<RunCost> {
  if (!(await deps.schedules.getRun(runId))) throw new NotFoundError('run', runId);
  return runCostOf(await deps.schedules.getRunUsage(runId), pricing);
}
