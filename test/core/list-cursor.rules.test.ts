import { describe, expect, it } from 'vitest';
import {
  canonicalInstant,
  CURSOR_NOT_OURS,
  CURSOR_OF_ANOTHER_QUERY,
  decodeListCursor,
  encodeListCursor,
  isCanonicalInstant,
  listQueryFingerprint,
} from '../../functions/core/list-cursor.js';

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const FINGERPRINT = '0123456789abcdef';

describe('instants as the listing keys hold them', () => {
  it('are toISOString\'s fixed-width form only: no extended years, no other form of the same time', () => {
    expect(isCanonicalInstant('2026-11-23T09:00:00.000Z')).toBe(true);
    // toISOString writes years past 9999 with a sign and six digits: byte order would no longer be time order
    expect(new Date('+010000-01-01T00:00:00.000Z').toISOString()).toBe('+010000-01-01T00:00:00.000Z');
    expect(isCanonicalInstant('+010000-01-01T00:00:00.000Z')).toBe(false);
    expect(isCanonicalInstant('2026-11-23T09:00:00Z')).toBe(false);
    expect(isCanonicalInstant('2026-02-30T09:00:00.000Z')).toBe(false);
  });

  it('are written canonically from any form Date reads, and other text is left as it is', () => {
    expect(canonicalInstant('2026-11-23T09:00:00Z')).toBe('2026-11-23T09:00:00.000Z');
    expect(canonicalInstant('2026-11-23T10:00:00+01:00')).toBe('2026-11-23T09:00:00.000Z');
    expect(canonicalInstant('not a time')).toBe('not a time');
  });
});

describe('a list cursor', () => {
  const cursor = { query: FINGERPRINT, position: 'k#1', range: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' } };

  it('reads back what it was made from, with or without a range', () => {
    expect(decodeListCursor(encodeListCursor(cursor))).toEqual(cursor);
    expect(decodeListCursor(encodeListCursor({ query: FINGERPRINT, position: 'k#1' }))).toEqual({ query: FINGERPRINT, position: 'k#1' });
    expect(decodeListCursor('eyJxIjoiMDEyMzQ1Njc4OWFiY2RlZiIsImsiOiJrIzEiLCJyIjpbIjIwMjYtMDMtMDFUMDA6MDA6MDAuMDAwWiIsIjIwMjYtMDMtMDhUMDA6MDA6MDAuMDAwWiJdfQ')).toEqual(cursor);
  });

  it('refuses the same content written any other way than its own encoding (other key order, spaces)', () => {
    expect(decodeListCursor(base64url(`{"k":"k#1","q":"${FINGERPRINT}"}`))).toBeUndefined();
    expect(decodeListCursor(base64url(`{"q": "${FINGERPRINT}","k":"k#1"}`))).toBeUndefined();
    expect(decodeListCursor(base64url(`{"q":"${FINGERPRINT}","k":"k#1"}`))).toEqual({ query: FINGERPRINT, position: 'k#1' });
  });

  it('refuses a fingerprint that is not exactly 16 hex digits', () => {
    for (const query of [`x${FINGERPRINT}`, `${FINGERPRINT}0`, FINGERPRINT.slice(1), FINGERPRINT.toUpperCase()]) {
      expect(decodeListCursor(encodeListCursor({ query, position: 'k#1' })), query).toBeUndefined();
    }
  });

  it('refuses a position that is empty, over 300 characters, or not printable ASCII throughout', () => {
    expect(decodeListCursor(encodeListCursor({ query: FINGERPRINT, position: 'k'.repeat(300) }))?.position).toBe('k'.repeat(300));
    for (const position of ['', 'k'.repeat(301), ' k', 'k ', 'k\u00e9']) {
      expect(decodeListCursor(encodeListCursor({ query: FINGERPRINT, position })), JSON.stringify(position)).toBeUndefined();
    }
  });

  it('tells the caller what to do in its two refusals', () => {
    expect(CURSOR_NOT_OURS).toBe('is not a cursor this list handed out; pass back the nextCursor of the previous page unchanged');
    expect(CURSOR_OF_ANOTHER_QUERY).toBe('belongs to a list with other filters or another range; ask for the first page of this one without a cursor');
  });

  it('is bound by a fingerprint that stays the same across deploys for the same query', () => {
    expect(listQueryFingerprint({ b: [1, 'x'], a: null })).toBe('12d0ea61b8f5b23c');
    expect(listQueryFingerprint({ a: null, b: [1, 'x'] })).toBe('12d0ea61b8f5b23c');
  });
});
