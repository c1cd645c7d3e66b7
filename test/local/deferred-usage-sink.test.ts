import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UsageOwner, UsageSink } from '../../functions/adapters/usage-meter.js';
import { NO_COUNTERS, type UsageCounters } from '../../functions/core/model/usage.js';
import type { Logger } from '../../functions/core/ports/logger.port.js';
import { DeferredUsageSink, USAGE_WRITE_DELAY_MS } from '../../local/deferred-usage-sink.js';

const invocation = new AsyncLocalStorage<string>();

/** The store's side: what was written, in order, with the invocation each write ran in; writes can be held open. */
class RecordingStore implements UsageSink {
  readonly written: { owner: UsageOwner; counters: UsageCounters; inInvocation: string | undefined }[] = [];
  inFlight = 0;
  mostInFlight = 0;
  /** Writes for these owners wait until their promise settles. */
  readonly holdFor = new Map<string, Promise<void>>();
  failFor = new Set<string>();

  async record(owner: UsageOwner, counters: UsageCounters): Promise<void> {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    const inInvocation = invocation.getStore();
    try {
      await this.holdFor.get(owner.id);
      if (this.failFor.has(owner.id)) throw new Error(`throttled writing ${owner.id}`);
      this.written.push({ owner, counters, inInvocation });
    } finally {
      this.inFlight--;
    }
  }
}

const session = (id: string): UsageOwner => ({ kind: 'session', id });
const counters = (lambdaDurationMs: number): UsageCounters => ({ ...NO_COUNTERS, lambdaInvocations: 1, lambdaDurationMs });

describe("the local runtime's usage writes, a moment after each invocation", () => {
  let store: RecordingStore;
  let warnings: { message: string; fields?: Record<string, unknown> }[];
  let sink: DeferredUsageSink;

  beforeEach(() => {
    vi.useFakeTimers();
    store = new RecordingStore();
    warnings = [];
    const logger: Logger = { info: () => undefined, warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }), error: () => undefined };
    sink = new DeferredUsageSink(store, logger);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the invocation at once and writes its record only once the delay has passed', async () => {
    await sink.record(session('ses_a'), counters(5));
    await vi.advanceTimersByTimeAsync(USAGE_WRITE_DELAY_MS - 1);
    // a millisecond early: still queued, so it is not in the step's way
    expect(store.written).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.written.map((w) => w.owner)).toEqual([session('ses_a')]);
  });

  it('writes what a delay gathered in one go, in the order the invocations ended, each once', async () => {
    await sink.record(session('ses_a'), counters(1));
    await vi.advanceTimersByTimeAsync(USAGE_WRITE_DELAY_MS / 2);
    await sink.record(session('ses_b'), counters(2));
    await sink.record(session('ses_a'), counters(3));
    // the delay runs from the first record, not the last: a busy runtime still writes its usage
    await vi.advanceTimersByTimeAsync(USAGE_WRITE_DELAY_MS / 2);
    expect(store.written.map((w) => w.counters.lambdaDurationMs)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(USAGE_WRITE_DELAY_MS * 10);
    expect(store.written).toHaveLength(3);
  });

  it('writes everything queued when flushed, and settles only once it is written', async () => {
    await sink.record(session('ses_a'), counters(1));
    await sink.record(session('ses_b'), counters(2));
    // no timer runs here: the flush alone writes them
    await sink.flush();
    expect(store.written.map((w) => w.owner.id)).toEqual(['ses_a', 'ses_b']);
    // the flush took the timer with it: nothing is written a second time when the delay would have passed
    await vi.advanceTimersByTimeAsync(USAGE_WRITE_DELAY_MS);
    expect(store.written).toHaveLength(2);
  });

  it('keeps a record that arrives while a flush is writing for the next flush, after the first', async () => {
    let release = (): void => undefined;
    store.holdFor.set('ses_a', new Promise<void>((resolve) => (release = resolve)));
    await sink.record(session('ses_a'), counters(1));
    const first = sink.flush();
    await sink.record(session('ses_b'), counters(2));
    const second = sink.flush();
    let secondSettled = false;
    void second.then(() => (secondSettled = true));
    await vi.advanceTimersByTimeAsync(0);
    // the second flush waits for the first one's writes: the record after is written after
    expect(secondSettled).toBe(false);
    expect(store.written).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(store.written.map((w) => w.owner.id)).toEqual(['ses_a', 'ses_b']);
  });

  it('logs a write that fails with the session it was for, and still writes the others', async () => {
    store.failFor.add('ses_b');
    await sink.record(session('ses_a'), counters(1));
    await sink.record(session('ses_b'), counters(2));
    await sink.record({ kind: 'run', id: 'run_1' }, counters(3));
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(store.written.map((w) => w.owner.id)).toEqual(['ses_a', 'run_1']);
    expect(warnings).toEqual([{ message: 'usage not recorded', fields: { sessionId: 'ses_b', error: 'throttled writing ses_b' } }]);
  });

  it("writes outside the invocation that queued the first record: its log keys and meter are not the writes'", async () => {
    // real timers: a fake timer would run its callback in the test's context whatever the sink does
    vi.useRealTimers();
    let written = (): void => undefined;
    const firstWrite = new Promise<void>((resolve) => (written = resolve));
    const realSink = new DeferredUsageSink({ record: async (...args) => { await store.record(...args); written(); } }, { info: () => undefined, warn: () => undefined, error: () => undefined }, 1);
    await invocation.run('invocation-1', async () => {
      await realSink.record(session('ses_a'), counters(1));
      // still in the invocation here, as its metered wrapper is
      expect(invocation.getStore()).toBe('invocation-1');
    });
    await firstWrite;
    expect(store.written).toHaveLength(1);
    expect(store.written[0]?.inInvocation).toBeUndefined();
  });

  it('writes a fan-out of hundreds sixteen at a time', async () => {
    for (let index = 0; index < 300; index++) await sink.record(session(`ses_${index}`), counters(1));
    await sink.flush();
    expect(store.written).toHaveLength(300);
    expect(store.mostInFlight).toBe(16);
  });
});
