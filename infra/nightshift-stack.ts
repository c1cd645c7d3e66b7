import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnElement, Duration, RemovalPolicy, Stack, Tags, Token, Validations, type StackProps } from 'aws-cdk-lib';
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
import { MAX_DELIVERY_TIMEOUT_SECONDS } from '../functions/adapters/config.js';
import { TABLE_DEFINITION } from '../functions/adapters/table-definition.js';
import { FINAL_INVOCATION_STATUSES } from '../functions/core/model/agent.js';
import { HANDLERS, type HandlerEntry } from '../functions/handlers/registry.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SESSION_ASL_FILE = path.join(REPO_ROOT, 'statemachines', 'session.asl.json');
/** The tag that ties each function back to its registry entry (and the fidelity test to the local runtime). */
export const HANDLER_TAG = 'nightshift:handler';
/** SSM writes full command output under this prefix of the output bucket. */
const COMMAND_OUTPUT_PREFIX = 'commands/';
/**
 * The reconciler runs every 5 minutes for up to 150 s of looks (about 3,000 at
 * ~50 ms per look: ListCommands to find a command by its comment, then
 * GetCommandInvocation and its writes), inside a 180 s timeout that
 * leaves room for the look in hand; a run therefore ends long before the next
 * starts, and a backlog larger than one run's looks is carried on by the next.
 */
const RECONCILE_EVERY = Duration.minutes(5);
const RECONCILE_BUDGET_SECONDS = 150;
const RECONCILE_TIMEOUT = Duration.seconds(180);

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
}

/**
 * Everything Nightshift runs on in one account: the table, the handlers, the
 * session state machine (the same ASL file the local runtime executes) and
 * the SSM completion events.
 */
export class NightshiftStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  private readonly roles = new Map<string, iam.Role>();

  constructor(scope: Construct, id: string, props: NightshiftStackProps = {}) {
    super(scope, id, props);
    const deliveryTimeoutSeconds = props.agentDeliveryTimeoutSeconds ?? 172_800;
    if (!Number.isInteger(deliveryTimeoutSeconds) || deliveryTimeoutSeconds < 30 || deliveryTimeoutSeconds > MAX_DELIVERY_TIMEOUT_SECONDS) {
      throw new Error(`agentDeliveryTimeoutSeconds must be a whole number from 30 to ${MAX_DELIVERY_TIMEOUT_SECONDS} (SSM's limit); got ${deliveryTimeoutSeconds}`);
    }
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE_DEFINITION.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DEFINITION.sortKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
      })),
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
      lifecycleRules: [{ expiration: Duration.days(props.commandOutputRetentionDays ?? 30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Window timers invoke window-timer, which may arm a timer again: a fixed name lets its own settings name it without a cycle.
    const windowTimerFunctionName = `${this.stackName}-window-timer`;
    const functions = new Map<string, NodejsFunction>();
    for (const entry of HANDLERS) {
      const functionName = entry.name === 'window-timer' ? windowTimerFunctionName : undefined;
      functions.set(entry.name, this.handlerFunction(entry, logRetention, deliveryTimeoutSeconds, commandOutput, functionName));
    }
    this.functions = functions;
    const fn = (name: string): NodejsFunction => {
      const found = functions.get(name);
      if (!found) throw new Error(`the handler registry has no ${name}`);
      return found;
    };

    const substitutions: Record<string, string> = {};
    for (const entry of HANDLERS) if (entry.substitution) substitutions[entry.substitution] = fn(entry.name).functionArn;
    // A fixed name lets the agent handlers' policies name the state machine without referencing it (no cycle).
    const stateMachineName = `${this.stackName}-session`;
    this.stateMachine = new sfn.StateMachine(this, 'SessionStateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      // inline, so the template itself carries the definition (and the fidelity test can read it back)
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(SESSION_ASL_FILE, 'utf8')),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'SessionStateMachineLogs', { retention: logRetention }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    // A definition from a file tells CDK nothing about what it calls, so each grant is explicit.
    for (const entry of HANDLERS) if (entry.substitution) fn(entry.name).grantInvoke(this.stateMachine);

    for (const entry of HANDLERS) {
      if (!entry.substitution) continue;
      this.acknowledgeWildcard(this.stateMachine, `Resource::<${this.logicalIdOf(fn(entry.name))}.Arn>:*`, 'Invoking a function ARN with ":*" covers its versions and aliases; each function is named.');
    }
    this.acknowledgeWildcard(this.stateMachine, 'Resource::*', 'X-Ray tracing actions have no resource-level permissions.');

    // start-session starts executions; the two agent handlers answer task tokens.
    fn('start-session').addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn('start-session'));
    const answerTaskTokens = new iam.PolicyStatement({
      sid: 'AnswerSessionTaskTokens',
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      resources: [this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    });
    fn('dispatch-command').addToRolePolicy(answerTaskTokens);
    this.windowTimers(fn, windowTimerFunctionName, answerTaskTokens);

    fn('dispatch-command').addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SendCommandsWithTheRunScriptDocuments',
        actions: ['ssm:SendCommand'],
        resources: [
          Stack.of(this).formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunShellScript' }),
          Stack.of(this).formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunPowerShellScript' }),
          // scripts too large to send inline are staged in the bucket and run from there
          Stack.of(this).formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunRemoteScript' }),
          Stack.of(this).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
          Stack.of(this).formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
        ],
      }),
    );
    // ListCommands and GetCommandInvocation have no resource-level permissions in IAM.
    // ListCommands and DescribeInstanceInformation have no resource-level permissions either
    fn('dispatch-command').addToRolePolicy(
      new iam.PolicyStatement({ sid: 'FindEarlierCommandsAndConnectivity', actions: ['ssm:ListCommands', 'ssm:DescribeInstanceInformation'], resources: ['*'] }),
    );
    for (const resource of ['ec2:<region>:<account>:instance/*', 'ssm:<region>:<account>:managed-instance/*']) {
      const [service, rest] = resource.split(':<region>:<account>:') as [string, string];
      this.acknowledgeWildcard(
        this.roleOf('dispatch-command'),
        `Resource::arn:<AWS::Partition>:${service}:${this.nagName(this.region, 'AWS::Region')}:${this.nagName(this.account, 'AWS::AccountId')}:${rest}`,
        'Any managed computer of this account may receive a maintenance command; which ones do is decided by deployments, not IAM.',
      );
    }
    fn('dispatch-command').addToRolePolicy(
      new iam.PolicyStatement({ sid: 'StageLargeScripts', actions: ['s3:PutObject'], resources: [commandOutput.arnForObjects(`${STAGED_SCRIPT_PREFIX}*`)] }),
    );
    this.acknowledgeWildcard(
      this.roleOf('dispatch-command'),
      `Resource::<${this.logicalIdOf(commandOutput)}.Arn>/${STAGED_SCRIPT_PREFIX}*`,
      'Staged scripts are named by their content hash under a prefix that is ours alone.',
    );
    // completion runs on the event, and on the schedule for events that never came
    for (const name of ['complete-command', 'reconcile-commands']) {
      fn(name).addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadCommandResults', actions: ['ssm:GetCommandInvocation'], resources: ['*'] }));
      fn(name).addToRolePolicy(
        new iam.PolicyStatement({ sid: 'ReadFullCommandOutput', actions: ['s3:GetObject'], resources: [commandOutput.arnForObjects(`${COMMAND_OUTPUT_PREFIX}*`)] }),
      );
      fn(name).addToRolePolicy(answerTaskTokens);
      this.acknowledgeWildcard(
        this.roleOf(name),
        `Resource::<${this.logicalIdOf(commandOutput)}.Arn>/${COMMAND_OUTPUT_PREFIX}*`,
        'Command output objects are named by SSM per command; the prefix is ours alone.',
      );
    }
    // A command is known by its comment until its completion records its id, so whoever stops or checks one finds
    // it with ListCommands; CancelCommand has no resource-level permissions either, and each handler cancels only its
    // own session's commands. start-session cancels a session it supersedes; dispatch-command stops a command that
    // went out as its session was cancelled; the reconciler stops one that went out after the cancel looked.
    for (const name of ['cancel-session', 'start-session', 'reconcile-commands', 'dispatch-command']) {
      fn(name).addToRolePolicy(new iam.PolicyStatement({ sid: 'CancelRunningCommands', actions: ['ssm:CancelCommand'], resources: ['*'] }));
    }
    for (const name of ['cancel-session', 'start-session', 'reconcile-commands']) {
      fn(name).addToRolePolicy(new iam.PolicyStatement({ sid: 'FindSentCommands', actions: ['ssm:ListCommands'], resources: ['*'] }));
    }
    new events.Rule(this, 'ReconcileCommandsSchedule', {
      description: 'Completes agent commands whose status event was lost',
      schedule: events.Schedule.rate(RECONCILE_EVERY),
      targets: [
        new targets.LambdaFunction(fn('reconcile-commands'), {
          event: events.RuleTargetInput.fromObject({ budgetSeconds: RECONCILE_BUDGET_SECONDS }),
          retryAttempts: 2,
        }),
      ],
    });

    new events.Rule(this, 'SweepSessionsSchedule', {
      description: 'Starts sessions whose workflow start was lost, fails those that never began',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(fn('sweep-sessions'), { retryAttempts: 2 })],
    });
    // the sweeper starts executions; execution names are session ids, so a start that did happen is refused, not doubled
    fn('sweep-sessions').addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn('sweep-sessions'));

    // Rules and Scheduler invoke these asynchronously: their own retry policies cover delivery only. What a
    // handler still fails after Lambda's retries lands here instead of being dropped.
    const handlerFailures = this.deadLetterQueue('AsyncHandlerFailures');
    for (const name of ['window-timer', 'execution-ended', 'complete-command', 'reconcile-commands', 'sweep-sessions']) {
      fn(name).configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new destinations.SqsDestination(handlerFailures) });
    }

    const deadLetters = this.deadLetterQueue('CommandEventsDeadLetters');
    new events.Rule(this, 'CommandStatusEvents', {
      description: 'SSM Run Command invocations reaching a final status, to complete the waiting session step',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Command Invocation Status-change Notification'],
        detail: { status: [...FINAL_INVOCATION_STATUSES] },
      },
      targets: [
        new targets.LambdaFunction(fn('complete-command'), {
          deadLetterQueue: deadLetters,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });

    const executionDeadLetters = this.deadLetterQueue('ExecutionEventsDeadLetters');
    new events.Rule(this, 'SessionExecutionEnded', {
      description: 'Session executions that failed, timed out or were aborted: the session is recorded Failed, never left Running',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [
        new targets.LambdaFunction(fn('execution-ended'), {
          deadLetterQueue: executionDeadLetters,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });
  }

  /**
   * The maintenance window as one EventBridge Scheduler `at()` schedule per
   * waiting session, in a group of their own, invoking window-timer; what
   * Scheduler cannot deliver lands in a dead-letter queue.
   */
  private windowTimers(fn: (name: string) => NodejsFunction, windowTimerFunctionName: string, answerTaskTokens: iam.PolicyStatement): void {
    const group = new scheduler.CfnScheduleGroup(this, 'WindowTimerGroup', { name: `${this.stackName}-windows` });
    const deadLetters = this.deadLetterQueue('WindowTimerDeadLetters');
    const windowTimerArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: windowTimerFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const invokerRole = new iam.Role(this, 'WindowTimerInvokerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'EventBridge Scheduler invoking window-timer for Nightshift window timers',
    });
    invokerRole.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeWindowTimer', actions: ['lambda:InvokeFunction'], resources: [windowTimerArn] }));
    deadLetters.grantSendMessages(invokerRole);

    const scheduleArns = this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${group.name ?? ''}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    // gate arms, postpone moves, run-now and cancel clear, window-timer re-arms an early timer, a dead execution's timer goes with it
    for (const name of ['gate-session', 'postpone-session', 'run-session-now', 'cancel-session', 'start-session', 'window-timer', 'execution-ended']) {
      const handler = fn(name);
      handler.addEnvironment('WINDOW_TIMER_GROUP', group.name ?? '');
      handler.addEnvironment('WINDOW_TIMER_TARGET_ARN', windowTimerArn);
      handler.addEnvironment('WINDOW_TIMER_ROLE_ARN', invokerRole.roleArn);
      handler.addEnvironment('WINDOW_TIMER_DLQ_ARN', deadLetters.queueArn);
      handler.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'ManageWindowTimers', actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], resources: [scheduleArns] }),
      );
      handler.addToRolePolicy(new iam.PolicyStatement({ sid: 'HandTimersTheirRole', actions: ['iam:PassRole'], resources: [invokerRole.roleArn] }));
      this.acknowledgeWildcard(
        this.roleOf(name),
        `Resource::arn:<AWS::Partition>:scheduler:${this.nagName(this.region, 'AWS::Region')}:${this.nagName(this.account, 'AWS::AccountId')}:schedule/${group.name ?? ''}/*`,
        'Window timers are named per session inside a schedule group that holds nothing else.',
      );
    }
    // the gate answers its own token when it need not wait; run-now, cancel and the timer answer a parked one
    for (const name of ['gate-session', 'run-session-now', 'cancel-session', 'start-session', 'window-timer']) fn(name).addToRolePolicy(answerTaskTokens);
  }

  private handlerFunction(
    entry: HandlerEntry,
    logRetention: logs.RetentionDays,
    deliveryTimeoutSeconds: number,
    commandOutput: s3.IBucket,
    functionName: string | undefined,
  ): NodejsFunction {
    const id = entry.name.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logRetention });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group and nothing else.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Nightshift ${entry.name}`,
    });
    logGroup.grantWrite(role);
    this.roles.set(entry.name, role);
    const fn = new NodejsFunction(this, `${id}Function`, {
      ...(functionName ? { functionName } : {}),
      role,
      description: entry.description,
      entry: path.join(REPO_ROOT, entry.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: entry.name === 'reconcile-commands' ? RECONCILE_TIMEOUT : Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      logGroup,
      environment: {
        TABLE_NAME: this.table.tableName,
        COMMAND_OUTPUT_BUCKET: commandOutput.bucketName,
        AGENT_DELIVERY_TIMEOUT_SECONDS: String(deliveryTimeoutSeconds),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        logLevel: LogLevel.ERROR,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // ESM bundles still meet CommonJS dependencies that call require()
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    this.table.grantReadWriteData(fn);
    Tags.of(fn).add(HANDLER_TAG, entry.name);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x, the runtime the handlers are built and tested for; moving up is a deliberate upgrade.',
    });
    this.acknowledgeWildcard(role, `Resource::<${this.logicalIdOf(this.table)}.Arn>/index/*`, "Queries go to this table's own secondary indexes.");
    this.acknowledgeWildcard(role, 'Resource::*', 'X-Ray tracing and the SSM read APIs used here have no resource-level permissions.');
    return fn;
  }

  /** Where undeliverable events and failed asynchronous runs are kept for two weeks, encrypted. */
  private deadLetterQueue(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue.' });
    return queue;
  }

  private roleOf(handlerName: string): iam.Role {
    const role = this.roles.get(handlerName);
    if (!role) throw new Error(`the handler registry has no ${handlerName}`);
    return role;
  }

  /** How cdk-nag spells a value in a finding: concrete values as they are, pseudo parameters in angle brackets. */
  private nagName(value: string, pseudoParameter: string): string {
    return Token.isUnresolved(value) ? `<${pseudoParameter}>` : value;
  }

  private logicalIdOf(construct: Construct): string {
    const resource = construct.node.defaultChild;
    if (!(resource instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
    return this.getLogicalId(resource);
  }

  /** cdk-nag asks for each wildcard finding to be acknowledged by name, with its reason. */
  private acknowledgeWildcard(construct: Construct, finding: string, reason: string): void {
    Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
