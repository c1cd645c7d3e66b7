import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createCloudDependencies } from '../../functions/adapters/cloud-dependencies.js';
import { configFromEnvironment } from '../../functions/adapters/config.js';
import { restrictToDeclaredPorts } from '../../functions/adapters/dependencies.js';
import { ConfigurationError } from '../../functions/core/errors.js';
import { HANDLERS, PORT_LEVELS, handlerEntry, type PortAccess } from '../../functions/handlers/registry.js';
import { LambdaTimeoutError, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';
import type { WorkflowEvent } from '../../local/local-workflow.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

const computer = testComputer('pc-ports', 'i-00000000000000p01');

/** Touches a port method without calling it: the guard answers on the touch. */
const touch = (port: object, method: string) => (): unknown => Reflect.get(port, method) as unknown;

describe('each handler gets only the ports its registry entry declares', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const fleet = async (options: LocalRuntimeOptions = {}): Promise<LocalRuntime> => {
    runtime = await runtimeWithFleet({ software: [testSoftware('app', '2.0')], deployments: [everywhere('app')], machines: [{ computer }] }, options);
    return runtime;
  };

  it('declares every port access from the vocabulary, no access twice, and a Lambda timeout within Lambda limits', () => {
    const vocabulary = new Set(Object.entries(PORT_LEVELS).flatMap(([port, levels]) => levels.map((level) => `${port}:${level}`)));
    for (const entry of HANDLERS) {
      expect(entry.ports.length, entry.name).toBeGreaterThan(0);
      expect(new Set(entry.ports).size, entry.name).toBe(entry.ports.length);
      for (const access of entry.ports) expect(vocabulary, entry.name).toContain(access);
      expect(entry.timeoutSeconds, entry.name).toBeGreaterThan(0);
      expect(entry.timeoutSeconds, entry.name).toBeLessThanOrEqual(900);
    }
  });

  it('hands a declared method through to the real port, and refuses an undeclared one by naming the access it needs', async () => {
    const rt = await fleet();
    const reader = restrictToDeclaredPorts(rt.deps, { name: 'log-reader', ports: ['sessionLog:read'] });
    // declared: the real adapter answers (nothing logged for an unknown session)
    await expect(reader.sessionLog.read('ses_none', { limit: 10 })).resolves.toMatchObject({ entries: [] });
    // ambient: clock, ids and logger need no declaration
    expect(reader.clock.now()).toBeInstanceOf(Date);
    // the same port at a level not declared, and ports not declared at all
    expect(touch(reader.sessionLog, 'append')).toThrow(ConfigurationError);
    expect(touch(reader.sessionLog, 'append')).toThrow("log-reader used sessionLog.append, which needs 'sessionLog:write'");
    expect(touch(reader.sessions, 'getSession')).toThrow("needs 'sessions:read'");
    expect(touch(reader.agent, 'send')).toThrow("needs 'agent:send'");
    expect(touch(reader.secrets, 'put')).toThrow("needs 'secrets:write'");
    expect(touch(reader.metrics, 'count')).toThrow("needs 'metrics:write'");
    // and nothing else hides behind a port: only its interface's methods
    expect(touch(reader.agent, 'history')).toThrow('log-reader used agent.history, which is not part of the agent port');
  });

  it('fails a workflow step whose handler uses a port it did not declare, with the missing declaration as the reason', async () => {
    // plan-session without 'sessionLog:write': it writes its plan, then its log line is refused
    const rt = await fleet({ handlerPorts: { 'plan-session': ['sessions:read', 'sessions:write'] } });
    const { sessionId } = await rt.startSession(computer.id);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Failed');
    expect(outcome.session.failure).toEqual({
      code: 'CONFIGURATION_INVALID',
      message:
        "plan-session used sessionLog.append, which needs 'sessionLog:write': declare it in the handler's ports in functions/handlers/registry.ts (the stack grants the IAM permissions from that list)",
    });
    // the agent was asked for the detection only: the plan never got to run anything
    expect(outcome.agentRoundTrips).toBe(1);
  });

  it('answers an operator request whose handler uses an undeclared port with the configuration error, not a stack trace', async () => {
    const rt = await fleet({ handlerPorts: { 'explain-computer': ['sessions:read'] } });
    expect(await rt.invoke('explain-computer', { computerId: computer.id })).toEqual({
      error: { code: 'CONFIGURATION_INVALID', message: expect.stringContaining("explain-computer used catalog.getComputer, which needs 'catalog:read'") as unknown },
    });
  });

  it('restricts a deployed function the same way: the environment names its registry entry', () => {
    const deps = createCloudDependencies(
      configFromEnvironment({ TABLE_NAME: 'nightshift', AWS_REGION: 'eu-west-1', COMMAND_OUTPUT_BUCKET: 'nightshift-output', NIGHTSHIFT_HANDLER: 'get-session-log' }),
    );
    expect(typeof deps.sessionLog.read).toBe('function');
    expect(touch(deps.sessionLog, 'append')).toThrow("get-session-log used sessionLog.append, which needs 'sessionLog:write'");
    expect(touch(deps.agent, 'send')).toThrow("needs 'agent:send'");
    expect(handlerEntry('get-session-log').ports).toEqual(['sessionLog:read'] satisfies PortAccess[]);
  });

  it('hands a deployed function declaring scheduleTriggers the Scheduler adapter configured from SCHEDULE_TRIGGER_*, at the declared level only', async () => {
    const base = { TABLE_NAME: 'nightshift', AWS_REGION: 'eu-west-1', COMMAND_OUTPUT_BUCKET: 'nightshift-output' };
    const deps = createCloudDependencies(
      configFromEnvironment({
        ...base,
        NIGHTSHIFT_HANDLER: 'manage-schedule',
        SCHEDULE_TRIGGER_GROUP: 'nightshift-schedules',
        SCHEDULE_TRIGGER_TARGET_ARN: 'arn:aws:lambda:eu-west-1:111111111111:function:nightshift-fire-schedule',
        SCHEDULE_TRIGGER_ROLE_ARN: 'arn:aws:iam::111111111111:role/schedule-fire-invoker',
        SCHEDULE_TRIGGER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111111111111:schedule-fire-dlq',
      }),
    );
    expect(typeof deps.scheduleTriggers.put).toBe('function');
    expect(touch(deps.scheduleTriggers, 'list')).toThrow("manage-schedule used scheduleTriggers.list, which needs 'scheduleTriggers:read'");
    // a function given no settings has the port, and it refuses on use, naming the settings
    const unconfigured = createCloudDependencies(configFromEnvironment({ ...base, NIGHTSHIFT_HANDLER: 'reconcile-schedules' }));
    await expect(unconfigured.scheduleTriggers.list()).rejects.toThrow(/SCHEDULE_TRIGGER_\* settings are not set/);
  });

  it('hands a deployed function declaring events:publish the EventBridge publisher on EVENT_BUS_NAME; without the setting it refuses on use', async () => {
    const base = { TABLE_NAME: 'nightshift', AWS_REGION: 'eu-west-1', COMMAND_OUTPUT_BUCKET: 'nightshift-output' };
    const config = configFromEnvironment({ ...base, NIGHTSHIFT_HANDLER: 'advance-runs', EVENT_BUS_NAME: 'nightshift' });
    expect(config.events).toEqual({ eventBusName: 'nightshift' });
    expect(typeof createCloudDependencies(config).events.publish).toBe('function');
    // a handler that did not declare it cannot touch it
    const reader = createCloudDependencies(configFromEnvironment({ ...base, NIGHTSHIFT_HANDLER: 'get-session-log', EVENT_BUS_NAME: 'nightshift' }));
    expect(touch(reader.events, 'publish')).toThrow("get-session-log used events.publish, which needs 'events:publish'");
    const unconfigured = createCloudDependencies(configFromEnvironment({ ...base, NIGHTSHIFT_HANDLER: 'manage-run' }));
    expect(configFromEnvironment({ ...base, NIGHTSHIFT_HANDLER: 'manage-run' }).events).toBeUndefined();
    await expect(unconfigured.events.publish([])).rejects.toThrow(/EVENT_BUS_NAME setting is not set/);
  });

  it('refuses to start a function in Lambda that does not name its registry entry, rather than hand it every port', () => {
    const inLambda = { TABLE_NAME: 'nightshift', AWS_REGION: 'eu-west-1', COMMAND_OUTPUT_BUCKET: 'nightshift-output', AWS_LAMBDA_FUNCTION_NAME: 'nightshift-x' };
    expect(() => configFromEnvironment(inLambda)).toThrow(/NIGHTSHIFT_HANDLER: is required in Lambda/);
    expect(configFromEnvironment({ ...inLambda, NIGHTSHIFT_HANDLER: 'get-session-log' }).handlerName).toBe('get-session-log');
  });
});

describe('each handler runs within the timeout its registry entry declares, locally as in Lambda', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const never = (): Promise<never> => new Promise<never>(() => undefined);

  it('fails an invocation that runs past its timeout with the error name Lambda gives it (Sandbox.Timedout)', async () => {
    runtime = await runtimeWithFleet(
      { software: [], deployments: [], machines: [] },
      { handlerTimeoutSeconds: { 'get-session-log': 0.05 }, wrapHandler: (name, handler) => (name === 'get-session-log' ? never : handler) },
    );
    const invocation = runtime.invoke('get-session-log', { sessionId: 'ses_1', limit: 1 });
    await expect(invocation).rejects.toBeInstanceOf(LambdaTimeoutError);
    await expect(invocation).rejects.toMatchObject({ name: 'Sandbox.Timedout', message: 'nightshift-get-session-log: Task timed out after 0.05 seconds' });
  });

  it('routes a timed-out step through the workflow like any Lambda failure: the session ends Failed, saying so', async () => {
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '2.0')], deployments: [everywhere('app')], machines: [{ computer }] },
      { handlerTimeoutSeconds: { 'plan-session': 0.2 }, wrapHandler: (name, handler) => (name === 'plan-session' ? never : handler) },
    );
    const failures: WorkflowEvent[] = [];
    runtime.workflow.events.on('event', (event) => {
      if (event.error) failures.push(event);
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Failed');
    expect(outcome.session.failure).toEqual({ code: 'STEP_TIMED_OUT', message: 'nightshift-plan-session: Task timed out after 0.20 seconds' });
    expect(failures.find((event) => event.stateName === 'Plan')?.error).toBe('Sandbox.Timedout');
  });

  it("tells the handler its deployed deadline through the Lambda context, and leaves one that finishes in time alone", async () => {
    const remainingMs: number[] = [];
    runtime = await runtimeWithFleet(
      { software: [], deployments: [], machines: [{ computer }] },
      {
        wrapHandler: (name, handler) =>
          name === 'explain-computer'
            ? (event: unknown, context: Context) => {
                remainingMs.push(context.getRemainingTimeInMillis());
                return handler(event, context);
              }
            : handler,
      },
    );
    await expect(runtime.invoke('explain-computer', { computerId: computer.id })).resolves.toMatchObject({ computerId: computer.id });
    const [remaining] = remainingMs;
    expect(remaining).toBeLessThanOrEqual(handlerEntry('explain-computer').timeoutSeconds * 1000);
    expect(remaining).toBeGreaterThan(handlerEntry('explain-computer').timeoutSeconds * 1000 - 5_000);
  });
});
