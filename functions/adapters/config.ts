import { z } from 'zod';
import { ConfigurationError } from '../core/errors.js';
import { MAX_DELIVERY_TIMEOUT_SECONDS, MAX_EXECUTION_TIMEOUT_SECONDS } from '../core/model/agent.js';
import type { AgentSettings } from '../core/use-cases/dependencies.js';
import { DEFAULT_AGENT_SETTINGS } from './dependencies.js';
import { DEFAULT_START_PACING } from './paced-workflow.js';
import { DEFAULT_RETENTION_DAYS } from './session-store.dynamodb.js';
import type { EventBusSettings } from './events.eventbridge.js';
import type { ScheduleTriggerSettings } from './schedule-trigger.scheduler.js';
import type { WindowTimerSettings } from './window-timer.scheduler.js';

/** SSM refuses delivery timeouts above 30 days (2,592,000 s); the agent contract holds the number. */
export { MAX_DELIVERY_TIMEOUT_SECONDS };

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** Set by Lambda itself. */
  AWS_REGION: z.string().min(1),
  STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  COMMAND_OUTPUT_BUCKET: z.string().min(3),
  /** The partition's domain (`amazonaws.com.cn` in China), for the S3 URLs computers download staged scripts from. */
  AWS_URL_SUFFIX: z.string().regex(/^[a-z0-9.-]+$/, 'must be a domain such as amazonaws.com').default('amazonaws.com'),
  AGENT_DELIVERY_TIMEOUT_SECONDS: z.coerce.number().int().min(30).max(MAX_DELIVERY_TIMEOUT_SECONDS).default(DEFAULT_AGENT_SETTINGS.deliveryTimeoutSeconds),
  // a detection runs 4 items at a time within one command's 8 hours: 900 s per item still covers 60 items that all hang
  DETECTION_ITEM_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(900).default(DEFAULT_AGENT_SETTINGS.detectionItemTimeoutSeconds),
  // no command runs longer than SSM's 8 hours, so neither may one step of an action
  ACTION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(MAX_EXECUTION_TIMEOUT_SECONDS).default(DEFAULT_AGENT_SETTINGS.actionTimeoutSeconds),
  SKIP_OFFLINE_AFTER_SECONDS: z.coerce.number().int().min(30).max(86_400).default(DEFAULT_AGENT_SETTINGS.skipOfflineAfterSeconds),
  WINDOW_TIMER_GROUP: z.string().min(1).optional(),
  WINDOW_TIMER_TARGET_ARN: z.string().startsWith('arn:').optional(),
  WINDOW_TIMER_ROLE_ARN: z.string().startsWith('arn:').optional(),
  WINDOW_TIMER_DLQ_ARN: z.string().startsWith('arn:').optional(),
  SCHEDULE_TRIGGER_GROUP: z.string().min(1).optional(),
  SCHEDULE_TRIGGER_TARGET_ARN: z.string().startsWith('arn:').optional(),
  SCHEDULE_TRIGGER_ROLE_ARN: z.string().startsWith('arn:').optional(),
  SCHEDULE_TRIGGER_DLQ_ARN: z.string().startsWith('arn:').optional(),
  /** The run worker (`advance-runs`), for the functions that hand it a run's fan-out or starts. */
  RUN_WORKER_FUNCTION: z.string().min(1).max(170).optional(),
  /** The Nightshift event bus, for the functions that publish run and session events. */
  EVENT_BUS_NAME: z.string().min(1).max(256).optional(),
  /** StartExecution calls per second a function makes once its burst is spent (the quota is 300/s in the large Regions). */
  START_EXECUTION_RATE_PER_SECOND: z.coerce.number().int().min(1).max(5_000).default(DEFAULT_START_PACING.ratePerSecond),
  START_EXECUTION_BURST: z.coerce.number().int().min(1).max(5_000).default(DEFAULT_START_PACING.burst),
  /** One retention for everything a session leaves in the table: its record, actions, snapshots and log lines. */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(DEFAULT_RETENTION_DAYS),
  /** SES configuration set every end-user email is sent with (suppression list, bounce and complaint events). */
  MAIL_CONFIGURATION_SET: z.string().min(1).max(64).optional(),
  /** The Secrets Manager secret holding the link key ring. */
  LINK_KEYS_SECRET_ARN: z.string().startsWith('arn:').optional(),
  /** Where end-user links point: the API's URL or the MSP's own domain for it. */
  LINK_BASE_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  /** The registry entry this function runs, so it is handed only the ports that entry declares. */
  NIGHTSHIFT_HANDLER: z.string().min(1).optional(),
  /** Set by Lambda itself: a deployed function must say which entry it runs, or it would get every port. */
  AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).optional(),
}).refine((env) => env.AWS_LAMBDA_FUNCTION_NAME === undefined || env.NIGHTSHIFT_HANDLER !== undefined, {
  path: ['NIGHTSHIFT_HANDLER'],
  message: 'is required in Lambda, so the function gets only the ports its registry entry declares',
});

/** Typed configuration; the local runtime builds the same object without touching `process.env`. */
export interface Config {
  readonly region: string;
  readonly tableName: string;
  readonly stateMachineArn?: string;
  readonly commandOutputBucket: string;
  readonly urlSuffix: string;
  readonly agent: AgentSettings;
  /** Only the functions that arm or move window timers get these. */
  readonly windowTimers?: WindowTimerSettings;
  /** Only the functions that read or write schedule triggers get these. */
  readonly scheduleTriggers?: ScheduleTriggerSettings;
  /** Only the functions that hand work to the run worker get this: its function name. */
  readonly runWorkerFunction?: string;
  /** Only the functions that publish run and session events get this. */
  readonly events?: EventBusSettings;
  /** Days before DynamoDB's TTL deletes a session's records. */
  readonly retentionDays: number;
  /** How fast session executions are started: a fan-out of thousands stays inside the account's StartExecution quota. */
  readonly startPacing: { readonly ratePerSecond: number; readonly burst: number };
  readonly mail: { readonly configurationSetName?: string; readonly linkKeysSecretArn?: string; readonly linkBaseUrl?: string };
  /** The handler's registry name; absent outside a deployed function (all ports are handed over then). */
  readonly handlerName?: string;
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
    urlSuffix: env.AWS_URL_SUFFIX,
    agent: {
      deliveryTimeoutSeconds: env.AGENT_DELIVERY_TIMEOUT_SECONDS,
      detectionItemTimeoutSeconds: env.DETECTION_ITEM_TIMEOUT_SECONDS,
      actionTimeoutSeconds: env.ACTION_TIMEOUT_SECONDS,
      skipOfflineAfterSeconds: env.SKIP_OFFLINE_AFTER_SECONDS,
      // the secrets live in this stack's Region; computers are told so rather than trusting their CLI's default
      secretsRegion: env.AWS_REGION,
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
    ...(env.SCHEDULE_TRIGGER_GROUP && env.SCHEDULE_TRIGGER_TARGET_ARN && env.SCHEDULE_TRIGGER_ROLE_ARN && env.SCHEDULE_TRIGGER_DLQ_ARN
      ? {
          scheduleTriggers: {
            groupName: env.SCHEDULE_TRIGGER_GROUP,
            targetArn: env.SCHEDULE_TRIGGER_TARGET_ARN,
            roleArn: env.SCHEDULE_TRIGGER_ROLE_ARN,
            deadLetterQueueArn: env.SCHEDULE_TRIGGER_DLQ_ARN,
          },
        }
      : {}),
    ...(env.RUN_WORKER_FUNCTION ? { runWorkerFunction: env.RUN_WORKER_FUNCTION } : {}),
    ...(env.EVENT_BUS_NAME ? { events: { eventBusName: env.EVENT_BUS_NAME } } : {}),
    retentionDays: env.RETENTION_DAYS,
    startPacing: { ratePerSecond: env.START_EXECUTION_RATE_PER_SECOND, burst: env.START_EXECUTION_BURST },
    mail: {
      ...(env.MAIL_CONFIGURATION_SET ? { configurationSetName: env.MAIL_CONFIGURATION_SET } : {}),
      ...(env.LINK_KEYS_SECRET_ARN ? { linkKeysSecretArn: env.LINK_KEYS_SECRET_ARN } : {}),
      ...(env.LINK_BASE_URL ? { linkBaseUrl: env.LINK_BASE_URL.replace(/\/+$/, '') } : {}),
    },
    ...(env.NIGHTSHIFT_HANDLER ? { handlerName: env.NIGHTSHIFT_HANDLER } : {}),
  };
}
