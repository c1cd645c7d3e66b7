import type { SessionStatus } from '../api/types.js';
import { startOfLocalDay } from '../format.js';
import { isStatus } from './words.js';

/** The Sessions page's filters, as they stand in its URL. Dates are the viewer's calendar days, both included. */
export interface SessionFilters {
  readonly status?: SessionStatus;
  readonly tenantId?: string;
  readonly computerId?: string;
  /** One schedule run's sessions, by computer: the API ignores the days for them (a run's sessions are its targets'). */
  readonly runId?: string;
  /** `yyyy-mm-dd`, the viewer's day. */
  readonly from?: string;
  readonly to?: string;
}

export const PAGE_SIZE = 50;
const DEFAULT_DAYS = 7;
const DAY_MS = 86_400_000;
/** The API's own default end: sessions created as the page opens are in it. */
const AHEAD_MS = 60_000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[\x21-\x7e]{1,128}$/;

/** The filters in a URL's search; anything malformed is dropped rather than sent to the API. */
export function sessionFiltersFrom(search: Record<string, unknown>): SessionFilters {
  const text = (name: string, pattern: RegExp): string | undefined => {
    const value = search[name];
    return typeof value === 'string' && pattern.test(value) ? value : undefined;
  };
  const status = search.status;
  const tenantId = text('tenantId', ID);
  const computerId = text('computerId', ID);
  const runId = text('runId', ID);
  const from = text('from', DAY);
  const to = text('to', DAY);
  return {
    ...(isStatus(status) ? { status } : {}),
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(computerId === undefined ? {} : { computerId }),
    ...(runId === undefined ? {} : { runId }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

/**
 * The instants a list covers: the days chosen (from the start of the first
 * to the end of the last, in the viewer's time zone), or the last 7 days. A
 * cursor is bound to its query's range, so the range is fixed when the
 * filters are set and kept while paging; "Refresh" takes a new one.
 */
export function rangeFor(filters: SessionFilters, nowMs: number): { from: string; to: string } {
  const to = filters.to === undefined ? undefined : startOfLocalDay(filters.to, 1);
  const from = filters.from === undefined ? undefined : startOfLocalDay(filters.from);
  const end = to?.getTime() ?? nowMs + AHEAD_MS;
  const start = from?.getTime() ?? end - DEFAULT_DAYS * DAY_MS;
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}
