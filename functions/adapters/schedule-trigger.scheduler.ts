import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type GetScheduleCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { ConfigurationError } from '../core/errors.js';
import type { ScheduleTriggerPort, ScheduleTriggerSpec } from '../core/ports/schedule-trigger.port.js';
import { translateAwsError } from './aws-errors.js';

export interface ScheduleTriggerSettings {
  /** The schedule group that holds only Nightshift schedule triggers (one Scheduler schedule per Nightshift schedule). */
  readonly groupName: string;
  /** The `fire-schedule` function each trigger invokes. */
  readonly targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target and write to the dead-letter queue. */
  readonly roleArn: string;
  readonly deadLetterQueueArn: string;
}

/** What Scheduler accepts as a schedule name. */
const SCHEDULER_NAME = /^[0-9A-Za-z._-]{1,64}$/;
/** Nightshift ids start with a letter or digit; a hashed name starts with `_`, so the two can never meet. */
const HASHED_PREFIX = '_s-';

/**
 * The Scheduler schedule behind a Nightshift schedule: the id itself when
 * Scheduler takes it as a name (1-64 of `0-9A-Za-z._-`), else `_s-` and the
 * first 61 hex digits of the id's SHA-256, 64 characters in all. The same id
 * always gives the same name, so put() and delete() find the schedule without
 * a lookup; the id also travels in the target's Input, for list().
 */
export function scheduleTriggerName(scheduleId: string): string {
  if (SCHEDULER_NAME.test(scheduleId)) return scheduleId;
  const digest = createHash('sha256').update(scheduleId, 'utf8').digest('hex');
  return `${HASHED_PREFIX}${digest.slice(0, 64 - HASHED_PREFIX.length)}`;
}

/**
 * Scheduler's context attribute for the time the occurrence was due; it is
 * replaced in the Input on every delivery, retries included, so a redelivered
 * fire carries the same time and keys the same run.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 */
export const SCHEDULED_TIME_ATTRIBUTE = '<aws.scheduler.scheduled-time>';

/** The target Input: a `ScheduleFireEvent` once Scheduler has filled in the time. */
export const scheduleFireInput = (scheduleId: string): string => JSON.stringify({ scheduleId, scheduledTime: SCHEDULED_TIME_ATTRIBUTE });

/** GetSchedule calls in flight at once while listing: quick enough for a sweep, gentle on Scheduler's request quotas. */
const LIST_CONCURRENCY = 4;

/**
 * Schedule triggers on EventBridge Scheduler: one recurring `cron()`
 * schedule per Nightshift schedule, in a schedule group that holds nothing
 * else, each invoking `fire-schedule` with the schedule id and the time the
 * occurrence was due. Changing a schedule updates its trigger in place.
 */
export class SchedulerScheduleTriggers implements ScheduleTriggerPort {
  constructor(
    private readonly client: SchedulerClient,
    private readonly settings: ScheduleTriggerSettings | undefined,
  ) {}

  private configured(): ScheduleTriggerSettings {
    if (!this.settings) throw new ConfigurationError('the SCHEDULE_TRIGGER_* settings are not set for this function');
    return this.settings;
  }

  private input(spec: ScheduleTriggerSpec): CreateScheduleCommandInput {
    const settings = this.configured();
    return {
      Name: scheduleTriggerName(spec.scheduleId),
      GroupName: settings.groupName,
      ScheduleExpression: spec.expression,
      ScheduleExpressionTimezone: spec.timeZone,
      State: spec.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: spec.flexibleWindowMinutes > 0 ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: spec.flexibleWindowMinutes } : { Mode: 'OFF' },
      // recurring: the schedule stays after each fire (an update must not inherit a DELETE either)
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: settings.targetArn,
        RoleArn: settings.roleArn,
        Input: scheduleFireInput(spec.scheduleId),
        DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
        // Delivery is retried for an hour at most. A maintenance fire that arrives hours late would start sessions
        // (and tell end users) well outside the time the operator chose; it goes to the dead-letter queue instead,
        // whose alarm tells the operator, and the next occurrence fires as planned.
        RetryPolicy: { MaximumEventAgeInSeconds: 3_600, MaximumRetryAttempts: 20 },
      },
      Description: `Fires Nightshift schedule ${spec.scheduleId}`,
    };
  }

  async put(spec: ScheduleTriggerSpec): Promise<void> {
    const input = this.input(spec);
    try {
      await this.client.send(new UpdateScheduleCommand(input));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw translateAwsError(error, `updating the trigger of schedule ${spec.scheduleId}`);
    }
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // created meanwhile by a concurrent put: make that one match instead
      if (!(error instanceof ConflictException)) throw translateAwsError(error, `creating the trigger of schedule ${spec.scheduleId}`);
      try {
        await this.client.send(new UpdateScheduleCommand(input));
      } catch (retryError) {
        throw translateAwsError(retryError, `updating the trigger of schedule ${spec.scheduleId}`);
      }
    }
  }

  async delete(scheduleId: string): Promise<void> {
    const { groupName } = this.configured();
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleTriggerName(scheduleId), GroupName: groupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw translateAwsError(error, `deleting the trigger of schedule ${scheduleId}`);
    }
  }

  async list(): Promise<ScheduleTriggerSpec[]> {
    const { groupName } = this.configured();
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      try {
        const page = await this.client.send(new ListSchedulesCommand({ GroupName: groupName, ...(nextToken ? { NextToken: nextToken } : {}) }));
        for (const schedule of page.Schedules ?? []) if (schedule.Name) names.push(schedule.Name);
        nextToken = page.NextToken;
      } catch (error) {
        throw translateAwsError(error, `listing the schedule triggers in ${groupName}`);
      }
    } while (nextToken);

    const specs: (ScheduleTriggerSpec | undefined)[] = new Array<ScheduleTriggerSpec | undefined>(names.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const index = next++;
        specs[index] = await this.read(groupName, names[index] ?? '');
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, names.length) }, worker));
    return specs.filter((spec): spec is ScheduleTriggerSpec => spec !== undefined);
  }

  /** One listed schedule as a spec; undefined when it is gone meanwhile or is not a Nightshift trigger. */
  private async read(groupName: string, name: string): Promise<ScheduleTriggerSpec | undefined> {
    let schedule: GetScheduleCommandOutput;
    try {
      schedule = await this.client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
    } catch (error) {
      // deleted between the listing and this read: it is not there any more
      if (error instanceof ResourceNotFoundException) return undefined;
      throw translateAwsError(error, `reading the schedule trigger ${name}`);
    }
    const scheduleId = scheduleIdOf(schedule.Target?.Input);
    // Not ours, or not where delete(scheduleId) would look (a copy made by hand): either way not a trigger to report.
    if (scheduleId === undefined || scheduleTriggerName(scheduleId) !== name) return undefined;
    const window = schedule.FlexibleTimeWindow;
    return {
      scheduleId,
      expression: schedule.ScheduleExpression ?? '',
      timeZone: schedule.ScheduleExpressionTimezone ?? 'UTC',
      enabled: schedule.State === 'ENABLED',
      flexibleWindowMinutes: window?.Mode === 'FLEXIBLE' ? (window.MaximumWindowInMinutes ?? 0) : 0,
    };
  }
}

/** The schedule id a trigger's Input carries, if it is a Nightshift fire input. */
function scheduleIdOf(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { scheduleId } = parsed as { scheduleId?: unknown };
    return typeof scheduleId === 'string' && scheduleId.length > 0 ? scheduleId : undefined;
  } catch {
    return undefined;
  }
}
