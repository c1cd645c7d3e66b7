import { ConflictError, IllegalTransitionError, NotFoundError, TransientError } from '../errors.js';
import {
  canTransitionAction,
  canTransitionSession,
  type Action,
  type ActionStatus,
  type Session,
  type SessionLogEntry,
  type Stage,
  type StageName,
} from '../model/session.js';
import type { ActionChanges, SessionChanges, SessionPartsWanted, SessionWithParts } from '../ports/session-store.port.js';
import type { Dependencies } from './dependencies.js';

const MAX_OPTIMISTIC_ATTEMPTS = 5;

export async function loadSession(deps: Pick<Dependencies, 'sessions'>, sessionId: string): Promise<Session> {
  const session = await deps.sessions.getSession(sessionId);
  if (!session) throw new NotFoundError('session', sessionId);
  return session;
}

/** The session and the parts a stage needs with it, in one read; `NotFoundError` without the session. */
export async function loadSessionWith(
  deps: Pick<Dependencies, 'sessions'>,
  sessionId: string,
  parts: SessionPartsWanted,
): Promise<SessionWithParts & { readonly session: Session }> {
  const found = await deps.sessions.getSessionWith(sessionId, parts);
  const { session } = found;
  if (!session) throw new NotFoundError('session', sessionId);
  return { ...found, session };
}

/**
 * Read, decide, conditionally write; on a lost race read again and decide
 * again. `decide` returns `undefined` when the session is already where it
 * should be (a repeated step), which makes callers idempotent for free.
 */
export async function mutateSession(
  deps: Pick<Dependencies, 'sessions' | 'clock'>,
  sessionId: string,
  decide: (session: Session) => SessionChanges | undefined,
  options: MutateOptions = {},
): Promise<Session> {
  return (await mutateSessionReporting(deps, sessionId, decide, options)).session;
}

export interface MutateOptions {
  /**
   * Requests from people (postpone, run-now, cancel) may meet many others at
   * once. Every lost race means someone else's write landed, so retrying
   * converges; when it still does not, the caller hears `ConflictError` with
   * the session's state, never a `TransientError` for a race it lost.
   */
  readonly contended?: boolean;
  /**
   * The session as the caller just read it: the first write is decided from
   * it, without reading again, and its version still guards that write (a
   * copy that went stale loses the race and the next round reads). A copy
   * that calls for no change proves nothing (it may be the stale one), so
   * the session is then read before `undefined` is believed.
   */
  readonly current?: Session;
}

/** A write decided from the caller's copy, when that copy calls for a change it may make; otherwise the session is read. */
function decideOn(session: Session, decide: (session: Session) => SessionChanges | undefined): { session: Session; changes: SessionChanges } | undefined {
  const changes = decide(session);
  if (!changes || (changes.status && !canTransitionSession(session.status, changes.status))) return undefined;
  return { session, changes };
}

/** Up to this many read-decide-write rounds for a request from a person; each lost round is someone else's success. */
const MAX_CONTENDED_ATTEMPTS = 50;

/**
 * `mutateSession` that also says whether this call's own write changed the
 * session, so side effects (a log line, completing a token) happen once, from
 * the write's result, not from an earlier read.
 */
export async function mutateSessionReporting(
  deps: Pick<Dependencies, 'sessions' | 'clock'>,
  sessionId: string,
  decide: (session: Session) => SessionChanges | undefined,
  options: MutateOptions = {},
): Promise<{ session: Session; written: boolean }> {
  const maxAttempts = options.contended ? MAX_CONTENDED_ATTEMPTS : MAX_OPTIMISTIC_ATTEMPTS;
  let known = options.current;
  for (let attempt = 1; ; attempt++) {
    const fromCaller = known && decideOn(known, decide);
    known = undefined;
    const session = fromCaller?.session ?? (await loadSession(deps, sessionId));
    const changes = fromCaller?.changes ?? decide(session);
    if (!changes) return { session, written: false };
    if (changes.status && !canTransitionSession(session.status, changes.status)) {
      throw new IllegalTransitionError('session', session.status, changes.status);
    }
    try {
      return { session: await deps.sessions.updateSession(sessionId, session.version, changes, deps.clock.now().toISOString()), written: true };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (attempt >= maxAttempts) {
        if (options.contended) {
          throw new ConflictError(`session ${sessionId} is being changed by many requests at once (now ${session.status}); try again`, { cause: error });
        }
        throw new TransientError(`session ${sessionId} kept changing under us`, { cause: error });
      }
    }
  }
}

/** The stages record with one stage replaced. */
export const withStage = (session: Session, name: StageName, stage: Stage): Session['stages'] => ({
  ...session.stages,
  [name]: stage,
});

/**
 * A conditional action write whose status change is checked against the
 * transition table first: an illegal change is refused before any write, a
 * stale one by the store's condition.
 */
export async function moveAction(
  deps: Pick<Dependencies, 'sessions'>,
  sessionId: string,
  actionId: string,
  from: readonly ActionStatus[],
  changes: ActionChanges,
  options: { readonly settleDispatch?: boolean } = {},
): Promise<Action> {
  const to = changes.status;
  if (to !== undefined) {
    const illegal = from.find((status) => !canTransitionAction(status, to));
    if (illegal) throw new IllegalTransitionError('action', illegal, to);
  }
  return deps.sessions.updateAction(sessionId, actionId, from, changes, options);
}

/**
 * Gives every action the session will not run an end: one that never started
 * is Cancelled; one whose command may have run, or that was never verified, is
 * Indeterminable. Used when a session ends early (cancelled, or failed).
 */
export async function closeUnfinishedActions(deps: Pick<Dependencies, 'sessions' | 'clock'>, sessionId: string, why: string): Promise<Action[]> {
  const now = deps.clock.now().toISOString();
  const closed: Action[] = [];
  for (const action of await deps.sessions.getActions(sessionId)) {
    const changes =
      action.status === 'NotStarted'
        ? ({ status: 'Cancelled', result: 'Cancelled', resultReason: why, endedAt: now } as const)
        : action.status === 'PerformingAction' || action.status === 'DeterminingResult'
          ? ({ status: 'Complete', result: 'Indeterminable', resultReason: `${why}; its effect is unknown`, endedAt: now } as const)
          : undefined;
    if (!changes) {
      closed.push(action);
      continue;
    }
    try {
      closed.push(await moveAction(deps, sessionId, action.actionId, [action.status], changes));
    } catch (error) {
      // moved on by a late completion meanwhile: keep what it recorded
      if (!(error instanceof ConflictError)) throw error;
      const current = await deps.sessions.getAction(sessionId, action.actionId);
      if (current) closed.push(current);
    }
  }
  return closed;
}

/** Appends one line to the session's log, stamped with the injected clock. */
export async function log(
  deps: Pick<Dependencies, 'sessionLog' | 'clock'>,
  sessionId: string,
  kind: SessionLogEntry['kind'],
  message: string,
  extra: Pick<SessionLogEntry, 'by' | 'actionId' | 'output'> = {},
): Promise<void> {
  await deps.sessionLog.append({ sessionId, at: deps.clock.now().toISOString(), kind, message, ...extra });
}
