import { ValidationError } from '../core/errors.js';

/**
 * Pages over a list the store answers whole (tenants, computers, schedules,
 * deployments, a run's targets): sorted by a key, each page starting after
 * the last key of the one before. The cursor is that key, encoded; a list
 * that changed between pages neither repeats nor skips what stayed.
 */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

const MAX_KEY_LENGTH = 512;

const encode = (key: string): string => Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');

function decode(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('after' in parsed)) return undefined;
    const after = parsed.after;
    return typeof after === 'string' && after.length <= MAX_KEY_LENGTH ? after : undefined;
  } catch {
    return undefined;
  }
}

export function pageOf<T>(items: readonly T[], keyOf: (item: T) => string, limit: number, cursor: string | undefined): Page<T> {
  let after: string | undefined;
  if (cursor !== undefined) {
    after = decode(cursor);
    if (after === undefined) throw new ValidationError('page', [{ field: 'cursor', problem: 'is not a cursor this list handed out' }]);
  }
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return rest.length > limit && last !== undefined ? { items: page, nextCursor: encode(keyOf(last)) } : { items: page };
}
