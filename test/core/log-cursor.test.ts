import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLogCursor, encodeLogCursor, LOG_POSITION, logCursorProblem, MAX_LOG_CURSOR_LENGTH } from '../../functions/core/log-cursor.js';

const sessionIds = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const positions = fc
  .tuple(
    fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
    fc.stringMatching(/^[0-9a-z]{8}$/),
    fc.integer({ min: 1, max: 999_999_999_999 }),
  )
  .map(([at, writer, count]) => `${at.toISOString()}#${writer}-${String(count).padStart(12, '0')}`);

describe('log cursors', () => {
  it('decodes every cursor it encodes to the same session and position, within the length the handler allows (proves MAX_LOG_CURSOR_LENGTH fits)', () => {
    fc.assert(
      fc.property(sessionIds, positions, (sessionId, position) => {
        expect(position).toMatch(LOG_POSITION);
        const cursor = encodeLogCursor({ sessionId, position });
        expect(cursor.length).toBeLessThanOrEqual(MAX_LOG_CURSOR_LENGTH);
        expect(decodeLogCursor(cursor)).toEqual({ sessionId, position });
        expect(logCursorProblem(sessionId, cursor)).toBeUndefined();
      }),
    );
    expect(encodeLogCursor({ sessionId: 'x'.repeat(64), position: '9999-12-31T23:59:59.999Z#zzzzzzzz-999999999999' }).length).toBe(167);
  });

  it("refuses another session's cursor by saying so (proves one log's cursor cannot read another)", () => {
    const cursor = encodeLogCursor({ sessionId: 'ses_a', position: '2026-11-23T09:00:01.000Z#abcdefgh-000000000001' });
    expect(logCursorProblem('ses_b', cursor)).toBe("belongs to another session's log");
  });

  it('refuses a position that is not a real instant written as toISOString writes it (proves no made-up key reaches DynamoDB)', () => {
    for (const at of ['2026-02-30T09:00:00.000Z', '2026-11-23T24:00:00.000Z', '2026-11-23T09:60:00.000Z', '+02026-11-23T09:00:00.000Z', '2026-11-23T09:00:00Z']) {
      const cursor = encodeLogCursor({ sessionId: 'ses_a', position: `${at}#abcdefgh-000000000001` });
      expect([at, decodeLogCursor(cursor)]).toEqual([at, undefined]);
    }
  });

  it('refuses anything that is not exactly an encoded cursor (proves only what it handed out is taken back)', () => {
    const valid = encodeLogCursor({ sessionId: 'ses_a', position: '2026-11-23T09:00:01.000Z#abcdefgh-000000000001' });
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const decoded = decodeLogCursor(text);
        // whatever decodes must be the exact encoding of what it decodes to
        if (decoded !== undefined) expect(encodeLogCursor(decoded)).toBe(text);
      }),
    );
    expect(decodeLogCursor(`${valid}A`)).toBeUndefined();
    expect(decodeLogCursor(`${valid}=`)).toBeUndefined();
  });
});
