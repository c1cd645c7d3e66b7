import { EventEmitter } from 'node:events';
import type { ScheduledRule } from '../functions/handlers/registry.js';
import type { Clock } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';

export interface LocalScheduledRulesOptions {
  readonly rules: readonly ScheduledRule[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Invokes a handler by its registry name, as the rule's Lambda target would. */
  readonly invoke: (handler: string, event: unknown) => Promise<unknown>;
  /** How often due rules are looked for, in real milliseconds. */
  readonly pollMs?: number;
}

export interface LocalScheduledRulesEvents {
  /** One look at the clock finished, and every rule it found due has been started. */
  looked: [];
  /** A rule's invocation ended: `error` when the handler threw. */
  ran: [rule: ScheduledRule, outcome: { readonly result?: unknown; readonly error?: string }];
}

/**
 * The local twin of the stack's rate rules (`SCHEDULED_RULES`): each rule's
 * handler runs every `everyMinutes` of the runtime clock, with the input the
 * rule sends, or EventBridge's "Scheduled Event" when it sends none. The first
 * run is one period after `start`, as a new rule's.
 *
 * Two differences from EventBridge, both for a clock that can jump (the demo
 * moves it hours ahead, tests move it by hand): a rule whose periods passed
 * while nobody looked runs once, not once per period missed; and it does not
 * start again while its last run is still going, where EventBridge would start
 * a second Lambda beside it (the handlers are safe either way).
 */
export class LocalScheduledRules {
  readonly events = new EventEmitter<LocalScheduledRulesEvents>();
  private readonly nextDueMs = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly options: LocalScheduledRulesOptions) {}

  /** Starts the rules' clocks: each is first due one period from now (runtime clock). Starting twice is one start. */
  start(): void {
    if (this.poller) return;
    const nowMs = this.options.clock.now().getTime();
    for (const rule of this.options.rules) this.nextDueMs.set(rule.id, nowMs + rule.everyMinutes * 60_000);
    this.poller = setInterval(() => this.look(), this.options.pollMs ?? 250);
    this.poller.unref();
  }

  /** The time (runtime clock) each rule is next due, by rule id: for tests and the terminal. */
  due(): Record<string, string> {
    return Object.fromEntries([...this.nextDueMs].map(([id, ms]) => [id, new Date(ms).toISOString()]));
  }

  /** Stops looking, and waits for the runs under way. */
  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    await Promise.all(this.running.values());
  }

  private look(): void {
    const nowMs = this.options.clock.now().getTime();
    for (const rule of this.options.rules) {
      const dueMs = this.nextDueMs.get(rule.id);
      if (dueMs === undefined || dueMs > nowMs || this.running.has(rule.id)) continue;
      const periodMs = rule.everyMinutes * 60_000;
      // the next period after now, on the rule's own beat: periods a jump of the clock skipped are not made up
      this.nextDueMs.set(rule.id, dueMs + Math.ceil((nowMs - dueMs + 1) / periodMs) * periodMs);
      const run = this.run(rule, nowMs).finally(() => this.running.delete(rule.id));
      this.running.set(rule.id, run);
    }
    this.events.emit('looked');
  }

  private async run(rule: ScheduledRule, nowMs: number): Promise<void> {
    const event = rule.input ?? scheduledEvent(rule, nowMs);
    try {
      const result = await this.options.invoke(rule.handler, event);
      this.events.emit('ran', rule, { result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.error('scheduled rule failed', { rule: rule.id, handler: rule.handler, error: message });
      this.events.emit('ran', rule, { error: message });
    }
  }
}

/** What EventBridge sends a rule's target when the rule gives no input of its own. */
function scheduledEvent(rule: ScheduledRule, nowMs: number): Record<string, unknown> {
  return {
    version: '0',
    id: `local-${rule.id}-${nowMs}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${rule.id}`],
    detail: {},
  };
}
