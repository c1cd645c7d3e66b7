import { ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { billedTransitions, executionArnOf, StepFunctionsWorkflow } from '../../functions/adapters/workflow.sfn.js';

const sfn = mockClient(SFNClient);
const STATE_MACHINE = 'arn:aws:states:eu-west-1:111111111111:stateMachine:nightshift-sessions';
const workflow = new StepFunctionsWorkflow(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

const events = (...types: string[]): HistoryEvent[] => types.map((type, index) => ({ id: index + 1, type, timestamp: new Date(0) }) as HistoryEvent);

/** A session's history in short: Prepare (Lambda ARN, retried once), a Choice, Detect (waitForTaskToken), a Map of two actions, Succeed. */
const SESSION_HISTORY = events(
  'ExecutionStarted',
  'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed',
  'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited',
  'ChoiceStateEntered', 'ChoiceStateExited',
  'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited',
  'MapStateEntered', 'MapStateStarted',
  'MapIterationStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded',
  'MapIterationStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded',
  'MapStateSucceeded', 'MapStateExited',
  'SucceedStateEntered', 'SucceedStateExited',
  'ExecutionSucceeded',
);

describe('the state transitions Step Functions bills, from an execution history', () => {
  beforeEach(() => sfn.reset());

  it('counts every state entered, inside Map iterations too, and every retry of a step', () => {
    // entered: Task, Choice, Task, Map, Task, Task, Succeed = 7; Prepare's second attempt is a retry: 8
    expect(billedTransitions(SESSION_HISTORY)).toBe(8);
    expect(billedTransitions(events('ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'FailStateEntered', 'ExecutionFailed'))).toBe(2);
  });

  it('reads the whole history, page after page, without execution data, from the execution named after the session', async () => {
    const [first, second] = [SESSION_HISTORY.slice(0, 20), SESSION_HISTORY.slice(20)];
    sfn.on(GetExecutionHistoryCommand).resolvesOnce({ events: first, nextToken: 'page-2' }).resolvesOnce({ events: second });
    expect(await workflow.countStateTransitions('ses_1')).toBe(8);
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(sfn).toHaveReceivedNthCommandWith(GetExecutionHistoryCommand, 1, {
      executionArn: 'arn:aws:states:eu-west-1:111111111111:execution:nightshift-sessions:ses_1',
      includeExecutionData: false,
      maxResults: 1_000,
    });
    expect(sfn).toHaveReceivedNthCommandWith(GetExecutionHistoryCommand, 2, { nextToken: 'page-2' });
  });

  it('answers unknown for an execution Step Functions no longer keeps', async () => {
    sfn.on(GetExecutionHistoryCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    expect(await workflow.countStateTransitions('ses_old')).toBeUndefined();
  });

  it("names an execution within its state machine's partition, Region and account", () => {
    expect(executionArnOf('arn:aws-cn:states:cn-north-1:222222222222:stateMachine:m', 'ses_9')).toBe('arn:aws-cn:states:cn-north-1:222222222222:execution:m:ses_9');
    expect(() => executionArnOf('arn:aws:lambda:eu-west-1:1:function:f', 'x')).toThrow(/not a state machine ARN/);
  });
});
