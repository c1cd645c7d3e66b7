import type { Dispatch, DispatchKey, DispatchOutcome } from '../model/agent.js';
import type { ItemKey, MaintenanceTask, Software } from '../model/catalog.js';
import type { Action, ActionStatus, DetectionPhase, DetectionSnapshot, PlanSnapshot, Session, SessionStatus } from '../model/session.js';
import type { SessionCountQuery, SessionListPage, SessionListQuery, SessionStatusCounts } from '../model/session-list.js';
import type { ClosedSessionUsage, SessionUsage } from '../model/usage.js';

/** The session listing's types live with its pure logic (model/session-list.ts); the port speaks them. */
export type { SessionCountQuery, SessionListPage, SessionListQuery, SessionStatusCounts, SessionSummary } from '../model/session-list.js';

export interface ActionContext {
  readonly session?: Session;
  readonly action?: Action;
  readonly dispatch?: Dispatch;
  readonly prerequisites: Action[];
  readonly software?: Software;
  readonly task?: MaintenanceTask;
}

/** What a stage reads besides its session, in the same call (see `getSessionWith`). */
export interface SessionPartsWanted {
  readonly detection?: DetectionPhase;
  readonly plan?: boolean;
  readonly dispatch?: DispatchKey;
}

/** The session and the parts asked for; absent ones are left out. */
export interface SessionWithParts {
  readonly session?: Session;
  readonly detection?: DetectionSnapshot;
  readonly plan?: PlanSnapshot;
  readonly dispatch?: Dispatch;
}

/** Fields a session update may change. */
export type SessionChanges = Partial<
  Pick<Session, 'status' | 'stages' | 'items' | 'failure' | 'endedAt' | 'executeAt' | 'postponements' | 'cancelled' | 'rebootPending' | 'windowWait' | 'actionCount'>
>;

export type ActionChanges = Partial<
  Pick<
    Action,
    | 'status'
    | 'result'
    | 'resultReason'
    | 'resultStage'
    | 'startedAt'
    | 'endedAt'
    | 'exitCode'
    | 'durationMs'
    | 'rebootRequired'
    | 'outputTail'
    | 'versionAfter'
  >
>;

/** What a finished action command records, in one write (see `completeActionDispatch`). */
export interface CompleteActionDispatchInput {
  readonly sessionId: string;
  readonly actionId: string;
  readonly nonce: string;
  readonly types: readonly Action['type'][];
  readonly changes: ActionChanges;
  readonly outcome: DispatchOutcome;
  readonly now: string;
  readonly checkAfterSeconds: number;
}

/**
 * Sessions, their actions, detection snapshots and agent dispatches.
 *
 * Every mutating method is a single conditional write: it either applies
 * against exactly the state the caller names, or throws `ConflictError` and
 * changes nothing. That is what makes at-least-once delivery safe.
 */
/** Where a session of a run stands: its status, and whether it is detected and waiting to execute (`isAwaitingExecution`). */
export interface SessionProgress {
  readonly status: SessionStatus;
  readonly awaitingExecution: boolean;
}

/** What a session's status read returns. */
export type SessionStatusView = Pick<Session, 'status' | 'cancelled'>;

export interface SessionStore {
  /** Creates the session; `ConflictError` if one with that id exists. */
  createSession(session: Session): Promise<void>;
  getSession(sessionId: string): Promise<Session | undefined>;
  /** Only the status and who cancelled: the read a hot path makes, without the session's frozen items. */
  getSessionStatus(sessionId: string): Promise<SessionStatusView | undefined>;
  /** The statuses of many sessions at once (a run's), without their items; unknown ids are absent. */
  getSessionStatuses(sessionIds: readonly string[]): Promise<Map<string, SessionProgress>>;
  /** Applies `changes` if the stored session is still at `expectedVersion`; returns the new session. */
  updateSession(sessionId: string, expectedVersion: number, changes: SessionChanges, now: string): Promise<Session>;
  /** The computer's sessions, newest created first. */
  listSessionsByComputer(computerId: string, limit: number): Promise<Session[]>;
  /** Sessions in `status`, most recently updated first (each as stored now: one that has moved on is left out). */
  listSessionsByStatus(status: SessionStatus, limit: number): Promise<Session[]>;
  /** Sessions that have been in `status` since before `updatedBefore`, oldest first (the sweeper's question). */
  listSessionsInStatusSince(status: SessionStatus, updatedBefore: string, limit: number): Promise<Session[]>;
  /**
   * One page of session summaries created in [from, to), newest first,
   * narrowed by tenants, computer and status. `cursor` comes from the page
   * before, of the same query (filters and range): anything else is a
   * `ValidationError` naming `cursor`, raised before the table is read. Sessions
   * created after the first page was read never show up on a later page, so
   * the pages of one walk add up to the list as it was, without gaps or repeats.
   */
  listSessions(query: SessionListQuery): Promise<SessionListPage>;
  /** How many sessions of each status the query's range holds, narrowed by tenants and computer (not by status: the counts sit beside a status-filtered list). Exact. */
  countSessions(query: SessionCountQuery): Promise<SessionStatusCounts>;
  /**
   * Makes `sessionId` the computer's one active session, if no session holds
   * it, it holds it already, or `replacing` (a holder the caller found
   * finished or superseded) still does. Returns the holder after the attempt
   * and when it claimed.
   */
  claimComputer(computerId: string, sessionId: string, replacing: string | undefined, now: string): Promise<{ holder: string; claimedAt: string }>;

  /** Writes actions added after the plan (a restart); actions an earlier attempt already wrote are left as they are. */
  createActions(sessionId: string, actions: readonly Action[]): Promise<void>;
  /**
   * Writes the plan's actions in batches, unconditionally: only for the Plan
   * step before it records its snapshot, when no step of the workflow can
   * have touched an action yet (execution starts after Plan returns, and a
   * repeated Plan that finds the snapshot writes nothing). A repeat before the
   * snapshot writes the same actions again. The one other writer is a cancel
   * racing that repeat (a cancelled session's Plan writes nothing): an action
   * it closed may be written back NotStarted, and the report closes it again.
   */
  createPlannedActions(sessionId: string, actions: readonly Action[]): Promise<void>;
  getActions(sessionId: string): Promise<Action[]>;
  getAction(sessionId: string, actionId: string): Promise<Action | undefined>;
  /**
   * The session, one action, the actions it depends on and (given its
   * `itemKey`) the catalog entry its script comes from, in one read; absent
   * ones are left out.
   */
  getActionContext(sessionId: string, actionId: string, prerequisiteIds: readonly string[], itemKey?: ItemKey): Promise<ActionContext>;
  /**
   * Applies `changes` if the action is still in one of `expectedStatuses`.
   * `settleDispatch`: the workflow has moved past the action's step, so its
   * dispatch leaves the reconciler's worklist in the same write.
   */
  updateAction(
    sessionId: string,
    actionId: string,
    expectedStatuses: readonly ActionStatus[],
    changes: ActionChanges,
    options?: { readonly settleDispatch?: boolean },
  ): Promise<Action>;
  /**
   * Starts an action and claims its dispatch in one write: NotStarted →
   * `started`, with `dispatch` (Sending) on the action. If the action was not
   * NotStarted or already had a dispatch, writes nothing and returns what is
   * stored (`created: false`).
   */
  startActionDispatch(
    dispatch: Dispatch,
    started: ActionChanges,
  ): Promise<{ created: boolean; action?: Action; dispatch?: Dispatch }>;
  /**
   * Records a finished action command in one write: the action's `changes`,
   * its dispatch Completed with `outcome` and the command id. Only if the
   * action is PerformingAction of a type in `types`, and its dispatch is
   * Sending with `nonce`; `ConflictError` otherwise (writes nothing). The
   * dispatch stays on the reconciler's worklist, due `checkAfterSeconds`
   * later, until the report settles it (or the reconciler finds its step told).
   */
  completeActionDispatch(input: CompleteActionDispatchInput): Promise<{ action: Action; dispatch: Dispatch }>;

  /**
   * The session with its detection snapshot, plan and one dispatch (those
   * `parts` asks for) in one read: a stage that needs several of them pays
   * one call, not one each.
   */
  getSessionWith(sessionId: string, parts: SessionPartsWanted): Promise<SessionWithParts>;

  /** Whole snapshots: a repeated step writes the same facts again. */
  savePlan(plan: PlanSnapshot): Promise<void>;
  getPlan(sessionId: string): Promise<PlanSnapshot | undefined>;

  saveDetection(snapshot: DetectionSnapshot): Promise<void>;
  getDetection(sessionId: string, phase: DetectionPhase): Promise<DetectionSnapshot | undefined>;

  /** Records a new dispatch; returns the existing one instead if the key was dispatched before. */
  claimDispatch(dispatch: Dispatch): Promise<{ created: boolean; dispatch: Dispatch }>;
  /** Points an existing, unfinished dispatch at a new workflow attempt. */
  replaceDispatchToken(sessionId: string, key: DispatchKey, taskToken: string): Promise<Dispatch>;
  /** Extends a stale Sending claim's lease to this attempt; `ConflictError` if another attempt took it first. */
  takeOverDispatch(sessionId: string, key: DispatchKey, previousLeaseUntil: string | undefined, leaseUntil: string): Promise<Dispatch>;
  getDispatch(sessionId: string, key: DispatchKey): Promise<Dispatch | undefined>;
  /**
   * Sending → Completed for the command with `nonce`; returns the record as
   * written (with the latest token). `ConflictError` if another completion got
   * there first. (Actions complete through `completeActionDispatch`.)
   */
  completeDispatch(sessionId: string, key: DispatchKey, nonce: string, outcome: DispatchOutcome, now: string): Promise<Dispatch>;
  /** The waiting step has been told: the dispatch leaves the reconciler's worklist. */
  markTokenDelivered(sessionId: string, key: DispatchKey): Promise<void>;
  /** Every dispatch of the session, those on its actions included. */
  listDispatches(sessionId: string): Promise<Dispatch[]>;
  /** Sending → Abandoned, out of the reconciler's worklist: its session ended before a command went out. */
  abandonDispatch(sessionId: string, key: DispatchKey): Promise<void>;
  /**
   * The reconciler's worklist: dispatches whose workflow step has not been
   * answered yet (Sending, or Completed but not known to be delivered) and whose
   * `dueAt` is before `dueBefore`: the earliest due of them, in due order, at
   * most `limit` (maybe fewer though more are due). Every dispatch the caller
   * looks at leaves this range (rescheduled, completed or abandoned), so asking
   * again gives the next ones; an empty answer means nothing else is due.
   */
  listWaitingDispatches(dueBefore: string, limit: number): Promise<Dispatch[]>;
  /**
   * Moves a waiting dispatch's next look from `fromDueAt` (as it was read) to
   * `toDueAt` and counts the look; `ConflictError` if it changed since it was
   * read (answered, or moved by another run), which leaves it as it is.
   */
  rescheduleDispatch(sessionId: string, key: DispatchKey, fromDueAt: string, toDueAt: string): Promise<void>;

  /**
   * What the session used so far, as its invocations counted it (an item of
   * its own beside the session: metering never writes the session item, so
   * a status change stays one conditional write); absent before the first.
   */
  getUsage(sessionId: string): Promise<SessionUsage | undefined>;
  /**
   * Its execution ended: records the execution's state transitions and
   * freezes the usage as it stands, once. A repeated close changes nothing
   * and answers what the first one froze.
   */
  closeUsage(sessionId: string, close: { readonly stateTransitions?: number | undefined; readonly runId?: string | undefined; readonly at: string }): Promise<ClosedSessionUsage>;
}
