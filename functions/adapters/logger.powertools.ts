import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger as PowertoolsLoggerCore, type LogItem } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Logger } from '../core/ports/logger.port.js';

/** The keys a handler learns from its input; each one is on every line the invocation writes. */
export interface CorrelationKeys {
  /** The handler's registry name, so lines of one function can be told apart locally, where they share a file. */
  readonly handler?: string;
  readonly sessionId?: string;
  readonly computerId?: string;
  readonly tenantId?: string;
  readonly executionName?: string;
  readonly actionId?: string;
}

/**
 * Where a correlation id comes from: an API Gateway request, an EventBridge
 * event (only an event has `detail-type`, so a step's own `id` field is never
 * taken for one), or a caller that names its own.
 */
export const CORRELATION_ID_PATH = 'requestContext.requestId || ("detail-type" && id) || correlationId';

/** Correlation ids are searched in the raw event, before any schema: only a short string is kept on every line. */
const MAX_CORRELATION_ID_CHARS = 128;
const correlationIdSearch = (expression: string, data: unknown): unknown => {
  const found = search(expression, data);
  return typeof found === 'string' && found.length <= MAX_CORRELATION_ID_CHARS ? found : undefined;
};

/**
 * Powertools writes to Lambda's stdout; the local runtime wants the same
 * lines in its log file. `printLog` is Powertools' hook for where a formatted
 * line goes, so only the destination changes, never the line.
 */
class LineWriterLogger extends PowertoolsLoggerCore {
  // Assigned after `super()`: a line Powertools prints while it constructs itself goes to stdout.
  private write: ((line: string) => void) | undefined;

  constructor(write: (line: string) => void, options: ConstructorOptions) {
    super(options);
    this.write = write;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    const write = this.write;
    if (!write) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorOptions): PowertoolsLoggerCore {
    return new LineWriterLogger(this.write ?? ((line) => process.stdout.write(`${line}\n`)), options ?? {});
  }
}

export interface PowertoolsLoggerOptions {
  /** @default 'nightshift' */
  readonly serviceName?: string;
  /** Keys on every line of this logger, e.g. `{ runtime: 'local' }`. */
  readonly persistentKeys?: Readonly<Record<string, string>>;
  /** Where each JSON line goes (without its newline). @default Lambda's stdout, as Powertools writes it */
  readonly write?: (line: string) => void;
}

/**
 * The Logger port on Powertools for AWS Lambda: one JSON object per line with
 * Powertools' keys (`level`, `message`, `timestamp`, `service`, the Lambda
 * context, `correlation_id`) and ours. The handler kit hands `powertools` to
 * Powertools' middy middleware, which adds the Lambda context and clears an
 * invocation's keys when it ends.
 */
export class PowertoolsLogger implements Logger {
  readonly powertools: PowertoolsLoggerCore;

  constructor(options: PowertoolsLoggerOptions = {}) {
    const constructorOptions: ConstructorOptions = {
      serviceName: options.serviceName ?? 'nightshift',
      correlationIdSearchFn: correlationIdSearch,
      ...(options.persistentKeys ? { persistentKeys: { ...options.persistentKeys } } : {}),
    };
    this.powertools = options.write ? new LineWriterLogger(options.write, constructorOptions) : new PowertoolsLoggerCore(constructorOptions);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.powertools.info(message, fields ?? {});
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.powertools.warn(message, fields ?? {});
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.powertools.error(message, fields ?? {});
  }

  /** Keys for every later line of the current invocation; Powertools' middleware drops them when it ends. */
  appendKeys(keys: CorrelationKeys): void {
    this.powertools.appendKeys({ ...keys });
  }
}

type InvokeContext = Record<string | symbol, unknown>;

/**
 * What Lambda's runtime provides where invocations share one process (Lambda
 * Managed Instances): a context per invocation, in which Powertools keeps that
 * invocation's keys and Lambda context apart from the others'.
 */
class ConcurrentInvokeStore extends InvokeStoreBase {
  readonly #contexts = new AsyncLocalStorage<InvokeContext>();

  getContext(): InvokeContext | undefined {
    return this.#contexts.getStore();
  }

  hasContext(): boolean {
    return this.#contexts.getStore() !== undefined;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the signature InvokeStoreBase declares
  get<T = unknown>(key: string | symbol): T | undefined {
    return this.#contexts.getStore()?.[key] as T | undefined;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the signature InvokeStoreBase declares
  set<T = unknown>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) throw new Error(`cannot change the protected invocation field ${String(key)}`);
    const context = this.#contexts.getStore();
    if (!context) throw new Error('no invocation is running');
    context[key] = value;
  }

  run<T>(context: InvokeContext, fn: () => T): T {
    return this.#contexts.run(context, fn);
  }
}

let concurrentStore: ConcurrentInvokeStore | undefined;

/**
 * For a host that runs several invocations at once in one process (the local
 * runtime): runs each in its own invocation context, the way Lambda Managed
 * Instances do, so Powertools never stamps one session's line with another's
 * keys. Opting in is process-wide, as it is in Lambda
 * (`AWS_LAMBDA_MAX_CONCURRENCY`); lines written outside any invocation share
 * one set of keys.
 */
export function concurrentInvocations(): <T>(requestId: string, invocation: () => T) => T {
  const store = (concurrentStore ??= new ConcurrentInvokeStore());
  // whatever store an earlier SDK call installed, Powertools reads this one from now on
  awslambda.InvokeStore = store;
  // set after the store: with it set and no store, Powertools refuses to log
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
  return (requestId, invocation) => store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId }, invocation);
}
