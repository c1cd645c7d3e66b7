import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../../functions/handlers/registry.js';
import { HANDLER_TAG, NightshiftStack, REPO_ROOT, SESSION_ASL_FILE } from '../../infra/nightshift-stack.js';
import { applySubstitutions, taskStates } from '../../local/local-workflow.js';
import { createLocalRuntime, localFunctionName, localSubstitutions, type LocalRuntime } from '../../local/runtime.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Synthesizes without bundling: the template is what matters here, not the code assets. */
function synthesize(withNag = false): { app: App; stack: NightshiftStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

const handlerTagOf = (resource: Resource): string | undefined =>
  (resource.Properties.Tags as { Key: string; Value: string }[] | undefined)?.find((tag) => tag.Key === HANDLER_TAG)?.Value;

describe('the CDK stack and the local runtime run the same state machine and handlers', () => {
  const { template } = synthesize();
  const resources = template.toJSON().Resources as Record<string, Resource>;
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
    const substitutions = stateMachine?.Properties.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>;
    const placeholders = [...aslText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
    expect(Object.keys(substitutions).sort()).toEqual([...new Set(placeholders)].sort());

    // Resolve each substitution to the handler its function carries, and compare with the local runtime's own substitution.
    const cloudNames = Object.fromEntries(
      Object.entries(substitutions).map(([name, value]) => {
        const [logicalId, attribute] = value['Fn::GetAtt'];
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
    expect(states.sort()).toEqual(['ActionFailed', 'Detect', 'FinishExecution', 'Gate', 'Plan', 'Prepare', 'RecordFailure', 'Report', 'Restart', 'RunAction', 'Verify']);
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

  it('creates one arm64 Node 22 function per registry entry, each from its handler module', async () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    expect(functions.map(handlerTagOf).sort()).toEqual(HANDLERS.map((h) => h.name).sort());
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
    for (const entry of HANDLERS) {
      const module = (await import(path.join(REPO_ROOT, entry.entry))) as Record<string, unknown>;
      expect(typeof module.handler, entry.entry).toBe('function');
      expect(typeof module.createHandler, entry.entry).toBe('function');
    }
  });

  it('routes final SSM command statuses to the completion handler, with a dead-letter queue', () => {
    const completion = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'complete-command')?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: { status: Match.arrayWith(['Success', 'Failed', 'DeliveryTimedOut', 'Undeliverable']) },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [completion, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('records a session Failed when its execution fails, times out or is aborted', () => {
    const ended = Object.entries(resources).find(([, r]) => handlerTagOf(r) === 'execution-ended')?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [Match.anyValue()] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ended, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('gives window timers their own schedule group, an invoker role for Scheduler, and a dead-letter queue', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
    });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const withTimers = functions
      .filter((fn) => JSON.stringify(fn.Properties.Environment).includes('WINDOW_TIMER_DLQ_ARN'))
      .map(handlerTagOf)
      .sort();
    expect(withTimers).toEqual(['cancel-session', 'execution-ended', 'gate-session', 'postpone-session', 'run-session-now', 'start-session', 'window-timer']);
    // the timers' target is named, not referenced, so window-timer can re-arm itself without a dependency cycle
    expect(functions.find((fn) => handlerTagOf(fn) === 'window-timer')?.Properties.FunctionName).toBe('Test-window-timer');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const scheduling = policies.filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes('scheduler:CreateSchedule'));
    expect(scheduling).toHaveLength(withTimers.length);
    for (const policy of scheduling) expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain(':schedule/Test-windows/*');
  });

  it('keeps what an asynchronously invoked handler still fails after its retries, instead of dropping it', () => {
    const logicalIdOf = (handler: string) => Object.entries(resources).find(([, r]) => handlerTagOf(r) === handler)?.[0];
    for (const handler of ['window-timer', 'execution-ended', 'complete-command', 'reconcile-commands', 'sweep-sessions']) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(handler) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
  });

  it('lets only the dispatch handler send commands, and only with the two run-script documents', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Resource][];
    const senders = policies.filter(([, policy]) => JSON.stringify(policy.Properties.PolicyDocument).includes('ssm:SendCommand'));
    expect(senders).toHaveLength(1);
    const document = JSON.stringify(senders[0]?.[1].Properties.PolicyDocument);
    expect(document).toContain('document/AWS-RunShellScript');
    expect(document).toContain('document/AWS-RunPowerShellScript');
    expect(document).not.toMatch(/"ssm:\*"|"\*:\*"/);
    const roles = (senders[0]?.[1].Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    expect(roles.join()).toMatch(/^DispatchCommandRole/);
  });

  it('lets every handler that finds or stops commands by their comment call ListCommands and CancelCommand, and no other', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const rolesAllowed = (action: string): string[] =>
      policies
        .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(`"${action}"`))
        .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref.replace(/Role.*$/, '')))
        .sort();
    // a command is known by its comment until its completion records its id: retries, cancels and the reconciler list it
    expect(rolesAllowed('ssm:ListCommands')).toEqual(['CancelSession', 'DispatchCommand', 'ReconcileCommands', 'StartSession']);
    expect(rolesAllowed('ssm:CancelCommand')).toEqual(['CancelSession', 'DispatchCommand', 'ReconcileCommands', 'StartSession']);
  });

  it('passes the cdk-nag AwsSolutions checks, every exception acknowledged with a reason', () => {
    const { app } = synthesize(true);
    expect(() => app.synth()).not.toThrow();
  });

  it('refuses a delivery timeout SSM would refuse, naming the prop', () => {
    expect(() => new NightshiftStack(new App(), 'Bad', { agentDeliveryTimeoutSeconds: 3_000_000 })).toThrow(
      /agentDeliveryTimeoutSeconds must be a whole number from 30 to 2592000/,
    );
  });
});
