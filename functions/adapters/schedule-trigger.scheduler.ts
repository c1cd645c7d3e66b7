import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
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
  type Target,
} from '@aws-sdk/client-scheduler';
import { ConfigurationError } from '../core/errors.js';
import type { HeldScheduleTrigger, ScheduleTriggerPort, ScheduleTriggerSpec, TriggerDeliveryField } from '../core/ports/schedule-trigger.port.js';
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
export const scheduleFireInput = (scheduleId: string): string => JSON.stringify(fireInputOf(scheduleId));

const fireInputOf = (scheduleId: string) => ({ scheduleId, scheduledTime: SCHEDULED_TIME_ATTRIBUTE });

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

  /** How every trigger delivers its fire: the same for all but the schedule id in the Input. */
  private target(scheduleId: string): Target & Required<Pick<Target, 'Arn' | 'RoleArn' | 'Input' | 'DeadLetterConfig' | 'RetryPolicy'>> {
    const settings = this.configured();
    return {
      Arn: settings.targetArn,
      RoleArn: settings.roleArn,
      Input: scheduleFireInput(scheduleId),
      DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
      // Delivery is retried for an hour at most. A maintenance fire that arrives hours late would start sessions
      // (and tell end users) well outside the time the operator chose; it goes to the dead-letter queue instead,
      // whose alarm tells the operator, and the next occurrence fires as planned.
      RetryPolicy: { MaximumEventAgeInSeconds: 3_600, MaximumRetryAttempts: 20 },
    };
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
      Target: this.target(spec.scheduleId),
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

  /**
   * Every trigger in the group with what it holds, its delivery included.
   * ListSchedules answers neither target nor retry policy, so each one is
   * read with GetSchedule, a few at a time (`LIST_CONCURRENCY`); the SDK's
   * retries absorb a throttle, and one that persists fails the whole listing
   * rather than report a partial one.
   */
  async list(): Promise<HeldScheduleTrigger[]> {
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

    const specs: (HeldScheduleTrigger | undefined)[] = new Array<HeldScheduleTrigger | undefined>(names.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const index = next++;
        specs[index] = await this.read(groupName, names[index] ?? '');
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, names.length) }, worker));
    return specs.filter((spec): spec is HeldScheduleTrigger => spec !== undefined);
  }

  /** One listed schedule as a held trigger; undefined when it is gone meanwhile or is not a Nightshift trigger. */
  private async read(groupName: string, name: string): Promise<HeldScheduleTrigger | undefined> {
    let schedule: GetScheduleCommandOutput;
    try {
      schedule = await this.client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
    } catch (error) {
      // deleted between the listing and this read: it is not there any more
      if (error instanceof ResourceNotFoundException) return undefined;
      throw translateAwsError(error, `reading the schedule trigger ${name}`);
    }
    const input = parseInput(schedule.Target?.Input);
    const scheduleId = scheduleIdOf(input);
    // Not ours, or not where delete(scheduleId) would look (a copy made by hand): either way not a trigger to report.
    if (scheduleId === undefined || scheduleTriggerName(scheduleId) !== name) return undefined;
    const window = schedule.FlexibleTimeWindow;
    const deliveryDrift = this.deliveryDrift(schedule, scheduleId, input);
    return {
      scheduleId,
      expression: schedule.ScheduleExpression ?? '',
      timeZone: schedule.ScheduleExpressionTimezone ?? 'UTC',
      enabled: schedule.State === 'ENABLED',
      flexibleWindowMinutes: window?.Mode === 'FLEXIBLE' ? (window.MaximumWindowInMinutes ?? 0) : 0,
      ...(deliveryDrift.length > 0 ? { deliveryDrift } : {}),
    };
  }

  /** Which parts of the delivery Scheduler holds are not what put() writes for `scheduleId`. */
  private deliveryDrift(schedule: GetScheduleCommandOutput, scheduleId: string, input: unknown): TriggerDeliveryField[] {
    const wanted = this.target(scheduleId);
    const held = schedule.Target;
    const matches: { readonly [F in TriggerDeliveryField]: boolean } = {
      target: held?.Arn === wanted.Arn,
      role: held?.RoleArn === wanted.RoleArn,
      deadLetterQueue: held?.DeadLetterConfig?.Arn === wanted.DeadLetterConfig.Arn,
      // a policy removed by hand reads back as none or as Scheduler's defaults (24 hours, 185 attempts): either differs
      retryPolicy:
        held?.RetryPolicy?.MaximumEventAgeInSeconds === wanted.RetryPolicy.MaximumEventAgeInSeconds &&
        held?.RetryPolicy?.MaximumRetryAttempts === wanted.RetryPolicy.MaximumRetryAttempts,
      // compared as JSON, not as text: the console may store the same object with other spacing or key order
      input: isDeepStrictEqual(input, fireInputOf(scheduleId)),
      activePeriod: schedule.StartDate === undefined && schedule.EndDate === undefined,
    };
    return (Object.keys(matches) as TriggerDeliveryField[]).filter((field) => !matches[field]);
  }
}

/** A trigger's Input as JSON; undefined when there is none or it is not JSON. */
function parseInput(input: string | undefined): unknown {
  if (input === undefined) return undefined;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return undefined;
  }
}

/** The schedule id a parsed Input carries, if it is a Nightshift fire input. */
function scheduleIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { scheduleId } = input as { scheduleId?: unknown };
  return typeof scheduleId === 'string' && scheduleId.length > 0 ? scheduleId : undefined;
}
