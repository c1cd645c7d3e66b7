import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoScheduleStore } from '../../functions/adapters/schedule-store.dynamodb.js';
import type { ScheduleTriggerPort, ScheduleTriggerSpec } from '../../functions/core/ports/schedule-trigger.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';

/** Triggers held in a map, as Scheduler would hold them; `failNext` makes the next call fail, as a throttled Scheduler would. */
export class InMemoryScheduleTriggers implements ScheduleTriggerPort {
  readonly triggers = new Map<string, ScheduleTriggerSpec>();
  readonly calls: string[] = [];
  failNext: Error | undefined;

  private check(call: string): void {
    this.calls.push(call);
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
  }

  put(spec: ScheduleTriggerSpec): Promise<void> {
    return Promise.resolve().then(() => {
      this.check(`put ${spec.scheduleId}`);
      this.triggers.set(spec.scheduleId, spec);
    });
  }

  delete(scheduleId: string): Promise<void> {
    return Promise.resolve().then(() => {
      this.check(`delete ${scheduleId}`);
      this.triggers.delete(scheduleId);
    });
  }

  list(): Promise<ScheduleTriggerSpec[]> {
    return Promise.resolve().then(() => {
      this.check('list');
      return [...this.triggers.values()];
    });
  }
}

/** The schedule ports of `Dependencies` over a test table. */
export function scheduleParts(table: DynamoTable, triggers = new InMemoryScheduleTriggers()): Pick<Dependencies, 'schedules' | 'scheduleTriggers' | 'audit'> {
  return { schedules: new DynamoScheduleStore(table), scheduleTriggers: triggers, audit: new DynamoAuditStore(table) };
}
