import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ConfigurationError, TransientError } from '../core/errors.js';
import type { RunWorkPort } from '../core/ports/run-work.port.js';
import { translateAwsError } from './aws-errors.js';

/** What the run worker is invoked with: one run to step (the same shape the local runtime passes). */
export interface RunWorkEvent {
  readonly runId: string;
}

/**
 * Run work as an asynchronous invocation of the `advance-runs` function:
 * Lambda queues the event, answers 202 at once, and retries a failed step
 * twice before its dead-letter queue. The caller waits only for the queueing.
 */
export class LambdaRunWork implements RunWorkPort {
  constructor(
    private readonly client: LambdaClient,
    /** The worker's name or ARN; absent for a function not given the run worker (the registry's `runWork:request`). */
    private readonly functionName: string | undefined,
  ) {}

  async request(runId: string): Promise<void> {
    if (this.functionName === undefined) throw new ConfigurationError('RUN_WORKER_FUNCTION is not set: declare runWork:request for this handler in functions/handlers/registry.ts');
    const event: RunWorkEvent = { runId };
    let statusCode: number | undefined;
    try {
      statusCode = (await this.client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }))).StatusCode;
    } catch (error) {
      throw translateAwsError(error, `asking the run worker to step run ${runId}`);
    }
    // 202 is Lambda's "queued"; anything else means the event is not on its way
    if (statusCode !== 202) throw new TransientError(`the run worker did not take run ${runId} (status ${String(statusCode)})`);
  }
}
