import { AsyncLocalStorage } from 'node:async_hooks';
import { NO_COUNTERS, type UsageCounter, type UsageCounters } from '../core/model/usage.js';

/**
 * Who a metered invocation's usage belongs to: a session, or a schedule run
 * (its fan-out and rollout steps). An invocation that belongs to neither (a
 * controller tick over several runs, a reconciler look over many sessions, an
 * API read) is counted by nobody: it is the platform's, not a session's.
 */
export interface UsageOwner {
  readonly kind: 'session' | 'run';
  readonly id: string;
}

/** Where a finished invocation's usage goes: one write per invocation (see `DynamoUsageStore.record`). */
export interface UsageSink {
  record(owner: UsageOwner, counters: UsageCounters): Promise<void>;
}

/** The partitions the stores key sessions and runs by (session-store.dynamodb.ts, schedule-store.dynamodb.ts). */
const SESSION_PARTITION = 'SESSION#';
const RUN_PARTITION = 'RUN#';

/**
 * What one Lambda invocation used, counted as it happens: the adapters that
 * make billable calls (the table, the event bus, the agent, the timers) add
 * to the meter of the invocation they run in, found through
 * AsyncLocalStorage, so concurrent invocations in one process (the local
 * runtime, Lambda Managed Instances) never count into each other.
 *
 * The owner is the session the handler names (its input's `sessionId`), or
 * else the one run the invocation wrote to, or else the one session it
 * wrote to (if it wrote to no run): a command completion names only its
 * command, yet writes only its session's items; a schedule fire writes its
 * run and every session it starts, and the fan-out is the run's.
 */
export class UsageMeter {
  private readonly counts: Record<UsageCounter, number> = { ...NO_COUNTERS };
  private named: { readonly sessionId: string; readonly whenWritten: boolean } | undefined;
  private readonly sessionsWritten = new Set<string>();
  private readonly runsWritten = new Set<string>();
  private open = true;

  constructor(private readonly memoryMb: number) {
    this.counts.lambdaInvocations = 1;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * The session the invocation works for, as its handler knows it.
   * `whenWritten`: only if the invocation writes to it (an operator's request
   * that reads a session, or is refused before writing, costs that session nothing).
   */
  attributeTo(sessionId: string, options: { readonly whenWritten?: boolean } = {}): void {
    this.named ??= { sessionId, whenWritten: options.whenWritten ?? false };
  }

  add(counter: Exclude<UsageCounter, 'lambdaInvocations' | 'lambdaDurationMs' | 'lambdaMemoryMbMs'>, amount = 1): void {
    if (this.open) this.counts[counter] += amount;
  }

  /** An item of this partition was written (or a conditional write to it was refused). */
  wrotePartition(partitionKey: string): void {
    if (!this.open) return;
    if (partitionKey.startsWith(SESSION_PARTITION)) this.sessionsWritten.add(partitionKey.slice(SESSION_PARTITION.length));
    else if (partitionKey.startsWith(RUN_PARTITION)) this.runsWritten.add(partitionKey.slice(RUN_PARTITION.length));
  }

  /**
   * Ends the count: nothing added after this (work an invocation left behind
   * in the local runtime) is counted. `durationMs` is the invocation's wall
   * time; Lambda bills it rounded up to the millisecond. The meter's own
   * write, which comes next, is counted here as the one write unit it is
   * (a small item with no index entries).
   */
  close(durationMs: number): { owner?: UsageOwner; counters: UsageCounters } {
    this.open = false;
    const billedMs = Math.max(1, Math.ceil(durationMs));
    const counters: Record<UsageCounter, number> = {
      ...this.counts,
      lambdaDurationMs: billedMs,
      lambdaMemoryMbMs: billedMs * this.memoryMb,
      tableWriteUnits: this.counts.tableWriteUnits + 1,
    };
    const owner = this.owner();
    return owner ? { owner, counters } : { counters };
  }

  private owner(): UsageOwner | undefined {
    if (this.named && (!this.named.whenWritten || this.sessionsWritten.has(this.named.sessionId))) return { kind: 'session', id: this.named.sessionId };
    const [run] = this.runsWritten;
    if (run !== undefined && this.runsWritten.size === 1) return { kind: 'run', id: run };
    const [session] = this.sessionsWritten;
    if (session !== undefined && this.sessionsWritten.size === 1 && this.runsWritten.size === 0) return { kind: 'session', id: session };
    return undefined;
  }
}

const meters = new AsyncLocalStorage<UsageMeter>();

/** The meter of the invocation this code runs in, while it counts. */
export function currentUsageMeter(): UsageMeter | undefined {
  const meter = meters.getStore();
  return meter?.isOpen ? meter : undefined;
}

/** Runs one invocation with its own meter. */
export function withUsageMeter<T>(meter: UsageMeter, invocation: () => Promise<T>): Promise<T> {
  return meters.run(meter, invocation);
}

/**
 * Which sink the usage of a handler built with these dependencies goes to.
 * Held beside the dependencies rather than in them: the meter is no port a
 * use case calls, it is how an invocation is accounted for.
 */
const sinks = new WeakMap<object, UsageSink>();

export function attachUsageSink(dependencies: object, sink: UsageSink): void {
  sinks.set(dependencies, sink);
}

export function usageSinkOf(dependencies: object): UsageSink | undefined {
  return sinks.get(dependencies);
}

type Method = (...args: never[]) => Promise<unknown>;
type Counting<T> = { readonly [M in keyof T]?: T[M] extends (...args: infer A) => Promise<unknown> ? (meter: UsageMeter, ...args: A) => void : never };

/**
 * `port` with the calls named in `counting` counted on the current meter once
 * they succeed (a publish or a send that failed was not billed). Methods are
 * looked up on each call, so a test that replaces one on the port is still seen.
 */
export function metered<T extends object>(port: T, counting: Counting<T>): T {
  return new Proxy(port, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      const count = typeof property === 'string' ? (counting as Record<string, ((meter: UsageMeter, ...args: unknown[]) => void) | undefined>)[property] : undefined;
      if (typeof value !== 'function') return value;
      const method = (value as Method).bind(target) as (...args: unknown[]) => Promise<unknown>;
      if (!count) return method;
      return async (...args: unknown[]) => {
        const result = await method(...args);
        const meter = currentUsageMeter();
        if (meter) count(meter, ...args);
        return result;
      };
    },
  });
}
