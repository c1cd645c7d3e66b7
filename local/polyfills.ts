/**
 * Node 20 shims the local runtime needs; imported before aws-local-stepfunctions.
 *
 * 1. `Promise.withResolvers` (Node 22) is used by aws-local-stepfunctions.
 * 2. Node's timers overflow above 2^31-1 ms (24.8 days) and fire at once. The
 *    session ASL waits up to 31 days for an agent (offline laptops), so long
 *    timers are chained in steps instead; they still fire on time and can be
 *    cleared. Delays that fit are passed straight through.
 */

interface WithResolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> };
if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>(): WithResolvers<T> => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const MAX_TIMER_MS = 2_147_483_647;
const patchedMarker = Symbol.for('nightshift.longTimers');
const globals = globalThis as unknown as Record<symbol, boolean | undefined>;

if (!globals[patchedMarker]) {
  globals[patchedMarker] = true;
  const originalSetTimeout = globalThis.setTimeout;
  const originalClearTimeout = globalThis.clearTimeout;

  /** Stands in for a timer handle; clearing it clears whichever step is pending. */
  class LongTimer {
    current: ReturnType<typeof originalSetTimeout> | undefined;
    cleared = false;
    ref(): this {
      this.current?.ref();
      return this;
    }
    unref(): this {
      this.current?.unref();
      return this;
    }
    hasRef(): boolean {
      return this.current?.hasRef() ?? false;
    }
  }

  const patchedSetTimeout = (callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
    if (delay === undefined || !(delay > MAX_TIMER_MS)) return originalSetTimeout(callback, delay, ...args);
    const timer = new LongTimer();
    const deadline = Date.now() + delay;
    const step = () => {
      if (timer.cleared) return;
      const remaining = deadline - Date.now();
      timer.current =
        remaining > MAX_TIMER_MS ? originalSetTimeout(step, MAX_TIMER_MS) : originalSetTimeout(() => callback(...args), remaining);
    };
    step();
    return timer;
  };
  const patchedClearTimeout = (handle: unknown) => {
    if (handle instanceof LongTimer) {
      handle.cleared = true;
      originalClearTimeout(handle.current);
      return;
    }
    originalClearTimeout(handle as Parameters<typeof originalClearTimeout>[0]);
  };
  globalThis.setTimeout = patchedSetTimeout as unknown as typeof globalThis.setTimeout;
  globalThis.clearTimeout = patchedClearTimeout;
}

export {};
