import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api, data } from '../api/client.js';
import type { SessionLogEntry } from '../api/types.js';

/**
 * A session's log as it grows. The API hands the log out in pages, oldest
 * first; the last page so far has no cursor, so the next read asks for that
 * page again and keeps only the lines it did not have (as `nightshift
 * sessions log --follow` does). Lines are never fetched twice once a page has
 * a cursor, however long the session runs.
 */

const LINES_PER_PAGE = 200;
/** Pages read per poll: a long log arrives over a few polls instead of holding the first paint. */
const PAGES_PER_POLL = 10;
export const LOG_POLL_MS = 1_000;

interface Tail {
  entries: readonly SessionLogEntry[];
  /** The page being read: after this cursor (undefined: from the start). */
  cursor?: string;
  /** How many lines of that page are already in `entries`. */
  seenOfPage: number;
}

async function readOn(sessionId: string, tail: Tail): Promise<readonly SessionLogEntry[]> {
  for (let page = 0; page < PAGES_PER_POLL; page++) {
    const query = { limit: LINES_PER_PAGE, ...(tail.cursor === undefined ? {} : { cursor: tail.cursor }) };
    const read = await data(api.GET('/v1/sessions/{sessionId}/log', { params: { path: { sessionId }, query } }));
    const fresh = read.entries.slice(tail.seenOfPage);
    if (fresh.length > 0) tail.entries = [...tail.entries, ...fresh];
    if (read.cursor === undefined) {
      tail.seenOfPage = read.entries.length;
      break;
    }
    tail.cursor = read.cursor;
    tail.seenOfPage = 0;
  }
  return tail.entries;
}

/** The log so far; read again every second while `live`, and once more when it stops being live (the last lines come just before the end). */
export function useSessionLog(sessionId: string, live: boolean) {
  // one tail per session this component has shown; TanStack Query never runs two reads of one key at once
  const tails = useRef(new Map<string, Tail>());
  const wasLive = useRef(live);
  const query = useQuery({
    queryKey: ['sessions', 'log', sessionId],
    queryFn: () => {
      let tail = tails.current.get(sessionId);
      if (tail === undefined) {
        tail = { entries: [], seenOfPage: 0 };
        tails.current.set(sessionId, tail);
      }
      return readOn(sessionId, tail);
    },
    refetchInterval: live ? LOG_POLL_MS : false,
    // the tail lives in this component: a remount starts from the first page, so nothing cached may stand in for it
    gcTime: 0,
  });
  const { refetch } = query;
  useEffect(() => {
    if (wasLive.current && !live) void refetch();
    wasLive.current = live;
  }, [live, refetch]);
  return query;
}
