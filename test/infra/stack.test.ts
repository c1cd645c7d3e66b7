import { readFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mockClient } from 'aws-sdk-client-mock';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITION } from '../../functions/adapters/table-definition.js';
import { SsmAgent } from '../../functions/adapters/agent.ssm.js';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE } from '../../functions/adapters/events.eventbridge.js';
import { PowertoolsMetrics, powertoolsMetricsOf } from '../../functions/adapters/metrics.powertools.js';
import { secretReference } from '../../functions/core/catalog/secrets.js';
import { HANDLERS, handlerEntry, type PortAccess } from '../../functions/handlers/registry.js';
import { HANDLER_TAG, NIGHTSHIFT_DOCUMENTS, NightshiftStack, REPO_ROOT, SECRETS_PARAMETER_PATH, SESSION_ASL_FILE, type NightshiftStackProps } from '../../infra/nightshift-stack.js';
import { applySubstitutions, taskStates } from '../../local/local-workflow.js';
import { createLocalRuntime, localFunctionName, localSubstitutions, type LocalRuntime } from '../../local/runtime.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const ENV = { account: '111111111111', region: 'eu-west-1' };
/** Invoked asynchronously by rules and Scheduler (written here, not read from the stack, so a handler dropped there fails). */
const ASYNC_HANDLERS = ['window-timer', 'execution-ended', 'mail-events', 'complete-command', 'reconcile-commands', 'sweep-sessions', 'retire-secrets', 'reconcile-schedules', 'fire-schedule', 'advance-runs'];

/** Synthesizes without bundling: the template is what matters here, not the code assets. */
function synthesize(props: NightshiftStackProps = {}): { app: App; stack: NightshiftStack; template: Template; resources: Record<string, Resource> } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Test', { env: ENV, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

// the first synthesis is the slow one (asset staging); every describe below reads this one unless it needs other props
const main = synthesize();
const { template, resources } = main;

const handlerTagOf = (resource: Resource): string | undefined =>
  (resource.Properties.Tags as { Key: string; Value: string }[] | undefined)?.find((tag) => tag.Key === HANDLER_TAG)?.Value;
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const roleIdOf = (all: Record<string, Resource>, handler: string): string => {
  const fn = Object.values(all).find((r) => r.Type === 'AWS::Lambda::Function' && handlerTagOf(r) === handler);
  return (fn?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0] ?? '';
};

/** The logical ids of the managed policies attached to a handler's role. */
const attachedPolicies = (all: Record<string, Resource>, handler: string): string[] =>
  ((all[roleIdOf(all, handler)]?.Properties.ManagedPolicyArns ?? []) as { Ref?: string }[]).flatMap((arn) => (arn.Ref ? [arn.Ref] : []));

/** Every statement that applies to a handler's role: its own policies and the managed policies attached to it. */
function roleStatements(all: Record<string, Resource>, handler: string): Statement[] {
  const roleId = roleIdOf(all, handler);
  const own = Object.values(all).filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId));
  const managed = attachedPolicies(all, handler)
    .map((id) => all[id])
    .filter((r): r is Resource => r?.Type === 'AWS::IAM::ManagedPolicy');
  return [...own, ...managed].flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (statements: readonly Statement[]): Set<string> => new Set(statements.flatMap((s) => asArray(s.Action)));

describe('the CDK stack and the local runtime run the same state machine and handlers', () => {
  const [stateMachine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
  const aslText = readFileSync(SESSION_ASL_FILE, 'utf8');
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await createLocalRuntime({ logFile: false });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('deploys the repository ASL file verbatim, with only its placeholders substituted', () => {
    expect(stateMachine?.Properties.DefinitionString).toBe(aslText);
    const substitutions = stateMachine?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const placeholders = [...aslText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
    expect(Object.keys(substitutions).sort()).toEqual([...new Set(placeholders)].sort());
    // the partition is the deployment's, never spelled out
    expect(substitutions.Partition).toEqual({ Ref: 'AWS::Partition' });

    // Resolve each function substitution to the handler its function carries, and compare with the local runtime's own substitution.
    const cloudNames = Object.fromEntries(
      Object.entries(substitutions).map(([name, value]) => {
        if (name === 'Partition') return [name, 'aws'];
        const [logicalId, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
        const fn = resources[logicalId];
        expect(fn?.Type).toBe('AWS::Lambda::Function');
        expect(attribute).toBe('Arn');
        return [name, `arn:aws:lambda:us-east-1:000000000000:function:${localFunctionName(handlerTagOf(fn as Resource) ?? '?')}`];
      }),
    );
    expect(applySubstitutions(aslText, cloudNames)).toBe(applySubstitutions(aslText, localSubstitutions()));
  });

  it('maps every Task state to a deployed handler that the local runtime registers under the same name', () => {
    const localByState = runtime.workflow.functionNamesByState();
    const substituted = JSON.parse(applySubstitutions(aslText, localSubstitutions())) as Parameters<typeof taskStates>[0];
    const states = [...taskStates(substituted).keys()];
    expect(states.sort()).toEqual(['ActionFailed', 'Detect', 'FinishExecution', 'Gate', 'Notify', 'Plan', 'Prepare', 'RecordFailure', 'Report', 'Restart', 'RunAction', 'Verify']);
    const deployedHandlers = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map(handlerTagOf),
    );
    for (const state of states) {
      const functionName = localByState[state];
      expect(runtime.functionNames(), `state ${state}`).toContain(functionName);
      expect(deployedHandlers, `state ${state}`).toContain(functionName?.replace(/^nightshift-/, ''));
    }
  });

  it('creates one arm64 Node 22 function per registry entry, each from its handler module, with the timeout its entry declares', async () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    expect(functions.map(handlerTagOf).sort()).toEqual(HANDLERS.map((h) => h.name).sort());
    for (const fn of functions) {
      const entry = handlerEntry(handlerTagOf(fn) ?? '');
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: entry.timeoutSeconds, TracingConfig: { Mode: 'Active' } });
      // the function knows which entry it runs, so both runtimes hand it the same ports
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.NIGHTSHIFT_HANDLER).toBe(entry.name);
    }
    for (const entry of HANDLERS) {
      const module = (await import(path.join(REPO_ROOT, entry.entry))) as Record<string, unknown>;
      expect(typeof module.handler, entry.entry).toBe('function');
      expect(typeof module.createHandler, entry.entry).toBe('function');
    }
  });
});

describe('the table: one definition for the stack and dynalite', () => {
  it('creates every index of the shared definition with its keys and projection (summary-only listing indexes stay summary-only)', () => {
    const table = Object.values(resources).find((r) => r.Type === 'AWS::DynamoDB::GlobalTable');
    const indexes = (table?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string; KeySchema: unknown; Projection: unknown }[];
    expect(indexes.map((index) => ({ name: index.IndexName, keys: index.KeySchema, projection: index.Projection }))).toEqual(
      TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        name: index.indexName,
        keys: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        projection: index.projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.nonKeyAttributes] } : { ProjectionType: 'ALL' },
      })),
    );
  });
});

describe('events', () => {
  it("routes the final statuses of Nightshift's commands only (by document) to the completion handler, with a dead-letter queue", () => {
    const completion = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'complete-command')?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: { status: Match.arrayWith(['Success', 'Failed', 'DeliveryTimedOut', 'Undeliverable']), 'document-name': [...NIGHTSHIFT_DOCUMENTS] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [completion, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('names every document the SSM adapter sends with, and no other (small scripts on both platforms, a staged one)', async () => {
    const ssm = mockClient(SSMClient);
    const s3 = mockClient(S3Client);
    try {
      ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
      s3.on(PutObjectCommand).resolves({});
      const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), { outputBucket: 'out', outputPrefix: 'commands/', region: 'eu-west-1' });
      const command = { agentId: 'mi-0123456789abcdef0', comment: 'nightshift/ses_1/Detect/n1', deliveryTimeoutSeconds: 600, executionTimeoutSeconds: 600 };
      await agent.send({ ...command, platform: 'linux', script: 'echo 1\n' });
      await agent.send({ ...command, platform: 'windows', script: 'Write-Output 1' });
      await agent.send({ ...command, platform: 'linux', script: `echo ${'x'.repeat(70_000)}\n` });
      const documents = ssm.commandCalls(SendCommandCommand).map((call) => call.args[0].input.DocumentName);
      expect(new Set(documents)).toEqual(new Set(NIGHTSHIFT_DOCUMENTS));
    } finally {
      ssm.restore();
      s3.restore();
    }
  });

  it('tells execution-ended of every session execution that ends: a failed, timed-out or aborted one fails its session, every one closes its usage', () => {
    const ended = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'execution-ended')?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [Match.anyValue()] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ended, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it("tells mail-events of SES's bounce, spam-report, rejection and delay events for the stack's own configuration set only, with a dead-letter queue", () => {
    const mailEvents = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'mail-events')?.[0];
    expect(mailEvents).toBeDefined();
    const configurationSet = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SES::ConfigurationSet')?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ses'],
        'detail-type': ['Email Bounced', 'Email Complaint Received', 'Email Rejected', 'Email Delivery Delayed'],
        detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: configurationSet }] } } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [mailEvents, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MailEventsDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        }),
      ],
    });
    // the rule's events are the ones the configuration set puts on the bus
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({ MatchingEventTypes: ['bounce', 'complaint', 'reject', 'deliveryDelay'] }),
    });
  });

  it('runs retire-secrets every hour, so a deployment\'s dropped secrets go once their retirement is due', () => {
    const retire = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'retire-secrets')?.[0];
    expect(retire).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [retire, 'Arn'] } })] });
  });

  it('gives window timers their own schedule group, an invoker role for Scheduler, and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Test-windows' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
    });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const withTimers = functions
      .filter((fn) => JSON.stringify(fn.Properties.Environment).includes('WINDOW_TIMER_DLQ_ARN'))
      .map(handlerTagOf)
      .sort();
    expect(withTimers).toEqual(HANDLERS.filter((h) => h.ports.includes('windowTimers:write')).map((h) => h.name).sort());
    // the timers' target is named, not referenced, so window-timer can re-arm itself without a dependency cycle
    expect(functions.find((fn) => handlerTagOf(fn) === 'window-timer')?.Properties.FunctionName).toBe('Test-window-timer');
    for (const handler of withTimers) {
      const scheduling = roleStatements(resources, handler ?? '').filter((s) => asArray(s.Action).includes('scheduler:CreateSchedule'));
      expect(JSON.stringify(scheduling), handler).toContain(':schedule/Test-windows/*');
    }
  });

  it('keeps what an asynchronously invoked handler still fails after its retries, instead of dropping it', () => {
    const logicalIdOf = (handler: string) => Object.entries(resources).find(([, r]) => handlerTagOf(r) === handler)?.[0];
    for (const handler of ASYNC_HANDLERS) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(handler) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
  });
});

describe('schedule triggers', () => {
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const functionIdOf = (handler: string) => functions.find(([, r]) => handlerTagOf(r) === handler)?.[0];
  const environmentOf = (handler: string) =>
    (functions.find(([, r]) => handlerTagOf(r) === handler)?.[1].Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
  const idStartingWith = (type: string, prefix: string) => Object.entries(resources).find(([id, r]) => r.Type === type && id.startsWith(prefix))?.[0] ?? '?';
  const invokerRole = idStartingWith('AWS::IAM::Role', 'ScheduleFireInvokerRole');
  const fireQueue = idStartingWith('AWS::SQS::Queue', 'ScheduleFireDeadLetters');
  const declaring = (access: PortAccess) => HANDLERS.filter((h) => h.ports.includes(access)).map((h) => h.name);
  const declaringAny = HANDLERS.filter((h) => h.ports.some((p) => p.startsWith('scheduleTriggers:'))).map((h) => h.name);
  /** The statements of the policies attached to a role that is not a handler's. */
  const statementsOfRole = (roleId: string): Statement[] =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

  it('keeps them in a schedule group of their own, next to the window timers', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 2);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Test-schedules' });
  });

  it('tells exactly the functions declaring scheduleTriggers where the triggers live and what they invoke', () => {
    const withSettings = functions
      .filter(([, fn]) => JSON.stringify(fn.Properties.Environment).includes('SCHEDULE_TRIGGER_DLQ_ARN'))
      .map(([, fn]) => handlerTagOf(fn))
      .sort();
    expect(withSettings).toEqual([...declaringAny].sort());
    expect(withSettings).toEqual(expect.arrayContaining(['manage-schedule', 'reconcile-schedules']));
    for (const handler of withSettings) {
      const env = environmentOf(handler ?? '');
      expect(env.SCHEDULE_TRIGGER_GROUP, handler).toBe('Test-schedules');
      expect(JSON.stringify(env.SCHEDULE_TRIGGER_TARGET_ARN), handler).toMatch(/:lambda:eu-west-1:111111111111:function:Test-fire-schedule"\]\]\}$/);
      expect(env.SCHEDULE_TRIGGER_ROLE_ARN, handler).toEqual({ 'Fn::GetAtt': [invokerRole, 'Arn'] });
      expect(env.SCHEDULE_TRIGGER_DLQ_ARN, handler).toEqual({ 'Fn::GetAtt': [fireQueue, 'Arn'] });
    }
    // the target is named, so its ARN is known before it exists
    expect(resources[functionIdOf('fire-schedule') ?? '']?.Properties.FunctionName).toBe('Test-fire-schedule');
  });

  it('lets window-timer writers pass their invoker role only to Scheduler', () => {
    const writers = declaring('windowTimers:write');
    expect(writers.length).toBeGreaterThan(0);
    for (const handler of writers) {
      const passes = roleStatements(resources, handler).filter((s) => asArray(s.Action).includes('iam:PassRole') && !JSON.stringify(s.Resource).includes(invokerRole));
      expect(passes, handler).toHaveLength(1);
      expect(passes[0]?.Condition, handler).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    }
  });

  it('lets writers change triggers in the schedule group only, and pass only the invoker role, only to Scheduler', () => {
    const writers = declaring('scheduleTriggers:write');
    expect(writers.length).toBeGreaterThan(0);
    for (const handler of writers) {
      const statements = roleStatements(resources, handler);
      const manage = statements.filter((s) => asArray(s.Action).includes('scheduler:CreateSchedule') && JSON.stringify(s.Resource).includes('Test-schedules'));
      expect(manage, handler).toHaveLength(1);
      expect(asArray(manage[0]?.Action).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule']);
      expect(asArray(manage[0]?.Resource as unknown[])).toHaveLength(1);
      expect(JSON.stringify(manage[0]?.Resource)).toMatch(/":scheduler:eu-west-1:111111111111:schedule\/Test-schedules\/\*"/);
      const passes = statements.filter((s) => asArray(s.Action).includes('iam:PassRole') && JSON.stringify(s.Resource).includes(invokerRole));
      expect(passes, handler).toHaveLength(1);
      expect(passes[0]?.Resource).toEqual({ 'Fn::GetAtt': [invokerRole, 'Arn'] });
      expect(passes[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    }
    // nobody else may touch the group or hand out the role
    for (const entry of HANDLERS.filter((h) => !writers.includes(h.name))) {
      const statements = roleStatements(resources, entry.name);
      const mentioning = statements.filter((s) => JSON.stringify(s.Resource).includes('Test-schedules') || JSON.stringify(s.Resource).includes(invokerRole));
      const reads = entry.ports.includes('scheduleTriggers:read') ? mentioning.filter((s) => asArray(s.Action).join() === 'scheduler:GetSchedule') : [];
      expect(mentioning.filter((s) => !reads.includes(s)), entry.name).toEqual([]);
    }
  });

  it('lets readers get triggers in the schedule group only, and list them through the one policy that holds ListSchedules', () => {
    const readers = declaring('scheduleTriggers:read');
    expect(readers).toContain('reconcile-schedules');
    for (const handler of readers) {
      const gets = roleStatements(resources, handler).filter((s) => asArray(s.Action).includes('scheduler:GetSchedule'));
      expect(gets, handler).toHaveLength(1);
      expect(asArray(gets[0]?.Action)).toEqual(['scheduler:GetSchedule']);
      expect(JSON.stringify(gets[0]?.Resource)).toMatch(/":scheduler:eu-west-1:111111111111:schedule\/Test-schedules\/\*"/);
      expect(attachedPolicies(resources, handler).some((id) => id.startsWith('ScheduleListPolicy')), handler).toBe(true);
    }
  });

  it('has Scheduler invoke fire-schedule and nothing else, writing what it cannot deliver to its own dead-letter queue', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } })],
      },
    });
    const statements = statementsOfRole(invokerRole);
    expect([...actionsOf(statements)].sort()).toEqual(['lambda:InvokeFunction', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(asArray(invoke[0]?.Resource as unknown[])).toHaveLength(1);
    expect(JSON.stringify(invoke[0]?.Resource)).toMatch(/:function:Test-fire-schedule"\]\]\}$/);
    const send = statements.filter((s) => asArray(s.Action).includes('sqs:SendMessage'));
    expect(send.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [fireQueue, 'Arn'] }]);
    // the queue is built like every dead-letter queue: encrypted, TLS only
    expect(resources[fireQueue]?.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: fireQueue }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('sweeps the triggers every 15 minutes, and drops a fire Lambda could not run within the hour', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionIdOf('reconcile-schedules'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionIdOf('fire-schedule') },
      MaximumEventAgeInSeconds: 3_600,
      MaximumRetryAttempts: 2,
    });
  });

  it('raises an alarm as soon as a fire lands in the dead-letter queue, and on any fire-schedule error', () => {
    interface AlarmProperties {
      MetricName?: string;
      Dimensions?: unknown;
      Metrics?: { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[];
    }
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: AlarmProperties }[];
    // a plain alarm names its metric; one through a metric math expression names it in its first metric
    const on = (metricName: string, dimension: string) =>
      alarms.filter(({ Properties: p }) => {
        const metric = p.MetricName ? { name: p.MetricName, dimensions: p.Dimensions } : { name: p.Metrics?.[0]?.MetricStat?.Metric.MetricName, dimensions: p.Metrics?.[0]?.MetricStat?.Metric.Dimensions };
        return metric.name === metricName && JSON.stringify(metric.dimensions).includes(`"${dimension}"`);
      });
    const onQueue = on('ApproximateNumberOfMessagesVisible', fireQueue);
    expect(onQueue).toHaveLength(1);
    expect(onQueue[0]?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const onErrors = on('Errors', functionIdOf('fire-schedule') ?? '?');
    expect(onErrors).toHaveLength(1);
    expect(onErrors[0]?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
  });
});

describe('schedule runs and their events', () => {
  const functionIdOf = (handler: string) => Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && handlerTagOf(r) === handler)?.[0] ?? '?';
  const [bus, busResource] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Events::EventBus') ?? [];
  const publishers = HANDLERS.filter((h) => h.ports.includes('events:publish')).map((h) => h.name);

  it('declares events:publish on exactly the handlers that start or move runs, those that end sessions (a run\'s sessions are told when they end), and the operator API (it does both)', () => {
    expect([...publishers].sort()).toEqual(['advance-runs', 'api', 'execution-ended', 'fire-schedule', 'manage-run', 'record-failure', 'report-session', 'sweep-sessions']);
  });

  it('advances every active run each minute, with no redelivery of a missed minute (the next one comes anyway)', () => {
    const rules = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith('AdvanceRunsSchedule'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionIdOf('advance-runs'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionIdOf('advance-runs'), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [rules[0]?.[0], 'Arn'] },
    });
  });

  it("publishes to an event bus of the stack's own, named after it, whose archive keeps Nightshift's events for 7 days", () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    expect(busResource?.Properties.Name).toBe('Test');
    // no resource policy: only this account's roles that IAM lets publish can
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    expect(busResource?.Properties.Policy).toBeUndefined();
    template.resourceCountIs('AWS::Events::Archive', 1);
    template.hasResourceProperties('AWS::Events::Archive', { SourceArn: { 'Fn::GetAtt': [bus, 'Arn'] }, RetentionDays: 7, EventPattern: { source: [EVENT_SOURCE] } });
  });

  it('lets exactly the handlers declaring events:publish put events, on that bus only, with source nightshift and its detail types only', () => {
    const allStatements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const puts = allStatements.filter((s) => asArray(s.Action).some((action) => action.startsWith('events:')));
    expect(puts).toHaveLength(publishers.length);
    for (const entry of HANDLERS) {
      const statements = roleStatements(resources, entry.name).filter((s) => asArray(s.Action).some((action) => action.startsWith('events:')));
      if (!publishers.includes(entry.name)) {
        expect(statements, entry.name).toEqual([]);
        continue;
      }
      expect(statements, entry.name).toEqual([
        {
          Sid: 'PublishNightshiftEvents',
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: { 'Fn::GetAtt': [bus, 'Arn'] },
          Condition: { StringEquals: { 'events:source': 'nightshift', 'events:detail-type': ['nightshift.run', 'nightshift.session'] } },
        },
      ]);
    }
    // what the grant allows is what the adapter sends
    expect([...EVENT_DETAIL_TYPES].sort()).toEqual(['nightshift.run', 'nightshift.session']);
  });

  it('tells exactly those functions the bus in EVENT_BUS_NAME', () => {
    const withBus = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVENT_BUS_NAME !== undefined)
      .map((fn) => {
        expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVENT_BUS_NAME).toEqual({ Ref: bus });
        return handlerTagOf(fn);
      });
    expect(withBus.sort()).toEqual([...publishers].sort());
  });

  it('gives the bus name and its exported ARN as outputs, for the MSP to wire its rules to', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
    expect(outputs.EventBusName?.Value).toEqual({ Ref: bus });
    expect(outputs.EventBusArn).toMatchObject({ Value: { 'Fn::GetAtt': [bus, 'Arn'] }, Export: { Name: 'Test-EventBusArn' } });
  });
});

/**
 * What each declared access must bring (and what an undeclared one must not):
 * written here independently of port-grants.ts, so a grant that drifts from
 * the vocabulary fails.
 */
const SIGNATURE_ACTIONS: Readonly<Record<PortAccess, readonly string[]>> = {
  'sessions:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'sessionLog:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'catalog:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'schedules:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'audit:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'sessions:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'sessionLog:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'catalog:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'schedules:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'audit:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'branding:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'branding:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'notifications:read': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
  'notifications:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  'mailer:send': ['ses:SendEmail'],
  'linkKeys:read': ['secretsmanager:GetSecretValue'],
  'agent:send': ['ssm:SendCommand', 's3:PutObject'],
  'agent:read': ['ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation', 's3:GetObject'],
  'inventory:read': ['ssm:DescribeInstanceInformation'],
  'agent:cancel': ['ssm:CancelCommand'],
  'workflow:start': ['states:StartExecution'],
  'workflow:answer': ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
  'workflow:read': ['states:GetExecutionHistory'],
  'windowTimers:write': ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole'],
  'scheduleTriggers:read': ['scheduler:GetSchedule', 'scheduler:ListSchedules'],
  'scheduleTriggers:write': ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole'],
  'secrets:write': ['ssm:PutParameter', 'ssm:DeleteParameters'],
  'runWork:request': ['lambda:InvokeFunction'],
  'events:publish': ['events:PutEvents'],
  'metrics:write': [],
};
/** Every function has these whatever it declares: its own log group, X-Ray, and (async handlers) its failure destination. */
const BASELINE_ACTIONS = new Set(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
const DESTINATION_ACTIONS = new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
const TABLE_READ_EXTRAS = /^dynamodb:(GetRecords|GetShardIterator|Scan|ConditionCheckItem|DescribeTable)$/;
const TABLE_WRITE_EXTRAS = /^dynamodb:(DeleteItem|DescribeTable)$/;

describe('least privilege, declared once: IAM comes from the ports each handler declares', () => {
  it.each(HANDLERS.map((entry) => [entry.name, entry] as const))('%s has what its ports need, and nothing a port it did not declare would bring', (_, entry) => {
    const actual = actionsOf(roleStatements(resources, entry.name));
    const declared = new Set(entry.ports);
    const required = new Set([...declared].flatMap((access) => SIGNATURE_ACTIONS[access]));
    for (const action of required) expect(actual, `${entry.name} lacks ${action}`).toContain(action);
    const readsTable = [...declared].some((a) => a.endsWith(':read') && SIGNATURE_ACTIONS[a].some((x) => x.startsWith('dynamodb:')));
    const writesTable = [...declared].some((a) => a.endsWith(':write') && SIGNATURE_ACTIONS[a].some((x) => x.startsWith('dynamodb:')));
    for (const action of actual) {
      const explained =
        required.has(action) ||
        BASELINE_ACTIONS.has(action) ||
        (DESTINATION_ACTIONS.has(action) && ASYNC_HANDLERS.includes(entry.name)) ||
        (readsTable && TABLE_READ_EXTRAS.test(action)) ||
        (writesTable && TABLE_WRITE_EXTRAS.test(action));
      expect(explained, `${entry.name} has ${action}, which none of its ports (${entry.ports.join(', ')}) explains`).toBe(true);
    }
  });

  it('lets only handlers declaring agent:send send commands: the three documents and the output bucket, and nodes only when tagged nightshift:managed=true', () => {
    const senders = HANDLERS.filter((h) => roleStatements(resources, h.name).some((s) => asArray(s.Action).includes('ssm:SendCommand'))).map((h) => h.name);
    expect(senders).toEqual(HANDLERS.filter((h) => h.ports.includes('agent:send')).map((h) => h.name));
    const sends = roleStatements(resources, 'dispatch-command').filter((s) => asArray(s.Action).includes('ssm:SendCommand'));
    expect(sends).toHaveLength(2);
    const [documents, nodes] = [sends.find((s) => !s.Condition), sends.find((s) => s.Condition)];
    expect(asArray(documents?.Action)).toEqual(['ssm:SendCommand']);
    expect(JSON.stringify(documents?.Resource)).toMatch(/:document\/AWS-RunShellScript".*:document\/AWS-RunPowerShellScript".*:document\/AWS-RunRemoteScript"/);
    expect(asArray(documents?.Resource as unknown[])).toHaveLength(4);
    expect(JSON.stringify(documents?.Resource)).toContain('CommandOutput');
    expect(JSON.stringify(nodes?.Resource)).toMatch(/:instance\/\*".*:managed-instance\/\*"/);
    expect(nodes?.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/nightshift:managed': 'true' } });
  });

  it('takes the node tag from the stack, and refuses one IAM or EC2 could not take, naming the prop', () => {
    const custom = synthesize({ managedNodeTag: { key: 'msp:maintained-by', value: 'nightshift' } });
    const nodes = roleStatements(custom.resources, 'dispatch-command').find((s) => s.Condition);
    expect(nodes?.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/msp:maintained-by': 'nightshift' } });
    expect(() => new NightshiftStack(new App(), 'Bad', { managedNodeTag: { key: 'aws:reserved', value: 'x' } })).toThrow(/managedNodeTag.key must be/);
    expect(() => new NightshiftStack(new App(), 'Bad', { managedNodeTag: { key: 'ok', value: 'no"quotes' } })).toThrow(/managedNodeTag.value must be/);
  });

  it('grants no action on "*" except those IAM cannot scope, each in a policy that holds only them', () => {
    const wildcardOnly: Record<string, readonly string[]> = {
      TracingPolicy: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      CommandReadsPolicy: ['ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation'],
      CommandCancelPolicy: ['ssm:CancelCommand'],
      InventoryReadPolicy: ['ssm:DescribeInstanceInformation'],
      ScheduleListPolicy: ['scheduler:ListSchedules'],
      StateMachineLogDeliveryPolicy: [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
    };
    const starPolicies: string[] = [];
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      for (const statement of (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (!asArray(statement.Resource).includes('*')) continue;
        const name = Object.keys(wildcardOnly).find((prefix) => logicalId.startsWith(prefix));
        expect(name, `${logicalId} grants ${JSON.stringify(statement.Action)} on *`).toBeDefined();
        expect(resource.Type).toBe('AWS::IAM::ManagedPolicy');
        expect(asArray(statement.Action).sort()).toEqual([...(wildcardOnly[name ?? ''] ?? [])].sort());
        starPolicies.push(name ?? '');
      }
    }
    expect(starPolicies.sort()).toEqual(Object.keys(wildcardOnly).sort());
    // the SSM reads and cancels go to exactly the handlers declaring them
    const attachedTo = (prefix: string) => HANDLERS.filter((h) => attachedPolicies(resources, h.name).some((id) => id.startsWith(prefix))).map((h) => h.name);
    expect(attachedTo('CommandReadsPolicy')).toEqual(HANDLERS.filter((h) => h.ports.includes('agent:read')).map((h) => h.name));
    expect(attachedTo('CommandCancelPolicy')).toEqual(HANDLERS.filter((h) => h.ports.includes('agent:cancel')).map((h) => h.name));
    expect(attachedTo('ScheduleListPolicy')).toEqual(HANDLERS.filter((h) => h.ports.includes('scheduleTriggers:read')).map((h) => h.name));
  });

  it('passes the cdk-nag AwsSolutions checks, every exception acknowledged by its exact finding with a reason, none on a whole role', () => {
    const report = new AwsSolutionsChecks(main.app).validateScope(main.app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);

    const acknowledgements: { path: string; id: string; reason: string; scope: IConstruct }[] = [];
    const visit = (node: IConstruct): void => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledgements.push({ path: node.node.path, id: id.replace(/^annotation::/i, ''), reason, scope: node });
      }
      for (const child of node.node.children) visit(child);
    };
    visit(main.stack);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      expect(ack.reason.length, ack.id).toBeGreaterThan(20);
      if (!ack.id.startsWith('AwsSolutions-IAM5')) continue;
      // an IAM5 exception names the resource it is for; a bare `*` only on a policy that holds nothing but `*`-only actions
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
      if (ack.id === 'AwsSolutions-IAM5[Resource::*]') expect(ack.path, ack.reason).toMatch(/\/(TracingPolicy|CommandReadsPolicy|CommandCancelPolicy|InventoryReadPolicy|ScheduleListPolicy|StateMachineLogDeliveryPolicy)$/);
    }
  });
});

describe('ARNs follow the deployment partition', () => {
  it.each([
    ['us-gov-west-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
  ])('synthesized in %s, the template spells no ARN with the commercial "arn:aws:" partition', (region) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new NightshiftStack(app, 'Test', { env: { account: '111111111111', region } });
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json.match(/arn:aws:[^"]{0,80}/g) ?? []).toEqual([]);
  });
});

describe('data retention', () => {
  it('lets DynamoDB expire records by the TTL attribute the adapters write', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });

  it('tells every function the one retention setting: 90 days unless the stack says otherwise', () => {
    const retentionOf = (all: Record<string, Resource>) =>
      new Set(
        Object.values(all)
          .filter((r) => r.Type === 'AWS::Lambda::Function')
          .map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.RETENTION_DAYS),
      );
    expect(retentionOf(resources)).toEqual(new Set(['90']));
    expect(retentionOf(synthesize({ retentionDays: 30 }).resources)).toEqual(new Set(['30']));
    expect(() => new NightshiftStack(new App(), 'Bad', { retentionDays: 0 })).toThrow(/retentionDays must be a whole number of days from 1 to 3650/);
  });
});

describe('the managed policy for the nodes', () => {
  const [logicalId, policy] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.ManagedPolicyName === 'Test-nodes') ?? [];
  const statements = (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid);

  it("uploads command output, downloads staged scripts, reads shared secrets and its own tenant's, and decrypts them only through SSM", () => {
    expect(JSON.stringify(bySid('WriteCommandOutput'))).toMatch(/"Action":"s3:PutObject".*\/commands\/\*"/);
    expect(JSON.stringify(bySid('ReadStagedScripts'))).toMatch(/"Action":"s3:GetObject".*\/staged-scripts\/\*"/);
    expect(bySid('ReadSecretParameters')?.Action).toEqual(['ssm:GetParameter', 'ssm:GetParameters']);
    // shared secrets, and only the tenant the node's role is tagged with: never the whole path
    const readable = JSON.stringify(bySid('ReadSecretParameters')?.Resource);
    expect(readable).toContain(':parameter/nightshift/secrets/shared/*');
    expect(readable).toContain(':parameter/nightshift/secrets/tenants/${aws:PrincipalTag/nightshift:tenant}/*');
    expect(readable).not.toContain(':parameter/nightshift/secrets/*');
    expect(bySid('DecryptSecretParametersThroughSsm')?.Action).toBe('kms:Decrypt');
    const viaService = bySid('DecryptSecretParametersThroughSsm')?.Condition?.StringEquals?.['kms:ViaService'];
    // SSM's endpoint in the stack's own Region and partition (amazonaws.com, amazonaws.com.cn)
    expect(viaService).toEqual({ 'Fn::Join': ['', ['ssm.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] });
    // the path the nodes may read is the one secrets are written under
    expect(secretReference({ kind: 'Shared' }, 'deploy-1', 'password').startsWith(`/${SECRETS_PARAMETER_PATH}/shared/`)).toBe(true);
    expect(secretReference({ kind: 'Tenant', tenantId: 'acme' }, 'deploy-1', 'password').startsWith(`/${SECRETS_PARAMETER_PATH}/tenants/acme/`)).toBe(true);
  });

  it('is exported, its name in an output, and attached to no role of the stack (it is for the nodes)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
    expect(outputs.NodePolicyName?.Value).toBe('Test-nodes');
    expect(outputs.NodePolicyArn).toMatchObject({ Value: { Ref: logicalId }, Export: { Name: 'Test-NodePolicyArn' } });
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as Resource[]) {
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toContain(logicalId ?? '?');
    }
  });
});

describe('refuses what SSM would refuse', () => {
  it('refuses a delivery timeout SSM would refuse, naming the prop', () => {
    expect(() => new NightshiftStack(new App(), 'Bad', { agentDeliveryTimeoutSeconds: 3_000_000 })).toThrow(
      /agentDeliveryTimeoutSeconds must be a whole number from 30 to 2592000/,
    );
  });

  it('refuses an output retention a staged script would not outlive (a computer offline for the whole delivery timeout)', () => {
    expect(() => new NightshiftStack(new App(), 'Short', { agentDeliveryTimeoutSeconds: 10 * 86_400, commandOutputRetentionDays: 10 })).toThrow(
      /commandOutputRetentionDays must be a whole number of days above 11/,
    );
  });
});

describe('alarms and the topic an operator subscribes to', () => {
  interface Alarm {
    Properties: {
      AlarmActions?: unknown[];
      MetricName?: string;
      Namespace?: string;
      Dimensions?: { Name: string; Value: unknown }[];
      Metrics?: { MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] } } }[];
      Threshold: number;
      ComparisonOperator: string;
      EvaluationPeriods: number;
      DatapointsToAlarm?: number;
      TreatMissingData?: string;
    };
  }
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
  /** The metric an alarm watches, whether plain or through a metric math expression of one metric. */
  const watched = (alarm: Alarm) =>
    alarm.Properties.MetricName
      ? { name: alarm.Properties.MetricName, namespace: alarm.Properties.Namespace, dimensions: alarm.Properties.Dimensions ?? [] }
      : { name: alarm.Properties.Metrics?.[0]?.MetricStat?.Metric.MetricName, namespace: alarm.Properties.Metrics?.[0]?.MetricStat?.Metric.Namespace, dimensions: alarm.Properties.Metrics?.[0]?.MetricStat?.Metric.Dimensions ?? [] };
  const alarmsOn = (namespace: string, name: string, dimensionValue: unknown) =>
    alarms.filter((alarm) => {
      const metric = watched(alarm);
      return metric.namespace === namespace && metric.name === name && metric.dimensions.some((d) => JSON.stringify(d.Value) === JSON.stringify(dimensionValue));
    });
  const logicalIdOf = (type: string, predicate: (r: Resource) => boolean = () => true) =>
    Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r)).map(([id]) => id);
  /** Any occurrence in one five-minute period raises it. */
  const onFirstOccurrence = (alarm: Alarm | undefined) =>
    expect(alarm?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, DatapointsToAlarm: 1 });

  it('raises one on any timed-out or aborted session execution, and on any session that failed for a reason no operator expects', () => {
    const [stateMachine] = logicalIdOf('AWS::StepFunctions::StateMachine');
    for (const metric of ['ExecutionsTimedOut', 'ExecutionsAborted']) {
      const found = alarmsOn('AWS/States', metric, { Ref: stateMachine });
      expect(found, metric).toHaveLength(1);
      onFirstOccurrence(found[0]);
    }
    // a failed execution is routine (every failed session ends its workflow in Fail): no alarm pages on those
    expect(alarmsOn('AWS/States', 'ExecutionsFailed', { Ref: stateMachine })).toEqual([]);
    const unexpected = alarms.filter((alarm) => watched(alarm).name === 'SessionsFailedUnexpectedly');
    expect(unexpected).toHaveLength(1);
    onFirstOccurrence(unexpected[0]);
  });

  it("raises one on any function's throttles, on any error of an event or operator handler, and on a sustained error rate of a workflow step", () => {
    const functions = logicalIdOf('AWS::Lambda::Function');
    expect(functions).toHaveLength(HANDLERS.length);
    const steps = HANDLERS.filter((entry) => entry.substitution !== undefined);
    let rateAlarms = 0;
    for (const fn of functions) {
      const throttles = alarmsOn('AWS/Lambda', 'Throttles', { Ref: fn });
      expect(throttles, `${fn} Throttles`).toHaveLength(1);
      onFirstOccurrence(throttles[0]);
      const errors = alarmsOn('AWS/Lambda', 'Errors', { Ref: fn });
      expect(errors, `${fn} Errors`).toHaveLength(1);
      const properties = errors[0]?.Properties;
      if (properties?.Threshold === 0) {
        onFirstOccurrence(errors[0]);
      } else {
        rateAlarms++;
        // a quarter of its invocations failing, three five-minute periods running
        expect(properties).toMatchObject({ Threshold: 0.25, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
      }
    }
    expect(rateAlarms).toBe(steps.length);
  });

  it('raises one as soon as any dead-letter queue holds a message, for every queue', () => {
    const queues = logicalIdOf('AWS::SQS::Queue');
    expect(queues).toHaveLength(6);
    for (const queue of queues) {
      const found = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [queue, 'QueueName'] });
      expect(found, queue).toHaveLength(1);
      onFirstOccurrence(found[0]);
    }
  });

  it('raises one when the reconciler lags behind for two runs, on the metric exactly as Powertools emits it', () => {
    const lag = alarms.filter((alarm) => watched(alarm).name === 'ReconcilerLagSeconds');
    expect(lag).toHaveLength(1);
    // a reconciler that stopped emitting is lagging too
    expect(lag[0]?.Properties).toMatchObject({ Threshold: 900, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'breaching' });
    // what the handler's metrics adapter writes: the same namespace and the same dimensions, or the alarm never sees a datapoint
    const metrics = new PowertoolsMetrics({ logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    metrics.seconds('ReconcilerLagSeconds', 42);
    const emf = powertoolsMetricsOf(metrics)?.serializeMetrics();
    const directive = emf?._aws.CloudWatchMetrics[0];
    expect(watched(lag[0] as Alarm).namespace).toBe(directive?.Namespace);
    const dimensionNames: string[] = directive?.Dimensions.flat() ?? [];
    expect(dimensionNames.length).toBeGreaterThan(0);
    expect(watched(lag[0] as Alarm).dimensions).toEqual(dimensionNames.map((name) => ({ Name: name, Value: (emf as unknown as Record<string, unknown>)[name] })));
  });

  it('raises one on the first run or session event that could not be published, on the metric exactly as Powertools emits it', () => {
    const notPublished = alarms.filter((alarm) => watched(alarm).name === 'EventsNotPublished');
    expect(notPublished).toHaveLength(1);
    onFirstOccurrence(notPublished[0]);
    const metrics = new PowertoolsMetrics({ logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    metrics.count('EventsNotPublished', 3);
    const emf = powertoolsMetricsOf(metrics)?.serializeMetrics();
    const directive = emf?._aws.CloudWatchMetrics[0];
    expect(directive?.Metrics).toEqual([expect.objectContaining({ Name: 'EventsNotPublished' })]);
    expect(watched(notPublished[0] as Alarm).namespace).toBe(directive?.Namespace);
    const dimensionNames: string[] = directive?.Dimensions.flat() ?? [];
    expect(watched(notPublished[0] as Alarm).dimensions).toEqual(dimensionNames.map((name) => ({ Name: name, Value: (emf as unknown as Record<string, unknown>)[name] })));
  });

  it('sends every alarm to one encrypted SNS topic, given as an output; an alarmEmail subscribes that address', () => {
    const [topic] = logicalIdOf('AWS::SNS::Topic');
    // state machine (2), unexpected failures, each function's errors and throttles, each dead-letter queue, the reconciler's lag, unpublished events,
    // the operator API's 5xx rate, 4xx spike and p99 latency, SES's bounce and complaint rates, end-user emails not sent
    expect(alarms.length).toBe(2 + 1 + 2 * HANDLERS.length + 6 + 1 + 1 + 3 + 2 + 1);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    expect(resources[topic ?? '']?.Properties.KmsMasterKeyId).toBeDefined();
    expect((template.toJSON().Outputs as Record<string, { Value: unknown }>).AlarmTopicArn?.Value).toEqual({ Ref: topic });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synthesize({ alarmEmail: 'ops@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    // CloudWatch may use the topic's key, so the encrypted topic still receives alarms
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
