import { AsyncResource } from 'node:async_hooks';
import type { UsageOwner, UsageSink } from '../functions/adapters/usage-meter.js';
import type { UsageCounters } from '../functions/core/model/usage.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import { excerpt } from '../functions/core/validation.js';

/** How long a record waits: past a step's hand-over to the next one, so the write lands while a script runs. */
export const USAGE_WRITE_DELAY_MS = 100;
/** As the handlers log an error: its message, cut short. */
const MAX_ERROR_MESSAGE = 1_000;
/** Writes at once in one flush: a schedule's fan-out queues hundreds of starts in one delay. */
const WRITES_AT_ONCE = 16;

interface Queued {
  readonly owner: UsageOwner;
  readonly counters: UsageCounters;
}

/**
 * The local runtime's usage writes, a moment after each invocation rather
 * than at its end.
 *
 * In Lambda, an invocation's usage is written as it ends, in its own
 * sandbox: the session's next step runs in another one meanwhile. Here every
 * handler shares one event loop, so that write (one table call, about 2 ms of
 * CPU, for each of a session's 40 or so invocations) ran between a command's
 * end and the next command's start, and made up about 3 ms of the engine
 * overhead per action that `bench:fleet` measures. Queued for
 * `USAGE_WRITE_DELAY_MS`, the records are written while the next script runs.
 *
 * What is written is unchanged: one `record` of the store per invocation, in
 * the order they ended. A record written after its session's usage was
 * closed is added to the run as well, as the store already does for an
 * invocation that ends after the execution (see `closeSessionUsage`).
 * Whoever reads usage right after a session (`waitForSession`, `close`)
 * flushes first. A record still queued when the process is killed is lost,
 * as one is in Lambda when its write fails: usage is never worth failing or
 * retrying a step for.
 */
export class DeferredUsageSink implements UsageSink {
  private queued: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Starts the timer in the context this sink was made in: the writes belong to no invocation (its log keys, its meter). */
  private readonly startTimer: () => void;

  constructor(
    private readonly store: UsageSink,
    private readonly logger: Logger,
    private readonly delayMs = USAGE_WRITE_DELAY_MS,
  ) {
    this.startTimer = AsyncResource.bind(() => {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      // a record never keeps the process alive on its own: closing the runtime flushes
      this.timer.unref();
    });
  }

  record(owner: UsageOwner, counters: UsageCounters): Promise<void> {
    this.queued.push({ owner, counters });
    if (this.timer === undefined) this.startTimer();
    return Promise.resolve();
  }

  /** Writes everything recorded so far; settles once those writes, and any flush before them, have. Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queued;
    this.queued = [];
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: readonly Queued[]): Promise<void> {
    for (let start = 0; start < batch.length; start += WRITES_AT_ONCE) {
      const chunk = batch.slice(start, start + WRITES_AT_ONCE);
      const results = await Promise.allSettled(chunk.map(({ owner, counters }) => this.store.record(owner, counters)));
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') return;
        const owner = chunk[index]?.owner;
        this.logger.warn('usage not recorded', {
          ...(owner ? { [owner.kind === 'session' ? 'sessionId' : 'runId']: owner.id } : {}),
          error: excerpt(result.reason instanceof Error ? result.reason.message : String(result.reason), MAX_ERROR_MESSAGE),
        });
      });
    }
  }
}
