import type { Dependencies } from '../core/use-cases/dependencies.js';
import { handlerEntry } from '../handlers/registry.js';
import { ConfigurationError } from '../core/errors.js';
import type { LinkTokens } from '../core/ports/link-tokens.port.js';
import {
  createDynamoClient,
  createEventBridgeClient,
  createLambdaClient,
  createS3Client,
  createSchedulerClient,
  createSecretsManagerClient,
  createSesClient,
  createSfnClient,
  createSsmClient,
} from './aws-clients.js';
import { createHmacLinkTokens, secretsManagerKeyRing } from './link-tokens.hmac.js';
import { createSesMailer } from './mailer.sesv2.js';
import { SsmManagedNodeInventory } from './inventory.ssm.js';
import { SsmAgent } from './agent.ssm.js';
import type { Config } from './config.js';
import { createDependencies, restrictToDeclaredPorts } from './dependencies.js';
import { EventBridgePublisher } from './events.eventbridge.js';
import { PowertoolsLogger } from './logger.powertools.js';
import { PowertoolsMetrics } from './metrics.powertools.js';
import { LambdaRunWork } from './run-work.lambda.js';
import { SchedulerScheduleTriggers } from './schedule-trigger.scheduler.js';
import { SsmSecretStore } from './secret-store.ssm.js';
import { StepFunctionsWorkflow } from './workflow.sfn.js';
import { SchedulerWindowTimers } from './window-timer.scheduler.js';

/** SSM writes full command output under this prefix of the output bucket; the stack grants reading it there. */
export const COMMAND_OUTPUT_PREFIX = 'commands/';

/**
 * The production wiring: the AWS implementations of the ports that differ
 * from the local runtime, one client per service, built once per Lambda
 * container; everything else comes from the shared `createDependencies`.
 * A deployed function is handed only the ports its registry entry declares,
 * the same view the local runtime gives it.
 */
export function createCloudDependencies(config: Config): Dependencies {
  const ssm = createSsmClient();
  // one Scheduler client for both uses: window timers and schedule triggers
  const scheduler = createSchedulerClient();
  const logger = new PowertoolsLogger();
  const deps = createDependencies(
    {
      dynamo: createDynamoClient(),
      tableName: config.tableName,
      agent: new SsmAgent(ssm, createS3Client(), {
        outputBucket: config.commandOutputBucket,
        outputPrefix: COMMAND_OUTPUT_PREFIX,
        region: config.region,
        urlSuffix: config.urlSuffix,
      }),
      inventory: new SsmManagedNodeInventory(ssm),
      workflow: new StepFunctionsWorkflow(createSfnClient(), config.stateMachineArn),
      windowTimers: new SchedulerWindowTimers(scheduler, config.windowTimers),
      scheduleTriggers: new SchedulerScheduleTriggers(scheduler, config.scheduleTriggers),
      runWork: new LambdaRunWork(createLambdaClient(), config.runWorkerFunction),
      events: new EventBridgePublisher(createEventBridgeClient(), config.events),
      secrets: new SsmSecretStore(ssm),
      mailer: createSesMailer(createSesClient(), config.mail.configurationSetName ? { configurationSetName: config.mail.configurationSetName } : {}),
      linkKeys: cloudLinkKeys(config.mail.linkKeysSecretArn),
      logger,
      metrics: new PowertoolsMetrics({ logger }),
    },
    {
      retentionDays: config.retentionDays,
      agent: config.agent,
      startPacing: config.startPacing,
      notify: { linkBaseUrl: config.mail.linkBaseUrl ?? '' },
    },
  );
  return config.handlerName === undefined ? deps : restrictToDeclaredPorts(deps, handlerEntry(config.handlerName));
}

/** The key ring from Secrets Manager; a function not given the secret fails with its name the first time it signs or checks a link. */
function cloudLinkKeys(secretArn: string | undefined): LinkTokens {
  if (secretArn === undefined) {
    const missing = (): Promise<never> =>
      Promise.reject(new ConfigurationError('LINK_KEYS_SECRET_ARN is not set: declare linkKeys:read for this handler in functions/handlers/registry.ts'));
    return { issue: missing, check: missing };
  }
  return createHmacLinkTokens(secretsManagerKeyRing(createSecretsManagerClient(), secretArn));
}
