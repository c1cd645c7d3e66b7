import { nextFireTimes, parseEventBridgeExpression } from '../functions/core/schedules/cron.js';
import type { Clock } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { HeldScheduleTrigger, ScheduleFireEvent, ScheduleTriggerPort, ScheduleTriggerSpec } from '../functions/core/ports/schedule-trigger.port.js';
import { JsonFile, SingleFlight } from './json-file.js';

/** How a local trigger delivers: Scheduler's retry policy, which the runtime's options fix. */
export interface LocalTriggerDelivery {
  readonly maxAttempts: number;
  readonly maxEventAgeSeconds: number;
}

interface StoredTrigger {
  readonly spec: ScheduleTriggerSpec;
  /**
   * The delivery put() wrote, kept with the trigger as Scheduler keeps it:
   * a runtime started with other options goes on delivering by it until the
   * reconcile sweep puts the trigger again. Absent in a file from before
   * triggers held it; such a trigger delivers by the runtime's options.
   */
  readonly delivery?: LocalTriggerDelivery;
  /** The next occurrence, on the runtime clock; absent while disabled. */
  readonly dueAt?: string;
  /** Failed deliveries of the occurrence at `dueAt`. */
  readonly attempts: number;
}

export interface LocalScheduleTriggersOptions {
  /** The triggers survive a restart of the runtime here. */
  readonly file: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often due triggers are looked for, in real milliseconds. */
  readonly pollMs?: number;
  /** Deliveries of one occurrence tried before it is given up (Scheduler's retry policy, then its dead-letter queue). */
  readonly maxAttempts?: number;
  /**
   * An occurrence older than this when it could be delivered is dropped, as
   * Scheduler drops an event past its maximum age: a runtime that was stopped
   * over a schedule's time does not start yesterday's maintenance on start-up.
   */
  readonly maxEventAgeSeconds?: number;
}

/**
 * The local twin of EventBridge Scheduler's recurring schedules: each trigger
 * is held in EventBridge's own `cron(…)` form and time zone, its occurrences
 * computed by croner on the runtime clock with EventBridge's DST rules
 * (`nextFireTimes`), and delivered to the same `fire-schedule` handler with
 * the time the occurrence was due.
 */
export class LocalScheduleTriggers implements ScheduleTriggerPort {
  private readonly triggers = new Map<string, StoredTrigger>();
  private target: ((event: ScheduleFireEvent) => Promise<unknown>) | undefined;
  private poller: NodeJS.Timeout | undefined;
  private readonly store: JsonFile<StoredTrigger[]>;
  private readonly delivery = new SingleFlight(() => this.deliverDue());

  constructor(private readonly options: LocalScheduleTriggersOptions) {
    this.store = new JsonFile(options.file);
  }

  /** Reads the triggers a previous run left. */
  async load(): Promise<void> {
    for (const trigger of (await this.store.read()) ?? []) this.triggers.set(trigger.spec.scheduleId, trigger);
  }

  /** Starts delivering due occurrences to `target` (the fire-schedule handler). */
  start(target: (event: ScheduleFireEvent) => Promise<unknown>): void {
    this.target = target;
    this.poller = setInterval(() => void this.fireDue(), this.options.pollMs ?? 250);
    this.poller.unref();
  }

  private nextDue(spec: ScheduleTriggerSpec, after: Date): string | undefined {
    if (!spec.enabled) return undefined;
    const parsed = parseEventBridgeExpression(spec.expression);
    if (!parsed.ok) {
      this.options.logger.error('schedule trigger has an expression the local scheduler cannot read', { scheduleId: spec.scheduleId, problem: parsed.problem });
      return undefined;
    }
    return nextFireTimes(parsed.cron, spec.timeZone, after, 1)[0]?.toISOString();
  }

  /** The delivery put() writes: the runtime's options. */
  private wantedDelivery(): LocalTriggerDelivery {
    return { maxAttempts: this.options.maxAttempts ?? 5, maxEventAgeSeconds: this.options.maxEventAgeSeconds ?? 3600 };
  }

  put(spec: ScheduleTriggerSpec): Promise<void> {
    const dueAt = this.nextDue(spec, this.options.clock.now());
    this.triggers.set(spec.scheduleId, { spec, delivery: this.wantedDelivery(), ...(dueAt ? { dueAt } : {}), attempts: 0 });
    return this.save();
  }

  delete(scheduleId: string): Promise<void> {
    if (!this.triggers.delete(scheduleId)) return Promise.resolve();
    return this.save();
  }

  list(): Promise<HeldScheduleTrigger[]> {
    const wanted = this.wantedDelivery();
    return Promise.resolve(
      [...this.triggers.values()].map(({ spec, delivery }) =>
        delivery === undefined || (delivery.maxAttempts === wanted.maxAttempts && delivery.maxEventAgeSeconds === wanted.maxEventAgeSeconds)
          ? spec
          : { ...spec, deliveryDrift: ['retryPolicy'] },
      ),
    );
  }

  /** When each trigger fires next, for the demo and tests. */
  upcoming(): { scheduleId: string; dueAt: string }[] {
    return [...this.triggers.values()].flatMap((t) => (t.dueAt ? [{ scheduleId: t.spec.scheduleId, dueAt: t.dueAt }] : []));
  }

  private async deliverDue(): Promise<void> {
    const target = this.target;
    if (!target) return;
    const now = this.options.clock.now();
    for (const trigger of [...this.triggers.values()]) {
      if (trigger.dueAt === undefined || Date.parse(trigger.dueAt) > now.getTime()) continue;
      const { scheduleId } = trigger.spec;
      const { maxAttempts, maxEventAgeSeconds } = trigger.delivery ?? this.wantedDelivery();
      const dueAt = trigger.dueAt;
      // the next occurrence counts from the later of the one due and now: missed ones are not replayed one by one
      const following = this.nextDue(trigger.spec, new Date(Math.max(Date.parse(dueAt), now.getTime())));
      const advance = async (attempts: number, at: string | undefined): Promise<void> => {
        // a put or delete during the delivery wins over this bookkeeping
        if (this.triggers.get(scheduleId) !== trigger) return;
        this.triggers.set(scheduleId, { spec: trigger.spec, ...(trigger.delivery ? { delivery: trigger.delivery } : {}), ...(at ? { dueAt: at } : {}), attempts });
        await this.save();
      };
      if (now.getTime() - Date.parse(dueAt) > maxEventAgeSeconds * 1000) {
        this.options.logger.warn('schedule occurrence dropped: older than the maximum event age', { scheduleId, scheduledTime: dueAt });
        await advance(0, following);
        continue;
      }
      try {
        await target({ scheduleId, scheduledTime: dueAt });
        await advance(0, following);
      } catch (error) {
        const attempts = trigger.attempts + 1;
        const message = error instanceof Error ? error.message : String(error);
        if (attempts >= maxAttempts) {
          this.options.logger.error('schedule occurrence dead-lettered', { scheduleId, scheduledTime: dueAt, attempts, error: message });
          await advance(0, following);
        } else {
          // the same occurrence again on the next look (its scheduled time unchanged), as Scheduler retries it
          await advance(attempts, dueAt);
        }
      }
    }
  }

  private save(): Promise<void> {
    return this.store.save([...this.triggers.values()]);
  }

  /** Delivers every occurrence due on the runtime clock; resolves once they are delivered. */
  fireDue(): Promise<void> {
    return this.delivery.run();
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    await this.delivery.idle();
    await this.store.settled();
  }
}
