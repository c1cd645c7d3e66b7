import { CURSOR_NOT_OURS, CURSOR_OF_ANOTHER_QUERY, decodeListCursor, encodeListCursor, isCanonicalInstant, listQueryFingerprint } from '../list-cursor.js';
import { SESSION_TRANSITIONS, STAGE_NAMES, type Requester, type SessionOrigin, type SessionStatus, type SessionTrigger, type Stage, type StageName } from './session.js';
import { DAY_MS } from '../durations.js';

/**
 * Sessions as an operator lists them: a summary per session (no frozen
 * items), newest first, over a range of creation times, with status counts.
 * What is pure about it lives here; the store reads, the use case validates.
 */

export type { SessionTrigger } from './session.js';

export interface SessionSummary {
  readonly id: string;
  readonly computerId: string;
  /** The computer's name when the session started; absent from summaries indexed before it was projected. */
  readonly computerName?: string;
  readonly tenantId: string;
  readonly status: SessionStatus;
  /** The stage running now, or the last one that ran. */
  readonly stage?: StageName;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly origin?: SessionOrigin;
  readonly trigger: SessionTrigger;
  readonly requestedBy: Requester;
  readonly actionCount?: number;
  /** When the changes may start on the computer (its window, as postponed or moved to now); absent for a session that runs at once. */
  readonly executeAt?: string;
  /**
   * Detected and not yet executing: planning, telling the user, or (for
   * hours, with `executeAt` ahead) waiting for its window. Only while Running.
   */
  readonly awaitingExecution?: true;
}

export interface SessionListFilter {
  /** undefined = every tenant (Admin/Technician); otherwise only these tenants (a Viewer's own tenant and children), as many as there are. */
  readonly tenantIds?: readonly string[];
  readonly computerId?: string;
  readonly status?: SessionStatus;
}

export interface SessionCountQuery extends SessionListFilter {
  /** Instants as `toISOString` writes them: the createdAt range [from, to). */
  readonly from: string;
  readonly to: string;
}

export interface SessionListQuery extends SessionCountQuery {
  readonly limit: number;
  /** Opaque, from a previous page of the same query; a foreign or tampered one is a ValidationError naming `cursor`. */
  readonly cursor?: string;
}

export interface SessionListPage {
  readonly items: readonly SessionSummary[];
  /** Present while more may follow; a page may hold fewer than `limit` items and still have one. */
  readonly nextCursor?: string;
}

export type SessionStatusCounts = Record<SessionStatus, number>;

export const SESSION_STATUSES = Object.keys(SESSION_TRANSITIONS) as readonly SessionStatus[];

export const noSessionCounts = (): SessionStatusCounts =>
  Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as SessionStatusCounts;

/** A range is at most a month: what an MSP's monthly report needs, and a bound on what one request reads. */
export const MAX_SESSION_LIST_DAYS = 31;
/**
 * The most tenants a list reads one by one, each from its own partitions (a
 * first page reads one per tenant). A Viewer of more tenants (a large tree)
 * is listed from the fleet-wide partitions, 8 a day, keeping its tenants'
 * sessions: fewer reads than a partition per tenant, each looking at every
 * tenant's sessions.
 */
export const MAX_TENANTS_READ_ONE_BY_ONE = 100;


/** What is wrong with a range as the store takes it (canonical instants, from < to, at most 31 days), by field. */
export function sessionRangeProblems(from: string, to: string): { field: 'from' | 'to'; problem: string }[] {
  const problems: { field: 'from' | 'to'; problem: string }[] = [];
  if (!isCanonicalInstant(from)) problems.push({ field: 'from', problem: 'must be an instant such as 2026-11-23T09:00:00.000Z' });
  if (!isCanonicalInstant(to)) problems.push({ field: 'to', problem: 'must be an instant such as 2026-11-23T09:00:00.000Z' });
  if (problems.length > 0) return problems;
  const span = Date.parse(to) - Date.parse(from);
  if (span <= 0) problems.push({ field: 'to', problem: `must be after from (${from})` });
  else if (span > MAX_SESSION_LIST_DAYS * DAY_MS) problems.push({ field: 'from', problem: `must be at most ${MAX_SESSION_LIST_DAYS} days before to (${to}); list a longer time a month at a time` });
  return problems;
}

/** The attributes a summary is made from: what the listing indexes project. */
export interface SessionSummaryFields {
  readonly id: string;
  readonly computerId: string;
  readonly computerName?: string;
  readonly tenantId: string;
  readonly status: SessionStatus;
  readonly stages?: Partial<Record<StageName, Stage>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly origin?: SessionOrigin;
  readonly trigger?: SessionTrigger;
  readonly requestedBy?: Requester;
  readonly actionCount?: number;
  readonly executeAt?: string;
}

/**
 * The summary of a session. A session that does not record what started it
 * or who asked (`trigger`, `requestedBy`) is told by its origin: a schedule's
 * run, or else a manual start by a person the record does not name.
 */
/**
 * Detected and not yet executing: planning, telling the user, or (for hours,
 * with `executeAt` ahead) waiting for its window or a free execution slot.
 * Only a Running session: a postponed one says so by its status.
 */
export const isAwaitingExecution = (fields: Pick<SessionSummaryFields, 'status' | 'stages'>): boolean =>
  fields.status === 'Running' && fields.stages?.Detection?.status === 'Succeeded' && (fields.stages.Execution?.status ?? 'Unstarted') === 'Unstarted';

export function toSessionSummary(fields: SessionSummaryFields): SessionSummary {
  const statusOf = (name: StageName) => fields.stages?.[name]?.status;
  const stage =
    STAGE_NAMES.find((name) => statusOf(name) === 'Running') ??
    [...STAGE_NAMES].reverse().find((name) => statusOf(name) !== undefined && statusOf(name) !== 'Unstarted' && statusOf(name) !== 'Skipped');
  const origin = fields.origin;
  const awaitingExecution = isAwaitingExecution(fields);
  return {
    id: fields.id,
    computerId: fields.computerId,
    ...(fields.computerName === undefined ? {} : { computerName: fields.computerName }),
    tenantId: fields.tenantId,
    status: fields.status,
    ...(stage === undefined ? {} : { stage }),
    createdAt: fields.createdAt,
    updatedAt: fields.updatedAt,
    ...(fields.endedAt === undefined ? {} : { endedAt: fields.endedAt }),
    ...(origin === undefined ? {} : { origin }),
    trigger: fields.trigger ?? (origin ? 'Scheduled' : 'Manual'),
    requestedBy: fields.requestedBy ?? (origin ? { kind: 'Schedule', name: `schedule ${origin.scheduleId}` } : { kind: 'Operator', name: '(not recorded)' }),
    ...(fields.actionCount === undefined ? {} : { actionCount: fields.actionCount }),
    ...(fields.executeAt === undefined ? {} : { executeAt: fields.executeAt }),
    ...(awaitingExecution ? { awaitingExecution } : {}),
  };
}

/** A stretch of a range inside one calendar unit: its key part, and the range's part of it as [floor, ceiling). */
export interface RangePart {
  /** `yyyy-mm-dd` for a day, `yyyy-mm` for a month (UTC). */
  readonly name: string;
  readonly floor: string;
  readonly ceiling: string;
}

function partsCovering(from: string, to: string, startOf: (time: number) => number, next: (start: number) => number, nameLength: number): RangePart[] {
  const parts: RangePart[] = [];
  for (let start = startOf(Date.parse(from)); start < Date.parse(to); start = next(start)) {
    const end = next(start);
    const floor = new Date(start).toISOString();
    const ceiling = new Date(end).toISOString();
    parts.push({ name: floor.slice(0, nameLength), floor: floor > from ? floor : from, ceiling: ceiling < to ? ceiling : to });
  }
  return parts;
}

/** The UTC days [from, to) touches, newest last. */
export const utcDaysCovering = (from: string, to: string): RangePart[] =>
  partsCovering(from, to, (time) => time - (time % DAY_MS), (start) => start + DAY_MS, 10);

/** The UTC months [from, to) touches, newest last. */
export const utcMonthsCovering = (from: string, to: string): RangePart[] =>
  partsCovering(
    from,
    to,
    (time) => {
      const at = new Date(time);
      return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
    },
    (start) => {
      const at = new Date(start);
      return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
    },
    7,
  );

/** A key of the listing indexes, `<createdAt>#<id>`, or a bare instant (a page that ended at a day's edge). */
const POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)(#[\x21-\x7e]{1,128})?$/;

const fingerprintOf = (query: SessionListFilter): string =>
  listQueryFingerprint({
    list: 'sessions',
    tenantIds: query.tenantIds === undefined ? null : [...new Set(query.tenantIds)].sort(),
    computerId: query.computerId ?? null,
    status: query.status ?? null,
  });

/** The cursor of the page after `position`, bound to the query's filters and range. */
export const encodeSessionListCursor = (query: SessionCountQuery, position: string): string =>
  encodeListCursor({ query: fingerprintOf(query), position, range: { from: query.from, to: query.to } });

/** The range a cursor was handed out for, if it is a session list's cursor at all (for a page that names no range). */
export function sessionListCursorRange(cursor: string): { from: string; to: string } | undefined {
  return decodeListCursor(cursor)?.range;
}

/** Where the page `cursor` asks for starts in `query`'s list, or the problem with it. */
export function sessionListCursorPosition(query: SessionCountQuery, cursor: string): { position: string } | { problem: string } {
  const decoded = decodeListCursor(cursor);
  const match = decoded === undefined ? undefined : POSITION.exec(decoded.position);
  const at = match?.[1];
  if (!decoded?.range || at === undefined || !isCanonicalInstant(at)) return { problem: CURSOR_NOT_OURS };
  if (decoded.query !== fingerprintOf(query) || decoded.range.from !== query.from || decoded.range.to !== query.to) return { problem: CURSOR_OF_ANOTHER_QUERY };
  // a position outside the range is no place a page of it ended
  if (at < query.from || at > query.to) return { problem: CURSOR_NOT_OURS };
  return { position: decoded.position };
}
