import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE } from '../functions/adapters/events.eventbridge.js';
import type { HandlerEntry, PortAccess } from '../functions/handlers/registry.js';

/** What a port's permissions point at: the stack's resources, as the grants need them. */
export interface PortResources {
  readonly table: dynamodb.ITableV2;
  readonly commandOutput: s3.IBucket;
  /** Under `commandOutput`: SSM writes command output here, the agent handlers read it back. */
  readonly commandOutputPrefix: string;
  /** Under `commandOutput`: scripts too large to send inline. */
  readonly stagedScriptPrefix: string;
  /** The SSM documents Nightshift sends commands with (AWS-owned, so named by ARN without an account). */
  readonly documentArns: readonly string[];
  /** Managed nodes must carry this tag to receive a command. */
  readonly managedNodeTag: { readonly key: string; readonly value: string };
  /** Built from the state machine's fixed name, so a handler's policy never references the state machine (no cycle). */
  readonly stateMachineArn: string;
  /** Every execution of that state machine (executions are named after their session). */
  readonly executionArns: string;
  readonly windowTimers: {
    readonly groupName: string;
    readonly scheduleArns: string;
    readonly targetArn: string;
    readonly invokerRole: iam.IRole;
    readonly deadLetterQueue: sqs.IQueue;
  };
  readonly scheduleTriggers: {
    readonly groupName: string;
    /** `arn:…:schedule/<group>/*`: every trigger in the group, and nothing outside it. */
    readonly scheduleArns: string;
    /** The `fire-schedule` function, by name. */
    readonly targetArn: string;
    readonly invokerRole: iam.IRole;
    readonly deadLetterQueue: sqs.IQueue;
    /** scheduler:ListSchedules, which IAM cannot scope to a resource. */
    readonly listPolicy: iam.IManagedPolicy;
  };
  /** The run worker (`advance-runs`), invoked asynchronously with one run to step; by name, so no role references the function. */
  readonly runWorker: { readonly functionName: string; readonly functionArn: string };
  /** The Nightshift event bus, where run and session events go for the MSP's own rules. */
  readonly eventBus: events.IEventBus;
  /** `arn:…:parameter/nightshift/secrets/*`: every secret task parameter and nothing else. */
  readonly secretParameterArns: string;
  /** The SSM reads IAM cannot scope to a resource (GetCommandInvocation, ListCommands, DescribeInstanceInformation). */
  readonly commandReadsPolicy: iam.IManagedPolicy;
  /** ssm:CancelCommand, which IAM cannot scope to a resource either. */
  readonly commandCancelPolicy: iam.IManagedPolicy;
  /** ssm:DescribeInstanceInformation alone, for handlers that list managed nodes without reading commands. */
  readonly inventoryReadPolicy: iam.IManagedPolicy;
  /** End-user email: what `ses:SendEmail` is checked against (the From identity and the configuration set). */
  readonly mail: {
    readonly configurationSetName: string;
    readonly configurationSetArn: string;
    /** The stack's identity, or `identity/*` when the stack was given none (`wildcardReason` says why that is the grant). */
    readonly sendingIdentityArn: string;
    readonly wildcardReason?: string;
  };
  /** The HMAC key ring signing end-user links. */
  readonly linkKeys: secretsmanager.ISecret;
}

/** The handler a grant is for: its function, its role, and a way to acknowledge the wildcard a grant brings, by its exact finding. */
export interface GrantTarget {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly acknowledgeWildcard: (resource: string, reason: string) => void;
}

type Grant = (target: GrantTarget, resources: PortResources) => void;

/** cdk-nag names a wildcard finding by the resource as it renders it: `<Logical.Arn>/index/*`, `arn:<AWS::Partition>:…`. */
export function wildcardFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

const readTable: Grant = ({ fn, acknowledgeWildcard }, { table }) => {
  table.grantReadData(fn);
  acknowledgeWildcard(`${table.tableArn}/index/*`, "Queries go to this table's own secondary indexes.");
};

const writeTable: Grant = ({ fn, acknowledgeWildcard }, { table }) => {
  table.grantWriteData(fn);
  acknowledgeWildcard(`${table.tableArn}/index/*`, "The grant names this table's own secondary indexes.");
};

const answerTaskTokens: Grant = ({ fn }, { stateMachineArn }) => {
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'AnswerSessionTaskTokens', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], resources: [stateMachineArn] }),
  );
};

/** Where a trigger lives and what it invokes; reading and writing triggers both need it (the adapter refuses without). */
const scheduleTriggerEnvironment = (fn: lambda.Function, { scheduleTriggers }: PortResources): void => {
  fn.addEnvironment('SCHEDULE_TRIGGER_GROUP', scheduleTriggers.groupName);
  fn.addEnvironment('SCHEDULE_TRIGGER_TARGET_ARN', scheduleTriggers.targetArn);
  fn.addEnvironment('SCHEDULE_TRIGGER_ROLE_ARN', scheduleTriggers.invokerRole.roleArn);
  fn.addEnvironment('SCHEDULE_TRIGGER_DLQ_ARN', scheduleTriggers.deadLetterQueue.queueArn);
};

/**
 * Every port access of the registry's vocabulary and the permissions it
 * stands for. A handler's role gets exactly the union of its declared
 * accesses; a new access fails to compile here until its permissions are said.
 */
const PORT_GRANTS: { readonly [A in PortAccess]: Grant } = {
  // one table holds sessions, their logs, the catalog, schedules and their runs, the audit trail, the email branding and each session's email records
  'sessions:read': readTable,
  'sessionLog:read': readTable,
  'catalog:read': readTable,
  'schedules:read': readTable,
  'audit:read': readTable,
  'branding:read': readTable,
  'notifications:read': readTable,
  'sessions:write': writeTable,
  'sessionLog:write': writeTable,
  'catalog:write': writeTable,
  'schedules:write': writeTable,
  'audit:write': writeTable,
  'branding:write': writeTable,
  'notifications:write': writeTable,

  'agent:send': ({ fn, acknowledgeWildcard }, { commandOutput, stagedScriptPrefix, documentArns, managedNodeTag }) => {
    // IAM checks SendCommand against the document, the output bucket and each target node, each in its own statement:
    // the tag condition can only hold for the nodes, so it must not sit with the document and the bucket
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'SendWithNightshiftDocuments', actions: ['ssm:SendCommand'], resources: [...documentArns, commandOutput.bucketArn] }),
    );
    const stack = Stack.of(fn);
    const nodes = [
      stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
      stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
    ];
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SendToTaggedNodesOnly',
        actions: ['ssm:SendCommand'],
        resources: nodes,
        conditions: { StringEquals: { [`ssm:resourceTag/${managedNodeTag.key}`]: managedNodeTag.value } },
      }),
    );
    for (const node of nodes) acknowledgeWildcard(node, `Only nodes tagged ${managedNodeTag.key}=${managedNodeTag.value} match: the statement's ssm:resourceTag condition.`);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StageLargeScripts', actions: ['s3:PutObject'], resources: [commandOutput.arnForObjects(`${stagedScriptPrefix}*`)] }));
    acknowledgeWildcard(commandOutput.arnForObjects(`${stagedScriptPrefix}*`), 'Staged scripts are named by their content hash under a prefix that is ours alone.');
  },
  'agent:read': ({ fn, role, acknowledgeWildcard }, { commandOutput, commandOutputPrefix, commandReadsPolicy }) => {
    role.addManagedPolicy(commandReadsPolicy);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadFullCommandOutput', actions: ['s3:GetObject'], resources: [commandOutput.arnForObjects(`${commandOutputPrefix}*`)] }));
    acknowledgeWildcard(commandOutput.arnForObjects(`${commandOutputPrefix}*`), 'Command output objects are named by SSM per command and node; the prefix is ours alone.');
  },
  'agent:cancel': ({ role }, { commandCancelPolicy }) => {
    role.addManagedPolicy(commandCancelPolicy);
  },
  'inventory:read': ({ role }, { inventoryReadPolicy }) => {
    role.addManagedPolicy(inventoryReadPolicy);
  },

  'workflow:start': ({ fn }, { stateMachineArn }) => {
    fn.addEnvironment('STATE_MACHINE_ARN', stateMachineArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StartSessionExecutions', actions: ['states:StartExecution'], resources: [stateMachineArn] }));
  },
  'workflow:answer': answerTaskTokens,
  'workflow:read': ({ fn, acknowledgeWildcard }, { stateMachineArn, executionArns }) => {
    fn.addEnvironment('STATE_MACHINE_ARN', stateMachineArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadSessionExecutionHistory', actions: ['states:GetExecutionHistory'], resources: [executionArns] }));
    acknowledgeWildcard(executionArns, "Executions are named after their session, under the session state machine's name only.");
  },

  'windowTimers:write': ({ fn, acknowledgeWildcard }, { windowTimers }) => {
    fn.addEnvironment('WINDOW_TIMER_GROUP', windowTimers.groupName);
    fn.addEnvironment('WINDOW_TIMER_TARGET_ARN', windowTimers.targetArn);
    fn.addEnvironment('WINDOW_TIMER_ROLE_ARN', windowTimers.invokerRole.roleArn);
    fn.addEnvironment('WINDOW_TIMER_DLQ_ARN', windowTimers.deadLetterQueue.queueArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ManageWindowTimers', actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], resources: [windowTimers.scheduleArns] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'HandTimersTheirRole',
        actions: ['iam:PassRole'],
        resources: [windowTimers.invokerRole.roleArn],
        // the role is handed to Scheduler only, never to another service
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeWildcard(windowTimers.scheduleArns, 'Window timers are named per session inside a schedule group that holds nothing else.');
  },

  'scheduleTriggers:read': ({ fn, role, acknowledgeWildcard }, resources) => {
    scheduleTriggerEnvironment(fn, resources);
    const { scheduleTriggers } = resources;
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadScheduleTriggers', actions: ['scheduler:GetSchedule'], resources: [scheduleTriggers.scheduleArns] }));
    // ListSchedules has no resource-level permissions; the adapter lists only its own group (GroupName)
    role.addManagedPolicy(scheduleTriggers.listPolicy);
    acknowledgeWildcard(scheduleTriggers.scheduleArns, 'Schedule triggers are named per schedule inside a schedule group that holds nothing else.');
  },
  'scheduleTriggers:write': ({ fn, acknowledgeWildcard }, resources) => {
    scheduleTriggerEnvironment(fn, resources);
    const { scheduleTriggers } = resources;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageScheduleTriggers',
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        resources: [scheduleTriggers.scheduleArns],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'HandTriggersTheirRole',
        actions: ['iam:PassRole'],
        resources: [scheduleTriggers.invokerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeWildcard(scheduleTriggers.scheduleArns, 'Schedule triggers are named per schedule inside a schedule group that holds nothing else.');
  },

  'runWork:request': ({ fn }, { runWorker }) => {
    fn.addEnvironment('RUN_WORKER_FUNCTION', runWorker.functionName);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'HandRunsToTheWorker', actions: ['lambda:InvokeFunction'], resources: [runWorker.functionArn] }));
  },

  'secrets:write': ({ fn, acknowledgeWildcard }, { secretParameterArns }) => {
    // SecureString parameters under the AWS managed key aws/ssm need no KMS grant: that key's policy lets SSM use it for the account
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteSecretParameters', actions: ['ssm:PutParameter', 'ssm:DeleteParameters'], resources: [secretParameterArns] }));
    acknowledgeWildcard(secretParameterArns, "Secret task parameters are named per deployment and parameter under Nightshift's own path.");
  },

  'events:publish': ({ fn }, { eventBus }) => {
    fn.addEnvironment('EVENT_BUS_NAME', eventBus.eventBusName);
    // EventBridge authorizes each entry on its own: one with another source or detail type is refused, never the bus
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishNightshiftEvents',
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': [...EVENT_DETAIL_TYPES] } },
      }),
    );
  },

  'mailer:send': ({ fn, acknowledgeWildcard }, { mail }) => {
    fn.addEnvironment('MAIL_CONFIGURATION_SET', mail.configurationSetName);
    // SES checks SendEmail against the From identity and, when one is named, the configuration set: both are listed
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'SendEndUserEmail', actions: ['ses:SendEmail'], resources: [mail.sendingIdentityArn, mail.configurationSetArn] }));
    if (mail.wildcardReason !== undefined) acknowledgeWildcard(mail.sendingIdentityArn, mail.wildcardReason);
  },

  'linkKeys:read': ({ fn }, { linkKeys }) => {
    fn.addEnvironment('LINK_KEYS_SECRET_ARN', linkKeys.secretArn);
    // the secret is encrypted with the AWS managed key aws/secretsmanager, whose policy lets Secrets Manager decrypt for the account
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadLinkKeyRing', actions: ['secretsmanager:GetSecretValue'], resources: [linkKeys.secretArn] }));
  },

  // Powertools Metrics writes the embedded metric format to the function's log, which every function may already write
  'metrics:write': () => undefined,
};

/** Grants a handler what its registry entry declares, and nothing else. */
export function grantDeclaredPorts(entry: Pick<HandlerEntry, 'ports'>, target: GrantTarget, resources: PortResources): void {
  // several accesses share one grant (the table's read and write): each is applied once
  for (const grant of new Set(entry.ports.map((access) => PORT_GRANTS[access]))) grant(target, resources);
}

/** Acknowledges one cdk-nag wildcard finding on `construct`, by the exact resource it names. */
export function acknowledgeWildcard(construct: IConstruct, resource: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: wildcardFinding(construct, resource), reason });
}
