import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaRunWork } from '../../functions/adapters/run-work.lambda.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';

const lambda = mockClient(LambdaClient);
const worker = new LambdaRunWork(new LambdaClient({ region: 'eu-west-1' }), 'nightshift-advance-runs');

describe('run work as an asynchronous Lambda invocation (SDK mocked: no local twin for the Invoke API)', () => {
  beforeEach(() => lambda.reset());

  it('queues one event for the run worker and waits only for Lambda to take it (InvocationType Event, 202)', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await worker.request('run_0001');
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'nightshift-advance-runs', InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({ runId: 'run_0001' });
  });

  it('reports a throttled invocation, or one Lambda did not queue, as transient: the caller leaves the run to the minute controller', async () => {
    lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
    await expect(worker.request('run_0001')).rejects.toBeInstanceOf(TransientError);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(worker.request('run_0001')).rejects.toThrow(/did not take run run_0001 \(status 200\)/);
  });

  it('names the missing setting for a function not given the worker, without calling Lambda', async () => {
    await expect(new LambdaRunWork(new LambdaClient({ region: 'eu-west-1' }), undefined).request('run_0001')).rejects.toBeInstanceOf(ConfigurationError);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });
});
