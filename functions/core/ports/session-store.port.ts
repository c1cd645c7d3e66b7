import type { Dispatch, DispatchKey, DispatchOutcome } from '../model/agent.js';
import type { Action, ActionStatus, DetectionPhase, DetectionSnapshot, PlanSnapshot, Session, SessionStatus } from '../model/session.js';

/** Fields a session update may change. */
export type SessionChanges = Partial<
  Pick<Session, 'status' | 'stages' | 'items' | 'failure' | 'endedAt' | 'executeAt' | 'postponements' | 'cancelled' | 'rebootPending'>
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

/**
 * Sessions, their actions, detection snapshots and agent dispatches.
 *
 * Every mutating method is a single conditional write: it either applies
 * against exactly the state the caller names, or throws `ConflictError` and
 * changes nothing. That is what makes at-least-once delivery safe.
 */
export interface SessionStore {
  /** Creates the session; `ConflictError` if one with that id exists. */
  createSession(session: Session): Promise<void>;
  getSession(sessionId: string): Promise<Session | undefined>;
  /** Applies `changes` if the stored session is still at `expectedVersion`; returns the new session. */
  updateSession(sessionId: string, expectedVersion: number, changes: SessionChanges, now: string): Promise<Session>;
  listSessionsByComputer(computerId: string, limit: number): Promise<Session[]>;
  listSessionsByStatus(status: SessionStatus, limit: number): Promise<Session[]>;

  /** Writes the planned actions; actions an earlier attempt already wrote are left as they are. */
  createActions(sessionId: string, actions: readonly Action[]): Promise<void>;
  getActions(sessionId: string): Promise<Action[]>;
  getAction(sessionId: string, actionId: string): Promise<Action | undefined>;
  /** Applies `changes` if the action is still in one of `expectedStatuses`. */
  updateAction(
    sessionId: string,
    actionId: string,
    expectedStatuses: readonly ActionStatus[],
    changes: ActionChanges,
  ): Promise<Action>;

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
  /** Sending → Sent with the agent's command id; `ConflictError` if another attempt recorded its command first. */
  markDispatchSent(sessionId: string, key: DispatchKey, commandId: string): Promise<void>;
  getDispatch(sessionId: string, key: DispatchKey): Promise<Dispatch | undefined>;
  /** Sent → Completed; returns the record as written (with the latest token). `ConflictError` if another completion got there first. */
  completeDispatch(sessionId: string, key: DispatchKey, outcome: DispatchOutcome, now: string): Promise<Dispatch>;
  markTokenDelivered(sessionId: string, key: DispatchKey): Promise<void>;
  listDispatches(sessionId: string): Promise<Dispatch[]>;
  /** Sending → Abandoned, out of the reconciler's worklist: its session ended before a command went out. */
  abandonDispatch(sessionId: string, key: DispatchKey): Promise<void>;
  /**
   * Dispatches whose workflow step has not been answered yet (Sending, Sent, or
   * Completed but undelivered), oldest first, created before the given time:
   * the reconciler's worklist.
   */
  listWaitingDispatches(createdBefore: string, limit: number): Promise<Dispatch[]>;
}
