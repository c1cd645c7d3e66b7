import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { dispatchDueAt, type Dispatch, type DispatchKey, type DispatchOutcome } from '../core/model/agent.js';
import type { ItemKey, MaintenanceTask, Software } from '../core/model/catalog.js';
import type {
  Action,
  ActionStatus,
  DetectionPhase,
  DetectionSnapshot,
  PlanSnapshot,
  Session,
  SessionStatus,
} from '../core/model/session.js';
import { isFinalSessionStatus } from '../core/model/session.js';
import type { ClosedSessionUsage, SessionUsage } from '../core/model/usage.js';
import {
  encodeSessionListCursor,
  isAwaitingExecution,
  MAX_TENANTS_READ_ONE_BY_ONE,
  noSessionCounts,
  sessionListCursorPosition,
  sessionRangeProblems,
  toSessionSummary,
  utcDaysCovering,
  utcMonthsCovering,
  type SessionSummaryFields,
} from '../core/model/session-list.js';
import { canonicalInstant } from '../core/list-cursor.js';
import { NewestFirstMerge, type MergeRead, type MergeReadResult, type MergeSource } from '../core/newest-first-merge.js';
import type { Clock } from '../core/ports/clock.port.js';
import type {
  ActionChanges,
  ActionContext,
  CompleteActionDispatchInput,
  SessionChanges,
  SessionCountQuery,
  SessionListPage,
  SessionListQuery,
  SessionPartsWanted,
  SessionProgress,
  SessionStatusCounts,
  SessionStatusView,
  SessionStore,
  SessionSummary,
  SessionWithParts,
} from '../core/ports/session-store.port.js';
import { catalogEntryKey } from './catalog-store.dynamodb.js';
import { systemClock } from './system.js';
import { TABLE_DEFINITION, type IndexName } from './table-definition.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';
import { DynamoUsageStore } from './usage-store.dynamodb.js';

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

/**
 * The session listing indexes (the table definition says why each is keyed
 * so). A session keeps its shard for life, so a status change moves its GSI6
 * entry between two partitions of the same shard number.
 */
export const SESSION_SHARD_COUNT = 8;
const sessionShard = (sessionId: string): number => createHash('sha256').update(sessionId).digest().readUInt32BE(0) % SESSION_SHARD_COUNT;
const dayShardPk = (day: string, shard: number): string => `SESSIONS#${day}#${shard}`;
const tenantMonthPk = (tenantId: string, month: string): string => `TENANT#${tenantId}#${month}`;
const computerSessionsPk = (computerId: string): string => `COMPUTER#${computerId}`;
const statusShardPk = (status: SessionStatus, shard: number): string => `STATUS#${status}#${shard}`;

/** A time as the listing keys hold it: `toISOString`'s fixed width, so byte order is time order. */
const keyTime = canonicalInstant;

/** Written once, with the session: what it is listed under never changes. */
function listingIndexes(session: Pick<Session, 'id' | 'createdAt' | 'tenantId' | 'computerId'>) {
  const createdAt = keyTime(session.createdAt);
  const key = `${createdAt}#${session.id}`;
  return {
    GSI3PK: dayShardPk(createdAt.slice(0, 10), sessionShard(session.id)),
    GSI3SK: key,
    GSI4PK: tenantMonthPk(session.tenantId, createdAt.slice(0, 7)),
    GSI4SK: key,
    GSI5PK: computerSessionsPk(session.computerId),
    GSI5SK: key,
  };
}

const statusSortKey = (updatedAt: string, sessionId: string): string => `${keyTime(updatedAt)}#${sessionId}`;
const statusIndex = (status: SessionStatus, updatedAt: string, sessionId: string) => ({
  GSI6PK: statusShardPk(status, sessionShard(sessionId)),
  GSI6SK: statusSortKey(updatedAt, sessionId),
});

/**
 * Items one page may look at before it ends short, with a cursor to go on
 * from: ~0.8 KB each, so at most ~4 MB, ~500 read units, whatever the filter.
 * A page without a filter looks at about twice its limit.
 */
const MAX_EVALUATED_PER_PAGE = 5_000;
/** Queries in flight at once for one request: a month of shards is 256 partitions. */
const CONCURRENT_QUERIES = 16;

/** Runs `work` on every input, at most `concurrency` at a time; results in input order. */
async function mapConcurrently<I, O>(inputs: readonly I[], concurrency: number, work: (input: I) => Promise<O>): Promise<O[]> {
  const results: O[] = new Array<O>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < inputs.length; index = next++) results[index] = await work(inputs[index] as I);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return results;
}

/**
 * Where a listing query reads: one index, its partitions (merge sources), and
 * the tenants its entries are narrowed to. The tenants are kept here, after
 * each read, not by a filter expression: DynamoDB takes at most 100 operands
 * in an IN, and charges for what a read looks at either way.
 */
interface ListingPlan {
  readonly index: IndexName;
  readonly sortKey: string;
  readonly sources: readonly MergeSource[];
  readonly tenants?: ReadonlySet<string>;
}

const fleetDaySources = (from: string, to: string): MergeSource[] =>
  utcDaysCovering(from, to).flatMap((day) =>
    Array.from({ length: SESSION_SHARD_COUNT }, (_, shard) => ({ id: dayShardPk(day.name, shard), floor: day.floor, ceiling: day.ceiling })),
  );

function listingPlan(query: SessionCountQuery): ListingPlan {
  const { from, to } = query;
  const tenants = query.tenantIds === undefined ? undefined : new Set(query.tenantIds);
  if (query.computerId !== undefined) {
    // one partition; a Viewer's tenants narrow it (a computer they cannot see gives nothing)
    return { index: 'GSI5', sortKey: 'GSI5SK', sources: [{ id: computerSessionsPk(query.computerId), floor: from, ceiling: to }], ...(tenants ? { tenants } : {}) };
  }
  if (tenants !== undefined && tenants.size <= MAX_TENANTS_READ_ONE_BY_ONE) {
    const months = utcMonthsCovering(from, to);
    return {
      index: 'GSI4',
      sortKey: 'GSI4SK',
      sources: [...tenants].flatMap((tenantId) => months.map((month) => ({ id: tenantMonthPk(tenantId, month.name), floor: month.floor, ceiling: month.ceiling }))),
    };
  }
  // every tenant, or more than a partition each is worth: the fleet's day shards, narrowed to the tenants
  return { index: 'GSI3', sortKey: 'GSI3SK', sources: fleetDaySources(from, to), ...(tenants ? { tenants } : {}) };
}

/** Whether an entry read by `plan` is one of its tenants' (every entry, when the plan names none). */
const ofPlanTenants = (plan: ListingPlan, item: Record<string, unknown>): boolean => plan.tenants === undefined || plan.tenants.has(String(item.tenantId));

/** The filter of a list's reads (not the counts'): the status. */
function statusFilter(status: SessionStatus | undefined) {
  return status === undefined ? undefined : { expression: '#status = :status', names: { '#status': 'status' }, values: { ':status': status } };
}

/** Refuses what the store cannot read (a malformed range), naming the field. */
function checkListingQuery(query: SessionCountQuery): void {
  const problems = sessionRangeProblems(query.from, query.to);
  if (problems.length > 0) throw new ValidationError('session list request', problems);
}

export interface SessionStoreOptions {
  /** How long a session's records are kept: from its end for the session, from when written for what it owns. */
  readonly retentionDays: number;
  readonly clock: Clock;
}

/** Long enough for a month of history and an MSP's monthly report, short enough to keep the table small. */
export const DEFAULT_RETENTION_DAYS = 90;

/** When DynamoDB may delete a record written at `at` (epoch seconds, as TTL wants them). */
export const expiryAfter = (at: Date | string, retentionDays: number): number =>
  Math.floor(new Date(at).getTime() / 1000) + retentionDays * 86_400;

export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly table: DynamoTable,
    // tests that do not look at expiry take the defaults; both runtimes pass their clock and retention
    private readonly options: SessionStoreOptions = { retentionDays: DEFAULT_RETENTION_DAYS, clock: systemClock },
  ) {}

  /** The TTL attribute for a record written now. */
  private expiry(at: Date | string = this.options.clock.now()): Record<string, number> {
    return { [TABLE_DEFINITION.timeToLiveAttribute]: expiryAfter(at, this.options.retentionDays) };
  }

  /** A session's usage lives beside it, kept as long (see usage-store.dynamodb.ts). */
  getUsage(sessionId: string): Promise<SessionUsage | undefined> {
    return new DynamoUsageStore(this.table, this.options).sessionUsage(sessionId);
  }

  closeUsage(sessionId: string, close: { readonly stateTransitions?: number | undefined; readonly runId?: string | undefined; readonly at: string }): Promise<ClosedSessionUsage> {
    return new DynamoUsageStore(this.table, this.options).closeSessionUsage(sessionId, close);
  }

  async createSession(session: Session): Promise<void> {
    const written = await this.table.putIf(
      {
        PK: sessionPk(session.id),
        SK: SESSION_SK,
        entity: 'Session',
        ...listingIndexes(session),
        ...statusIndex(session.status, session.updatedAt, session.id),
        // a session that never ends still goes; one that ends is kept a full retention from its end (updateSession)
        ...this.expiry(session.createdAt),
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

  async getSessionStatus(sessionId: string): Promise<SessionStatusView | undefined> {
    const item = await this.table.get(sessionPk(sessionId), SESSION_SK, ['status', 'cancelled']);
    return item ? toEntity<SessionStatusView>(item) : undefined;
  }

  async getSessionStatuses(sessionIds: readonly string[]): Promise<Map<string, SessionProgress>> {
    const items = await this.table.batchGet(
      [...new Set(sessionIds)].map((id) => ({ PK: sessionPk(id), SK: SESSION_SK })),
      // the stages tell a session waiting for its window from one at work (three small maps, not the frozen items)
      ['id', 'status', 'stages'],
    );
    return new Map(
      items.map((item) => {
        const fields = toEntity<Pick<SessionSummaryFields, 'id' | 'status' | 'stages'>>(item);
        return [fields.id, { status: fields.status, awaitingExecution: isAwaitingExecution(fields) }];
      }),
    );
  }

  async updateSession(sessionId: string, expectedVersion: number, changes: SessionChanges, now: string): Promise<Session> {
    const current = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: SESSION_SK },
      set: {
        ...changes,
        version: expectedVersion + 1,
        updatedAt: now,
        ...(changes.status ? statusIndex(changes.status, now, sessionId) : { GSI6SK: statusSortKey(now, sessionId) }),
        ...(changes.status && isFinalSessionStatus(changes.status) ? this.expiry(now) : {}),
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
    const entries = await this.table.query({ pk: computerSessionsPk(computerId), index: 'GSI5', limit, newestFirst: true });
    return this.sessionsOf(entries.map((entry) => String(entry.id)));
  }

  async listSessionsByStatus(status: SessionStatus, limit: number): Promise<Session[]> {
    // each shard's newest `limit` hold the newest `limit` of all
    const shards = await Promise.all(
      Array.from({ length: SESSION_SHARD_COUNT }, (_, shard) => this.table.query({ pk: statusShardPk(status, shard), index: 'GSI6', limit, newestFirst: true })),
    );
    const newest = shards.flat().sort(byKey('GSI6SK')).reverse().slice(0, limit);
    // the index is eventually consistent: a session read since moved on is not in this status any more
    return (await this.sessionsOf(newest.map((entry) => String(entry.id)))).filter((session) => session.status === status);
  }

  async listSessionsInStatusSince(status: SessionStatus, updatedBefore: string, limit: number): Promise<Session[]> {
    // GSI6SK starts with updatedAt, so "in this status since before T" is a range read of every shard, oldest first;
    // each shard's oldest `limit` hold the oldest `limit` of all
    const shards = await Promise.all(
      Array.from({ length: SESSION_SHARD_COUNT }, (_, shard) =>
        this.table.query({ pk: statusShardPk(status, shard), index: 'GSI6', skBefore: keyTime(updatedBefore), limit }),
      ),
    );
    const oldest = shards.flat().sort(byKey('GSI6SK')).slice(0, limit);
    return (await this.sessionsOf(oldest.map((entry) => String(entry.id)))).filter(
      (session) => session.status === status && keyTime(session.updatedAt) < keyTime(updatedBefore),
    );
  }

  /** Whole sessions, in the order of `sessionIds`: the listing indexes hold only summaries. */
  private async sessionsOf(sessionIds: readonly string[]): Promise<Session[]> {
    if (sessionIds.length === 0) return [];
    const items = await this.table.batchGet(sessionIds.map((id) => ({ PK: sessionPk(id), SK: SESSION_SK })));
    const byId = new Map(items.map((item) => [String(item.id), toEntity<Session>(item)]));
    return sessionIds.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * A page of summaries, merged newest first from the partitions the query
   * names (see `listingPlan`), by the core's `NewestFirstMerge`. A page of 50
   * reads the 8 shards of the newest day still holding unread sessions, a
   * share of 13 summaries each (~0.8 KB apiece: ~12 read units in all), and a
   * second round only if a shard ran out. With a status filter DynamoDB
   * charges for what it looks at, not for what passes: a rare status costs
   * more per page, and a page stops after 5,000 entries looked at (~500 read
   * units), short but with a cursor. The same holds for a Viewer of more than
   * 100 tenants, listed from the fleet's day shards: a page looks at every
   * tenant's sessions to find its tenants'.
   */
  async listSessions(query: SessionListQuery): Promise<SessionListPage> {
    checkListingQuery(query);
    let below: string | undefined;
    if (query.cursor !== undefined) {
      // the caller checked the cursor already; this keeps any other caller from sending DynamoDB a made-up key
      const found = sessionListCursorPosition(query, query.cursor);
      if ('problem' in found) throw new ValidationError('session list request', [{ field: 'cursor', problem: found.problem }]);
      below = found.position;
    }
    if (query.tenantIds?.length === 0) return { items: [] };
    const plan = listingPlan(query);
    const filter = statusFilter(query.status);
    const merge = new NewestFirstMerge<SessionSummary>(plan.sources, {
      limit: query.limit,
      ...(below === undefined ? {} : { below }),
      evaluationBudget: MAX_EVALUATED_PER_PAGE,
    });
    for (let reads = merge.reads(); reads.length > 0; reads = merge.reads()) {
      const results = await mapConcurrently(reads, CONCURRENT_QUERIES, (read) => this.readListing(plan, filter, read));
      reads.forEach((read, position) => {
        const result = results[position];
        if (result) merge.add(read, result);
      });
    }
    const page = merge.page();
    return { items: page.items, ...(page.next === undefined ? {} : { nextCursor: encodeSessionListCursor(query, page.next) }) };
  }

  private async readListing(plan: ListingPlan, filter: ReturnType<typeof statusFilter>, read: MergeRead): Promise<MergeReadResult<SessionSummary>> {
    const page = await this.table.rangePage({
      pk: read.sourceId,
      index: plan.index,
      ...(read.floor === undefined ? {} : { atLeast: read.floor }),
      ...(read.below === undefined ? {} : { below: read.below }),
      newestFirst: true,
      limit: read.count,
      ...(filter ? { filter } : {}),
    });
    const resumeBelow = page.lastKey?.[plan.sortKey];
    return {
      items: page.items.filter((item) => ofPlanTenants(plan, item)).map((item) => ({ key: String(item[plan.sortKey]), value: toSessionSummary(toEntity<SessionSummaryFields>(item)) })),
      ...(typeof resumeBelow === 'string' ? { resumeBelow } : {}),
      evaluated: page.scanned,
    };
  }

  /**
   * Counts every summary entry in the range, reading only `status` back.
   * DynamoDB charges for the whole entry it looks at (~0.8 KB for a finished
   * scheduled session), whatever comes back: at 10,000 sessions a day a 7-day
   * count looks at 70,000 entries, ~56 MB, ~7,200 read units (eventually
   * consistent: half a unit per 4 KB), under $0.001 on demand; a 31-day count
   * ~32,000 units. A tenant's or a computer's count costs its share of that;
   * a Viewer of more than 100 tenants, read from the fleet's day shards, the
   * whole fleet's.
   * The reads run 16 at a time over the range's partitions (8 a day for the
   * whole fleet), each paging through its 1 MB pages.
   */
  async countSessions(query: SessionCountQuery): Promise<SessionStatusCounts> {
    checkListingQuery(query);
    const counts = noSessionCounts();
    if (query.tenantIds?.length === 0) return counts;
    const plan = listingPlan(query);
    const perSource = await mapConcurrently(plan.sources, CONCURRENT_QUERIES, async (source) => {
      const statuses: unknown[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.table.rangePage({
          pk: source.id,
          index: plan.index,
          ...(source.floor === undefined ? {} : { atLeast: source.floor }),
          ...(source.ceiling === undefined ? {} : { below: source.ceiling }),
          attributes: plan.tenants === undefined ? ['status'] : ['status', 'tenantId'],
          ...(startKey ? { startKey } : {}),
        });
        statuses.push(...page.items.filter((item) => ofPlanTenants(plan, item)).map((item) => item.status));
        startKey = page.lastKey;
      } while (startKey);
      return statuses;
    });
    for (const status of perSource.flat()) {
      if (typeof status === 'string' && Object.hasOwn(counts, status)) counts[status as SessionStatus]++;
    }
    return counts;
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
    // One conditional put per action: a repeated step finds them written and leaves them as they are.
    for (const action of actions) {
      await this.table.putIf(
        { PK: sessionPk(sessionId), SK: actionSk(action.actionId), entity: 'Action', ...this.expiry(), ...action },
        'attribute_not_exists(PK)',
      );
    }
  }

  async createPlannedActions(sessionId: string, actions: readonly Action[]): Promise<void> {
    // unconditional, 25 to a call: see the port for why nothing else can be writing these yet
    const expiry = this.expiry();
    await this.table.batchPut(actions.map((action) => ({ PK: sessionPk(sessionId), SK: actionSk(action.actionId), entity: 'Action', ...expiry, ...action })));
  }

  async getActions(sessionId: string): Promise<Action[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'ACTION#' });
    return items.map(toAction);
  }

  async getAction(sessionId: string, actionId: string): Promise<Action | undefined> {
    const item = await this.table.get(sessionPk(sessionId), actionSk(actionId));
    return item ? toAction(item) : undefined;
  }

  async getActionContext(sessionId: string, actionId: string, prerequisiteIds: readonly string[], itemKey?: ItemKey): Promise<ActionContext> {
    const pk = sessionPk(sessionId);
    const catalogKey = itemKey === undefined ? undefined : catalogEntryKey(itemKey);
    const items = await this.table.batchGet([
      { PK: pk, SK: SESSION_SK },
      // BatchGetItem refuses a key twice
      ...[...new Set([actionId, ...prerequisiteIds])].map((id) => ({ PK: pk, SK: actionSk(id) })),
      ...(catalogKey ? [catalogKey] : []),
    ]);
    const sessionItem = items.find((item) => item.PK === pk && item.SK === SESSION_SK);
    const actionItem = items.find((item) => item.PK === pk && item.SK === actionSk(actionId));
    const catalogItem = catalogKey ? items.find((item) => item.PK === catalogKey.PK && item.SK === catalogKey.SK) : undefined;
    const dispatch = actionItem ? dispatchOnAction(actionItem) : undefined;
    return {
      ...(sessionItem ? { session: toEntity<Session>(sessionItem) } : {}),
      ...(actionItem ? { action: toAction(actionItem) } : {}),
      ...(dispatch ? { dispatch } : {}),
      prerequisites: items.filter((item) => item.PK === pk && item !== actionItem && item !== sessionItem).map(toAction),
      ...(catalogItem?.SK === 'SOFTWARE' ? { software: toEntity<Software>(catalogItem) } : {}),
      ...(catalogItem?.SK === 'TASK' ? { task: toEntity<MaintenanceTask>(catalogItem) } : {}),
    };
  }

  async updateAction(
    sessionId: string,
    actionId: string,
    expectedStatuses: readonly ActionStatus[],
    changes: ActionChanges,
    options: { readonly settleDispatch?: boolean } = {},
  ): Promise<Action> {
    const placeholders = expectedStatuses.map((_, index) => `:expected${index}`);
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: actionSk(actionId) },
      set: changes,
      // an action without a dispatch has no entry to remove: REMOVE of an absent attribute is a no-op
      ...(options.settleDispatch ? { remove: ['GSI2PK', 'GSI2SK'] } : {}),
      // a command still out (a cancelled session's, say) stays on the worklist: the reconciler stops what still runs
      condition: `attribute_exists(PK) AND #status IN (${placeholders.join(', ')})${options.settleDispatch ? ' AND (attribute_not_exists(#dispatch) OR #dispatch.#dstatus <> :sending)' : ''}`,
      conditionNames: { '#status': 'status', ...(options.settleDispatch ? { '#dispatch': 'dispatch', '#dstatus': 'status' } : {}) },
      conditionValues: {
        ...Object.fromEntries(expectedStatuses.map((status, index) => [`:expected${index}`, status])),
        ...(options.settleDispatch ? { ':sending': 'Sending' } : {}),
      },
      conflict: `action ${sessionId}/${actionId} is not ${expectedStatuses.join(' or ')}${options.settleDispatch ? ' with its command answered' : ''}`,
    });
    return toAction(item);
  }

  async startActionDispatch(dispatch: Dispatch, started: ActionChanges): Promise<{ created: boolean; action?: Action; dispatch?: Dispatch }> {
    const actionId = actionIdOf(dispatch.key);
    try {
      const item = await this.table.update({
        key: { PK: sessionPk(dispatch.sessionId), SK: actionSk(actionId) },
        set: { ...started, dispatch, ...waitingIndex(dispatch.sessionId, dispatch.key, dispatchDueAt(dispatch)) },
        condition: 'attribute_exists(PK) AND #status = :notStarted AND attribute_not_exists(#dispatch)',
        conditionNames: { '#status': 'status', '#dispatch': 'dispatch' },
        conditionValues: { ':notStarted': 'NotStarted' },
        conflict: `action ${dispatch.sessionId}/${actionId} was started already`,
      });
      return { created: true, action: toAction(item), dispatch };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const item = await this.table.get(sessionPk(dispatch.sessionId), actionSk(actionId));
      const existing = item ? dispatchOnAction(item) : undefined;
      return { created: false, ...(item ? { action: toAction(item) } : {}), ...(existing ? { dispatch: existing } : {}) };
    }
  }

  async completeActionDispatch(input: CompleteActionDispatchInput): Promise<{ action: Action; dispatch: Dispatch }> {
    const key: DispatchKey = `Action#${input.actionId}`;
    // still waiting, but not due at once: the report settles it when the workflow has moved past; the reconciler
    // looks only if that has not happened by then, in case the step was never told
    const dueAt = new Date(Date.parse(input.now) + input.checkAfterSeconds * 1000).toISOString();
    const typeValues = Object.fromEntries(input.types.map((type, index) => [`:type${index}`, type]));
    const item = await this.table.update({
      key: { PK: sessionPk(input.sessionId), SK: actionSk(input.actionId) },
      set: {
        ...input.changes,
        'dispatch.status': 'Completed',
        'dispatch.outcome': input.outcome,
        'dispatch.commandId': input.outcome.commandId,
        'dispatch.completedAt': input.now,
        'dispatch.dueAt': dueAt,
        ...waitingIndex(input.sessionId, key, dueAt),
      },
      condition: `#status = :performing AND #type IN (${Object.keys(typeValues).join(', ')}) AND #dispatch.#dstatus = :sending AND #dispatch.#nonce = :nonce`,
      conditionNames: { '#status': 'status', '#type': 'type', '#dispatch': 'dispatch', '#dstatus': 'status', '#nonce': 'nonce' },
      conditionValues: { ':performing': 'PerformingAction', ':sending': 'Sending', ':nonce': input.nonce, ...typeValues },
      conflict: `action ${input.sessionId}/${input.actionId} is not waiting for command ${input.outcome.commandId}`,
    });
    const dispatch = dispatchOnAction(item);
    if (!dispatch) throw new ConflictError(`action ${input.sessionId}/${input.actionId} lost its dispatch`);
    return { action: toAction(item), dispatch };
  }

  async savePlan(plan: PlanSnapshot): Promise<void> {
    await this.table.putIf({ PK: sessionPk(plan.sessionId), SK: PLAN_SK, entity: 'Plan', ...this.expiry(), ...plan }, undefined);
  }

  async getSessionWith(sessionId: string, parts: SessionPartsWanted): Promise<SessionWithParts> {
    const pk = sessionPk(sessionId);
    const dispatchAt = parts.dispatch === undefined ? undefined : locate(sessionId, parts.dispatch);
    const detectionKey = parts.detection === undefined ? undefined : detectionSk(parts.detection);
    const planKey = parts.plan === true ? PLAN_SK : undefined;
    const items = await this.table.batchGet([
      { PK: pk, SK: SESSION_SK },
      ...(detectionKey === undefined ? [] : [{ PK: pk, SK: detectionKey }]),
      ...(planKey === undefined ? [] : [{ PK: pk, SK: planKey }]),
      ...(dispatchAt === undefined ? [] : [dispatchAt.key]),
    ]);
    const itemAt = (sk: string | undefined) => (sk === undefined ? undefined : items.find((item) => item.PK === pk && item.SK === sk));
    const sessionItem = itemAt(SESSION_SK);
    const detectionItem = itemAt(detectionKey);
    const planItem = itemAt(planKey);
    const dispatchItem = itemAt(dispatchAt?.key.SK);
    const dispatch = dispatchItem && dispatchAt ? dispatchAt.find(dispatchItem) : undefined;
    return {
      ...(sessionItem ? { session: toEntity<Session>(sessionItem) } : {}),
      ...(detectionItem ? { detection: toEntity<DetectionSnapshot>(detectionItem) } : {}),
      ...(planItem ? { plan: toEntity<PlanSnapshot>(planItem) } : {}),
      ...(dispatch ? { dispatch } : {}),
    };
  }

  async getPlan(sessionId: string): Promise<PlanSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), PLAN_SK);
    return item ? toEntity<PlanSnapshot>(item) : undefined;
  }

  async saveDetection(snapshot: DetectionSnapshot): Promise<void> {
    // A whole snapshot per phase: a redelivered completion writes the same facts again.
    await this.table.putIf(
      { PK: sessionPk(snapshot.sessionId), SK: detectionSk(snapshot.phase), entity: 'Detection', ...this.expiry(), ...snapshot },
      undefined,
    );
  }

  async getDetection(sessionId: string, phase: DetectionPhase): Promise<DetectionSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), detectionSk(phase));
    return item ? toEntity<DetectionSnapshot>(item) : undefined;
  }

  async claimDispatch(dispatch: Dispatch): Promise<{ created: boolean; dispatch: Dispatch }> {
    if (isActionKey(dispatch.key)) {
      // an action's dispatch is claimed as the action starts; this claims it on an action that was started without one
      const at = locate(dispatch.sessionId, dispatch.key);
      try {
        await this.table.update({
          key: at.key,
          set: { dispatch, ...waitingIndex(dispatch.sessionId, dispatch.key, dispatchDueAt(dispatch)) },
          condition: 'attribute_exists(PK) AND attribute_not_exists(#dispatch)',
          conditionNames: { '#dispatch': 'dispatch' },
          conflict: `dispatch ${dispatch.sessionId}/${dispatch.key} exists`,
        });
        return { created: true, dispatch };
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    } else {
      const created = await this.table.putIf(
        {
          PK: sessionPk(dispatch.sessionId),
          SK: dispatchSk(dispatch.key),
          entity: 'Dispatch',
          ...waitingIndex(dispatch.sessionId, dispatch.key, dispatchDueAt(dispatch)),
          ...this.expiry(),
          ...dispatch,
        },
        'attribute_not_exists(PK)',
      );
      if (created) return { created, dispatch };
    }
    const existing = await this.getDispatch(dispatch.sessionId, dispatch.key);
    if (!existing) throw new ConflictError(`dispatch ${dispatch.sessionId}/${dispatch.key} vanished while claimed`);
    return { created: false, dispatch: existing };
  }

  async replaceDispatchToken(sessionId: string, key: DispatchKey, taskToken: string): Promise<Dispatch> {
    const at = locate(sessionId, key);
    const item = await this.table.update({
      key: at.key,
      set: { [at.field('taskToken')]: taskToken, [at.field('tokenDelivered')]: false },
      increment: { [at.field('attempts')]: 1 },
      condition: `attribute_exists(PK) AND ${at.path('status')} <> :completed`,
      conditionNames: at.names('status'),
      conditionValues: { ':completed': 'Completed' },
      conflict: `dispatch ${sessionId}/${key} already completed`,
    });
    return at.read(item);
  }

  async takeOverDispatch(sessionId: string, key: DispatchKey, previousLeaseUntil: string | undefined, leaseUntil: string): Promise<Dispatch> {
    const at = locate(sessionId, key);
    const item = await this.table.update({
      key: at.key,
      set: { [at.field('leaseUntil')]: leaseUntil },
      condition:
        previousLeaseUntil === undefined
          ? `${at.path('status')} = :sending AND attribute_not_exists(${at.path('leaseUntil')})`
          : `${at.path('status')} = :sending AND ${at.path('leaseUntil')} = :previous`,
      conditionNames: at.names('status', 'leaseUntil'),
      conditionValues: { ':sending': 'Sending', ...(previousLeaseUntil === undefined ? {} : { ':previous': previousLeaseUntil }) },
      conflict: `dispatch ${sessionId}/${key} was taken over by another attempt`,
    });
    return at.read(item);
  }

  async getDispatch(sessionId: string, key: DispatchKey): Promise<Dispatch | undefined> {
    const at = locate(sessionId, key);
    const item = await this.table.get(at.key.PK, at.key.SK);
    return item ? at.find(item) : undefined;
  }

  async completeDispatch(sessionId: string, key: DispatchKey, nonce: string, outcome: DispatchOutcome, now: string): Promise<Dispatch> {
    const at = locate(sessionId, key);
    const item = await this.table.update({
      key: at.key,
      // due at once: if the step is not told (a crash right after this write), the reconciler's next run tells it
      set: {
        [at.field('status')]: 'Completed',
        [at.field('outcome')]: outcome,
        [at.field('commandId')]: outcome.commandId,
        [at.field('completedAt')]: now,
        [at.field('dueAt')]: now,
        ...waitingIndex(sessionId, key, now),
      },
      condition: `${at.path('status')} = :sending AND ${at.path('nonce')} = :nonce`,
      conditionNames: at.names('status', 'nonce'),
      conditionValues: { ':sending': 'Sending', ':nonce': nonce },
      conflict: `dispatch ${sessionId}/${key} was completed already`,
    });
    return at.read(item);
  }

  async markTokenDelivered(sessionId: string, key: DispatchKey): Promise<void> {
    // only now does the dispatch leave the reconciler's worklist: until the workflow is told, it may need telling again
    const at = locate(sessionId, key);
    await this.table.update({
      key: at.key,
      set: { [at.field('tokenDelivered')]: true },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: `attribute_exists(${at.path('status')})`,
      conditionNames: at.names('status'),
      conflict: `dispatch ${sessionId}/${key} does not exist`,
    });
  }

  async abandonDispatch(sessionId: string, key: DispatchKey): Promise<void> {
    const at = locate(sessionId, key);
    await this.table.update({
      key: at.key,
      set: { [at.field('status')]: 'Abandoned' },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: `${at.path('status')} = :sending`,
      conditionNames: at.names('status'),
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
      .flatMap((item) => (item.entity === 'Action' ? (dispatchOnAction(item) ?? []) : [toEntity<Dispatch>(item)]));
  }

  async rescheduleDispatch(sessionId: string, key: DispatchKey, fromDueAt: string, toDueAt: string): Promise<void> {
    // The entry as it was read is the condition: an answer that arrived since (entry moved or gone) or another
    // run that looked first wins, and this look changes nothing.
    const at = locate(sessionId, key);
    await this.table.update({
      key: at.key,
      set: { [at.field('dueAt')]: toDueAt, ...waitingIndex(sessionId, key, toDueAt) },
      increment: { [at.field('looks')]: 1 },
      condition: '#waiting = :from',
      conditionNames: { '#waiting': 'GSI2SK' },
      conditionValues: { ':from': waitingSk(fromDueAt, sessionId, key) },
      conflict: `dispatch ${sessionId}/${key} is no longer waiting at ${fromDueAt}`,
    });
  }

  async listDispatches(sessionId: string): Promise<Dispatch[]> {
    const [own, actions] = await Promise.all([
      this.table.query({ pk: sessionPk(sessionId), skPrefix: 'DISPATCH#' }),
      this.table.query({ pk: sessionPk(sessionId), skPrefix: 'ACTION#' }),
    ]);
    return [...own.map((item) => toEntity<Dispatch>(item)), ...actions.flatMap((item) => dispatchOnAction(item) ?? [])];
  }
}

/** Index entries in byte order of one key attribute, as DynamoDB sorts them. */
const byKey =
  (attribute: string) =>
  (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    const left = String(a[attribute]);
    const right = String(b[attribute]);
    return left < right ? -1 : left > right ? 1 : 0;
  };

const isActionKey = (key: DispatchKey): key is `Action#${string}` => key.startsWith('Action#');
const actionIdOf = (key: DispatchKey): string => key.slice('Action#'.length);

/** An action item as the action: its dispatch is bookkeeping of the engine, not part of what the action says. */
function toAction(item: Record<string, unknown>): Action {
  const { dispatch: _dispatch, ...action } = toEntity<Action & { dispatch?: unknown }>(item);
  return action;
}

const dispatchOnAction = (item: Record<string, unknown>): Dispatch | undefined =>
  typeof item.dispatch === 'object' && item.dispatch !== null ? (item.dispatch as Dispatch) : undefined;

/**
 * Where a dispatch lives. Detection's are items of their own; an action's is
 * a map on the action item, so that starting an action and claiming its
 * command is one write, and so is recording its result and completing it.
 * The worklist index attributes are top-level on either item.
 */
function locate(sessionId: string, key: DispatchKey) {
  const onAction = isActionKey(key);
  return {
    key: { PK: sessionPk(sessionId), SK: onAction ? actionSk(actionIdOf(key)) : dispatchSk(key) },
    /** The name to `set`: a field of the map, or the attribute itself. */
    field: (name: string): string => (onAction ? `dispatch.${name}` : name),
    /** The field in a condition, over the placeholders `names` gives. */
    path: (name: string): string => (onAction ? `#dispatch.#${name}` : `#${name}`),
    names: (...fields: string[]): Record<string, string> => ({
      ...(onAction ? { '#dispatch': 'dispatch' } : {}),
      ...Object.fromEntries(fields.map((name) => [`#${name}`, name])),
    }),
    find: (item: Record<string, unknown>): Dispatch | undefined => (onAction ? dispatchOnAction(item) : toEntity<Dispatch>(item)),
    read(item: Record<string, unknown>): Dispatch {
      const dispatch = this.find(item);
      if (!dispatch) throw new ConflictError(`dispatch ${sessionId}/${key} does not exist`);
      return dispatch;
    },
  };
}
