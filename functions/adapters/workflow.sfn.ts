import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  paginateGetExecutionHistory,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../core/errors.js';
import type { WorkflowPort } from '../core/ports/workflow.port.js';
import { translateAwsError } from './aws-errors.js';

/** A token that no longer waits: the step timed out, was retried with a new token, or was answered already. */
const isGoneToken = (error: unknown): boolean =>
  error instanceof TaskDoesNotExist || error instanceof TaskTimedOut || error instanceof InvalidToken;

/** History events that schedule one attempt of a Task state's work: more than one per entry of the state is a retry. */
const ATTEMPT_EVENTS: ReadonlySet<string> = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);

/**
 * The state transitions Step Functions bills for an execution, from its
 * history: every `…StateEntered` event (Choice, Pass, Map, Task, Succeed,
 * Fail; inside Map iterations too), plus every retry ("each retry will be
 * charged as an additional state transition", the pricing page). A retry has
 * no event of its own: it shows as one more attempt scheduled
 * (`LambdaFunctionScheduled`, `TaskScheduled`) within the same Task state
 * entry, so retries are the attempts beyond one per Task state entered.
 */
export function billedTransitions(events: Iterable<Pick<HistoryEvent, 'type'>>): number {
  let entered = 0;
  let tasksEntered = 0;
  let attempts = 0;
  for (const { type } of events) {
    if (type === undefined) continue;
    if (type.endsWith('StateEntered')) entered++;
    if (type === 'TaskStateEntered') tasksEntered++;
    if (ATTEMPT_EVENTS.has(type)) attempts++;
  }
  return entered + Math.max(0, attempts - tasksEntered);
}

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

  /**
   * Reads the execution's whole history (1,000 events a page, without the
   * states' input and output) and counts what it was billed. A session's
   * history is a page or two; an execution Step Functions no longer keeps
   * (90 days after it closed) is unknown.
   */
  async countStateTransitions(executionName: string): Promise<number | undefined> {
    if (!this.stateMachineArn) throw new ConfigurationError('STATE_MACHINE_ARN is not set for this function');
    const executionArn = executionArnOf(this.stateMachineArn, executionName);
    const events: HistoryEvent[] = [];
    try {
      for await (const page of paginateGetExecutionHistory({ client: this.client, pageSize: 1_000 }, { executionArn, includeExecutionData: false })) {
        events.push(...(page.events ?? []));
      }
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw translateAwsError(error, `reading the history of session ${executionName}`);
    }
    return billedTransitions(events);
  }
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>` → `…:execution:<name>:<executionName>`. */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') throw new ConfigurationError(`STATE_MACHINE_ARN is not a state machine ARN: ${stateMachineArn}`);
  parts[5] = 'execution';
  return `${parts.join(':')}:${executionName}`;
}
