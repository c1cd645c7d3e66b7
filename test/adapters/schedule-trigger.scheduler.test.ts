import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
  type GetScheduleCommandOutput,
  type Target,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { configFromEnvironment } from '../../functions/adapters/config.js';
import { SCHEDULED_TIME_ATTRIBUTE, SchedulerScheduleTriggers, scheduleFireInput, scheduleTriggerName } from '../../functions/adapters/schedule-trigger.scheduler.js';
import { entityIdSchema } from '../../functions/core/model/catalog.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';
import type { ScheduleTriggerSpec } from '../../functions/core/ports/schedule-trigger.port.js';

const scheduler = mockClient(SchedulerClient);
const settings = {
  groupName: 'nightshift-schedules',
  targetArn: 'arn:aws:lambda:eu-west-1:111111111111:function:nightshift-fire-schedule',
  roleArn: 'arn:aws:iam::111111111111:role/schedule-fire-invoker',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111111111111:schedule-fire-dlq',
};
const triggers = new SchedulerScheduleTriggers(new SchedulerClient({ region: 'eu-west-1' }), settings);
const notFound = () => new ResourceNotFoundException({ message: 'no such schedule', Message: 'no such schedule', $metadata: {} });
const throttled = () => new ThrottlingException({ message: 'slow down', Message: 'slow down', $metadata: {} });

const weekly: ScheduleTriggerSpec = {
  scheduleId: 'contoso-weekly',
  expression: 'cron(0 14 ? * TUE *)',
  timeZone: 'Europe/Amsterdam',
  enabled: true,
  flexibleWindowMinutes: 0,
};

/** The delivery put() writes for a schedule. */
const heldTarget = (scheduleId: string): Target => ({
  Arn: settings.targetArn,
  RoleArn: settings.roleArn,
  Input: scheduleFireInput(scheduleId),
  DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
  RetryPolicy: { MaximumEventAgeInSeconds: 3_600, MaximumRetryAttempts: 20 },
});

/** What GetSchedule answers for a trigger put() wrote from `spec`. */
const stored = (spec: ScheduleTriggerSpec, overrides: Partial<GetScheduleCommandOutput> = {}): GetScheduleCommandOutput => ({
  $metadata: {},
  Name: scheduleTriggerName(spec.scheduleId),
  GroupName: settings.groupName,
  ScheduleExpression: spec.expression,
  ScheduleExpressionTimezone: spec.timeZone,
  State: spec.enabled ? 'ENABLED' : 'DISABLED',
  FlexibleTimeWindow: spec.flexibleWindowMinutes > 0 ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: spec.flexibleWindowMinutes } : { Mode: 'OFF' },
  Target: heldTarget(spec.scheduleId),
  ...overrides,
});

/** `stored(spec)` with its delivery edited by hand, e.g. in the console. */
const editedTarget = (spec: ScheduleTriggerSpec, edit: (target: Target) => Target): GetScheduleCommandOutput => stored(spec, { Target: edit(heldTarget(spec.scheduleId)) });

describe('schedule triggers on EventBridge Scheduler (SDK mocked: no local twin for the API)', () => {
  beforeEach(() => scheduler.reset());

  it('creates a missing trigger as one recurring cron schedule in the group, in the schedule zone, invoking fire-schedule with the id and the due time, with retries capped at an hour and a dead-letter queue', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(notFound());
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await triggers.put(weekly);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'contoso-weekly',
      GroupName: 'nightshift-schedules',
      ScheduleExpression: 'cron(0 14 ? * TUE *)',
      ScheduleExpressionTimezone: 'Europe/Amsterdam',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: settings.targetArn,
        RoleArn: settings.roleArn,
        Input: '{"scheduleId":"contoso-weekly","scheduledTime":"<aws.scheduler.scheduled-time>"}',
        DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
        RetryPolicy: { MaximumEventAgeInSeconds: 3_600, MaximumRetryAttempts: 20 },
      },
      Description: 'Fires Nightshift schedule contoso-weekly',
    });
    // the context attribute exactly as Scheduler documents it, so the fire carries the due time
    expect(SCHEDULED_TIME_ATTRIBUTE).toBe('<aws.scheduler.scheduled-time>');
  });

  it('updates an existing trigger in place with the same full input: never a second trigger for a schedule', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await triggers.put({ ...weekly, expression: 'cron(30 22 ? * WED *)' });
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 0);
    expect(scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, {
      Name: 'contoso-weekly',
      GroupName: 'nightshift-schedules',
      ScheduleExpression: 'cron(30 22 ? * WED *)',
      ActionAfterCompletion: 'NONE',
    });
  });

  it('updates the trigger a concurrent put created meanwhile (create answers Conflict) instead of failing or duplicating it', async () => {
    scheduler.on(UpdateScheduleCommand).rejectsOnce(notFound()).resolves({ ScheduleArn: 'arn' });
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await triggers.put(weekly);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
  });

  it('writes a disabled schedule as a DISABLED trigger, and a flexible window as FLEXIBLE with its minutes', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await triggers.put({ ...weekly, enabled: false, flexibleWindowMinutes: 15 });
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, {
      State: 'DISABLED',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
    });
  });

  it('turns throttling into a TransientError and passes other refusals through as they are', async () => {
    scheduler.on(UpdateScheduleCommand).rejectsOnce(throttled()).rejectsOnce(new Error('ValidationException'));
    await expect(triggers.put(weekly)).rejects.toBeInstanceOf(TransientError);
    await expect(triggers.put(weekly)).rejects.not.toBeInstanceOf(TransientError);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 0);
  });

  it('deletes the trigger by the name put() gave it; one already gone is fine; throttling is transient', async () => {
    scheduler.on(DeleteScheduleCommand).resolvesOnce({}).rejectsOnce(notFound()).rejects(throttled());
    await expect(triggers.delete('contoso-weekly')).resolves.toBeUndefined();
    expect(scheduler).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: 'contoso-weekly', GroupName: 'nightshift-schedules' });
    await expect(triggers.delete('contoso-weekly')).resolves.toBeUndefined();
    await expect(triggers.delete('contoso-weekly')).rejects.toBeInstanceOf(TransientError);
  });

  it('names a trigger after the id when Scheduler takes it, else a stable hashed name of at most 64 that no id can take', () => {
    expect(scheduleTriggerName('contoso-weekly')).toBe('contoso-weekly');
    const fits = 'a'.repeat(64);
    expect(scheduleTriggerName(fits)).toBe(fits);
    const longA = `${'tenant-contoso.workstations-'.repeat(4)}patch-tuesday-A`;
    const longB = `${'tenant-contoso.workstations-'.repeat(4)}patch-tuesday-B`;
    for (const id of [longA, longB, 'b'.repeat(65), 'c'.repeat(128)]) {
      expect(entityIdSchema.safeParse(id).success, id).toBe(true);
      const name = scheduleTriggerName(id);
      expect(name).toMatch(/^[0-9A-Za-z._-]{1,64}$/);
      expect(name).toHaveLength(64);
      // stable: the same id always finds the same trigger
      expect(scheduleTriggerName(id)).toBe(name);
      // a hashed name starts where no Nightshift id can, so it never meets an id used as a name
      expect(entityIdSchema.safeParse(name).success).toBe(false);
    }
    expect(scheduleTriggerName(longA)).not.toBe(scheduleTriggerName(longB));
  });

  it('puts and deletes a long-id trigger under its hashed name, and carries the full id in the Input', async () => {
    const id = `${'x'.repeat(100)}-nightly`;
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    scheduler.on(DeleteScheduleCommand).resolves({});
    await triggers.put({ ...weekly, scheduleId: id });
    await triggers.delete(id);
    const name = scheduleTriggerName(id);
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: name, Target: expect.objectContaining({ Input: scheduleFireInput(id) }) as never });
    expect(JSON.parse(scheduleFireInput(id))).toEqual({ scheduleId: id, scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(scheduler).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: name, GroupName: 'nightshift-schedules' });
  });

  it('lists every trigger of the group across pages, read back as the specs put() wrote (long ids mapped back from the Input)', async () => {
    const longId = `${'y'.repeat(90)}-monthly`;
    const specs: ScheduleTriggerSpec[] = [
      weekly,
      { scheduleId: longId, expression: 'cron(0 2 1 * ? *)', timeZone: 'America/New_York', enabled: false, flexibleWindowMinutes: 30 },
      { scheduleId: 'fabrikam-daily', expression: 'cron(0 23 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 },
    ];
    scheduler
      .on(ListSchedulesCommand, { GroupName: 'nightshift-schedules', NextToken: undefined })
      .resolves({ Schedules: specs.slice(0, 2).map((s) => ({ Name: scheduleTriggerName(s.scheduleId), GroupName: settings.groupName })), NextToken: 'page-2' });
    scheduler
      .on(ListSchedulesCommand, { GroupName: 'nightshift-schedules', NextToken: 'page-2' })
      .resolves({ Schedules: [{ Name: 'fabrikam-daily', GroupName: settings.groupName }] });
    for (const spec of specs) {
      scheduler.on(GetScheduleCommand, { Name: scheduleTriggerName(spec.scheduleId), GroupName: 'nightshift-schedules' }).resolves(stored(spec));
    }
    const listed = await triggers.list();
    expect(listed).toEqual(specs);
    expect(scheduler).toHaveReceivedCommandTimes(ListSchedulesCommand, 2);
    expect(scheduler).toHaveReceivedCommandTimes(GetScheduleCommand, 3);
  });

  it('leaves out of the listing what is not a Nightshift trigger, and one deleted between the listing and its read', async () => {
    scheduler.on(ListSchedulesCommand).resolves({
      Schedules: ['contoso-weekly', 'hand-made', 'not-json', 'copied-by-hand', 'gone'].map((Name) => ({ Name, GroupName: settings.groupName })),
    });
    scheduler.on(GetScheduleCommand, { Name: 'contoso-weekly' }).resolves(stored(weekly));
    scheduler.on(GetScheduleCommand, { Name: 'hand-made' }).resolves(stored(weekly, { Name: 'hand-made', Target: { Arn: settings.targetArn, RoleArn: settings.roleArn, Input: '{"hello":"world"}' } }));
    scheduler.on(GetScheduleCommand, { Name: 'not-json' }).resolves(stored(weekly, { Name: 'not-json', Target: { Arn: settings.targetArn, RoleArn: settings.roleArn, Input: 'plain text' } }));
    // carries an id, but delete(id) would never reach it under this name
    scheduler.on(GetScheduleCommand, { Name: 'copied-by-hand' }).resolves(stored(weekly, { Name: 'copied-by-hand' }));
    scheduler.on(GetScheduleCommand, { Name: 'gone' }).rejects(notFound());
    expect(await triggers.list()).toEqual([weekly]);
  });

  it('reports each hand edit of a trigger\'s delivery by the part edited, and nothing for one that delivers as put() writes it', async () => {
    const id = (n: number) => `contoso-${String(n)}`;
    const spec = (n: number): ScheduleTriggerSpec => ({ ...weekly, scheduleId: id(n) });
    const held: GetScheduleCommandOutput[] = [
      stored(spec(0)),
      editedTarget(spec(1), (t) => ({ ...t, Arn: 'arn:aws:lambda:eu-west-1:111111111111:function:someone-elses' })),
      editedTarget(spec(2), (t) => ({ ...t, RoleArn: 'arn:aws:iam::111111111111:role/hand-made' })),
      editedTarget(spec(3), ({ DeadLetterConfig: _removed, ...t }) => t),
      // what Scheduler answers once the policy is removed: its own defaults, a day of retries
      editedTarget(spec(4), (t) => ({ ...t, RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } })),
      editedTarget(spec(5), (t) => ({ ...t, RetryPolicy: { MaximumEventAgeInSeconds: 3_600, MaximumRetryAttempts: 0 } })),
      editedTarget(spec(6), (t) => ({ ...t, Input: JSON.stringify({ scheduleId: id(6), scheduledTime: '2026-01-01T00:00:00Z' }) })),
      stored(spec(7), { EndDate: new Date('2026-12-31T00:00:00Z') }),
      editedTarget(spec(8), ({ RetryPolicy: _removed, ...t }) => ({ ...t, Arn: 'arn:aws:sqs:eu-west-1:111111111111:elsewhere', DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:111111111111:other-dlq' } })),
      // the same Input object written with other spacing and key order: not an edit
      editedTarget(spec(9), (t) => ({ ...t, Input: `{ "scheduledTime": "${SCHEDULED_TIME_ATTRIBUTE}", "scheduleId": "${id(9)}" }` })),
    ];
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: held.map(({ Name }) => ({ Name, GroupName: settings.groupName })) });
    for (const schedule of held) scheduler.on(GetScheduleCommand, { Name: schedule.Name }).resolves(schedule);
    const listed = new Map((await triggers.list()).map((trigger) => [trigger.scheduleId, trigger]));
    expect(listed.size).toBe(held.length);
    // the schedule's own parts read back unchanged whatever was edited in the delivery
    for (const trigger of listed.values()) expect(trigger).toMatchObject(spec(Number(trigger.scheduleId.slice('contoso-'.length))));
    expect(Object.fromEntries([...listed].map(([scheduleId, trigger]) => [scheduleId, trigger.deliveryDrift]))).toEqual({
      [id(0)]: undefined,
      [id(1)]: ['target'],
      [id(2)]: ['role'],
      [id(3)]: ['deadLetterQueue'],
      [id(4)]: ['retryPolicy'],
      [id(5)]: ['retryPolicy'],
      [id(6)]: ['input'],
      [id(7)]: ['activePeriod'],
      [id(8)]: ['target', 'deadLetterQueue', 'retryPolicy'],
      [id(9)]: undefined,
    });
    expect(listed.get(id(0))).not.toHaveProperty('deliveryDrift');
  });

  it('reports every trigger\'s dead-letter queue as drifted once the stack gives the function another queue, so the sweep moves them all', async () => {
    const moved = new SchedulerScheduleTriggers(new SchedulerClient({ region: 'eu-west-1' }), { ...settings, deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111111111111:schedule-fire-dlq-v2' });
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'contoso-weekly' }] });
    scheduler.on(GetScheduleCommand).resolves(stored(weekly));
    expect(await moved.list()).toEqual([{ ...weekly, deliveryDrift: ['deadLetterQueue'] }]);
    expect(await triggers.list()).toEqual([weekly]);
  });

  it('fails the listing with a TransientError when Scheduler throttles a read, rather than report a partial list', async () => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'contoso-weekly' }] });
    scheduler.on(GetScheduleCommand).rejects(throttled());
    await expect(triggers.list()).rejects.toBeInstanceOf(TransientError);
  });

  it('refuses every operation with a ConfigurationError in a function that was not given the SCHEDULE_TRIGGER_* settings, touching nothing', async () => {
    const unconfigured = new SchedulerScheduleTriggers(new SchedulerClient({ region: 'eu-west-1' }), undefined);
    await expect(unconfigured.put(weekly)).rejects.toBeInstanceOf(ConfigurationError);
    await expect(unconfigured.delete('contoso-weekly')).rejects.toThrow(/SCHEDULE_TRIGGER_\* settings are not set/);
    await expect(unconfigured.list()).rejects.toBeInstanceOf(ConfigurationError);
    expect(scheduler.calls()).toHaveLength(0);
  });
});

describe('the SCHEDULE_TRIGGER_* settings of a deployed function', () => {
  const base = { TABLE_NAME: 'nightshift', AWS_REGION: 'eu-west-1', COMMAND_OUTPUT_BUCKET: 'nightshift-output' };
  const complete = {
    SCHEDULE_TRIGGER_GROUP: settings.groupName,
    SCHEDULE_TRIGGER_TARGET_ARN: settings.targetArn,
    SCHEDULE_TRIGGER_ROLE_ARN: settings.roleArn,
    SCHEDULE_TRIGGER_DLQ_ARN: settings.deadLetterQueueArn,
  };

  it('become the adapter settings when all four are set, and are absent (the adapter then refuses) when any is missing', () => {
    expect(configFromEnvironment({ ...base, ...complete }).scheduleTriggers).toEqual(settings);
    expect(configFromEnvironment(base).scheduleTriggers).toBeUndefined();
    expect(configFromEnvironment({ ...base, ...complete, SCHEDULE_TRIGGER_DLQ_ARN: undefined }).scheduleTriggers).toBeUndefined();
  });

  it('refuses an ARN setting that is not an ARN, naming the variable', () => {
    expect(() => configFromEnvironment({ ...base, ...complete, SCHEDULE_TRIGGER_ROLE_ARN: 'schedule-fire-invoker' })).toThrow(/SCHEDULE_TRIGGER_ROLE_ARN/);
  });
});
