import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mailParts } from '../support/mail.js';
import { scheduleParts } from '../support/schedules.js';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvalidPluginName,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  ThrottlingException,
  type CommandInvocationStatus,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmAgent } from '../../functions/adapters/agent.ssm.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { TransientError } from '../../functions/core/errors.js';
import { commandComment, type DispatchKey } from '../../functions/core/model/agent.js';
import { newStages } from '../../functions/core/model/session.js';
import type { WorkflowPort } from '../../functions/core/ports/workflow.port.js';
import { ACTION_ANSWER_CHECK_AFTER_SECONDS, completeCommand } from '../../functions/core/use-cases/complete-command.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { RECONCILE_DEFAULTS, reconcileCommands } from '../../functions/core/use-cases/reconcile-commands.js';
import { sessionRecord, softwareItem, noInventory } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock, sequentialIds } from '../support/fleet.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';

/**
 * The completion path with the real DynamoDB store (dynalite) and the SSM
 * adapter over a mocked SSM (no local twin). The workflow is a recorder of
 * what Step Functions would be told.
 */
const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const agentId = 'i-0123456789abcdef0';

/** Records the answers that reached a waiting step; as Step Functions does, a token answered once takes no second answer. */
class RecordingWorkflow implements WorkflowPort {
  readonly calls: { token: string; outcome: 'success' | 'failure'; detail: unknown }[] = [];
  /** Answers to tokens already answered: refused, and harmless. */
  readonly refused: string[] = [];
  startSession(): Promise<{ alreadyRunning: boolean }> {
    return Promise.resolve({ alreadyRunning: false });
  }
  private answer(token: string, outcome: 'success' | 'failure', detail: unknown): Promise<boolean> {
    if (this.calls.some((call) => call.token === token)) {
      this.refused.push(token);
      return Promise.resolve(false);
    }
    this.calls.push({ token, outcome, detail });
    return Promise.resolve(true);
  }
  completeTask(token: string, output: unknown): Promise<boolean> {
    return this.answer(token, 'success', output);
  }
  failTask(token: string, errorName: string): Promise<boolean> {
    return this.answer(token, 'failure', errorName);
  }
}

describe('completing SSM commands (adapter over mocked SSM, store on dynalite)', () => {
  let deps: Dependencies;
  let workflow: RecordingWorkflow;
  let close: () => Promise<void>;
  let counter = 0;

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    close = dynamo.close;
    deps = {
      sessions: new DynamoSessionStore(dynamo.table),
      catalog: new DynamoCatalogStore(dynamo.table),
      secrets: { put: () => Promise.resolve(), delete: () => Promise.resolve() },
      ...scheduleParts(dynamo.table),
      ...mailParts(dynamo.table),
      agent: new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
        outputBucket: 'out',
        outputPrefix: 'commands/',
        region: 'eu-west-1',
        inlineScriptLimitBytes: 1_000,
      }),
      inventory: noInventory,
      workflow: new RecordingWorkflow(),
      clock: manualClock(),
      ids: sequentialIds(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: new InMemoryMetrics(),
      agentSettings: { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 30, actionTimeoutSeconds: 300, skipOfflineAfterSeconds: 60 },
      windowTimers: { set: () => Promise.resolve(), clear: () => Promise.resolve() },
      sessionLog: { append: () => Promise.resolve(), read: () => Promise.resolve({ entries: [] }) },
    };
  });
  afterAll(() => close());
  beforeEach(() => {
    ssm.reset();
    s3.reset();
    workflow = new RecordingWorkflow();
    deps = { ...deps, workflow };
  });

  /** A running session with one action and a dispatch waiting on command `cmd-<n>`. */
  async function waitingCommand(key: DispatchKey): Promise<{ sessionId: string; commandId: string }> {
    const sessionId = `ses_${++counter}`;
    const commandId = `cmd-${counter}`;
    const session = sessionRecord(sessionId, {
      agentId,
      stages: { ...newStages(), Detection: { status: 'Running' } },
      items: [softwareItem('app')],
    });
    await deps.sessions.createSession(session);
    await deps.sessions.createActions(sessionId, [
      { sessionId, actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', dependsOn: [], critical: true, status: 'PerformingAction', result: 'Pending' },
    ]);
    await deps.sessions.claimDispatch({ sessionId, key, taskToken: `token-${counter}`, status: 'Sending', attempts: 1, nonce: 'n1', createdAt: '2026-11-23T09:00:00.000Z' });
    return { sessionId, commandId };
  }

  const invocation = (
    key: DispatchKey,
    sessionId: string,
    status: CommandInvocationStatus,
    details: string,
    extra: Partial<GetCommandInvocationCommandOutput> = {},
  ): Partial<GetCommandInvocationCommandOutput> => ({
    Status: status,
    StatusDetails: details,
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: '',
    Comment: commandComment(sessionId, key, 'n1'),
    ...extra,
  });

  it.each([
    ['Success', 'Success', 0, 'DeterminingResult', 'Pending', 'ScriptSucceeded'],
    ['Failed', 'Failed', 2, 'Complete', 'Failed', 'the script exited 2'],
    ['TimedOut', 'Execution Timed Out', -1, 'Complete', 'Failed', 'the script ran past its time limit'],
    ['TimedOut', 'Delivery Timed Out', -1, 'Complete', 'Failed', 'the computer did not come online before the delivery timeout'],
    ['Failed', 'Undeliverable', -1, 'Complete', 'Failed', 'the computer is not reachable by the agent'],
    ['Failed', 'Terminated', -1, 'Complete', 'Failed', 'the computer was terminated'],
    ['Failed', 'InvalidPlatform', -1, 'Complete', 'Failed', 'the command does not fit the computer platform'],
    ['Failed', 'AccessDenied', -1, 'Complete', 'Failed', 'the agent was denied access to the computer'],
    ['Cancelled', 'Cancelled', -1, 'Cancelled', 'Cancelled', 'the running command was cancelled'],
  ] as const)('an action ending %s / %s is recorded as %s %s (%s) and the session goes on', async (status, details, code, actionStatus, result, reason) => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    ssm.on(GetCommandInvocationCommand).resolves(invocation('Action#001', sessionId, status, details, { ResponseCode: code, StandardOutputContent: code >= 0 ? `NIGHTSHIFT-RESULT n1 ${code} 5 -\n` : '' }));
    expect(await completeCommand(deps, { commandId, agentId })).toBe('completed');
    expect(await deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: actionStatus, result, resultReason: reason });
    expect(workflow.calls).toHaveLength(1);
    expect(workflow.calls[0]).toMatchObject({ token: `token-${counter}`, outcome: 'success', detail: { key: 'Action#001', commandId } });
  });

  it.each([
    ['TimedOut', 'Delivery Timed Out', 'AgentUnreachableError'],
    ['Failed', 'Undeliverable', 'AgentUnreachableError'],
    ['Failed', 'Terminated', 'AgentUnreachableError'],
    ['Failed', 'InvalidPlatform', 'AgentFailedError'],
    ['Failed', 'AccessDenied', 'AgentFailedError'],
    ['Cancelled', 'Cancelled', 'AgentFailedError'],
  ] as const)('a detection that never ran (%s / %s) fails the waiting step with %s, not as a script failure', async (status, details, errorName) => {
    const { sessionId, commandId } = await waitingCommand('Detect');
    ssm.on(GetCommandInvocationCommand).resolves(invocation('Detect', sessionId, status, details));
    await completeCommand(deps, { commandId, agentId });
    expect(workflow.calls).toEqual([{ token: `token-${counter}`, outcome: 'failure', detail: errorName }]);
    expect(await deps.sessions.getDetection(sessionId, 'Initial')).toBeUndefined();
  });

  it('reads detection records from the full S3 output when SSM cut the inline output at 24,000 characters', async () => {
    const { sessionId, commandId } = await waitingCommand('Detect');
    const record = `NIGHTSHIFT-ITEM n1 ${Buffer.from('software:app').toString('base64')} 0 ${Buffer.from('1.5\n').toString('base64')}  - `;
    ssm.on(GetCommandInvocationCommand).resolves(
      invocation('Detect', sessionId, 'Success', 'Success', { ResponseCode: 0, StandardOutputContent: 'x'.repeat(24_000), StandardOutputUrl: 'https://s3.eu-west-1.amazonaws.com/out/commands/c/stdout' }),
    );
    s3.on(GetObjectCommand).resolves({ Body: sdkStreamMixin(Readable.from([Buffer.from(`${'x'.repeat(30_000)}\n${record}\n`)])) });
    await completeCommand(deps, { commandId, agentId });
    expect((await deps.sessions.getDetection(sessionId, 'Initial'))?.items).toEqual({ 'software:app': { state: 'Present', version: '1.5' } });
  });

  it('completes nothing twice when the same event arrives again, or late after the reconciler', async () => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    ssm.on(GetCommandInvocationCommand).resolves(invocation('Action#001', sessionId, 'Success', 'Success', { ResponseCode: 0 }));
    expect(await completeCommand(deps, { commandId, agentId })).toBe('completed');
    const recorded = await deps.sessions.getAction(sessionId, '001');
    // the same event again: told again in case the first telling was lost, which the step refuses; nothing is rewritten
    expect(await completeCommand(deps, { commandId, agentId })).toBe('duplicate');
    expect(workflow.calls).toHaveLength(1);
    expect(workflow.refused).toEqual([`token-${counter}`]);
    expect(await deps.sessions.getAction(sessionId, '001')).toEqual(recorded);
  });

  it('finds a command whose event was lost and completes it; a command still running is left alone', async () => {
    const done = await waitingCommand('Action#001');
    const running = await waitingCommand('Detect');
    ssm
      .on(GetCommandInvocationCommand, { CommandId: done.commandId })
      .resolves(invocation('Action#001', done.sessionId, 'Success', 'Success', { ResponseCode: 0 }))
      .on(GetCommandInvocationCommand, { CommandId: running.commandId })
      .resolves(invocation('Detect', running.sessionId, 'InProgress', 'InProgress'));
    // both went out: SSM lists them under the comments their dispatches name
    ssm.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: done.commandId, Comment: commandComment(done.sessionId, 'Action#001', 'n1') },
        { CommandId: running.commandId, Comment: commandComment(running.sessionId, 'Detect', 'n1') },
      ],
    });
    (deps.clock as ReturnType<typeof manualClock>).advance(60_000);
    const result = await reconcileCommands(deps, { ...RECONCILE_DEFAULTS, overdueAfterSeconds: 30, limit: 100 });
    expect(result.completed).toBe(1);
    expect(result.stillRunning).toBeGreaterThanOrEqual(1);
    expect(workflow.calls.map((c) => c.token)).toContain(`token-${counter - 1}`);
    // still waiting, and due again later: the next run looks at others first
    expect(await deps.sessions.getDispatch(running.sessionId, 'Detect')).toMatchObject({ status: 'Sending', looks: 1 });
  });

  it("tells an action's step that its completion recorded but never told, once the check time has passed, and settles it", async () => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    const clock = deps.clock as ReturnType<typeof manualClock>;
    // the completion's one write landed, then its function died before telling the step (and every retry of the event failed)
    const outcome = { key: 'Action#001', commandId, status: 'Success', summary: 'ScriptSucceeded' } as const;
    await deps.sessions.completeActionDispatch({
      sessionId,
      actionId: '001',
      nonce: 'n1',
      types: ['Install'],
      changes: { status: 'DeterminingResult', resultReason: 'ScriptSucceeded' },
      outcome,
      now: clock.now().toISOString(),
      checkAfterSeconds: ACTION_ANSWER_CHECK_AFTER_SECONDS,
    });
    ssm.on(GetCommandInvocationCommand).resolves(invocation('Action#001', sessionId, 'Success', 'Success', { ResponseCode: 0 }));
    const options = { ...RECONCILE_DEFAULTS, overdueAfterSeconds: 60, limit: 100 };
    // before the check time the report may still settle it: the reconciler leaves it alone
    clock.advance((ACTION_ANSWER_CHECK_AFTER_SECONDS - 120) * 1000);
    await reconcileCommands(deps, options);
    expect(workflow.calls).toEqual([]);
    clock.advance(240_000);
    expect(await reconcileCommands(deps, options)).toMatchObject({ completed: 1 });
    expect(workflow.calls).toEqual([{ token: `token-${counter}`, outcome: 'success', detail: outcome }]);
    expect((await deps.sessions.listWaitingDispatches(clock.now().toISOString(), 100)).some((d) => d.sessionId === sessionId)).toBe(false);
    // the action's record was not written again
    expect(await deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'DeterminingResult', resultReason: 'ScriptSucceeded' });
  });

  it("records a staged Windows action from its runPowerShellScript step, not the skipped Linux step's Success", async () => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    const staged = { path: 'https://out.s3.eu-west-1.amazonaws.com/staged-scripts/nightshift-0123456789abcdef0123456789abcdef.ps1' };
    ssm
      .on(GetCommandInvocationCommand, { CommandId: commandId })
      .rejects(new InvalidPluginName({ message: 'name the plugin', $metadata: {} }))
      .on(GetCommandInvocationCommand, { CommandId: commandId, PluginName: 'runShellScript' })
      .resolves(invocation('Action#001', sessionId, 'Success', 'Success', { ResponseCode: 0, StandardOutputContent: 'Step execution skipped due to unsatisfied preconditions' }))
      .on(GetCommandInvocationCommand, { CommandId: commandId, PluginName: 'runPowerShellScript' })
      .resolves(invocation('Action#001', sessionId, 'Failed', 'Failed', { ResponseCode: 1603, StandardOutputContent: 'NIGHTSHIFT-RESULT n1 1603 5 1\n' }))
      .on(ListCommandsCommand, { CommandId: commandId })
      .resolves({ Commands: [{ CommandId: commandId, DocumentName: 'AWS-RunRemoteScript', Parameters: { sourceInfo: [JSON.stringify(staged)] } }] });
    expect(await completeCommand(deps, { commandId, agentId })).toBe('completed');
    expect(await deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Failed', exitCode: 1603 });
  });

  it('completes a detection whose full output could not be read (its upload failed): the inline part is recorded, the step is told', async () => {
    const { sessionId, commandId } = await waitingCommand('Detect');
    // the computer could not upload its output, so the records (printed last) are past the 24,000 inline characters
    ssm.on(GetCommandInvocationCommand).resolves(
      invocation('Detect', sessionId, 'Success', 'Success', { ResponseCode: 0, StandardOutputContent: 'x'.repeat(24_000), StandardOutputUrl: 'https://s3.eu-west-1.amazonaws.com/out/commands/c/stdout' }),
    );
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    expect(await completeCommand(deps, { commandId, agentId })).toBe('completed');
    expect((await deps.sessions.getDetection(sessionId, 'Initial'))?.items).toEqual({
      'software:app': { state: 'Undetermined', reason: 'the detection output was cut off before this item reported' },
    });
    expect(workflow.calls).toEqual([{ token: `token-${counter}`, outcome: 'success', detail: expect.objectContaining({ key: 'Detect', status: 'Success' }) as unknown }]);
  });

  it('records an action whose full output is missing from S3 with the inline part and the note in its output', async () => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    ssm.on(GetCommandInvocationCommand).resolves(
      invocation('Action#001', sessionId, 'Failed', 'Failed', { ResponseCode: 2, StandardOutputContent: 'y'.repeat(24_000), StandardOutputUrl: 'https://s3.eu-west-1.amazonaws.com/out/commands/c/stdout' }),
    );
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    expect(await completeCommand(deps, { commandId, agentId })).toBe('completed');
    const action = await deps.sessions.getAction(sessionId, '001');
    expect(action).toMatchObject({ status: 'Complete', result: 'Failed', exitCode: 2 });
    expect(action?.outputTail).toMatch(/\[output truncated by SSM at 24,000 characters; the full output could not be read from s3:\/\/out\/commands\/c\/stdout: NoSuchKey\]$/);
  });

  it('asks for a retry when SSM throttles, changing nothing', async () => {
    const { sessionId, commandId } = await waitingCommand('Action#001');
    ssm.on(GetCommandInvocationCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }));
    await expect(completeCommand(deps, { commandId, agentId })).rejects.toBeInstanceOf(TransientError);
    expect((await deps.sessions.getAction(sessionId, '001'))?.status).toBe('PerformingAction');
    expect(workflow.calls).toEqual([]);
  });

  it('stages a script too large to send inline in S3 and runs it with AWS-RunRemoteScript', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-big' } });
    s3.on(PutObjectCommand).resolves({});
    const script = `echo start\n${'# filler\n'.repeat(200)}`;
    await deps.agent.send({ agentId, platform: 'linux', script, comment: 'c', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Bucket).toBe('out');
    expect(put?.Key).toMatch(/^staged-scripts\/nightshift-[0-9a-f]{32}\.sh$/);
    expect(put?.Body).toBe(script);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'AWS-RunRemoteScript',
      Parameters: {
        sourceType: ['S3'],
        sourceInfo: [JSON.stringify({ path: `https://out.s3.eu-west-1.amazonaws.com/${put?.Key ?? ''}` })],
        commandLine: [`bash ${put?.Key?.replace('staged-scripts/', '') ?? ''}`],
        executionTimeout: ['60'],
      },
    });
  });

  it('cancels an in-flight command, and treats one that already ended as nothing to do', async () => {
    ssm.on(CancelCommandCommand).resolvesOnce({}).rejectsOnce(Object.assign(new Error('gone'), { name: 'InvalidCommandId' }));
    await deps.agent.cancel('cmd-1', agentId);
    await deps.agent.cancel('cmd-1', agentId);
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1', InstanceIds: [agentId] });
  });
});
