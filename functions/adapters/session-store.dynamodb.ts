import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { dispatchDueAt, type Dispatch, type DispatchKey, type DispatchOutcome } from '../core/model/agent.js';
import type {
  Action,
  ActionStatus,
  DetectionPhase,
  DetectionSnapshot,
  PlanSnapshot,
  Session,
  SessionStatus,
} from '../core/model/session.js';
import type { ActionChanges, SessionChanges, SessionStore } from '../core/ports/session-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

const sessionPk = (sessionId: string): string => `SESSION#${sessionId}`;
const SESSION_SK = 'SESSION';
const actionSk = (actionId: string): string => `ACTION#${actionId}`;
const detectionSk = (phase: DetectionPhase): string => `DETECTION#${phase}`;
const PLAN_SK = 'PLAN';
const dispatchSk = (key: DispatchKey): string => `DISPATCH#${key}`;

/**
 * The reconciler's worklist: sparse GSI2 partitions holding the dispatches
 * whose workflow step is still unanswered, sorted by when an answer is due.
 * Every write to a waiting dispatch also writes its index entry, so one
 * partition for all of them would cap the fleet at one partition's write
 * rate: entries are spread over shards by a hash of session and key, and a
 * dispatch keeps its shard for life (a reschedule rewrites its entry in place).
 */
export const WAITING_SHARD_COUNT = 16;
export const waitingShardPk = (shard: number): string => `DISPATCH#Waiting#${shard}`;
const shardOf = (sessionId: string, key: DispatchKey): number =>
  createHash('sha256').update(`${sessionId}#${key}`).digest().readUInt32BE(0) % WAITING_SHARD_COUNT;
/** The one partition of records written before sharding: still read, and each look moves its entry to its shard, so it drains. */
const UNSHARDED_WAITING_PK = 'DISPATCH#Waiting';
/** Due time first, so every shard reads earliest due first; session and key make the entry unique. */
const waitingSk = (dueAt: string, sessionId: string, key: DispatchKey): string => `${dueAt}#${sessionId}#${key}`;
const waitingIndex = (sessionId: string, key: DispatchKey, dueAt: string) => ({
  GSI2PK: waitingShardPk(shardOf(sessionId, key)),
  GSI2SK: waitingSk(dueAt, sessionId, key),
});

/** Beside the computer's catalog item: which session is its active one. */
const ACTIVE_SESSION_SK = 'ACTIVE_SESSION';

const statusIndex = (status: SessionStatus, updatedAt: string, sessionId: string) => ({
  GSI2PK: `STATUS#${status}`,
  GSI2SK: `${updatedAt}#${sessionId}`,
});

export class DynamoSessionStore implements SessionStore {
  constructor(private readonly table: DynamoTable) {}

  async createSession(session: Session): Promise<void> {
    const written = await this.table.putIf(
      {
        PK: sessionPk(session.id),
        SK: SESSION_SK,
        entity: 'Session',
        GSI1PK: `COMPUTER#${session.computerId}`,
        GSI1SK: `${session.createdAt}#${session.id}`,
        ...statusIndex(session.status, session.updatedAt, session.id),
        ...session,
      },
      'attribute_not_exists(PK)',
    );
    if (!written) throw new ConflictError(`session ${session.id} already exists`);
  }

  async getSession(sessionId: string): Promise<Session | undefined> {
    const item = await this.table.get(sessionPk(sessionId), SESSION_SK);
    return item ? toEntity<Session>(item) : undefined;
  }

  async updateSession(sessionId: string, expectedVersion: number, changes: SessionChanges, now: string): Promise<Session> {
    const current = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: SESSION_SK },
      set: {
        ...changes,
        version: expectedVersion + 1,
        updatedAt: now,
        ...(changes.status ? statusIndex(changes.status, now, sessionId) : { GSI2SK: `${now}#${sessionId}` }),
      },
      condition: 'attribute_exists(PK) AND #version = :expectedVersion',
      conditionNames: { '#version': 'version' },
      conditionValues: { ':expectedVersion': expectedVersion },
      conflict: `session ${sessionId} is no longer at version ${expectedVersion}`,
    }).catch(async (error: unknown) => {
      if (error instanceof ConflictError && !(await this.getSession(sessionId))) throw new NotFoundError('session', sessionId);
      throw error;
    });
    return toEntity<Session>(current);
  }

  async listSessionsByComputer(computerId: string, limit: number): Promise<Session[]> {
    const items = await this.table.query({ pk: `COMPUTER#${computerId}`, index: 'GSI1', limit, newestFirst: true });
    return items.map((item) => toEntity<Session>(item));
  }

  async listSessionsByStatus(status: SessionStatus, limit: number): Promise<Session[]> {
    const items = await this.table.query({ pk: `STATUS#${status}`, index: 'GSI2', limit, newestFirst: true });
    return items.map((item) => toEntity<Session>(item));
  }

  async listSessionsInStatusSince(status: SessionStatus, updatedBefore: string, limit: number): Promise<Session[]> {
    // GSI2SK starts with updatedAt, so "in this status since before T" is a range read, oldest first
    const items = await this.table.query({ pk: `STATUS#${status}`, index: 'GSI2', skBefore: updatedBefore, limit });
    return items.map((item) => toEntity<Session>(item));
  }

  async claimComputer(computerId: string, sessionId: string, replacing: string | undefined, now: string): Promise<{ holder: string; claimedAt: string }> {
    // One item per computer names its active session. Taking it is one conditional write: free, already ours
    // (a retried start), or held by the session the caller found finished. The claim is never released on
    // purpose: a finished holder is as good as none, so no session end has to remember to let go.
    try {
      await this.table.update({
        key: { PK: `COMPUTER#${computerId}`, SK: ACTIVE_SESSION_SK },
        set: { entity: 'ActiveSession', computerId, sessionId, claimedAt: now },
        condition: `attribute_not_exists(PK) OR #holder = :mine${replacing === undefined ? '' : ' OR #holder = :replacing'}`,
        conditionNames: { '#holder': 'sessionId' },
        conditionValues: { ':mine': sessionId, ...(replacing === undefined ? {} : { ':replacing': replacing }) },
        conflict: `computer ${computerId} has another active session`,
      });
      return { holder: sessionId, claimedAt: now };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const item = await this.table.get(`COMPUTER#${computerId}`, ACTIVE_SESSION_SK);
      return {
        holder: typeof item?.sessionId === 'string' ? item.sessionId : sessionId,
        claimedAt: typeof item?.claimedAt === 'string' ? item.claimedAt : now,
      };
    }
  }

  async createActions(sessionId: string, actions: readonly Action[]): Promise<void> {
    // One conditional put per action: a repeated Plan step finds them written and leaves them as they are.
    for (const action of actions) {
      await this.table.putIf(
        { PK: sessionPk(sessionId), SK: actionSk(action.actionId), entity: 'Action', ...action },
        'attribute_not_exists(PK)',
      );
    }
  }

  async getActions(sessionId: string): Promise<Action[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'ACTION#' });
    return items.map((item) => toEntity<Action>(item));
  }

  async getAction(sessionId: string, actionId: string): Promise<Action | undefined> {
    const item = await this.table.get(sessionPk(sessionId), actionSk(actionId));
    return item ? toEntity<Action>(item) : undefined;
  }

  async updateAction(
    sessionId: string,
    actionId: string,
    expectedStatuses: readonly ActionStatus[],
    changes: ActionChanges,
  ): Promise<Action> {
    const placeholders = expectedStatuses.map((_, index) => `:expected${index}`);
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: actionSk(actionId) },
      set: changes,
      condition: `attribute_exists(PK) AND #status IN (${placeholders.join(', ')})`,
      conditionNames: { '#status': 'status' },
      conditionValues: Object.fromEntries(expectedStatuses.map((status, index) => [`:expected${index}`, status])),
      conflict: `action ${sessionId}/${actionId} is not ${expectedStatuses.join(' or ')}`,
    });
    return toEntity<Action>(item);
  }

  async savePlan(plan: PlanSnapshot): Promise<void> {
    await this.table.putIf({ PK: sessionPk(plan.sessionId), SK: PLAN_SK, entity: 'Plan', ...plan }, undefined);
  }

  async getPlan(sessionId: string): Promise<PlanSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), PLAN_SK);
    return item ? toEntity<PlanSnapshot>(item) : undefined;
  }

  async saveDetection(snapshot: DetectionSnapshot): Promise<void> {
    // A whole snapshot per phase: a redelivered completion writes the same facts again.
    await this.table.putIf(
      { PK: sessionPk(snapshot.sessionId), SK: detectionSk(snapshot.phase), entity: 'Detection', ...snapshot },
      undefined,
    );
  }

  async getDetection(sessionId: string, phase: DetectionPhase): Promise<DetectionSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), detectionSk(phase));
    return item ? toEntity<DetectionSnapshot>(item) : undefined;
  }

  async claimDispatch(dispatch: Dispatch): Promise<{ created: boolean; dispatch: Dispatch }> {
    const created = await this.table.putIf(
      {
        PK: sessionPk(dispatch.sessionId),
        SK: dispatchSk(dispatch.key),
        entity: 'Dispatch',
        ...waitingIndex(dispatch.sessionId, dispatch.key, dispatchDueAt(dispatch)),
        ...dispatch,
      },
      'attribute_not_exists(PK)',
    );
    if (created) return { created, dispatch };
    const existing = await this.getDispatch(dispatch.sessionId, dispatch.key);
    if (!existing) throw new ConflictError(`dispatch ${dispatch.sessionId}/${dispatch.key} vanished while claimed`);
    return { created, dispatch: existing };
  }

  async replaceDispatchToken(sessionId: string, key: DispatchKey, taskToken: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { taskToken, tokenDelivered: false },
      increment: { attempts: 1 },
      condition: 'attribute_exists(PK) AND #status <> :completed',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':completed': 'Completed' },
      conflict: `dispatch ${sessionId}/${key} already completed`,
    });
    return toEntity<Dispatch>(item);
  }

  async takeOverDispatch(sessionId: string, key: DispatchKey, previousLeaseUntil: string | undefined, leaseUntil: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { leaseUntil },
      condition:
        previousLeaseUntil === undefined
          ? '#status = :sending AND attribute_not_exists(#lease)'
          : '#status = :sending AND #lease = :previous',
      conditionNames: { '#status': 'status', '#lease': 'leaseUntil' },
      conditionValues: { ':sending': 'Sending', ...(previousLeaseUntil === undefined ? {} : { ':previous': previousLeaseUntil }) },
      conflict: `dispatch ${sessionId}/${key} was taken over by another attempt`,
    });
    return toEntity<Dispatch>(item);
  }

  async markDispatchSent(sessionId: string, key: DispatchKey, commandId: string): Promise<void> {
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { status: 'Sent', commandId },
      condition: '#status = :sending',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sending': 'Sending' },
      conflict: `dispatch ${sessionId}/${key} already has its command`,
    });
  }

  async getDispatch(sessionId: string, key: DispatchKey): Promise<Dispatch | undefined> {
    const item = await this.table.get(sessionPk(sessionId), dispatchSk(key));
    return item ? toEntity<Dispatch>(item) : undefined;
  }

  async completeDispatch(sessionId: string, key: DispatchKey, outcome: DispatchOutcome, now: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      // due at once: if the step is not told (a crash right after this write), the reconciler's next run tells it
      set: { status: 'Completed', outcome, completedAt: now, dueAt: now, ...waitingIndex(sessionId, key, now) },
      condition: '#status = :sent',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sent': 'Sent' },
      conflict: `dispatch ${sessionId}/${key} was completed already`,
    });
    return toEntity<Dispatch>(item);
  }

  async markTokenDelivered(sessionId: string, key: DispatchKey): Promise<void> {
    // only now does the dispatch leave the reconciler's worklist: until the workflow is told, it may need telling again
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { tokenDelivered: true },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: 'attribute_exists(PK)',
      conflict: `dispatch ${sessionId}/${key} does not exist`,
    });
  }

  async abandonDispatch(sessionId: string, key: DispatchKey): Promise<void> {
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { status: 'Abandoned' },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: '#status = :sending',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sending': 'Sending' },
      conflict: `dispatch ${sessionId}/${key} is no longer sending`,
    });
  }

  async listWaitingDispatches(dueBefore: string, limit: number): Promise<Dispatch[]> {
    // A share of every shard, earliest due first. A shard that filled its share may hold more beyond its last
    // entry, so only entries up to the lowest such last entry are certainly the earliest of the whole worklist:
    // the answer stops there, and the caller, having moved what it looked at, reads on from there next time.
    // Twice an even share puts that cut near `limit` when the shards are about even, as the hash keeps them.
    const share = Math.ceil((2 * limit) / WAITING_SHARD_COUNT);
    const partitions = [...Array.from({ length: WAITING_SHARD_COUNT }, (_, shard) => waitingShardPk(shard)), UNSHARDED_WAITING_PK];
    const pages = await Promise.all(partitions.map((pk) => this.table.query({ pk, index: 'GSI2', skBefore: dueBefore, limit: share })));
    const sortKey = (item: Record<string, unknown>): string => String(item.GSI2SK);
    const frontier = pages
      .filter((page) => page.length >= share)
      .map((page) => sortKey(page[page.length - 1] ?? {}))
      .reduce<string | undefined>((lowest, last) => (lowest === undefined || last < lowest ? last : lowest), undefined);
    return pages
      .flat()
      .filter((item) => frontier === undefined || sortKey(item) <= frontier)
      // byte order, as DynamoDB sorts keys (localeCompare would weigh punctuation differently)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
      .slice(0, limit)
      .map((item) => toEntity<Dispatch>(item));
  }

  async rescheduleDispatch(sessionId: string, key: DispatchKey, fromDueAt: string, toDueAt: string): Promise<void> {
    // The entry as it was read is the condition: an answer that arrived since (entry moved or gone) or another
    // run that looked first wins, and this look changes nothing.
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { dueAt: toDueAt, ...waitingIndex(sessionId, key, toDueAt) },
      increment: { looks: 1 },
      condition: '#waiting = :from',
      conditionNames: { '#waiting': 'GSI2SK' },
      conditionValues: { ':from': waitingSk(fromDueAt, sessionId, key) },
      conflict: `dispatch ${sessionId}/${key} is no longer waiting at ${fromDueAt}`,
    });
  }

  async listDispatches(sessionId: string): Promise<Dispatch[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'DISPATCH#' });
    return items.map((item) => toEntity<Dispatch>(item));
  }
}
