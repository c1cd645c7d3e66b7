import { AgentUnreachableError, ConflictError, NotFoundError } from '../errors.js';
import type { AgentCommand, Dispatch, DispatchKey } from '../model/agent.js';
import type { Dependencies } from './dependencies.js';
import { buildActionCommand, buildDetectionCommand } from './agent-commands.js';
import type { Session } from '../model/session.js';
import { loadSession, log, mutateSession, withStage } from './session-updates.js';

export type CommandPurpose = 'Detect' | 'Verify' | 'Action';

export interface DispatchCommandInput {
  readonly sessionId: string;
  readonly purpose: CommandPurpose;
  readonly actionId?: string;
  /** The workflow step waiting for this command's result. */
  readonly taskToken: string;
}

export type DispatchResult = 'sent' | 'resent' | 'already-running' | 'already-complete' | 'skipped-cancelled';

export const dispatchKeyFor = (purpose: CommandPurpose, actionId: string | undefined): DispatchKey => {
  if (purpose !== 'Action') return purpose;
  if (!actionId) throw new NotFoundError('action', '(none given)');
  return `Action#${actionId}`;
};

/**
 * Sends the command a waiting workflow step needs, at most once per purpose.
 *
 * A step that Step Functions retries arrives here again with a new token.
 * Timeline of the cases:
 *   - first arrival: claim the dispatch, send the command, record its id;
 *   - retry while the command still runs: point the dispatch at the new token
 *     and send nothing; the completion will answer the new token;
 *   - retry after the command finished: answer the new token with the stored outcome;
 *   - retry after a crash between claim and send: send now (scripts are idempotent).
 */
export async function dispatchCommand(deps: Dependencies, input: DispatchCommandInput): Promise<DispatchResult> {
  const key = dispatchKeyFor(input.purpose, input.actionId);
  const session = await loadSession(deps, input.sessionId);
  const now = deps.clock.now().toISOString();
  if (session.status === 'Cancelled') {
    // nothing more goes to the computer of a cancelled session; the workflow moves on to the end
    await deps.workflow.completeTask(input.taskToken, { key, skipped: 'cancelled' });
    return 'skipped-cancelled';
  }
  const claim = await deps.sessions.claimDispatch({
    sessionId: session.id,
    key,
    taskToken: input.taskToken,
    status: 'Sending',
    attempts: 1,
    nonce: deps.ids.next('n'),
    createdAt: now,
  });

  let dispatch: Dispatch = claim.dispatch;
  if (!claim.created) {
    if (dispatch.status !== 'Completed') {
      try {
        dispatch = await deps.sessions.replaceDispatchToken(session.id, key, input.taskToken);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // completed between our read and our write: fall through to answering from the stored outcome
        dispatch = (await deps.sessions.getDispatch(session.id, key)) ?? dispatch;
      }
    }
    if (dispatch.status === 'Completed' && dispatch.outcome) {
      await deps.workflow.completeTask(input.taskToken, dispatch.outcome);
      return 'already-complete';
    }
    if (dispatch.status === 'Sent') return 'already-running';
  }

  if (claim.created && !(await deps.agent.isOnline(session.agentId))) await handleOffline(deps, session);
  const command = await commandFor(deps, input, key, dispatch.nonce);
  if (!claim.created) {
    const earlier = await deps.agent.findCommand(command.agentId, command.comment, new Date(dispatch.createdAt));
    if (earlier) {
      await recordSent(deps, session.id, key, earlier);
      return 'already-running';
    }
  }
  if (input.purpose === 'Verify') {
    await mutateSession(deps, session.id, (s) =>
      s.stages.Verification.status === 'Running'
        ? undefined
        : { stages: withStage(s, 'Verification', { status: 'Running', startedAt: now }) },
    );
  }
  const { commandId } = await deps.agent.send(command);
  await recordSent(deps, session.id, key, commandId);
  deps.logger.info('command sent', { sessionId: session.id, computerId: session.computerId, key, commandId });
  return claim.created ? 'sent' : 'resent';
}

/**
 * An offline computer: a session that skips offline computers ends here as
 * unreachable; one that applies on connect sends anyway (the command waits
 * for delivery) and says it is waiting for the computer.
 */
async function handleOffline(deps: Dependencies, session: Session): Promise<void> {
  if (session.options.offline === 'Skip') {
    throw new AgentUnreachableError(`${session.computerName} is offline, and this session skips offline computers`);
  }
  const updated = await mutateSession(deps, session.id, (s) => (s.status === 'Running' ? { status: 'PendingConnectivity' } : undefined));
  if (updated.status === 'PendingConnectivity') await log(deps, session.id, 'Agent', `${session.computerName} is offline; waiting for it to connect`);
}

/** A concurrent attempt that recorded its command first wins; its completion answers the latest token. */
async function recordSent(deps: Dependencies, sessionId: string, key: DispatchKey, commandId: string): Promise<void> {
  try {
    await deps.sessions.markDispatchSent(sessionId, key, commandId);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

async function commandFor(
  deps: Dependencies,
  input: DispatchCommandInput,
  key: DispatchKey,
  nonce: string,
): Promise<AgentCommand> {
  const session = await loadSession(deps, input.sessionId);
  if (input.purpose !== 'Action') return buildDetectionCommand(deps, session, key, nonce);
  const actionId = input.actionId ?? '';
  const action = await deps.sessions.getAction(session.id, actionId);
  if (!action) throw new NotFoundError('action', `${session.id}/${actionId}`);
  return buildActionCommand(deps, session, action, key, nonce);
}
