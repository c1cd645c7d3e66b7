import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { isNightshiftError, ValidationError, type ErrorCode } from '../core/errors.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';
import { excerpt, parseInput } from '../core/validation.js';

/** Builds the dependencies on first use; the Lambda entry point and the local runtime each pass their own. */
export type DependencyProvider = () => Dependencies;

export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * What an operator handler answers instead of throwing. `field` names the
 * first offending field of a validation failure; `message` is written for a
 * person and quotes the input only in short excerpts.
 */
export interface ErrorEnvelope {
  readonly error: {
    readonly code: ErrorCode | 'INTERNAL';
    readonly message: string;
    readonly field?: string;
  };
}

/** For in-process callers (the local runtime, tests) that need to tell an answer from a refusal. */
export const isErrorEnvelope = (value: unknown): value is ErrorEnvelope =>
  typeof value === 'object' &&
  value !== null &&
  'error' in value &&
  typeof value.error === 'object' &&
  value.error !== null &&
  'code' in value.error &&
  typeof value.error.code === 'string';

const MAX_ENVELOPE_MESSAGE = 1_000;

/** Errors that are not Nightshift's own say nothing about themselves: their message may hold table names, keys or input. */
const INTERNAL_ERROR: ErrorEnvelope = { error: { code: 'INTERNAL', message: 'something went wrong; it has been logged' } };

export function errorEnvelope(error: unknown): ErrorEnvelope {
  if (!isNightshiftError(error)) return INTERNAL_ERROR;
  const field = error instanceof ValidationError ? error.problems.find((p) => p.field !== '')?.field ?? '' : undefined;
  return { error: { code: error.code, message: excerpt(error.message, MAX_ENVELOPE_MESSAGE), ...(field === undefined ? {} : { field }) } };
}

/**
 * Logs what failed with the correlation keys. In a step handler the error then
 * propagates unchanged (Step Functions routes on its `name`); in an operator
 * handler it is answered with an envelope. Unexpected errors keep their stack
 * in the log only, and what is logged of the input is cut to an excerpt.
 */
const reportErrors = (provide: DependencyProvider, handlerName: string): MiddlewareObj => ({
  onError: (request) => {
    const error = request.error;
    const event = request.event;
    const sessionId =
      event && typeof event === 'object' && 'sessionId' in event && typeof event.sessionId === 'string'
        ? excerpt(event.sessionId)
        : undefined;
    const fields = {
      handler: handlerName,
      ...(sessionId ? { sessionId } : {}),
      errorName: error?.name,
      ...(isNightshiftError(error) ? { code: error.code, transient: error.transient } : { stack: error?.stack }),
    };
    provide().logger.error(excerpt(error?.message ?? 'unknown error', MAX_ENVELOPE_MESSAGE), fields);
  },
});

/**
 * Turns an error into the envelope and ends the invocation with it (middy
 * returns what an `onError` returns). Registered after `reportErrors`, so the
 * error is logged before it is answered. The same object serves every
 * operator handler: it holds no state.
 */
const answerWithEnvelope: MiddlewareObj<unknown, unknown> = {
  onError: (request) => errorEnvelope(request.error),
};

function buildHandler<S extends z.ZodType, TResult>(
  handlerName: string,
  schema: S,
  run: (deps: Dependencies, input: z.output<S>) => Promise<TResult>,
  provide: DependencyProvider,
  fromMachines: boolean,
) {
  return middy<unknown, TResult>().handler(async (event: unknown) => run(provide(), parseInput(schema, event, `${handlerName} input`, { fromMachines })));
}

/**
 * A workflow step or event handler (its input comes from Step Functions,
 * EventBridge or a schedule): parse the event with `schema` (a bad event is a
 * `ValidationError` naming the field), run one use case, return its result.
 * Errors are thrown, never answered: the ASL's Retry and Catch route on their
 * `name`. The middy chain is built once, when the handler is created.
 */
export function defineHandler<S extends z.ZodType, TResult>(
  handlerName: string,
  schema: S,
  run: (deps: Dependencies, input: z.output<S>) => Promise<TResult>,
): (provide: DependencyProvider) => LambdaHandler<unknown, TResult> {
  return (provide) => buildHandler(handlerName, schema, run, provide, true).use(reportErrors(provide, handlerName));
}

/**
 * A handler people and programs call directly (start, postpone, cancel, read
 * the log, save the catalog). Same parsing and use case as `defineHandler`,
 * but a failure is answered with one `ErrorEnvelope`, never thrown: a caller
 * sees a code, a message and the field, and no stack trace or internals.
 */
export function defineOperatorHandler<S extends z.ZodType, TResult>(
  handlerName: string,
  schema: S,
  run: (deps: Dependencies, input: z.output<S>) => Promise<TResult>,
): (provide: DependencyProvider) => LambdaHandler<unknown, TResult | ErrorEnvelope> {
  return (provide) =>
    buildHandler<S, TResult | ErrorEnvelope>(handlerName, schema, run, provide, false)
      // onError runs in reverse order of `use`: report first, then answer
      .use(answerWithEnvelope)
      .use(reportErrors(provide, handlerName));
}
