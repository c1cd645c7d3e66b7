import { z } from 'zod';

/**
 * Where a page of a session's log ended: the session and the sequence number
 * of its last line. Callers get it as an opaque string (base64url of a small
 * JSON document) and hand it back unchanged; anything else, including the
 * cursor of another session's log, is refused before the store is asked.
 */
export interface LogCursor {
  readonly sessionId: string;
  /** The last line read; the next page starts after it. */
  readonly sequence: number;
}

/** Log sequence numbers are stored as 8 digits. */
export const MAX_LOG_SEQUENCE = 99_999_999;
/** Comfortably above any cursor this module encodes (a 64-character session id and 8 digits). */
export const MAX_LOG_CURSOR_LENGTH = 256;

const contentSchema = z.strictObject({
  s: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  n: z.int().min(0).max(MAX_LOG_SEQUENCE),
});

export const encodeLogCursor = (cursor: LogCursor): string =>
  Buffer.from(JSON.stringify({ s: cursor.sessionId, n: cursor.sequence }), 'utf8').toString('base64url');

/** The cursor, or `undefined` for anything `encodeLogCursor` did not produce. */
export function decodeLogCursor(text: string): LogCursor | undefined {
  if (text.length === 0 || text.length > MAX_LOG_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let content: unknown;
  try {
    content = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = contentSchema.safeParse(content);
  if (!parsed.success) return undefined;
  const cursor = { sessionId: parsed.data.s, sequence: parsed.data.n };
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
