import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { CURSOR_NOT_OURS, MAX_LIST_CURSOR_LENGTH } from '../list-cursor.js';
import { entityIdSchema } from '../model/catalog.js';
import {
  SESSION_STATUSES,
  sessionListCursorPosition,
  sessionListCursorRange,
  sessionRangeProblems,
  type SessionCountQuery,
  type SessionListPage,
  type SessionStatusCounts,
} from '../model/session-list.js';
import type { SessionStatus } from '../model/session.js';
import { parseInput } from '../validation.js';
import type { Dependencies } from './dependencies.js';
import { DAY_MS } from '../durations.js';

/** A list asked for without a range shows the last week: what an operator checks each morning. */
export const DEFAULT_LIST_DAYS = 7;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** The default range ends a little after now, so a session created while the page loads is in it. */
const DEFAULT_TO_AHEAD_MS = 60_000;

/** What a caller (the API route) asks for; everything optional has a default. */
export interface ListSessionsRequest {
  /** undefined = every tenant; otherwise only these (a Viewer's own tenant and its children, any number of them). */
  readonly tenantIds?: readonly string[];
  readonly computerId?: string;
  readonly status?: SessionStatus;
  /** ISO instants, createdAt range [from, to). Default: the 7 days before `to`; `to` defaults to a minute from now. */
  readonly from?: string;
  readonly to?: string;
  /** 1..200, default 50. */
  readonly limit?: number;
  /** From the previous page of the same query; it carries that query's range, so a later page needs no `from`/`to`. */
  readonly cursor?: string;
}

/** A cursor here only lends its range: the counts beside a later page are those of the first. */
export type CountSessionsRequest = Omit<ListSessionsRequest, 'limit'>;

type ListDeps = Pick<Dependencies, 'sessions' | 'clock'>;

/** Any ISO 8601 instant with an offset; kept as `toISOString` writes it, the form the listing keys hold. */
const instantSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 instant such as 2026-11-23T09:00:00Z' })
  .transform((at) => new Date(Date.parse(at)).toISOString());

const requestSchema = z.strictObject({
  // a Viewer's whole tree, however large: past 100 tenants the store reads the fleet-wide listing and keeps theirs
  tenantIds: z.array(entityIdSchema).optional(),
  computerId: entityIdSchema.optional(),
  status: z.enum(SESSION_STATUSES as [SessionStatus, ...SessionStatus[]]).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`).optional(),
  cursor: z.string().max(MAX_LIST_CURSOR_LENGTH, CURSOR_NOT_OURS).optional(),
});

const fail = (field: string, problem: string): ValidationError => new ValidationError('session list request', [{ field, problem }]);

/**
 * The query a request stands for: its filters, and its range from the
 * request, else from its cursor (a later page keeps the first page's "now"),
 * else the default week. A range over 31 days, an empty or reversed one, or a
 * cursor of another query is refused by field before the store is asked.
 */
function queryOf(deps: ListDeps, request: ListSessionsRequest): SessionCountQuery & { cursor?: string; limit: number } {
  const parsed = parseInput(requestSchema, request, 'session list request');
  const fromCursor = parsed.cursor === undefined ? undefined : sessionListCursorRange(parsed.cursor);
  if (parsed.cursor !== undefined && fromCursor === undefined) throw fail('cursor', CURSOR_NOT_OURS);
  const nowMs = deps.clock.now().getTime();
  const to = parsed.to ?? fromCursor?.to ?? new Date(nowMs + DEFAULT_TO_AHEAD_MS).toISOString();
  const from = parsed.from ?? fromCursor?.from ?? new Date((parsed.to === undefined ? nowMs : Date.parse(to)) - DEFAULT_LIST_DAYS * DAY_MS).toISOString();
  const problems = sessionRangeProblems(from, to);
  if (problems.length > 0) throw new ValidationError('session list request', problems);
  const query = {
    ...(parsed.tenantIds === undefined ? {} : { tenantIds: parsed.tenantIds }),
    ...(parsed.computerId === undefined ? {} : { computerId: parsed.computerId }),
    ...(parsed.status === undefined ? {} : { status: parsed.status }),
    from,
    to,
    limit: parsed.limit ?? DEFAULT_PAGE_SIZE,
  };
  if (parsed.cursor === undefined) return query;
  const found = sessionListCursorPosition(query, parsed.cursor);
  if ('problem' in found) throw fail('cursor', found.problem);
  return { ...query, cursor: parsed.cursor };
}

/** One page of session summaries, newest first (see `SessionStore.listSessions`). */
export async function listSessions(deps: ListDeps, request: ListSessionsRequest): Promise<SessionListPage> {
  return deps.sessions.listSessions(queryOf(deps, request));
}

/** Status counts over the same range and tenant/computer filters as the list (not narrowed by `status`). */
export async function countSessions(deps: ListDeps, request: CountSessionsRequest): Promise<SessionStatusCounts> {
  const { limit: _limit, cursor: _cursor, ...query } = queryOf(deps, request);
  return deps.sessions.countSessions(query);
}
