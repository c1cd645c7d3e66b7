import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { STAGED_SCRIPT_PREFIX } from '../functions/adapters/agent.ssm.js';
import { COMMAND_OUTPUT_PREFIX } from '../functions/adapters/cloud-dependencies.js';
import { MAX_DELIVERY_TIMEOUT_SECONDS } from '../functions/adapters/config.js';
import { EVENT_SOURCE } from '../functions/adapters/events.eventbridge.js';
import { MAX_EXECUTION_TIMEOUT_SECONDS } from '../functions/core/model/agent.js';
import { TABLE_DEFINITION } from '../functions/adapters/table-definition.js';
import { FINAL_INVOCATION_STATUSES } from '../functions/core/model/agent.js';
import { HANDLERS, RECONCILE_BUDGET_SECONDS, SCHEDULED_RULES, handlerEntry, type HandlerEntry } from '../functions/handlers/registry.js';
import { ConsoleHosting, consoleAuthOf, withConsoleSignIn, type ConsoleHostingSettings } from './console-hosting.js';
import { MAIL_EVENT_DETAIL_TYPES, NightshiftMail } from './mail.js';
import { NightshiftMonitoring } from './monitoring.js';
import { OperatorApi, resolveOperatorApiSettings, type OperatorApiSettings } from './operator-api.js';
import { acknowledgeWildcard, grantDeclaredPorts, type PortResources } from './port-grants.js';
import { FUNCTION_SETTINGS } from '../functions/handlers/function-settings.js';
import { NODE_TENANT_TAG } from '../functions/core/catalog/secrets.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SESSION_ASL_FILE = path.join(REPO_ROOT, 'statemachines', 'session.asl.json');
/** The tag that ties each function back to its registry entry (and the fidelity test to the local runtime). */
export const HANDLER_TAG = 'nightshift:handler';
/** The SSM documents Nightshift sends commands with: the two run-script documents, and the remote one for staged scripts. */
export const NIGHTSHIFT_DOCUMENTS = ['AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript'] as const;
/** Secret task parameters live under this Parameter Store path (see `secretReference` in functions/core/catalog/secrets.ts). */
export const SECRETS_PARAMETER_PATH = 'nightshift/secrets';
/** The tag a managed node must carry to receive Nightshift's commands, unless the stack is told another. */
export const DEFAULT_MANAGED_NODE_TAG = { key: 'nightshift:managed', value: 'true' } as const;
/** Handlers that rules and Scheduler invoke asynchronously: what they still fail after Lambda's retries is kept. */
const ASYNC_HANDLERS = ['window-timer', 'execution-ended', 'mail-events', 'complete-command', 'reconcile-commands', 'sweep-sessions', 'retire-secrets', 'reconcile-schedules', 'fire-schedule', 'advance-runs'];
/**
 * How long Lambda keeps retrying an asynchronous event, where six hours is too
 * long: a schedule fire that starts sessions hours late is worse than one that
 * is missed (the same hour as its Scheduler delivery retries, see the adapter).
 */
const ASYNC_MAX_EVENT_AGE: Readonly<Record<string, Duration>> = { 'fire-schedule': Duration.hours(1) };
/**
 * Functions whose ARN must be known before they exist: each is named, not
 * referenced. The Scheduler targets, and the run worker the API and
 * manage-run hand work to (referencing it would tie their roles to it).
 */
const NAMED_FUNCTIONS = new Set(['window-timer', 'fire-schedule', 'advance-runs']);
/**
 * How long the bus's archive keeps Nightshift's events: long enough to replay
 * a weekend's runs into a rule an MSP wired (or fixed) on Monday, short
 * enough to cost next to nothing.
 */
const EVENT_ARCHIVE_RETENTION = Duration.days(7);

export interface NightshiftStackProps extends StackProps {
  /**
   * How long SSM keeps a command for an offline computer, in seconds.
   * @default 172800 (2 days)
   */
  readonly agentDeliveryTimeoutSeconds?: number;
  /**
   * Days to keep Lambda and state machine logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Days to keep full SSM command output in the output bucket.
   * @default 30
   */
  readonly commandOutputRetentionDays?: number;
  /**
   * Days a session's records (the session, its actions, snapshots, dispatches
   * and log lines) are kept after it ends, before DynamoDB's TTL deletes them.
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * The tag a managed node (EC2 instance or hybrid-activated machine) must
   * carry for Nightshift to send it commands; IAM refuses any other node.
   * @default { key: 'nightshift:managed', value: 'true' }
   */
  readonly managedNodeTag?: { readonly key: string; readonly value: string };
  /**
   * An email address subscribed to the alarm topic (it must confirm the subscription).
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * The operator HTTP API: who signs the tokens (a Cognito user pool of the
   * stack's own, or an OIDC issuer), the hosted UI, CORS and throttling.
   * @default a Cognito user pool, no CORS, 50 requests/s with bursts of 100
   */
  readonly api?: OperatorApiSettings;
  /**
   * The domain or address end-user emails are sent from (an SES identity of the stack, see `NightshiftMail`).
   * @default no identity: the functions may send from any identity the account verified in SES
   */
  readonly mailFromIdentity?: string;
  /**
   * The public https URL end-user links point at: the MSP's own domain mapped to the API, so links read as theirs.
   * @default the API's execute-api URL (not the console's, whose CloudFront access log records every path, link tokens included)
   */
  readonly linkBaseUrl?: string;
  /**
   * The operator console's hosting: a custom domain and its certificate, WAF, countries, price class, build.
   * @default the distribution's own domain, no WAF, every country, price class 100, `npm run build:console`
   */
  readonly console?: ConsoleHostingSettings;
}

/**
 * Everything Nightshift runs on in one account: the table, the handlers, the
 * session state machine (the same ASL file the local runtime executes), the
 * SSM completion events, the managed policy the nodes need, the operator
 * HTTP API with its user pool (`operator-api.ts`), and the alarms.
 *
 * Each handler's permissions come from the ports its registry entry declares
 * (`functions/handlers/registry.ts`, turned into IAM by `port-grants.ts`);
 * nothing here grants a handler anything by name.
 */
export class NightshiftStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  /** Attach to the nodes' instance profile role (EC2) or the hybrid activation's service role. */
  readonly nodePolicy: iam.ManagedPolicy;
  /** Run and session events (source `nightshift`), for the MSP's own rules: PSA tickets, chat, reports. */
  readonly eventBus: events.EventBus;
  readonly monitoring: NightshiftMonitoring;
  /** The operator HTTP API in front of the `api` handler, and its authorizer's user pool. */
  readonly operatorApi: OperatorApi;
  /** End-user email (SES identity and configuration set) and the key ring signing its links. */
  readonly mail: NightshiftMail;
  /** The operator console on S3 and CloudFront, which also serves the API's paths on its own origin (a nested stack). */
  readonly consoleHosting: ConsoleHosting;

  constructor(scope: Construct, id: string, props: NightshiftStackProps = {}) {
    super(scope, id, props);
    const deliveryTimeoutSeconds = props.agentDeliveryTimeoutSeconds ?? 172_800;
    if (!Number.isInteger(deliveryTimeoutSeconds) || deliveryTimeoutSeconds < 30 || deliveryTimeoutSeconds > MAX_DELIVERY_TIMEOUT_SECONDS) {
      throw new Error(`agentDeliveryTimeoutSeconds must be a whole number from 30 to ${MAX_DELIVERY_TIMEOUT_SECONDS} (SSM's limit); got ${deliveryTimeoutSeconds}`);
    }
    const commandOutputRetentionDays = props.commandOutputRetentionDays ?? 30;
    // staged scripts live in the same bucket: one must still be there when the longest-waiting computer picks it up and runs it
    const longestCommandDays = Math.ceil((deliveryTimeoutSeconds + MAX_EXECUTION_TIMEOUT_SECONDS) / 86_400);
    if (!Number.isInteger(commandOutputRetentionDays) || commandOutputRetentionDays <= longestCommandDays) {
      throw new Error(
        `commandOutputRetentionDays must be a whole number of days above ${longestCommandDays} (the delivery timeout plus a command's 8 hours), so a staged script outlives its command; got ${commandOutputRetentionDays}`,
      );
    }
    const retentionDays = props.retentionDays ?? 90;
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3_650) {
      throw new Error(`retentionDays must be a whole number of days from 1 to 3650; got ${retentionDays}`);
    }
    const managedNodeTag = props.managedNodeTag ?? DEFAULT_MANAGED_NODE_TAG;
    // tag keys and values as EC2 and SSM both accept them; the key also becomes part of an IAM condition key
    if (!/^[\p{L}\p{N}\p{Zs}_.:/=+\-@]{1,128}$/u.test(managedNodeTag.key) || managedNodeTag.key.startsWith('aws:')) {
      throw new Error(`managedNodeTag.key must be a tag key of 1-128 letters, digits, spaces or _.:/=+-@, not starting with "aws:"; got "${managedNodeTag.key}"`);
    }
    if (!/^[\p{L}\p{N}\p{Zs}_.:/=+\-@]{0,256}$/u.test(managedNodeTag.value)) {
      throw new Error(`managedNodeTag.value must be a tag value of at most 256 letters, digits, spaces or _.:/=+-@; got "${managedNodeTag.value}"`);
    }
    const reconcileTimeoutSeconds = handlerEntry('reconcile-commands').timeoutSeconds;
    if (RECONCILE_BUDGET_SECONDS > reconcileTimeoutSeconds - 15) {
      throw new Error(`the reconciler's budget (${RECONCILE_BUDGET_SECONDS} s) must end well inside its timeout (${reconcileTimeoutSeconds} s)`);
    }
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const apiSettings = resolveOperatorApiSettings(withConsoleSignIn(props.api, props.console));

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE_DEFINITION.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DEFINITION.sortKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        // the session listing indexes hold a summary only, so a session update does not rewrite its whole record there
        ...(index.projection.type === 'INCLUDE'
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection.nonKeyAttributes] }
          : { projectionType: dynamodb.ProjectionType.ALL }),
      })),
      // what a session leaves expires `retentionDays` after it ends (the records carry the time, in epoch seconds)
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the access-log destination; logging it to itself would loop.',
    });
    const commandOutput = new s3.Bucket(this, 'CommandOutput', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'command-output/',
      lifecycleRules: [{ expiration: Duration.days(commandOutputRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.eventBus = this.nightshiftEventBus();
    this.mail = new NightshiftMail(this, 'Mail', props.mailFromIdentity === undefined ? {} : { mailFromIdentity: props.mailFromIdentity });
    const resources = this.portResources(commandOutput, managedNodeTag, this.eventBus, this.mail);
    const tracing = this.wildcardOnlyPolicy(
      'TracingPolicy',
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.",
    );

    const functions = new Map<string, NodejsFunction>();
    for (const entry of HANDLERS) {
      functions.set(entry.name, this.handlerFunction(entry, { logRetention, deliveryTimeoutSeconds, retentionDays, commandOutput, tracing, resources }));
    }
    this.functions = functions;
    const fn = (name: string): NodejsFunction => {
      const found = functions.get(name);
      if (!found) throw new Error(`the handler registry has no ${name}`);
      return found;
    };

    this.stateMachine = this.sessionStateMachine(fn, logRetention, tracing);

    for (const rule of SCHEDULED_RULES) {
      new events.Rule(this, rule.id, {
        description: rule.description,
        schedule: events.Schedule.rate(Duration.minutes(rule.everyMinutes)),
        targets: [
          new targets.LambdaFunction(fn(rule.handler), {
            ...(rule.input ? { event: events.RuleTargetInput.fromObject(rule.input) } : {}),
            retryAttempts: rule.retryAttempts,
          }),
        ],
      });
    }

    // Rules and Scheduler invoke these asynchronously: their own retry policies cover delivery only. What a
    // handler still fails after Lambda's retries lands here instead of being dropped.
    const handlerFailures = this.deadLetterQueue('AsyncHandlerFailures');
    for (const name of ASYNC_HANDLERS) {
      fn(name).configureAsyncInvoke({ retryAttempts: 2, maxEventAge: ASYNC_MAX_EVENT_AGE[name] ?? Duration.hours(6), onFailure: new destinations.SqsDestination(handlerFailures) });
    }

    const commandEventFailures = this.deadLetterQueue('CommandEventsDeadLetters');
    new events.Rule(this, 'CommandStatusEvents', {
      description: "Nightshift's SSM Run Command invocations reaching a final status, to complete the waiting session step",
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Command Invocation Status-change Notification'],
        // the event names the document but not the comment: commands sent with other documents never wake Nightshift
        detail: { status: [...FINAL_INVOCATION_STATUSES], 'document-name': [...NIGHTSHIFT_DOCUMENTS] },
      },
      targets: [
        new targets.LambdaFunction(fn('complete-command'), {
          deadLetterQueue: commandEventFailures,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });

    const executionEventFailures = this.deadLetterQueue('ExecutionEventsDeadLetters');
    new events.Rule(this, 'SessionExecutionEnded', {
      description: 'Every session execution that ended: a failed, timed-out or aborted one is recorded Failed (never left Running); every one has its usage closed',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [
        new targets.LambdaFunction(fn('execution-ended'), {
          deadLetterQueue: executionEventFailures,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });

    const mailEventFailures = this.deadLetterQueue('MailEventsDeadLetters');
    new events.Rule(this, 'MailDeliveryEvents', {
      description: "SES's reports on Nightshift's end-user email (bounced, reported as spam, rejected, delayed), recorded on the session that sent it",
      eventPattern: {
        source: ['aws.ses'],
        detailType: [...MAIL_EVENT_DETAIL_TYPES],
        // SES tags every message with its configuration set: other mail of the account never wakes Nightshift
        detail: { mail: { tags: { 'ses:configuration-set': [this.mail.configurationSet.configurationSetName] } } },
      },
      targets: [
        new targets.LambdaFunction(fn('mail-events'), {
          deadLetterQueue: mailEventFailures,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });

    this.nodePolicy = this.nodeManagedPolicy(commandOutput);
    this.operatorApi = new OperatorApi(this, 'OperatorApi', { settings: apiSettings, handler: fn('api'), logRetention });
    this.consoleHosting = new ConsoleHosting(this, 'Console', {
      ...props.console,
      httpApi: this.operatorApi.httpApi,
      auth: consoleAuthOf(this.operatorApi, apiSettings.auth),
      logRetention,
    });
    // the link pages are the API's public routes: every function that signs or checks a link knows where they are
    if (props.linkBaseUrl !== undefined && !/^https:\/\/[^/]+/.test(props.linkBaseUrl)) throw new Error(`linkBaseUrl must be an https:// URL; got "${props.linkBaseUrl}"`);
    const linkBaseUrl = props.linkBaseUrl ?? this.operatorApi.httpApi.apiEndpoint;
    for (const entry of HANDLERS) if (entry.ports.includes('linkKeys:read')) fn(entry.name).addEnvironment('LINK_BASE_URL', linkBaseUrl);

    this.monitoring = new NightshiftMonitoring(this, 'Observability', {
      stateMachine: this.stateMachine,
      functions,
      httpApi: this.operatorApi.httpApi,
      workflowSteps: new Set(HANDLERS.filter((entry) => entry.substitution !== undefined).map((entry) => entry.name)),
      deadLetterQueues: new Map([
        ['AsyncHandlerFailures', handlerFailures],
        ['CommandEventsDeadLetters', commandEventFailures],
        ['ExecutionEventsDeadLetters', executionEventFailures],
        ['MailEventsDeadLetters', mailEventFailures],
        ['WindowTimerDeadLetters', resources.windowTimers.deadLetterQueue],
        ['ScheduleFireDeadLetters', resources.scheduleTriggers.deadLetterQueue],
      ]),
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });
    this.mail.addAlarms(this.monitoring.facade);
  }

  /**
   * What the port grants point at. The state machine and the Scheduler
   * targets (window-timer, fire-schedule) are named, not referenced: handlers
   * that start or answer executions are themselves invoked by the state
   * machine, and window-timer re-arms its own timers, so a reference would be
   * a dependency cycle.
   */
  private portResources(
    commandOutput: s3.IBucket,
    managedNodeTag: { readonly key: string; readonly value: string },
    eventBus: events.IEventBus,
    mail: NightshiftMail,
  ): PortResources {
    const group = new scheduler.CfnScheduleGroup(this, 'WindowTimerGroup', { name: `${this.stackName}-windows` });
    const groupName = group.name ?? '';
    const deadLetterQueue = this.deadLetterQueue('WindowTimerDeadLetters');
    const targetArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: this.functionName('window-timer'), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const invokerRole = new iam.Role(this, 'WindowTimerInvokerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'EventBridge Scheduler invoking window-timer for Nightshift window timers',
    });
    invokerRole.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeWindowTimer', actions: ['lambda:InvokeFunction'], resources: [targetArn] }));
    deadLetterQueue.grantSendMessages(invokerRole);
    const scheduleTriggers = this.scheduleTriggerResources();

    return {
      table: this.table,
      commandOutput,
      commandOutputPrefix: COMMAND_OUTPUT_PREFIX,
      stagedScriptPrefix: STAGED_SCRIPT_PREFIX,
      // AWS-owned documents have no account in their ARN
      documentArns: NIGHTSHIFT_DOCUMENTS.map((name) => this.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: name })),
      managedNodeTag,
      stateMachineArn: this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: this.stateMachineName(), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      executionArns: this.formatArn({ service: 'states', resource: 'execution', resourceName: `${this.stateMachineName()}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      windowTimers: {
        groupName,
        scheduleArns: this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        targetArn,
        invokerRole,
        deadLetterQueue,
      },
      scheduleTriggers,
      runWorker: {
        functionName: this.functionName('advance-runs'),
        functionArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: this.functionName('advance-runs'), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
      eventBus,
      secretParameterArns: this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${SECRETS_PARAMETER_PATH}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      commandReadsPolicy: this.wildcardOnlyPolicy(
        'CommandReadsPolicy',
        ['ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation'],
        'SSM GetCommandInvocation, ListCommands and DescribeInstanceInformation have no resource-level permissions.',
      ),
      inventoryReadPolicy: this.wildcardOnlyPolicy(
        'InventoryReadPolicy',
        ['ssm:DescribeInstanceInformation'],
        'SSM DescribeInstanceInformation has no resource-level permissions; a computer import lists managed nodes by tag with it.',
      ),
      commandCancelPolicy: this.wildcardOnlyPolicy(
        'CommandCancelPolicy',
        ['ssm:CancelCommand'],
        'SSM CancelCommand has no resource-level permissions; each handler cancels only commands its session sent.',
      ),
      mail: {
        configurationSetName: mail.configurationSet.configurationSetName,
        configurationSetArn: mail.configurationSetArn,
        sendingIdentityArn: mail.sendingIdentityArn,
        ...(mail.identity === undefined
          ? { wildcardReason: 'No mailFromIdentity was given: the MSP sends from the identities it verified in SES itself, and every message goes through the stack configuration set.' }
          : {}),
      },
      linkKeys: mail.linkKeys,
    };
  }

  /**
   * Where the schedule triggers live: a schedule group of their own (one
   * Scheduler schedule per Nightshift schedule), the role Scheduler invokes
   * fire-schedule with, the queue for fires it could not deliver, and the one
   * listing permission IAM cannot scope.
   */
  private scheduleTriggerResources(): PortResources['scheduleTriggers'] {
    const group = new scheduler.CfnScheduleGroup(this, 'ScheduleTriggerGroup', { name: `${this.stackName}-schedules` });
    const groupName = group.name ?? '';
    const deadLetterQueue = this.deadLetterQueue('ScheduleFireDeadLetters');
    const targetArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: this.functionName('fire-schedule'), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const invokerRole = new iam.Role(this, 'ScheduleFireInvokerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'EventBridge Scheduler invoking fire-schedule for Nightshift schedule triggers',
    });
    invokerRole.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeFireSchedule', actions: ['lambda:InvokeFunction'], resources: [targetArn] }));
    deadLetterQueue.grantSendMessages(invokerRole);
    return {
      groupName,
      scheduleArns: this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      targetArn,
      invokerRole,
      deadLetterQueue,
      listPolicy: this.wildcardOnlyPolicy(
        'ScheduleListPolicy',
        ['scheduler:ListSchedules'],
        "EventBridge Scheduler ListSchedules has no resource-level permissions; the adapter lists only Nightshift's own schedule group.",
      ),
    };
  }

  /**
   * Nightshift's own event bus rather than the account's default one: an
   * MSP's rules for Nightshift live on it apart from everything else in the
   * account, its resource policy is the stack's to decide (it has none, so
   * only roles of this account that IAM allows can publish), and its archive
   * holds Nightshift's events and nothing else. The handlers declaring
   * `events:publish` may put events on it with source `nightshift` and the
   * adapter's detail types, and nothing more.
   */
  private nightshiftEventBus(): events.EventBus {
    const bus = new events.EventBus(this, 'EventBus', {
      eventBusName: this.stackName,
      description: 'Nightshift run and session events (source nightshift), for the MSP rules that open tickets or post to chat',
    });
    bus.archive('EventArchive', {
      description: 'Nightshift events of the last week, to replay into a rule wired or fixed since',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: EVENT_ARCHIVE_RETENTION,
    });
    new CfnOutput(this, 'EventBusName', { value: bus.eventBusName, description: 'Wire your rules here: run and session events, source nightshift' });
    new CfnOutput(this, 'EventBusArn', { value: bus.eventBusArn, exportName: `${this.stackName}-EventBusArn` });
    return bus;
  }

  private stateMachineName(): string {
    return `${this.stackName}-session`;
  }

  /** Named functions only where a name must be known before the function exists (the Scheduler targets, `NAMED_FUNCTIONS`). */
  private functionName(handlerName: string): string {
    return `${this.stackName}-${handlerName}`;
  }

  /**
   * A policy for actions IAM cannot scope to a resource, and nothing else, so
   * its `Resource::*` acknowledgement covers exactly those actions. Roles that
   * need them attach it; no role's own policy holds a `*` resource.
   */
  private wildcardOnlyPolicy(id: string, actions: string[], reason: string): iam.ManagedPolicy {
    const policy = new iam.ManagedPolicy(this, id, { statements: [new iam.PolicyStatement({ actions, resources: ['*'] })], description: reason });
    Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
    return policy;
  }

  private handlerFunction(
    entry: HandlerEntry,
    settings: {
      readonly logRetention: logs.RetentionDays;
      readonly deliveryTimeoutSeconds: number;
      readonly retentionDays: number;
      readonly commandOutput: s3.IBucket;
      readonly tracing: iam.IManagedPolicy;
      readonly resources: PortResources;
    },
  ): NodejsFunction {
    const id = entry.name.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: settings.logRetention });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group and nothing else.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Nightshift ${entry.name}`,
      managedPolicies: [settings.tracing],
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, `${id}Function`, {
      ...(NAMED_FUNCTIONS.has(entry.name) ? { functionName: this.functionName(entry.name) } : {}),
      role,
      description: entry.description,
      entry: path.join(REPO_ROOT, entry.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      // the usage meter prices invocations with the same figures (functions/handlers/function-settings.ts)
      architecture: FUNCTION_SETTINGS.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: FUNCTION_SETTINGS.memoryMb,
      timeout: Duration.seconds(entry.timeoutSeconds),
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      logGroup,
      environment: {
        NIGHTSHIFT_HANDLER: entry.name,
        TABLE_NAME: this.table.tableName,
        COMMAND_OUTPUT_BUCKET: settings.commandOutput.bucketName,
        AWS_URL_SUFFIX: Aws.URL_SUFFIX,
        AGENT_DELIVERY_TIMEOUT_SECONDS: String(settings.deliveryTimeoutSeconds),
        RETENTION_DAYS: String(settings.retentionDays),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        logLevel: LogLevel.ERROR,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // the runtime's own SDK; and the email renderer's optional pretty-printing, which Nightshift never asks for (~200 KB)
        externalModules: ['@aws-sdk/*', 'prettier'],
        // ESM bundles still meet CommonJS dependencies that call require()
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    // Tracing is switched on in the template rather than with the `tracing` prop, which would add X-Ray's `*`
    // statement to this role's own policy; the role has it from the tracing policy instead.
    (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
    grantDeclaredPorts(
      entry,
      { fn, role, acknowledgeWildcard: (resource, reason) => acknowledgeWildcard(role, resource, reason) },
      settings.resources,
    );
    Tags.of(fn).add(HANDLER_TAG, entry.name);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x, the runtime the handlers are built and tested for; moving up is a deliberate upgrade.',
    });
    return fn;
  }

  /**
   * The session state machine from the repository's ASL file, verbatim. It
   * may invoke the step handlers and nothing else; tracing and logging are
   * set in the template so their `*`-only permissions come from policies
   * that hold only them.
   */
  private sessionStateMachine(fn: (name: string) => NodejsFunction, logRetention: logs.RetentionDays, tracing: iam.IManagedPolicy): sfn.StateMachine {
    const substitutions: Record<string, string> = { Partition: Aws.PARTITION };
    for (const entry of HANDLERS) if (entry.substitution) substitutions[entry.substitution] = fn(entry.name).functionArn;
    const role = new iam.Role(this, 'SessionStateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Nightshift session state machine',
      managedPolicies: [
        tracing,
        this.wildcardOnlyPolicy(
          'StateMachineLogDeliveryPolicy',
          ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
          "CloudWatch Logs' log-delivery actions, with which Step Functions writes its execution log, have no resource-level permissions.",
        ),
      ],
    });
    const stateMachine = new sfn.StateMachine(this, 'SessionStateMachine', {
      stateMachineName: this.stateMachineName(),
      stateMachineType: sfn.StateMachineType.STANDARD,
      role,
      // inline, so the template itself carries the definition (and the fidelity test can read it back)
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(SESSION_ASL_FILE, 'utf8')),
      definitionSubstitutions: substitutions,
    });
    const logGroup = new logs.LogGroup(this, 'SessionStateMachineLogs', { retention: logRetention });
    const cfn = stateMachine.node.defaultChild as sfn.CfnStateMachine;
    cfn.tracingConfiguration = { enabled: true };
    cfn.loggingConfiguration = { destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logGroup.logGroupArn } }], level: sfn.LogLevel.ALL, includeExecutionData: false };

    // A definition from a file tells CDK nothing about what it calls, so each invoke is granted here.
    for (const entry of HANDLERS) {
      if (!entry.substitution) continue;
      fn(entry.name).grantInvoke(stateMachine);
      acknowledgeWildcard(role, `${fn(entry.name).functionArn}:*`, 'Invoking a function ARN with ":*" covers its versions and aliases; each function is named.');
    }
    return stateMachine;
  }

  /**
   * What the managed nodes themselves need, as one managed policy to attach
   * next to AmazonSSMManagedInstanceCore: upload command output, download
   * staged scripts, and read (and decrypt) the secret task parameters.
   */
  private nodeManagedPolicy(commandOutput: s3.IBucket): iam.ManagedPolicy {
    const commandObjects = commandOutput.arnForObjects(`${COMMAND_OUTPUT_PREFIX}*`);
    const stagedScripts = commandOutput.arnForObjects(`${STAGED_SCRIPT_PREFIX}*`);
    const secretParameter = (below: string): string =>
      this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${SECRETS_PARAMETER_PATH}/${below}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const sharedSecrets = secretParameter('shared/*');
    // an IAM policy variable, resolved per request from the node role's tag: a role without the tag reads shared secrets only
    const ownTenantSecrets = secretParameter(`tenants/\${aws:PrincipalTag/${NODE_TENANT_TAG}}/*`);
    const anyKey = this.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    const policyName = `${this.stackName}-nodes`;
    const policy = new iam.ManagedPolicy(this, 'NodePolicy', {
      managedPolicyName: policyName,
      description: 'Nightshift managed nodes: command output, staged scripts, secret task parameters',
      statements: [
        new iam.PolicyStatement({ sid: 'WriteCommandOutput', actions: ['s3:PutObject'], resources: [commandObjects] }),
        // the SSM agent checks the bucket's encryption before it uploads
        new iam.PolicyStatement({ sid: 'SeeOutputBucketEncryption', actions: ['s3:GetEncryptionConfiguration'], resources: [commandOutput.bucketArn] }),
        new iam.PolicyStatement({ sid: 'ReadStagedScripts', actions: ['s3:GetObject'], resources: [stagedScripts] }),
        new iam.PolicyStatement({ sid: 'ReadSecretParameters', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [sharedSecrets, ownTenantSecrets] }),
        new iam.PolicyStatement({
          sid: 'DecryptSecretParametersThroughSsm',
          actions: ['kms:Decrypt'],
          resources: [anyKey],
          // only as SSM decrypts a SecureString for the node (the AWS managed aws/ssm key, whose id differs per account)
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${this.region}.${this.urlSuffix}` } },
        }),
      ],
    });
    acknowledgeWildcard(policy, commandObjects, 'SSM names output objects per command and node under a prefix that is ours alone.');
    acknowledgeWildcard(policy, stagedScripts, 'Staged scripts are named by their content hash under a prefix that is ours alone.');
    acknowledgeWildcard(policy, sharedSecrets, 'A node reads the secrets of deployments that span tenants, all under this one path.');
    acknowledgeWildcard(policy, ownTenantSecrets, "A node reads its own tenant's secrets only: the path is named by its role's nightshift:tenant tag.");
    acknowledgeWildcard(policy, anyKey, "The aws/ssm key's id differs per account; kms:ViaService limits decryption to SSM in this Region.");
    new CfnOutput(this, 'NodePolicyName', { value: policyName, description: 'Attach to the nodes: the EC2 instance profile role, or the hybrid activation service role' });
    new CfnOutput(this, 'NodePolicyArn', { value: policy.managedPolicyArn, exportName: `${this.stackName}-NodePolicyArn` });
    return policy;
  }

  /** Where undeliverable events and failed asynchronous runs are kept for two weeks, encrypted. */
  private deadLetterQueue(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue.' });
    return queue;
  }
}
