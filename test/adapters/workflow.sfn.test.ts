import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsWorkflow } from '../../functions/adapters/workflow.sfn.js';
import { ConfigurationError } from '../../functions/core/errors.js';

const sfn = mockClient(SFNClient);
const workflow = new StepFunctionsWorkflow(new SFNClient({ region: 'eu-west-1' }), 'arn:aws:states:eu-west-1:111111111111:stateMachine:x');

describe('the Step Functions workflow adapter (SDK mocked: no local twin for the API)', () => {
  beforeEach(() => sfn.reset());

  it('names the execution after the session, so a second start is recognised, not duplicated', async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'arn' }).rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await workflow.startSession('ses_1')).toEqual({ alreadyRunning: false });
    expect(await workflow.startSession('ses_1')).toEqual({ alreadyRunning: true });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: 'ses_1', input: '{"sessionId":"ses_1"}' });
  });

  it('recognises an execution already running under the same name and input (which Step Functions answers as a success)', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date(Date.now() - 10 * 60_000) });
    expect(await workflow.startSession('ses_2')).toEqual({ alreadyRunning: true });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    expect(await workflow.startSession('ses_3')).toEqual({ alreadyRunning: false });
  });

  it('reports a token that no longer waits as not delivered instead of failing', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'gone', $metadata: {} }));
    expect(await workflow.completeTask('token', { ok: true })).toBe(false);
    sfn.on(SendTaskFailureCommand).resolves({});
    expect(await workflow.failTask('token', 'AgentUnreachableError', 'offline')).toBe(true);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'AgentUnreachableError', cause: 'offline' });
  });

  it('refuses to start sessions from a function that was not given the state machine', async () => {
    await expect(new StepFunctionsWorkflow(new SFNClient({ region: 'eu-west-1' }), undefined).startSession('s')).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});
