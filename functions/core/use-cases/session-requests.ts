import { RequestRefusedError, TransientError, ValidationError } from '../errors.js';
import { MAX_WINDOW_DAYS, isFinalSessionStatus, type Requester, type Session } from '../model/session.js';
import { commandComment } from '../model/agent.js';
import type { SessionChanges } from '../ports/session-store.port.js';
import type { AuditAction, FieldChange } from '../model/audit.js';
import type { RequestAllowance, SessionRequestsAllowed } from '../model/session-report.js';
import type { Dependencies } from './dependencies.js';
import { sendSessionEmailQuietly } from './session-emails.js';
import { wakeGate } from './gate-session.js';
import { log, moveAction, mutateSessionReporting } from './session-updates.js';
import { DAY_MS } from '../durations.js';

/**
 * What end users (through their email links), operators and the API may ask
 * of a session: postpone its execution, pull it to now, or cancel it. Each is
 * one conditional write on the session's version; each refusal says why in
 * words meant for the person who asked; each request is logged with who asked.
 */

export interface SessionRequest {
  readonly sessionId: string;
  readonly by: Requester;
}

export interface PostponeRequest extends SessionRequest {
  /** An operator's chosen time; without it, the session's own delay (what an end user's link does). */
  readonly until?: string;
  /** The email link asking: a postponement with the same ref is not made twice. */
  readonly ref?: string;
}

const CONTENDED = { contended: true } as const;

/**
 * A person's decision about a session, in the audit trail beside the log
 * line, keyed by the session version the decision wrote (a retry records it once).
 */
async function auditDecision(deps: Pick<Dependencies, 'audit' | 'clock'>, session: Session, action: AuditAction, by: Requester, changes: readonly FieldChange[]): Promise<void> {
  await deps.audit.record({ resource: 'Session', resourceId: session.id, tenantId: session.tenantId, version: session.version, at: deps.clock.now().toISOString(), by, action, changes });
}

const refuseWhenEnded = (session: Session): void => {
  if (isFinalSessionStatus(session.status)) throw new RequestRefusedError(`the session has already ended (${session.status})`);
};

const refuseWhenExecuting = (session: Session, what: string): void => {
  if (session.options.mode === 'DetectionOnly') throw new RequestRefusedError(`this session only detects; there is no execution to ${what}`);
  if (session.stages.Execution.status !== 'Unstarted') throw new RequestRefusedError(`execution has already started, so it can no longer be ${what === 'postpone' ? 'postponed' : 'moved'}`);
};

export interface PostponeResult {
  readonly executeAt: string;
  /** How many more times the session may be postponed. */
  readonly postponesLeft: number;
}

/**
 * The latest a postpone may move the maintenance to: the session's own
 * deadline, or its schedule's (`maxDelayMinutes` past the window it first had),
 * whichever comes first; undefined when neither bounds it.
 */
export function postponeDeadline(s: Session): string | undefined {
  const { deadline, maxDelayMinutes } = s.options.postpone;
  const firstWindow = s.postponements[0]?.from ?? s.executeAt;
  const relative = maxDelayMinutes !== undefined && firstWindow !== undefined ? Date.parse(firstWindow) + maxDelayMinutes * 60_000 : Infinity;
  const latest = Math.min(deadline === undefined ? Infinity : Date.parse(deadline), relative);
  return Number.isFinite(latest) ? new Date(latest).toISOString() : undefined;
}

/**
 * The postpone rule, pure: the write that moves execution later by the
 * session's delay (or to `until`), or a refusal saying why (ended, executing,
 * offline, not started, the count, the deadline, the longest window).
 */
export function decidePostpone(s: Session, now: Date, by: Requester, until?: string, ref?: string): SessionChanges | undefined {
  if (ref !== undefined && s.postponements.some((postponement) => postponement.ref === ref)) return undefined;
  refuseWhenEnded(s);
  refuseWhenExecuting(s, 'postpone');
  if (s.status === 'PendingConnectivity') throw new RequestRefusedError('the computer is offline; the maintenance waits for it anyway, so there is nothing to postpone yet');
  if (s.status === 'Created') throw new RequestRefusedError('the session has not started yet; postpone once it has');
  const { delayMinutes, maxCount } = s.options.postpone;
  const deadline = postponeDeadline(s);
  if (s.postponements.length >= maxCount) {
    throw new RequestRefusedError(
      maxCount === 0 ? 'this session cannot be postponed' : `the session was already postponed ${s.postponements.length} time(s); the limit is ${maxCount}`,
    );
  }
  const from = s.executeAt ?? now.toISOString();
  const earliest = Math.max(Date.parse(from), now.getTime());
  if (until !== undefined && Date.parse(until) <= earliest) {
    throw new ValidationError('postpone', [{ field: 'until', problem: `must be later than the maintenance's current time, ${new Date(earliest).toISOString()}` }]);
  }
  const to = until === undefined ? new Date(earliest + delayMinutes * 60_000).toISOString() : new Date(until).toISOString();
  if (deadline !== undefined && Date.parse(to) > Date.parse(deadline)) {
    throw new RequestRefusedError(`postponing would move the maintenance to ${to}, past its deadline of ${deadline}`);
  }
  if (Date.parse(to) > Date.parse(s.createdAt) + MAX_WINDOW_DAYS * DAY_MS) {
    throw new RequestRefusedError(`postponing would move the maintenance more than ${MAX_WINDOW_DAYS} days past the session's start`);
  }
  return {
    status: 'Postponed',
    executeAt: to,
    postponements: [...s.postponements, { at: now.toISOString(), by, from, to, ...(ref === undefined ? {} : { ref }) }],
  };
}

/** Moves execution later by the session's postpone delay (or to the time asked), within its count and deadline. */
export async function postponeSession(deps: Dependencies, request: PostponeRequest): Promise<PostponeResult> {
  const now = deps.clock.now();
  const { session: updated, written } = await mutateSessionReporting(deps, request.sessionId, (s) => decidePostpone(s, now, request.by, request.until, request.ref), CONTENDED);
  const executeAt = updated.executeAt ?? now.toISOString();
  // a gate already parked moves its one timer; one not parked yet arms it for the new time when it gets there
  if (updated.windowWait) await deps.windowTimers.set(request.sessionId, executeAt);
  if (written) {
    const from = updated.postponements.at(-1)?.from;
    await log(deps, request.sessionId, 'Request', `maintenance postponed to ${executeAt}`, { by: request.by });
    await auditDecision(deps, updated, 'Postponed', request.by, [{ field: 'executeAt', ...(from ? { before: from } : {}), after: executeAt }]);
    await sendSessionEmailQuietly(deps, { sessionId: request.sessionId, kind: 'Postponed', variant: String(updated.postponements.length), by: request.by });
  }
  return { executeAt, postponesLeft: updated.options.postpone.maxCount - updated.postponements.length };
}

/**
 * Pulls a waiting session's execution to now and wakes its gate at once. A
 * session already due, or already executing, is left as it is (no write, no
 * log line), so repeated or concurrent run-nows act once, and the retry of one
 * that failed half-way finishes its work.
 */
export async function runSessionNow(deps: Dependencies, request: SessionRequest): Promise<{ executeAt: string }> {
  const now = deps.clock.now();
  const { session, written } = await mutateSessionReporting(deps, request.sessionId, (s) => decideRunNow(s, now), CONTENDED);
  if (written) {
    await log(deps, request.sessionId, 'Request', 'maintenance moved to now', { by: request.by });
    await auditDecision(deps, session, 'MovedToNow', request.by, [{ field: 'executeAt', after: session.executeAt ?? now.toISOString() }]);
  }
  const woke = await wakeGate(deps, request.sessionId);
  // still waiting after a run-now means waiting for one of its run's execution slots: its timer keeps looking each minute
  if (woke === 'still-waiting') await deps.windowTimers.set(request.sessionId, new Date(now.getTime() + 60_000).toISOString());
  else await deps.windowTimers.clear(request.sessionId);
  return { executeAt: session.stages.Execution.startedAt ?? session.executeAt ?? now.toISOString() };
}

/**
 * The run-now rule, pure: execution moves to now (a postponed session runs
 * again), nothing when it is already due or executing, or a refusal.
 */
export function decideRunNow(s: Session, now: Date): SessionChanges | undefined {
  refuseWhenEnded(s);
  // started already (possibly by an earlier run-now that failed before it could wake the gate): just wake it again
  if (s.stages.Execution.status === 'Running') return undefined;
  refuseWhenExecuting(s, 'run now');
  if (s.status !== 'Postponed' && s.executeAt !== undefined && Date.parse(s.executeAt) <= now.getTime()) return undefined;
  return { status: s.status === 'Postponed' ? 'Running' : s.status, executeAt: now.toISOString() };
}

/** The cancel rule, pure: cancelled once, by whoever asked first; nothing for one cancelled already; a refusal once ended. */
export function decideCancel(s: Session, now: Date, by: Requester): SessionChanges | undefined {
  if (s.status === 'Cancelled') return undefined;
  refuseWhenEnded(s);
  return { status: 'Cancelled', cancelled: { at: now.toISOString(), by } };
}

/**
 * Cancels the session. Before execution the gate ends it without touching the
 * computer; during execution the running command is cancelled, no further
 * action starts, and every action not yet run is marked Cancelled.
 */
export async function cancelSession(deps: Dependencies, request: SessionRequest): Promise<{ status: 'Cancelled' }> {
  const at = deps.clock.now();
  const now = at.toISOString();
  const { session: current, written } = await mutateSessionReporting(deps, request.sessionId, (s) => decideCancel(s, at, request.by), CONTENDED);
  // one line for one cancellation, however many people asked at once
  if (written) {
    await log(deps, request.sessionId, 'Request', 'session cancelled', { by: request.by });
    await auditDecision(deps, current, 'Cancelled', request.by, [{ field: 'status', after: 'Cancelled' }]);
  }
  // a repeated cancel does the rest again: it may be the retry of one that failed half-way
  await wakeGate(deps, request.sessionId);
  await deps.windowTimers.clear(request.sessionId);

  for (const action of await deps.sessions.getActions(request.sessionId)) {
    if (action.status !== 'NotStarted') continue;
    await moveAction(deps, request.sessionId, action.actionId, ['NotStarted'], {
      status: 'Cancelled',
      result: 'Cancelled',
      resultReason: `cancelled by ${request.by.name}`,
      endedAt: now,
    }).catch(() => undefined); // started meanwhile: its command is cancelled below
  }
  let failures = 0;
  for (const dispatch of await deps.sessions.listDispatches(request.sessionId)) {
    if (dispatch.status !== 'Sending') continue;
    try {
      // the comment names the dispatch's nonce; a command still on its way out is found by the reconciler,
      // which cancels what it finds running for a cancelled session
      const commandId = await deps.agent.findCommand(current.agentId, commandComment(request.sessionId, dispatch.key, dispatch.nonce), new Date(dispatch.createdAt));
      if (commandId === undefined) continue;
      await deps.agent.cancel(commandId, current.agentId);
      await log(deps, request.sessionId, 'Agent', `cancelled the running command (${dispatch.key})`);
    } catch (error) {
      // one command that cannot be cancelled now must not keep the others running
      failures++;
      deps.logger.warn('cancelling a command failed', { sessionId: request.sessionId, key: dispatch.key, error: error instanceof Error ? error.message : String(error) });
    }
  }
  if (written) await sendSessionEmailQuietly(deps, { sessionId: request.sessionId, kind: 'Cancelled', by: request.by });
  if (failures > 0) throw new TransientError(`the session is cancelled, but ${failures} running command(s) could not be stopped yet; try again`);
  return { status: 'Cancelled' };
}

/** Who asks does not change any request rule; the judgement below needs someone to name. */
const ANYONE: Requester = { kind: 'Operator', name: 'anyone' };

/**
 * What may be asked of the session now: each request judged by its own rule
 * (`decideRunNow`, `decidePostpone`, `decideCancel`), so what the console
 * offers and what the API takes cannot disagree. A refusal carries the
 * request's own words. A rerun starts a new session from an ended one.
 */
export function allowedRequests(s: Session, now: Date): SessionRequestsAllowed {
  const judge = (decide: () => unknown): RequestAllowance => {
    try {
      decide();
      return { allowed: true };
    } catch (error) {
      if (error instanceof RequestRefusedError) return { allowed: false, reason: error.message };
      throw error;
    }
  };
  const ended = isFinalSessionStatus(s.status);
  return {
    runNow: judge(() => decideRunNow(s, now)),
    postpone: judge(() => decidePostpone(s, now, ANYONE)),
    // a second cancel is taken (it does the rest again) but asks nothing new of a cancelled session
    cancel: s.status === 'Cancelled' ? { allowed: false, reason: 'the session is already cancelled' } : judge(() => decideCancel(s, now, ANYONE)),
    rerun: ended ? { allowed: true } : { allowed: false, reason: 'the session has not ended yet: cancel it, or wait for its end' },
  };
}
