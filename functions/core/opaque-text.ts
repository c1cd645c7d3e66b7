import type { z } from 'zod';

/**
 * What a cursor handed to a caller looks like: base64url of its JSON. Callers
 * keep it whole and give it back; only its maker reads it.
 */
export const encodeOpaque = (content: unknown): string =>
  // Stryker disable next-line StringLiteral: Buffer.from takes an empty encoding name as its default, utf8
  Buffer.from(JSON.stringify(content), 'utf8').toString('base64url');

/**
 * The content of an opaque text the schema accepts, or `undefined` for
 * anything else: too long, not base64url, not JSON, not the schema's shape.
 * The caller still checks the exact encoding (base64url forgives stray bits).
 */
export function decodeOpaque<S extends z.ZodType>(text: string, maxLength: number, schema: S): z.infer<S> | undefined {
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,Regex: a cheap guard before decoding; whatever it refuses, the caller's exact re-encoding check refuses too
  if (text.length === 0 || text.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let content: unknown;
  try {
    content = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(content);
  return parsed.success ? parsed.data : undefined;
}
