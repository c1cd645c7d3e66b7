import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../core/errors.js';
import type { WorkflowPort } from '../core/ports/workflow.port.js';
import { translateAwsError } from './aws-errors.js';

/** A token that no longer waits: the step timed out, was retried with a new token, or was answered already. */
const isGoneToken = (error: unknown): boolean =>
  error instanceof TaskDoesNotExist || error instanceof TaskTimedOut || error instanceof InvalidToken;

/** Clock skew between this function and Step Functions that still counts as "started by this call". */
const EARLIER_START_TOLERANCE_MS = 5_000;

export class StepFunctionsWorkflow implements WorkflowPort {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string | undefined,
  ) {}

  async startSession(sessionId: string): Promise<{ alreadyRunning: boolean }> {
    if (!this.stateMachineArn) throw new ConfigurationError('STATE_MACHINE_ARN is not set for this function');
    try {
      // The execution name is the session id: Step Functions refuses a second execution with the same name,
      // except that a start with the same name and input while the first still runs is answered as a success,
      // with the first one's start date. A start date from before this call means it was already running.
      const calledAtMs = Date.now();
      const started = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: sessionId,
          input: JSON.stringify({ sessionId }),
        }),
      );
      const startedAtMs = started.startDate?.getTime();
      return { alreadyRunning: startedAtMs !== undefined && startedAtMs < calledAtMs - EARLIER_START_TOLERANCE_MS };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return { alreadyRunning: true };
      throw translateAwsError(error, `starting session ${sessionId}`);
    }
  }

  async completeTask(taskToken: string, output: unknown): Promise<boolean> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      return true;
    } catch (error) {
      if (isGoneToken(error)) return false;
      throw translateAwsError(error, 'completing a workflow step');
    }
  }

  async failTask(taskToken: string, errorName: string, cause: string): Promise<boolean> {
    try {
      await this.client.send(new SendTaskFailureCommand({ taskToken, error: errorName, cause: cause.slice(0, 32_000) }));
      return true;
    } catch (error) {
      if (isGoneToken(error)) return false;
      throw translateAwsError(error, 'failing a workflow step');
    }
  }
}
