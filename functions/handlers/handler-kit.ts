import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { isNightshiftError } from '../core/errors.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';
import { parseInput } from '../core/validation.js';

/** Builds the dependencies on first use; the Lambda entry point and the local runtime each pass their own. */
export type DependencyProvider = () => Dependencies;

export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * Logs what failed with the correlation keys, then lets the error propagate
 * unchanged: Step Functions routes on its `name`. Unexpected errors keep
 * their stack in the log only.
 */
const reportErrors = (provide: DependencyProvider, handlerName: string): MiddlewareObj => ({
  onError: (request) => {
    const error = request.error;
    const event = request.event;
    const sessionId =
      event && typeof event === 'object' && 'sessionId' in event && typeof event.sessionId === 'string'
        ? event.sessionId
        : undefined;
    const fields = {
      handler: handlerName,
      ...(sessionId ? { sessionId } : {}),
      errorName: error?.name,
      ...(isNightshiftError(error) ? { code: error.code, transient: error.transient } : { stack: error?.stack }),
    };
    provide().logger.error(error?.message ?? 'unknown error', fields);
  },
});

/**
 * A thin Lambda handler: parse the event with `schema` (a bad event is a
 * `ValidationError` naming the field), run one use case, return its result.
 * The middy chain is built once, when the handler is created.
 */
export function defineHandler<S extends z.ZodType, TResult>(
  handlerName: string,
  schema: S,
  run: (deps: Dependencies, input: z.output<S>) => Promise<TResult>,
): (provide: DependencyProvider) => LambdaHandler<unknown, TResult> {
  return (provide) =>
    middy<unknown, TResult>()
      .use(reportErrors(provide, handlerName))
      .handler(async (event: unknown) => run(provide(), parseInput(schema, event, `${handlerName} input`)));
}
