import { decodeOpaque, encodeOpaque } from './opaque-text.js';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/**
 * Where a page of a merged list ended (see newest-first-merge.ts), bound to
 * the query it answers. Callers get it as an opaque string (base64url of a
 * small JSON document) and hand it back unchanged; anything else, and the
 * cursor of another query, is refused before the store is asked.
 *
 * The binding is a fingerprint of the query's filters, not a signature: the
 * store builds the partitions it reads from the query itself and takes only
 * a starting key from the cursor, so a forged cursor can skip rows of the
 * caller's own list but never reach another tenant's. The fingerprint is
 * there so that a cursor reused with other filters is named as the mistake
 * it is, instead of silently starting the new list part-way through.
 */
export interface ListCursor {
  /** `listQueryFingerprint` of the query the cursor belongs to. */
  readonly query: string;
  /** Every key strictly below this is still to come. */
  readonly position: string;
  /** The range of a list asked for by time: a page after the first keeps it, whatever "now" has become. */
  readonly range?: { readonly from: string; readonly to: string };
}

/** Comfortably above any cursor encoded here: a 300-character position, a fingerprint and a range come to ~500. */
export const MAX_LIST_CURSOR_LENGTH = 640;
const MAX_POSITION_LENGTH = 300;

/** An instant as `toISOString` writes it: fixed width, so byte order is time order. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Whether `text` is a real instant written the way `toISOString` writes it (no 2026-02-30). */
export function isCanonicalInstant(text: string): boolean {
  if (!INSTANT.test(text)) return false;
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
}

/** The instant as `toISOString` writes it, if `text` names one; `text` itself otherwise. */
export function canonicalInstant(text: string): string {
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(time).toISOString();
}

const instantSchema = z.string().refine(isCanonicalInstant);

const contentSchema = z.strictObject({
  q: z.string().regex(/^[0-9a-f]{16}$/),
  // printable ASCII: every key written to the listing indexes is
  k: z.string().min(1).max(MAX_POSITION_LENGTH).regex(/^[\x21-\x7e]+$/),
  r: z.tuple([instantSchema, instantSchema]).optional(),
});

export const encodeListCursor = (cursor: ListCursor): string =>
  encodeOpaque({ q: cursor.query, k: cursor.position, ...(cursor.range ? { r: [cursor.range.from, cursor.range.to] } : {}) });

/** The cursor, or `undefined` for anything `encodeListCursor` did not produce. */
export function decodeListCursor(text: string): ListCursor | undefined {
  const content = decodeOpaque(text, MAX_LIST_CURSOR_LENGTH, contentSchema);
  if (!content) return undefined;
  const { q, k, r } = content;
  const cursor: ListCursor = { query: q, position: k, ...(r ? { range: { from: r[0], to: r[1] } } : {}) };
  // base64url decoding forgives stray bits; only the exact encoding is ours
  return encodeListCursor(cursor) === text ? cursor : undefined;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/**
 * 64-bit FNV-1a of the query's canonical JSON, as 16 hex digits: equal
 * queries (whatever their key order) give equal fingerprints. Not a
 * cryptographic hash, and it need not be (see `ListCursor`).
 */
export function listQueryFingerprint(query: unknown): string {
  let hash = FNV_OFFSET;
  // Stryker disable next-line StringLiteral: Buffer.from takes an empty encoding name as its default, utf8
  for (const byte of Buffer.from(canonicalJson(query), 'utf8')) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  }
  return hash.toString(16).padStart(16, '0');
}

export const CURSOR_NOT_OURS = 'is not a cursor this list handed out; pass back the nextCursor of the previous page unchanged';
export const CURSOR_OF_ANOTHER_QUERY = 'belongs to a list with other filters or another range; ask for the first page of this one without a cursor';
