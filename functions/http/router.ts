import { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { ValidationError, type FieldProblem } from '../core/errors.js';
import { excerpt } from '../core/validation.js';
import type { ApiEnv } from './env.js';
import { fieldIn } from './errors.js';

/** The part of the request each validation target reads, as the envelope's `field` names it. */
const PARTS: Readonly<Record<string, string>> = { json: 'body', form: 'body', query: 'query', param: 'path', header: 'header', cookie: 'cookie' };

const MAX_PROBLEMS = 20;

/** A dotted path a person can read, with hostile keys cut short (they are input too). */
function pathOf(issue: z.core.$ZodIssue): string {
  const path: PropertyKey[] = [...issue.path];
  // an unknown field is reported on its object; the field itself is what the caller has to remove
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return excerpt(path.map((segment) => excerpt(typeof segment === 'symbol' ? (segment.description ?? 'symbol') : String(segment), 40)).join('.'), 200);
}

/**
 * What a request that does not match its route's schemas becomes: a
 * `ValidationError` whose fields say where (`body.schedule.name`,
 * `query.limit`, `path.sessionId`), answered by the app's one error mapper.
 */
export function refuseInvalid(result: { target: string; success: boolean; error?: z.ZodError }): void {
  if (result.success || !result.error) return;
  const part = PARTS[result.target] ?? result.target;
  const problems: FieldProblem[] = result.error.issues
    .slice(0, MAX_PROBLEMS)
    .map((issue) => ({ field: fieldIn(part, pathOf(issue)), problem: excerpt(issue.message, 300) }));
  throw new ValidationError('request', problems);
}

/** A group of routes: every one validates with the same hook, so every refusal has the same shape. */
export const newRouter = () =>
  new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      refuseInvalid(result);
    },
  });
