import type { Dependencies } from '../core/use-cases/dependencies.js';
import { createDocumentClient, createDynamoClient, createS3Client, createSchedulerClient, createSfnClient, createSsmClient } from './aws-clients.js';
import { SsmAgent } from './agent.ssm.js';
import { DynamoCatalogStore } from './catalog-store.dynamodb.js';
import { DynamoTable } from './dynamodb-table.js';
import { createJsonLogger } from './logger.json.js';
import { DynamoSessionLog } from './session-log.dynamodb.js';
import { DynamoSessionStore } from './session-store.dynamodb.js';
import { randomIds, systemClock } from './system.js';
import { StepFunctionsWorkflow } from './workflow.sfn.js';
import { SchedulerWindowTimers } from './window-timer.scheduler.js';
import type { Config } from './config.js';

/** The production wiring: one client per service, built once per Lambda container. */
export function createCloudDependencies(config: Config): Dependencies {
  const table = new DynamoTable(createDocumentClient(createDynamoClient()), config.tableName);
  return {
    sessions: new DynamoSessionStore(table),
    sessionLog: new DynamoSessionLog(table, config.sessionLogRetentionDays),
    catalog: new DynamoCatalogStore(table),
    agent: new SsmAgent(createSsmClient(), createS3Client(), {
      outputBucket: config.commandOutputBucket,
      outputPrefix: 'commands/',
      region: config.region,
    }),
    workflow: new StepFunctionsWorkflow(createSfnClient(), config.stateMachineArn),
    windowTimers: new SchedulerWindowTimers(createSchedulerClient(), config.windowTimers),
    clock: systemClock,
    ids: randomIds,
    logger: createJsonLogger({ service: 'nightshift' }),
    agentSettings: config.agent,
  };
}
