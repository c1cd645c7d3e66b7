import { describe, expect, it } from 'vitest';
import { LOG_POSITION, MAX_LOG_CURSOR_LENGTH, decodeLogCursor, encodeLogCursor, logCursorProblem } from '../../functions/core/log-cursor.js';

const POSITION = '2026-11-23T09:00:01.000Z#abcdefgh-000000000001';
/** What a cursor holds, encoded the way the log encodes it, whatever it holds. */
const raw = (content: unknown): string => Buffer.from(JSON.stringify(content), 'utf8').toString('base64url');

describe('log cursors, rule by rule (pure)', () => {
  it('writes a position as its time, writer and count, fixed width', () => {
    expect(LOG_POSITION.test(POSITION)).toBe(true);
    for (const position of [
      `x${POSITION}`,
      `${POSITION}x`,
      '2026-11-23T09:00:01.00Z#abcdefgh-000000000001',
      '2026-11-23T09:00:01.000Z#abcdefg-000000000001',
      '2026-11-23T09:00:01.000Z#ABCDEFGH-000000000001',
      '2026-11-23T09:00:01.000Z#abcdefgh-00000000001',
      '2026-11-23T09:00:01.000Z-abcdefgh-000000000001',
    ]) {
      expect([position, LOG_POSITION.test(position)]).toEqual([position, false]);
    }
    expect(MAX_LOG_CURSOR_LENGTH).toBe(256);
  });

  it('encodes a cursor as base64url of its short JSON form', () => {
    const cursor = encodeLogCursor({ sessionId: 's-1', position: POSITION });
    expect(cursor).toBe(raw({ s: 's-1', k: POSITION }));
    expect(decodeLogCursor(cursor)).toEqual({ sessionId: 's-1', position: POSITION });
  });

  it.each([
    ['empty text', ''],
    ['text past the longest cursor', 'A'.repeat(257)],
    ['characters outside base64url', `${raw({ s: 's-1', k: POSITION })}!`],
    ['padding', `${raw({ s: 's-1', k: POSITION })}==`],
    ['base64url that is not JSON', Buffer.from('not json', 'utf8').toString('base64url')],
    ['JSON that is not a cursor', raw(['s-1', POSITION])],
    ['a cursor with a field more', raw({ s: 's-1', k: POSITION, x: 1 })],
    ['a cursor without its session', raw({ k: POSITION })],
    ['an empty session id', raw({ s: '', k: POSITION })],
    ['a session id with a dot', raw({ s: 's.1', k: POSITION })],
    ['a session id of 65 characters', raw({ s: 'a'.repeat(65), k: POSITION })],
    ['a position that is not fixed width', raw({ s: 's-1', k: '2026-11-23T09:00:01.000Z#abcdefgh-1' })],
    ['a position of a day that does not exist', raw({ s: 's-1', k: '2026-02-30T09:00:01.000Z#abcdefgh-000000000001' })],
    ['a position of an hour that does not exist', raw({ s: 's-1', k: '2026-11-23T25:00:01.000Z#abcdefgh-000000000001' })],
  ])('refuses %s', (_what, text) => {
    expect(decodeLogCursor(text)).toBeUndefined();
    expect(logCursorProblem('s-1', text)).toBe('is not a cursor this log handed out; pass back the cursor of the previous page unchanged');
  });

  it('takes a session id of 64 characters, every character base64url allows', () => {
    const sessionId = `${'a'.repeat(60)}Z9_-`;
    expect(decodeLogCursor(encodeLogCursor({ sessionId, position: POSITION }))).toEqual({ sessionId, position: POSITION });
  });

  it("refuses another session's cursor, naming why, and takes its own", () => {
    const cursor = encodeLogCursor({ sessionId: 's-1', position: POSITION });
    expect(logCursorProblem('s-2', cursor)).toBe("belongs to another session's log");
    expect(logCursorProblem('s-1', cursor)).toBeUndefined();
  });
});
