import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoScheduleStore } from '../../functions/adapters/schedule-store.dynamodb.js';
import { EMPTY_OUTCOME, type ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { scheduleInputSchema, type ScheduleInput } from '../../functions/core/model/schedule.js';
import { sessionOptionsSchema } from '../../functions/core/model/session.js';
import type { EventPublisher, NightshiftEvent } from '../../functions/core/ports/events.port.js';
import type { RunWorkPort } from '../../functions/core/ports/run-work.port.js';
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

/** Events kept in order, as the bus would deliver them. */
export class RecordingEvents implements EventPublisher {
  readonly published: NightshiftEvent[] = [];
  publish(events: readonly NightshiftEvent[]): Promise<void> {
    this.published.push(...events);
    return Promise.resolve();
  }
}

/**
 * The run worker as a list of what was asked of it: a test steps the run
 * itself (`stepRun`, what the worker does) when it wants the step taken, so
 * it can also assert what happens before the worker gets to it.
 */
export class RecordingRunWork implements RunWorkPort {
  readonly requested: string[] = [];
  failNext: Error | undefined;

  request(runId: string): Promise<void> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) return Promise.reject(failure);
    this.requested.push(runId);
    return Promise.resolve();
  }
}

/** The schedule ports of `Dependencies` over a test table. */
export function scheduleParts(
  table: DynamoTable,
  triggers = new InMemoryScheduleTriggers(),
  events = new RecordingEvents(),
  runWork = new RecordingRunWork(),
): Pick<Dependencies, 'schedules' | 'scheduleTriggers' | 'audit' | 'events' | 'runWork'> {
  return { schedules: new DynamoScheduleStore(table), scheduleTriggers: triggers, audit: new DynamoAuditStore(table), events, runWork };
}

/** A weekly Tuesday-night schedule for every computer (detection 14:00, maintenance 22:00), with `overrides` on top, as the API would take it. */
export const scheduleInput = (overrides: Record<string, unknown> = {}): ScheduleInput =>
  scheduleInputSchema.parse({
    name: 'Tuesday nights',
    target: { kind: 'AllComputers' },
    recurrence: { kind: 'Weekly', days: ['TUE'] },
    detectionTime: '14:00',
    maintenanceTime: '22:00',
    ...overrides,
  });

/**
 * A schedule run as the store holds it: running since `at`, no rings, nothing
 * targeted or counted yet. Tests override what they are about.
 */
export function runRecord(id: string, at: string, overrides: Partial<ScheduleRun> = {}): ScheduleRun {
  const scheduleId = overrides.scheduleId ?? 'sch-1';
  return {
    id,
    scheduleId,
    scheduleName: 'Weeknights',
    scheduleVersion: 1,
    scheduledTime: at,
    trigger: 'Schedule',
    by: { kind: 'Schedule', name: scheduleId },
    status: 'Running',
    version: 1,
    rollout: { rings: [] },
    sessionBasis: sessionOptionsSchema.parse({}),
    currentRing: 0,
    failuresAccepted: 0,
    outcome: EMPTY_OUTCOME,
    createdAt: at,
    updatedAt: at,
    targeted: 0,
    started: 0,
    skipped: {},
    ...overrides,
  };
}
