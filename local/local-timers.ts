import type { Clock } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { WindowTimerPort } from '../functions/core/ports/window-timer.port.js';
import { JsonFile, SingleFlight } from './json-file.js';

interface StoredTimer {
  readonly sessionId: string;
  readonly at: string;
  /** Failed deliveries so far; like Scheduler's retry policy, a timer is retried, then dead-lettered. */
  readonly attempts: number;
}

export interface LocalTimersOptions {
  /** The timers survive a restart of the runtime here. */
  readonly file: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often due timers are looked for, in real milliseconds. */
  readonly pollMs?: number;
  /** Deliveries tried before a timer is given up (Scheduler's dead-letter queue). */
  readonly maxAttempts?: number;
}

/**
 * The local twin of EventBridge Scheduler's one-time `at()` schedules: one
 * timer per session, persisted to a file, due on the runtime's clock (so
 * tests on a manual clock drive it by moving time), delivered to the same
 * `window-timer` handler the schedule targets in AWS.
 */
export class LocalTimers implements WindowTimerPort {
  private readonly timers = new Map<string, StoredTimer>();
  private target: ((sessionId: string) => Promise<unknown>) | undefined;
  private poller: NodeJS.Timeout | undefined;
  private readonly store: JsonFile<StoredTimer[]>;
  private readonly delivery = new SingleFlight(() => this.deliverDue());

  constructor(private readonly options: LocalTimersOptions) {
    this.store = new JsonFile(options.file);
  }

  /** Reads the timers a previous run left armed. */
  async load(): Promise<void> {
    for (const timer of (await this.store.read()) ?? []) this.timers.set(timer.sessionId, timer);
  }

  /** Starts delivering due timers to `target` (the window-timer handler). */
  start(target: (sessionId: string) => Promise<unknown>): void {
    this.target = target;
    this.poller = setInterval(() => void this.fireDue(), this.options.pollMs ?? 250);
    this.poller.unref();
  }

  set(sessionId: string, at: string): Promise<void> {
    this.timers.set(sessionId, { sessionId, at, attempts: 0 });
    return this.save();
  }

  clear(sessionId: string): Promise<void> {
    if (!this.timers.delete(sessionId)) return Promise.resolve();
    return this.save();
  }

  /** The armed timers, for tests and the demo's report. */
  armed(): { sessionId: string; at: string }[] {
    return [...this.timers.values()].map(({ sessionId, at }) => ({ sessionId, at }));
  }

  private async deliverDue(): Promise<void> {
    const target = this.target;
    if (!target) return;
    const nowMs = this.options.clock.now().getTime();
    const due = [...this.timers.values()].filter((timer) => Date.parse(timer.at) <= nowMs);
    for (const timer of due) {
      // removed before delivery, as Scheduler deletes a fired `at()` schedule: the handler may arm a new one
      if (this.timers.get(timer.sessionId) === timer) this.timers.delete(timer.sessionId);
      await this.save();
      try {
        await target(timer.sessionId);
      } catch (error) {
        const attempts = timer.attempts + 1;
        const message = error instanceof Error ? error.message : String(error);
        if (attempts >= (this.options.maxAttempts ?? 5)) {
          this.options.logger.error('window timer dead-lettered', { sessionId: timer.sessionId, attempts, error: message });
        } else if (!this.timers.has(timer.sessionId)) {
          // retried later on the runtime clock, backing off, as Scheduler's retry policy does
          const retryAt = new Date(this.options.clock.now().getTime() + 2 ** attempts * 1000).toISOString();
          this.timers.set(timer.sessionId, { ...timer, at: retryAt, attempts });
          await this.save();
        }
      }
    }
  }

  private save(): Promise<void> {
    return this.store.save([...this.timers.values()]);
  }

  /** Delivers every timer that is due on the runtime clock; resolves once they are delivered. */
  fireDue(): Promise<void> {
    return this.delivery.run();
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    await this.delivery.idle();
    await this.store.settled();
  }
}
