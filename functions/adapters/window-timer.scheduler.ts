import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { ConfigurationError } from '../core/errors.js';
import type { WindowTimerPort } from '../core/ports/window-timer.port.js';
import { translateAwsError } from './aws-errors.js';

export interface WindowTimerSettings {
  /** The schedule group that holds only window timers (one schedule per waiting session). */
  readonly groupName: string;
  /** The `window-timer` function each timer invokes. */
  readonly targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target and write to the dead-letter queue. */
  readonly roleArn: string;
  readonly deadLetterQueueArn: string;
}

/**
 * The schedule is named after the session alone: session ids (at most 64 of
 * `A-Za-z0-9_-`) are valid Scheduler names as they are, and the group holds
 * nothing else, so no prefix (and no truncation that could let two sessions
 * share a timer) is needed.
 */
export const windowTimerName = (sessionId: string): string => sessionId;

const MINUTE_MS = 60_000;

/**
 * `at()` takes a local time without zone or fraction (the zone goes in
 * ScheduleExpressionTimezone), and Scheduler keeps time to the minute: the
 * instant is rounded up to the next whole minute, so the timer never fires
 * before the window it opens.
 */
export const atExpression = (at: string): string => `at(${new Date(Math.ceil(Date.parse(at) / MINUTE_MS) * MINUTE_MS).toISOString().slice(0, 19)})`;

/**
 * Window timers on EventBridge Scheduler: one `at()` schedule per waiting
 * session, deleted by Scheduler once it has fired. Moving a window updates
 * that schedule in place; there is never a second one for a session.
 */
export class SchedulerWindowTimers implements WindowTimerPort {
  constructor(
    private readonly client: SchedulerClient,
    private readonly settings: WindowTimerSettings | undefined,
  ) {}

  private input(sessionId: string, at: string): CreateScheduleCommandInput {
    if (!this.settings) throw new ConfigurationError('the WINDOW_TIMER_* settings are not set for this function');
    return {
      Name: windowTimerName(sessionId),
      GroupName: this.settings.groupName,
      // the instant is what matters; expressing it in UTC keeps it exact across DST changes of any zone
      ScheduleExpression: atExpression(at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: this.settings.targetArn,
        RoleArn: this.settings.roleArn,
        Input: JSON.stringify({ sessionId }),
        DeadLetterConfig: { Arn: this.settings.deadLetterQueueArn },
        // delivery to window-timer is retried for a day; what its own runs fail goes to its async-invoke destination
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
      Description: `Opens the maintenance window of session ${sessionId}`,
    };
  }

  async set(sessionId: string, at: string): Promise<void> {
    const input = this.input(sessionId, at);
    try {
      await this.client.send(new UpdateScheduleCommand(input));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw translateAwsError(error, `moving the window timer of session ${sessionId}`);
    }
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // created meanwhile by a concurrent arm: move that one instead
      if (!(error instanceof ConflictException)) throw translateAwsError(error, `arming the window timer of session ${sessionId}`);
      try {
        await this.client.send(new UpdateScheduleCommand(input));
      } catch (retryError) {
        throw translateAwsError(retryError, `moving the window timer of session ${sessionId}`);
      }
    }
  }

  async clear(sessionId: string): Promise<void> {
    if (!this.settings) throw new ConfigurationError('the WINDOW_TIMER_* settings are not set for this function');
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: windowTimerName(sessionId), GroupName: this.settings.groupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw translateAwsError(error, `clearing the window timer of session ${sessionId}`);
    }
  }
}
