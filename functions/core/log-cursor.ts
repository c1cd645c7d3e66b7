import { decodeOpaque, encodeOpaque } from './opaque-text.js';
import { z } from 'zod';

/**
 * Where a page of a session's log ended: the session and the position of its
 * last line. Callers get it as an opaque string (base64url of a small JSON
 * document) and hand it back unchanged; anything else, including the cursor
 * of another session's log, is refused before the store is asked.
 */
export interface LogCursor {
  readonly sessionId: string;
  /**
   * The last line read, as `<at>#<writer>-<count>` (see `LOG_POSITION`); the
   * next page starts after it.
   */
  readonly position: string;
}

/**
 * A line's place in its log: its time (`toISOString()`, fixed width), then
 * the process that wrote it (8 base36 characters) and that process's count of
 * lines (12 digits), so byte order is time order, then write order per process.
 */
export const LOG_POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-z]{8}-\d{12}$/;

/** Comfortably above any cursor this module encodes (a 64-character session id and a 46-character position: 167 characters). */
export const MAX_LOG_CURSOR_LENGTH = 256;

const contentSchema = z.strictObject({
  s: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  k: z
    .string()
    .regex(LOG_POSITION) // fixed width: 46 characters
    // a real instant, written the way toISOString writes it (no 2026-02-30)
    .refine((position) => {
      const at = position.slice(0, position.indexOf('#'));
      const time = Date.parse(at);
      return !Number.isNaN(time) && new Date(time).toISOString() === at;
    }),
});

export const encodeLogCursor = (cursor: LogCursor): string => encodeOpaque({ s: cursor.sessionId, k: cursor.position });

/** The cursor, or `undefined` for anything `encodeLogCursor` did not produce from a valid position. */
export function decodeLogCursor(text: string): LogCursor | undefined {
  const content = decodeOpaque(text, MAX_LOG_CURSOR_LENGTH, contentSchema);
  if (!content) return undefined;
  const cursor = { sessionId: content.s, position: content.k };
  // base64url decoding forgives stray bits; only the exact encoding is ours
  return encodeLogCursor(cursor) === text ? cursor : undefined;
}

const LOG_CURSOR_PROBLEM = 'is not a cursor this log handed out; pass back the cursor of the previous page unchanged';
const FOREIGN_LOG_CURSOR_PROBLEM = "belongs to another session's log";

/** The problem with `cursor` as a place in `sessionId`'s log, if any. */
export function logCursorProblem(sessionId: string, cursor: string): string | undefined {
  const decoded = decodeLogCursor(cursor);
  if (!decoded) return LOG_CURSOR_PROBLEM;
  return decoded.sessionId === sessionId ? undefined : FOREIGN_LOG_CURSOR_PROBLEM;
}
