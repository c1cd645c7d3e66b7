import { setTimeout as sleepFor } from 'node:timers/promises';
import { TransientError } from '../core/errors.js';
import type { WorkflowPort } from '../core/ports/workflow.port.js';

/**
 * Step Functions' StartExecution quota in the large Regions: a bucket of
 * 1,300 that refills at 300 per second. The defaults stay under it, so one
 * fan-out leaves room for the rest of the account (other fan-outs, start-session).
 */
export const DEFAULT_START_PACING = { ratePerSecond: 250, burst: 1_000 } as const;

export interface StartPacing {
  /** Starts per second once the burst is spent. */
  readonly ratePerSecond: number;
  /** Starts allowed at once from idle. */
  readonly burst: number;
  /** Attempts of one start, its throttled ones included, before it fails as transient. @default 10 */
  readonly maxAttempts?: number;
  /** Milliseconds on a monotonic clock: pacing is about the API's rate, not the business clock. @default performance.now */
  readonly nowMs?: () => number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called for every throttled start that is retried, for the bench and the logs. */
  readonly onThrottled?: (sessionId: string, attempt: number) => void;
}

/** The first wait after a throttle; doubled per attempt up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * A token bucket in front of `startSession`, so a fan-out of thousands of
 * sessions runs at the account's StartExecution rate instead of into its
 * throttling. Reservations are first come, first served: each caller takes
 * the next token and waits until it is due, so concurrency never outruns the
 * rate. A throttled start (another fan-out shares the quota) empties the
 * bucket, so every caller slows down, and is retried after a backoff. Task
 * answers are not paced: they have their own, much larger, quota.
 */
export class PacedWorkflow implements WorkflowPort {
  private tokens: number;
  private lastRefillMs: number;
  private readonly nowMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly inner: WorkflowPort,
    private readonly pacing: StartPacing,
  ) {
    this.nowMs = pacing.nowMs ?? (() => performance.now());
    this.sleep = pacing.sleep ?? ((ms) => sleepFor(ms));
    this.tokens = pacing.burst;
    this.lastRefillMs = this.nowMs();
  }

  /** Takes the next token; answers how long to wait for it. */
  private reserve(): number {
    const now = this.nowMs();
    this.tokens = Math.min(this.pacing.burst, this.tokens + ((now - this.lastRefillMs) * this.pacing.ratePerSecond) / 1000);
    this.lastRefillMs = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.pacing.ratePerSecond;
  }

  async startSession(sessionId: string): Promise<{ alreadyRunning: boolean }> {
    const maxAttempts = this.pacing.maxAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      const waitMs = this.reserve();
      if (waitMs > 0) await this.sleep(waitMs);
      try {
        return await this.inner.startSession(sessionId);
      } catch (error) {
        if (!(error instanceof TransientError) || attempt >= maxAttempts) throw error;
        this.pacing.onThrottled?.(sessionId, attempt);
        // whoever was about to start waits for the bucket to refill from empty
        this.tokens = Math.min(this.tokens, 0);
        await this.sleep(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
  }

  completeTask(taskToken: string, output: unknown): Promise<boolean> {
    return this.inner.completeTask(taskToken, output);
  }

  failTask(taskToken: string, errorName: string, cause: string): Promise<boolean> {
    return this.inner.failTask(taskToken, errorName, cause);
  }
}
