import type { z } from 'zod';
import { ValidationError, type FieldProblem } from './errors.js';

/**
 * Parses untrusted input against a schema. On failure every offending field is
 * named (dotted path) and nothing else happens: callers parse before they write.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, entity: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    problem: issue.message,
  }));
  throw new ValidationError(entity, problems);
}
