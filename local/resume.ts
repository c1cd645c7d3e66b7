import { ConflictError } from '../functions/core/errors.js';
import type { Session, SessionStatus } from '../functions/core/model/session.js';
import type { WorkflowPort } from '../functions/core/ports/workflow.port.js';
import type { Dependencies } from '../functions/core/use-cases/dependencies.js';
import { log } from '../functions/core/use-cases/session-updates.js';

/** Statuses of a session whose workflow has not ended. */
const UNFINISHED: readonly SessionStatus[] = ['Created', 'Running', 'PendingConnectivity', 'Postponed'];

/** More than a local runtime ever holds unfinished. */
const LIMIT = 10_000;

/**
 * Every session whose workflow has not ended: the unfinished statuses, and a
 * cancel whose Report (which closes its actions and stamps endedAt) has not
 * run. The status index can be trusted here because the runtime rebuilt every
 * index from the items when it opened the data folder (local/dynalite.ts): a
 * kill inside dynalite's separate item and index writes cannot hide a session.
 */
export async function listUnfinishedSessions(deps: Pick<Dependencies, 'sessions'>): Promise<Session[]> {
  const found: Session[] = [];
  for (const status of UNFINISHED) found.push(...(await deps.sessions.listSessionsByStatus(status, LIMIT)));
  found.push(...(await deps.sessions.listSessionsByStatus('Cancelled', LIMIT)).filter((session) => session.endedAt === undefined));
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * What a local runtime does when it starts on data a killed runtime left:
 * every unfinished session's workflow starts again from the top. That is
 * all resuming takes, because every step is idempotent against the session
 * record — a step already done answers what it recorded (Prepare, Plan,
 * FinishExecution, Report), a command already sent is found by its dispatch
 * and never sent again (its completion, or the stored outcome, answers the
 * new task token), and the gate parks its new token and re-arms its timer.
 * In AWS the same property is what makes Step Functions Redrive safe.
 *
 * The one thing the record cannot tell is whether a claim to send (a dispatch
 * still Sending, whose command is out or was about to go out) belongs to an
 * attempt that is dead: in AWS its lease runs out; here no attempt outlives
 * the runtime, so the lease ends now, and the retried step asks the agent
 * (by the comment naming the claim's nonce) whether the command went out
 * before sending. For a command that is out, ending the lease changes nothing.
 */
export async function resumeUnfinishedSessions(deps: Dependencies, workflow: WorkflowPort): Promise<string[]> {
  const sessions = await listUnfinishedSessions(deps);
  const now = deps.clock.now().toISOString();
  for (const session of sessions) {
    for (const dispatch of await deps.sessions.listDispatches(session.id)) {
      if (dispatch.status !== 'Sending') continue;
      await deps.sessions.takeOverDispatch(session.id, dispatch.key, dispatch.leaseUntil, now).catch((error: unknown) => {
        // sent or taken over meanwhile: nothing of ours to end
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    await log(deps, session.id, 'Stage', 'the local runtime restarted: the session goes on from its last recorded step');
    await workflow.startSession(session.id);
  }
  if (sessions.length > 0) deps.logger.info('resumed unfinished sessions', { count: sessions.length });
  return sessions.map((session) => session.id);
}
