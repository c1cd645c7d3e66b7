import { AgentUnreachableError, ConflictError, DispatchInProgressError, NotFoundError } from '../errors.js';
import { commandComment, type AgentCommand, type Dispatch, type DispatchKey } from '../model/agent.js';
import type { ItemKey } from '../model/catalog.js';
import type { Action, Session } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { buildActionCommand, buildDetectionCommand } from './agent-commands.js';
import { loadSessionWith, log, mutateSession, mutateSessionReporting, withStage } from './session-updates.js';
import { deliver } from './complete-command.js';
import { decideStart, settleWithoutRunning } from './start-action.js';

export type CommandPurpose = 'Detect' | 'Verify' | 'Action';

export interface DispatchCommandInput {
  readonly sessionId: string;
  readonly purpose: CommandPurpose;
  readonly actionId?: string;
  /**
   * The actions this one depends on, as the plan gave them to the workflow:
   * read with the action in one call. Absent (an older execution), they are
   * read from the action's own record.
   */
  readonly dependsOn?: readonly string[];
  /** The item the action acts on, as the plan gave it: its catalog entry is read in the same call. */
  readonly itemKey?: ItemKey;
  /**
   * The computer's agent, as the plan gave it: whether it is online is asked
   * while the session is read (in AWS an SSM call, locally the machine's
   * descriptor), not after. Absent (an older execution, the restart step),
   * it is asked after the read.
   */
  readonly agentId?: string;
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
 *     claimed with a lease (for an action, in the same write that starts it)
 *     and the command sent. Its comment names the dispatch's nonce, so the
 *     completion and any later attempt find it without a second write;
 *   - retry after the command finished: answer the new token with the stored outcome;
 *   - retry while it runs: point the dispatch at the new token; the agent,
 *     asked by the comment, knows the command, and its completion answers;
 *   - retry with no command out yet while the claim's lease runs (its attempt
 *     may be sending right now): wait (DispatchInProgressError);
 *   - retry after the lease with no command out: take the claim over and send.
 */
export async function dispatchCommand(deps: Dependencies, input: DispatchCommandInput): Promise<DispatchResult> {
  if (input.purpose === 'Action') return dispatchAction(deps, input, input.actionId ?? '');
  const key = dispatchKeyFor(input.purpose, input.actionId);
  // read together: the dispatch is a wasted read only for a cancelled session
  const { session, dispatch: found } = await loadSessionWith(deps, input.sessionId, { dispatch: key });
  if (session.status === 'Cancelled') return skipForCancelledSession(deps, session, input, key);
  if (found) return resume(deps, session, input, key, found);
  const nonce = deps.ids.next('n');
  const [sentOffline, command] = await Promise.all([checkOnline(deps, session), buildDetectionCommand(deps, session, key, nonce)]);
  const claim = await deps.sessions.claimDispatch(newDispatch(deps, input, key, nonce, sentOffline));
  if (!claim.created) return resume(deps, session, input, key, claim.dispatch);
  if (input.purpose === 'Verify') {
    const now = deps.clock.now().toISOString();
    await mutateSession(
      deps,
      session.id,
      (s) => (s.stages.Verification.status === 'Running' ? undefined : { stages: withStage(s, 'Verification', { status: 'Running', startedAt: now }) }),
      { current: session },
    );
  }
  return send(deps, session, key, command, 'sent');
}

/**
 * An action's step: one read (session, action, prerequisites and the catalog
 * entry its script comes from) with the online check beside it, one write
 * that starts the action and claims its command, the send. Whatever else can
 * happen (cancelled, a prerequisite failed, a monitor that runs nothing,
 * already started) is decided from the one read.
 */
async function dispatchAction(deps: Dependencies, input: DispatchCommandInput, actionId: string): Promise<DispatchResult> {
  const key = dispatchKeyFor('Action', actionId);
  const onlineAsked = input.agentId === undefined ? undefined : { agentId: input.agentId, online: deps.agent.isOnline(input.agentId) };
  // an answer nobody waits for (the read failed, or the step ends without sending) is dropped, never an unhandled rejection
  onlineAsked?.online.catch(() => undefined);
  const context = await deps.sessions.getActionContext(input.sessionId, actionId, input.dependsOn ?? [], input.itemKey);
  if (!context.session) throw new NotFoundError('session', input.sessionId);
  if (!context.action) throw new NotFoundError('action', `${input.sessionId}/${actionId}`);
  const session = context.session;
  const action = context.action;
  if (context.dispatch) return resume(deps, session, input, key, context.dispatch);
  if (session.status === 'Cancelled') return skipForCancelledSession(deps, session, input, key);

  const prerequisites = await completePrerequisites(deps, session.id, action, context.prerequisites);
  const decision = decideStart(action, prerequisites);
  if (decision.kind !== 'run') {
    const status = await settleWithoutRunning(deps, session, action, decision);
    await deps.workflow.completeTask(input.taskToken, { key, settled: status });
    return 'settled';
  }

  const nonce = deps.ids.next('n');
  // the answer asked alongside the read is the session's computer's, unless the workflow named another agent
  const online = onlineAsked?.agentId === session.agentId ? onlineAsked.online : undefined;
  const [sentOffline, command] = await Promise.all([checkOnline(deps, session, online), buildActionCommand(deps, session, action, key, nonce, context)]);
  const now = deps.clock.now().toISOString();
  const claim = await deps.sessions.startActionDispatch(newDispatch(deps, input, key, nonce, sentOffline), {
    status: 'PerformingAction',
    startedAt: now,
  });
  if (claim.created) return send(deps, session, key, command, 'sent');
  if (claim.dispatch) return resume(deps, session, input, key, claim.dispatch);
  // moved on meanwhile without a command (cancelled, closed): nothing runs; the step hears where it stands
  await deps.workflow.completeTask(input.taskToken, { key, settled: claim.action?.status ?? 'Unknown' });
  return 'settled';
}

/** The prerequisites the workflow did not pass along (an execution started before it did) are read here. */
async function completePrerequisites(deps: Dependencies, sessionId: string, action: Action, known: readonly Action[]): Promise<Action[]> {
  const missing = action.dependsOn.filter((id) => !known.some((a) => a.actionId === id));
  if (missing.length === 0) return [...known];
  const read = await deps.sessions.getActionContext(sessionId, missing[0] ?? '', missing.slice(1));
  return [...known, ...(read.action ? [read.action] : []), ...read.prerequisites];
}

function newDispatch(deps: Dependencies, input: DispatchCommandInput, key: DispatchKey, nonce: string, sentOffline: boolean): Dispatch {
  const now = deps.clock.now();
  return {
    sessionId: input.sessionId,
    key,
    taskToken: input.taskToken,
    status: 'Sending',
    attempts: 1,
    nonce,
    createdAt: now.toISOString(),
    leaseUntil: leaseFrom(now),
    ...(sentOffline ? { sentOffline } : {}),
  };
}

const leaseFrom = (now: Date): string => new Date(now.getTime() + DISPATCH_LEASE_SECONDS * 1000).toISOString();

/**
 * What a later attempt does with a dispatch it found still Sending, once it
 * knows whether the claim's command is out:
 *   - out: its completion will answer this attempt's token (already-running);
 *   - not out, the claim's lease still running: its attempt may be sending right now (wait);
 *   - not out, lease over, session cancelled since the claim: send nothing (skip);
 *   - not out, lease over: take the claim over (recorded, so no third attempt sends too) and send.
 * At the lease's last instant the claim is over: a lease is how long its attempt may still send.
 */
export type RetryDecision = 'already-running' | 'wait' | 'skip-cancelled' | 'take-over';

export function decideRetry(dispatch: Pick<Dispatch, 'leaseUntil'>, facts: { commandOut: boolean; sessionCancelled: boolean; now: Date }): RetryDecision {
  if (facts.commandOut) return 'already-running';
  if (dispatch.leaseUntil !== undefined && Date.parse(dispatch.leaseUntil) > facts.now.getTime()) return 'wait';
  return facts.sessionCancelled ? 'skip-cancelled' : 'take-over';
}

async function resume(deps: Dependencies, session: Session, input: DispatchCommandInput, key: DispatchKey, found: Dispatch): Promise<DispatchResult> {
  let dispatch = found;
  if (dispatch.status === 'Sending') {
    try {
      dispatch = await deps.sessions.replaceDispatchToken(session.id, key, input.taskToken);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // completed between our read and our write: answer from the stored outcome
      dispatch = (await deps.sessions.getDispatch(session.id, key)) ?? dispatch;
    }
  }
  if (dispatch.status === 'Completed' && dispatch.outcome) {
    // the same answer the completion gave: a detection that failed fails this attempt too (a cancelled
    // session's detection never gets here, and an action's answer never fails its step)
    await deliver(deps, input.taskToken, dispatch.outcome, dispatch.outcome.status);
    return 'already-complete';
  }
  if (dispatch.status !== 'Sending') {
    // abandoned: its session ended before anything went out, so nothing will answer; this step hears it
    await deps.workflow.completeTask(input.taskToken, { key, skipped: 'abandoned' });
    return 'skipped-cancelled';
  }

  // the command is out (the usual retry: an attempt that failed after sending): its completion answers the new token
  const comment = commandComment(session.id, key, dispatch.nonce);
  const earlier = dispatch.commandId ?? (await deps.agent.findCommand(session.agentId, comment, new Date(dispatch.createdAt)));
  const now = deps.clock.now();
  const decision = decideRetry(dispatch, { commandOut: earlier !== undefined, sessionCancelled: session.status === 'Cancelled', now });
  if (decision === 'already-running') return 'already-running';
  if (decision === 'wait') throw new DispatchInProgressError(`another attempt is sending ${key} for session ${session.id}; trying again after its lease`);
  if (decision === 'skip-cancelled') {
    // the claim's attempt died before sending, and the session was cancelled since: nothing goes out now
    await deps.sessions.abandonDispatch(session.id, key).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
    return skipForCancelledSession(deps, session, input, key);
  }
  try {
    await deps.sessions.takeOverDispatch(session.id, key, dispatch.leaseUntil, leaseFrom(now));
  } catch (error) {
    if (error instanceof ConflictError) throw new DispatchInProgressError(`another attempt took over ${key} for session ${session.id}`, { cause: error });
    throw error;
  }
  const command = await commandFor(deps, session, key, dispatch.nonce);
  return send(deps, session, key, command, 'resent');
}

async function send(deps: Dependencies, session: Session, key: DispatchKey, command: AgentCommand, result: 'sent' | 'resent'): Promise<DispatchResult> {
  // no write after sending: the comment ties the command to its dispatch, for the completion and for any later attempt
  const { commandId } = await deps.agent.send(command);
  deps.logger.info('command sent', { sessionId: session.id, computerId: session.computerId, key, commandId });
  if (key.startsWith('Action#')) {
    // a cancel that landed after this step read the session may have looked before the command existed: stop it now
    // (one read per action; the reconciler would find it too, but only minutes later, with the action running)
    const current = await deps.sessions.getSessionStatus(session.id);
    if (current?.status === 'Cancelled') {
      await deps.agent.cancel(commandId, session.agentId);
      await log(deps, session.id, 'Agent', `cancelled the command that started as the session was cancelled (${key})`);
    }
  }
  return result;
}

/**
 * Nothing more goes to the computer of a cancelled session; an action that
 * was about to run ends Cancelled (one started without a claim of its own, by
 * an older engine, had not sent anything either).
 */
async function skipForCancelledSession(deps: Dependencies, session: Session, input: DispatchCommandInput, key: DispatchKey): Promise<DispatchResult> {
  if (input.purpose === 'Action' && input.actionId !== undefined) {
    await deps.sessions
      .updateAction(input.sessionId, input.actionId, ['NotStarted', 'PerformingAction'], {
        status: 'Cancelled',
        result: 'Cancelled',
        resultReason: `cancelled by ${session.cancelled?.by.name ?? 'request'} before it ran`,
        endedAt: deps.clock.now().toISOString(),
      })
      .catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
  }
  await deps.workflow.completeTask(input.taskToken, { key, skipped: 'cancelled' });
  return 'skipped-cancelled';
}

/**
 * Whether the computer is offline with the command going out anyway: a
 * session that skips offline computers ends here as unreachable, before
 * anything is recorded; one that applies on connect sends anyway (the command
 * waits for delivery) and says it is waiting. `asked`: the agent's answer,
 * asked already (alongside the step's read).
 */
async function checkOnline(deps: Dependencies, session: Session, asked?: Promise<boolean>): Promise<boolean> {
  if (await (asked ?? deps.agent.isOnline(session.agentId))) return false;
  if (session.options.offline === 'Skip') {
    throw new AgentUnreachableError(`${session.computerName} is offline, and this session skips offline computers`);
  }
  // one line when the session starts waiting, from this write: not again for every command sent while it waits
  const { written } = await mutateSessionReporting(deps, session.id, (s) => (s.status === 'Running' ? { status: 'PendingConnectivity' } : undefined));
  if (written) await log(deps, session.id, 'Agent', `${session.computerName} is offline; waiting for it to connect`);
  return true;
}

/** The command for a dispatch being sent again by a later attempt. */
async function commandFor(deps: Dependencies, session: Session, key: DispatchKey, nonce: string): Promise<AgentCommand> {
  if (!key.startsWith('Action#')) return buildDetectionCommand(deps, session, key, nonce);
  const actionId = key.slice('Action#'.length);
  const action = await deps.sessions.getAction(session.id, actionId);
  if (!action) throw new NotFoundError('action', `${session.id}/${actionId}`);
  return buildActionCommand(deps, session, action, key, nonce);
}
