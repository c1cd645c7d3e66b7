import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { CORRELATION_ID_PATH, PowertoolsLogger, type CorrelationKeys } from '../adapters/logger.powertools.js';
import { powertoolsMetricsOf } from '../adapters/metrics.powertools.js';
import { currentUsageMeter, UsageMeter, usageSinkOf, withUsageMeter, type UsageOwner } from '../adapters/usage-meter.js';
import type { UsageCounters } from '../core/model/usage.js';
import { INTERNAL_FAILURE, isNightshiftError, ValidationError, type ErrorCode } from '../core/errors.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';
import { excerpt, parseInput } from '../core/validation.js';
import { FUNCTION_SETTINGS } from './function-settings.js';

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
    readonly code: ErrorCode | typeof INTERNAL_FAILURE.code;
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
const INTERNAL_ERROR: ErrorEnvelope = { error: { code: INTERNAL_FAILURE.code, message: 'something went wrong; it has been logged' } };

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

/**
 * A Powertools middleware for the dependencies. The chain is built once, when
 * the handler is created, but Lambda's dependencies are built on the first
 * invocation, so what this wraps is built then, once, and kept. Dependencies
 * without Powertools adapters (unit tests' stubs, the local runtime's
 * in-memory metrics) get none.
 */
function fromDependencies(provide: DependencyProvider, build: (deps: Dependencies) => MiddlewareObj | undefined): MiddlewareObj {
  let built: MiddlewareObj | undefined;
  const middleware = (): MiddlewareObj => (built ??= build(provide()) ?? {});
  return {
    before: async (request) => {
      await middleware().before?.(request);
    },
    after: async (request) => {
      await middleware().after?.(request);
    },
    onError: async (request) => {
      await middleware().onError?.(request);
    },
  };
}

/** The Lambda context and the event's correlation id on every line; an invocation's keys dropped when it ends, thrown or not. */
const logContext = (provide: DependencyProvider): MiddlewareObj =>
  fromDependencies(provide, ({ logger }) =>
    logger instanceof PowertoolsLogger ? injectLambdaContext(logger.powertools, { resetKeys: true, correlationIdPath: CORRELATION_ID_PATH }) : undefined,
  );

/** What the invocation recorded, written as one EMF blob when it ends, thrown or not. */
const metricsFlush = (provide: DependencyProvider): MiddlewareObj =>
  fromDependencies(provide, ({ metrics }) => {
    const powertools = powertoolsMetricsOf(metrics);
    return powertools ? logMetrics(powertools) : undefined;
  });

const CORRELATION_KEY_NAMES = ['sessionId', 'computerId', 'tenantId', 'executionName', 'actionId'] as const;

/** The correlation keys a parsed input carries at its top level, each cut to an excerpt. */
function keysCarriedBy(input: unknown): CorrelationKeys {
  if (typeof input !== 'object' || input === null) return {};
  const keys: Record<string, string> = {};
  for (const name of CORRELATION_KEY_NAMES) {
    const value: unknown = Reflect.get(input, name);
    if (typeof value === 'string') keys[name] = excerpt(value);
  }
  return keys;
}

export interface HandlerOptions<S extends z.ZodType> {
  /** Correlation keys the input carries elsewhere than at its top level (an event's `detail`). */
  readonly logKeys?: (input: z.output<S>) => CorrelationKeys;
}

/**
 * The handlers EventBridge Scheduler invokes, and which of their events it
 * delivered (Scheduler bills each delivery): a session's window timer, and a
 * schedule's occurrence (an operator's run-now reaches fire-schedule
 * directly). The stack points the two Scheduler targets at these functions.
 */
const SCHEDULER_DELIVERIES: Readonly<Record<string, (event: unknown) => boolean>> = {
  'window-timer': () => true,
  'fire-schedule': (event) => typeof event === 'object' && event !== null && 'scheduledTime' in event,
};

/** Lambda's context says the function's memory; the local runtime's says the same as the stack deploys. */
function memoryMbOf(context: Context): number {
  const configured = Number(context.memoryLimitInMB);
  return Number.isFinite(configured) && configured > 0 ? configured : FUNCTION_SETTINGS.memoryMb;
}

/** The session an input names, in full (the log keys carry excerpts). */
function sessionNamedBy(input: unknown, keys: CorrelationKeys | undefined): string | undefined {
  const named: unknown = typeof input === 'object' && input !== null ? Reflect.get(input, 'sessionId') : undefined;
  return typeof named === 'string' ? named : keys?.sessionId;
}

/**
 * One write per invocation with an owner, after it ended, thrown or not (a
 * failed invocation is billed too, and its retry is billed again). A write
 * that fails loses that invocation's usage and is logged; it never fails the
 * invocation, whose retry would cost more than the figure is worth.
 */
async function recordUsage(handlerName: string, provide: DependencyProvider, owner: UsageOwner, counters: UsageCounters): Promise<void> {
  let deps: Dependencies;
  try {
    deps = provide();
  } catch {
    return; // the invocation could not build its dependencies, and has said so
  }
  const sink = usageSinkOf(deps);
  if (!sink) return;
  try {
    await sink.record(owner, counters);
  } catch (error) {
    deps.logger.warn('usage not recorded', {
      handler: handlerName,
      [owner.kind === 'session' ? 'sessionId' : 'runId']: owner.id,
      error: error instanceof Error ? excerpt(error.message, MAX_ENVELOPE_MESSAGE) : 'unknown error',
    });
  }
}

/**
 * Meters every invocation of `handler` (see usage-meter.ts): one invocation,
 * its wall time as Lambda bills it (rounded up to the millisecond) at the
 * function's memory, and whatever the adapters count while it runs. The meter
 * wraps the whole middy chain: AsyncLocalStorage scopes a call, which a
 * middleware's `before` cannot. Its own write comes after the wall time is
 * taken, so the few milliseconds it takes are billed by Lambda but not
 * counted here. For entry points built without the kit (the API) too.
 */
export function meteredInvocations<TResult>(handlerName: string, provide: DependencyProvider, handler: LambdaHandler<unknown, TResult>): LambdaHandler<unknown, TResult> {
  const deliveredByScheduler = SCHEDULER_DELIVERIES[handlerName];
  return async (event, context) => {
    const meter = new UsageMeter(memoryMbOf(context));
    if (deliveredByScheduler?.(event)) meter.add('schedulerInvocations');
    const startedAt = performance.now();
    try {
      return await withUsageMeter(meter, () => handler(event, context));
    } finally {
      const { owner, counters } = meter.close(performance.now() - startedAt);
      if (owner) await recordUsage(handlerName, provide, owner, counters);
    }
  };
}

function buildHandler<S extends z.ZodType, TResult>(
  handlerName: string,
  schema: S,
  run: (deps: Dependencies, input: z.output<S>) => Promise<TResult>,
  provide: DependencyProvider,
  fromMachines: boolean,
  options: HandlerOptions<S>,
) {
  return middy<unknown, TResult>().handler(async (event: unknown) => {
    const deps = provide();
    const input = parseInput(schema, event, `${handlerName} input`, { fromMachines });
    const logKeys = options.logKeys?.(input);
    if (deps.logger instanceof PowertoolsLogger) {
      deps.logger.appendKeys({ handler: handlerName, ...keysCarriedBy(input), ...logKeys });
    }
    // a workflow step or event works for its session; an operator's request costs the session only if it changes it
    const sessionId = sessionNamedBy(input, logKeys);
    if (sessionId !== undefined) currentUsageMeter()?.attributeTo(sessionId, { whenWritten: !fromMachines });
    return run(deps, input);
  });
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
  options: HandlerOptions<S> = {},
): (provide: DependencyProvider) => LambdaHandler<unknown, TResult> {
  return (provide) =>
    meteredInvocations(
      handlerName,
      provide,
      buildHandler(handlerName, schema, run, provide, true, options)
        // onError runs in reverse order of `use`: log the error with the invocation's keys, flush, then drop the keys
        .use(logContext(provide))
        .use(metricsFlush(provide))
        .use(reportErrors(provide, handlerName)),
    );
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
  options: HandlerOptions<S> = {},
): (provide: DependencyProvider) => LambdaHandler<unknown, TResult | ErrorEnvelope> {
  return (provide) =>
    meteredInvocations(
      handlerName,
      provide,
      buildHandler<S, TResult | ErrorEnvelope>(handlerName, schema, run, provide, false, options)
        // onError runs in reverse order of `use`: report, flush, drop the keys, then answer (an answer ends the chain)
        .use(answerWithEnvelope)
        .use(logContext(provide))
        .use(metricsFlush(provide))
        .use(reportErrors(provide, handlerName)),
    );
}
