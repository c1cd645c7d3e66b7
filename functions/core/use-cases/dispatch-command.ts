import { AgentUnreachableError, ConflictError, DispatchInProgressError, NotFoundError } from '../errors.js';
import type { AgentCommand, Dispatch, DispatchKey } from '../model/agent.js';
import type { Action, Session } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { buildActionCommand, buildDetectionCommand } from './agent-commands.js';
import { loadSession, log, moveAction, mutateSession, withStage } from './session-updates.js';
import { deliver } from './complete-command.js';
import { startAction } from './start-action.js';

export type CommandPurpose = 'Detect' | 'Verify' | 'Action';

export interface DispatchCommandInput {
  readonly sessionId: string;
  readonly purpose: CommandPurpose;
  readonly actionId?: string;
  /** The workflow step waiting for this command's result. */
  readonly taskToken: string;
}

export type DispatchResult = 'sent' | 'resent' | 'already-running' | 'already-complete' | 'skipped-cancelled' | 'settled';

/**
 * How long a Sending claim keeps other attempts from sending: longer than a
 * handler can live (30 s), so a claim past its lease belongs to a dead attempt.
 */
export const DISPATCH_LEASE_SECONDS = 90;

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
 *   - first arrival: everything that can refuse (offline computer, catalog
 *     item gone) is checked before anything is recorded; then the dispatch is
 *     claimed with a lease, the command sent, its id recorded;
 *   - retry while the command runs: point the dispatch at the new token and
 *     send nothing; the completion will answer the new token;
 *   - retry after the command finished: answer the new token with the stored outcome;
 *   - retry while another attempt holds the lease: wait (DispatchInProgressError),
 *     it may be sending right now;
 *   - retry after a claim whose lease ran out (that attempt died between claim
 *     and send): ask SSM whether a command went out after all, send only if not.
 */
export async function dispatchCommand(deps: Dependencies, input: DispatchCommandInput): Promise<DispatchResult> {
  const key = dispatchKeyFor(input.purpose, input.actionId);
  const session = await loadSession(deps, input.sessionId);
  if (session.status === 'Cancelled') return skipForCancelledSession(deps, session, input, key);

  let dispatch = await deps.sessions.getDispatch(session.id, key);
  if (!dispatch) {
    let action: Action | undefined;
    if (input.purpose === 'Action' && input.actionId !== undefined) {
      // starting the action is part of sending its command: one workflow state per action, not three
      const started = await startAction(deps, session, input.actionId);
      if (!started.run) {
        await deps.workflow.completeTask(input.taskToken, { key, settled: started.status });
        return 'settled';
      }
      action = started.action;
    }
    if (!(await deps.agent.isOnline(session.agentId))) await handleOffline(deps, session);
    const nonce = deps.ids.next('n');
    const command = await commandFor(deps, session, input, key, nonce, action);
    const now = deps.clock.now();
    const claim = await deps.sessions.claimDispatch({
      sessionId: session.id,
      key,
      taskToken: input.taskToken,
      status: 'Sending',
      attempts: 1,
      nonce,
      createdAt: now.toISOString(),
      leaseUntil: leaseFrom(now),
    });
    if (claim.created) return send(deps, session, input, key, command, 'sent');
    // a concurrent attempt claimed it first: carry on as a retry would
    dispatch = claim.dispatch;
  }
  return resume(deps, session, input, key, dispatch);
}

const leaseFrom = (now: Date): string => new Date(now.getTime() + DISPATCH_LEASE_SECONDS * 1000).toISOString();

async function resume(deps: Dependencies, session: Session, input: DispatchCommandInput, key: DispatchKey, found: Dispatch): Promise<DispatchResult> {
  let dispatch = found;
  if (dispatch.status === 'Sending' || dispatch.status === 'Sent') {
    try {
      dispatch = await deps.sessions.replaceDispatchToken(session.id, key, input.taskToken);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // completed between our read and our write: answer from the stored outcome
      dispatch = (await deps.sessions.getDispatch(session.id, key)) ?? dispatch;
    }
  }
  if (dispatch.status === 'Completed' && dispatch.outcome) {
    // the same answer the completion gave: a detection that failed fails this attempt too
    await deliver(deps, input.taskToken, dispatch.outcome, session.status === 'Cancelled' ? 'Success' : dispatch.outcome.status);
    return 'already-complete';
  }
  if (dispatch.status !== 'Sending') return 'already-running';

  const now = deps.clock.now();
  if (dispatch.leaseUntil !== undefined && Date.parse(dispatch.leaseUntil) > now.getTime()) {
    throw new DispatchInProgressError(`another attempt is sending ${key} for session ${session.id}; trying again after its lease`);
  }
  try {
    await deps.sessions.takeOverDispatch(session.id, key, dispatch.leaseUntil, leaseFrom(now));
  } catch (error) {
    if (error instanceof ConflictError) throw new DispatchInProgressError(`another attempt took over ${key} for session ${session.id}`, { cause: error });
    throw error;
  }
  const command = await commandFor(deps, session, input, key, dispatch.nonce, undefined);
  const earlier = await deps.agent.findCommand(command.agentId, command.comment, new Date(dispatch.createdAt));
  if (earlier) {
    await recordSent(deps, session.id, key, earlier);
    return 'already-running';
  }
  return send(deps, session, input, key, command, 'resent');
}

async function send(
  deps: Dependencies,
  session: Session,
  input: DispatchCommandInput,
  key: DispatchKey,
  command: AgentCommand,
  result: 'sent' | 'resent',
): Promise<DispatchResult> {
  if (input.purpose === 'Verify') {
    const now = deps.clock.now().toISOString();
    await mutateSession(deps, session.id, (s) =>
      s.stages.Verification.status === 'Running' ? undefined : { stages: withStage(s, 'Verification', { status: 'Running', startedAt: now }) },
    );
  }
  const { commandId } = await deps.agent.send(command);
  await recordSent(deps, session.id, key, commandId);
  deps.logger.info('command sent', { sessionId: session.id, computerId: session.computerId, key, commandId });
  if (input.purpose === 'Action') {
    // a cancel that landed after this step read the session found no command to stop yet: stop it now
    const current = await deps.sessions.getSession(session.id);
    if (current?.status === 'Cancelled') {
      await deps.agent.cancel(commandId, session.agentId);
      await log(deps, session.id, 'Agent', `cancelled the command that started as the session was cancelled (${key})`);
    }
  }
  return result;
}

/** Nothing more goes to the computer of a cancelled session; an action that was about to run ends Cancelled. */
async function skipForCancelledSession(deps: Dependencies, session: Session, input: DispatchCommandInput, key: DispatchKey): Promise<DispatchResult> {
  if (input.purpose === 'Action' && input.actionId !== undefined) {
    await moveAction(deps, session.id, input.actionId, ['NotStarted', 'PerformingAction'], {
      status: 'Cancelled',
      result: 'Cancelled',
      resultReason: `cancelled by ${session.cancelled?.by.name ?? 'request'} before it ran`,
      endedAt: deps.clock.now().toISOString(),
    }).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }
  await deps.workflow.completeTask(input.taskToken, { key, skipped: 'cancelled' });
  return 'skipped-cancelled';
}

/**
 * An offline computer: a session that skips offline computers ends here as
 * unreachable, before anything is recorded; one that applies on connect sends
 * anyway (the command waits for delivery) and says it is waiting.
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

/** The command for this dispatch, from the session and action the caller has already read. */
async function commandFor(
  deps: Dependencies,
  session: Session,
  input: DispatchCommandInput,
  key: DispatchKey,
  nonce: string,
  known: Action | undefined,
): Promise<AgentCommand> {
  if (input.purpose !== 'Action') return buildDetectionCommand(deps, session, key, nonce);
  const actionId = input.actionId ?? '';
  const action = known ?? (await deps.sessions.getAction(session.id, actionId));
  if (!action) throw new NotFoundError('action', `${session.id}/${actionId}`);
  return buildActionCommand(deps, session, action, key, nonce);
}
