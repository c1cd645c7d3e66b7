import type { z } from 'zod';
import { ValidationError, type FieldProblem } from './errors.js';

/** Bytes a string takes in UTF-8, which is what DynamoDB counts against its item size. */
export const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * At most `max` characters of `text`, marked when cut. Errors quote input
 * through this, so a refusal never carries the bulk of what was refused.
 */
export function excerpt(text: string, max = 80): string {
  if (text.length <= max) return text;
  // never split a surrogate pair: the excerpt must stay valid text
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

const MAX_FIELD_LENGTH = 200;
const MAX_PROBLEM_LENGTH = 300;
/** More offenders than this are summed up: one is enough to act on, a few help, thousands are noise. */
const MAX_PROBLEMS = 20;

/** Record keys are input too: a hostile key must not make the field name itself huge. */
const fieldOf = (path: readonly PropertyKey[]): string =>
  excerpt(
    path.map((segment) => excerpt(typeof segment === 'symbol' ? (segment.description ?? 'symbol') : String(segment), 40)).join('.'),
    MAX_FIELD_LENGTH,
  );

/**
 * What schemas would let through silently: NUL characters in strings or keys
 * (DynamoDB, the agent's environment variables and the shells each treat NUL
 * differently: stored, truncated, refused) and `__proto__` keys (which zod
 * drops without a word, since assigning one would replace a prototype).
 * Refused here, once, for every input, wherever they are in it.
 * Iterative: input nesting is the caller's choice, the call stack is not.
 */
function hiddenProblems(root: unknown): FieldProblem[] {
  interface Visit {
    readonly value: unknown;
    readonly key?: PropertyKey;
    readonly parent?: Visit;
  }
  // paths are built only for offenders: copying one per value would be quadratic in the nesting
  const pathOf = (visit: Visit, last?: PropertyKey): string => {
    const path: PropertyKey[] = last === undefined ? [] : [last];
    for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key);
    return fieldOf(path.reverse());
  };
  const found: FieldProblem[] = [];
  const nul = (field: string): FieldProblem => ({ field, problem: 'must not contain NUL characters (\\0)' });
  const pending: Visit[] = [{ value: root }];
  const visited = new Set<object>();
  while (found.length < MAX_PROBLEMS) {
    const visit = pending.pop();
    if (!visit) break;
    const { value } = visit;
    if (typeof value === 'string') {
      if (value.includes('\0')) found.push(nul(pathOf(visit)));
      continue;
    }
    if (value === null || typeof value !== 'object' || visited.has(value)) continue;
    visited.add(value);
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\0')) found.push(nul(pathOf(visit, key)));
      if (key === '__proto__') found.push({ field: pathOf(visit, key), problem: 'is not allowed as a field name' });
      pending.push({ value: child, key: Array.isArray(value) ? Number(key) : key, parent: visit });
    }
  }
  return found;
}

function summarize(problems: FieldProblem[]): FieldProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), { field: '', problem: `and ${problems.length - MAX_PROBLEMS} more problem(s)` }];
}

/**
 * Parses untrusted input against a schema. On failure every offending field is
 * named (dotted path) and nothing else happens: callers parse before they write.
 * Field names and problems are cut to a readable length, since both can quote the input.
 *
 * `fromMachines`: the input was written by AWS or by Nightshift's own workflow
 * (a Catch's error cause, an SSM event). NUL characters and `__proto__` keys
 * are let through there: refusing a step over a character in an error message
 * would fail the very step that records the failure.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, entity: string, options: { fromMachines?: boolean } = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems: FieldProblem[] = result.error.issues.map((issue) => ({
      field: fieldOf(issue.path),
      problem: excerpt(issue.message, MAX_PROBLEM_LENGTH),
    }));
    throw new ValidationError(entity, summarize(problems));
  }
  const hidden = options.fromMachines ? [] : hiddenProblems(input);
  if (hidden.length > 0) throw new ValidationError(entity, hidden);
  return result.data;
}
