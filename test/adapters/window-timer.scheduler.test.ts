import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SchedulerWindowTimers, atExpression, windowTimerName } from '../../functions/adapters/window-timer.scheduler.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';

const scheduler = mockClient(SchedulerClient);
const settings = {
  groupName: 'nightshift-windows',
  targetArn: 'arn:aws:lambda:eu-west-1:111111111111:function:nightshift-window-timer',
  roleArn: 'arn:aws:iam::111111111111:role/window-timer-invoker',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111111111111:window-timer-dlq',
};
const timers = new SchedulerWindowTimers(new SchedulerClient({ region: 'eu-west-1' }), settings);
const notFound = () => new ResourceNotFoundException({ message: 'no such schedule', Message: 'no such schedule', $metadata: {} });

describe('window timers on EventBridge Scheduler (SDK mocked: no local twin for the API)', () => {
  beforeEach(() => scheduler.reset());

  it('arms a one-time at() schedule named after the session, deleted after it fires, with a dead-letter queue', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(notFound());
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await timers.set('ses_1', '2026-12-01T21:30:00.000Z');
    expect(scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: windowTimerName('ses_1'),
      GroupName: 'nightshift-windows',
      ScheduleExpression: 'at(2026-12-01T21:30:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: expect.objectContaining({
        Arn: settings.targetArn,
        RoleArn: settings.roleArn,
        Input: '{"sessionId":"ses_1"}',
        DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
      }) as { Arn: string; RoleArn: string },
    });
  });

  it('moves the existing schedule when the window moves: never a second timer for a session', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await timers.set('ses_1', '2026-12-02T21:30:00.000Z');
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 0);
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: windowTimerName('ses_1'), ScheduleExpression: 'at(2026-12-02T21:30:00)' });
  });

  it('a schedule created meanwhile by a concurrent arm is moved instead of duplicated', async () => {
    scheduler.on(UpdateScheduleCommand).rejectsOnce(notFound()).resolves({ ScheduleArn: 'arn' });
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await timers.set('ses_1', '2026-12-02T21:30:00.000Z');
    expect(scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
  });

  it('clearing a timer that already fired (and deleted itself) is fine; throttling is transient', async () => {
    scheduler.on(DeleteScheduleCommand).rejectsOnce(notFound()).rejects(new ThrottlingException({ message: 'slow down', Message: 'slow down', $metadata: {} }));
    await expect(timers.clear('ses_1')).resolves.toBeUndefined();
    await expect(timers.clear('ses_1')).rejects.toBeInstanceOf(TransientError);
  });

  it('rounds the instant up to the next whole minute (Scheduler keeps time to the minute), never down', () => {
    expect(atExpression('2026-12-01T21:30:00.000Z')).toBe('at(2026-12-01T21:30:00)');
    expect(atExpression('2026-12-01T21:30:00.001Z')).toBe('at(2026-12-01T21:31:00)');
    expect(atExpression('2026-12-01T23:59:59.500+00:00')).toBe('at(2026-12-02T00:00:00)');
  });

  it('names the timer after the whole session id: two long ids differing at the end get two timers', () => {
    const stem = 'sched-contoso-weekly-2026-11-30T22:00Z-workstation'.replace(/:/g, '').padEnd(62, 'x');
    expect(windowTimerName(`${stem}-1`)).not.toBe(windowTimerName(`${stem}-2`));
    expect(windowTimerName(`${stem}-1`)).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
  });

  it('refuses to arm timers from a function that was not given the timer settings', async () => {
    await expect(new SchedulerWindowTimers(new SchedulerClient({ region: 'eu-west-1' }), undefined).set('s', '2026-12-01T21:30:00Z')).rejects.toBeInstanceOf(ConfigurationError);
  });
});
