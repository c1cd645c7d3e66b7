import { z } from 'zod';
import { ConfigurationError } from '../core/errors.js';
import type { AgentSettings } from '../core/use-cases/dependencies.js';
import type { WindowTimerSettings } from './window-timer.scheduler.js';

/** SSM refuses delivery timeouts above 30 days (2,592,000 s). */
export const MAX_DELIVERY_TIMEOUT_SECONDS = 2_592_000;

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** Set by Lambda itself. */
  AWS_REGION: z.string().min(1),
  STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  COMMAND_OUTPUT_BUCKET: z.string().min(3),
  AGENT_DELIVERY_TIMEOUT_SECONDS: z.coerce.number().int().min(30).max(MAX_DELIVERY_TIMEOUT_SECONDS).default(172_800),
  DETECTION_ITEM_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(120),
  ACTION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(172_800).default(3_600),
  SKIP_OFFLINE_AFTER_SECONDS: z.coerce.number().int().min(30).max(86_400).default(600),
  WINDOW_TIMER_GROUP: z.string().min(1).optional(),
  WINDOW_TIMER_TARGET_ARN: z.string().startsWith('arn:').optional(),
  WINDOW_TIMER_ROLE_ARN: z.string().startsWith('arn:').optional(),
  WINDOW_TIMER_DLQ_ARN: z.string().startsWith('arn:').optional(),
  SESSION_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
});

/** Typed configuration; the local runtime builds the same object without touching `process.env`. */
export interface Config {
  readonly region: string;
  readonly tableName: string;
  readonly stateMachineArn?: string;
  readonly commandOutputBucket: string;
  readonly agent: AgentSettings;
  /** Only the functions that arm or move window timers get these. */
  readonly windowTimers?: WindowTimerSettings;
  readonly sessionLogRetentionDays: number;
}

/** Read once per process; a missing or malformed variable stops the function with the variable's name. */
export function configFromEnvironment(environment: Readonly<Record<string, string | undefined>>): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigurationError(`function configuration is invalid: ${problems}`);
  }
  const env = parsed.data;
  return {
    region: env.AWS_REGION,
    tableName: env.TABLE_NAME,
    ...(env.STATE_MACHINE_ARN ? { stateMachineArn: env.STATE_MACHINE_ARN } : {}),
    commandOutputBucket: env.COMMAND_OUTPUT_BUCKET,
    agent: {
      deliveryTimeoutSeconds: env.AGENT_DELIVERY_TIMEOUT_SECONDS,
      detectionItemTimeoutSeconds: env.DETECTION_ITEM_TIMEOUT_SECONDS,
      actionTimeoutSeconds: env.ACTION_TIMEOUT_SECONDS,
      skipOfflineAfterSeconds: env.SKIP_OFFLINE_AFTER_SECONDS,
    },
    ...(env.WINDOW_TIMER_GROUP && env.WINDOW_TIMER_TARGET_ARN && env.WINDOW_TIMER_ROLE_ARN && env.WINDOW_TIMER_DLQ_ARN
      ? {
          windowTimers: {
            groupName: env.WINDOW_TIMER_GROUP,
            targetArn: env.WINDOW_TIMER_TARGET_ARN,
            roleArn: env.WINDOW_TIMER_ROLE_ARN,
            deadLetterQueueArn: env.WINDOW_TIMER_DLQ_ARN,
          },
        }
      : {}),
    sessionLogRetentionDays: env.SESSION_LOG_RETENTION_DAYS,
  };
}
