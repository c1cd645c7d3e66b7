import './polyfills.js';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import type { WorkflowPort } from '../functions/core/ports/workflow.port.js';
import { TransientError } from '../functions/core/errors.js';
import type { LambdaHandler } from '../functions/handlers/handler-kit.js';
import { fakeLambdaContext } from './lambda-context.js';

/** The Lambda integrations the session ASL uses; anything else in a Task state is a mistake the local runtime reports. */
const WAIT_FOR_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const LAMBDA_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9-_]+)$/;

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type TaskOverride = TaskHandlers[string];
/** The library's JSON value type (it does not export it by name). */
type Json = Parameters<TaskOverride>[0];
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: unknown };
  readonly Retry?: readonly unknown[];
  readonly ItemProcessor?: { readonly States: Readonly<Record<string, AslState>> };
  readonly Iterator?: { readonly States: Readonly<Record<string, AslState>> };
}

interface AslDefinition {
  readonly States: Readonly<Record<string, AslState>>;
}

export interface WorkflowEvent {
  readonly executionName: string;
  readonly type: EventLog['type'];
  readonly stateName?: string;
  readonly stateType?: string;
  readonly mapIndex?: number;
  readonly error?: string;
  readonly cause?: string;
  readonly timestampMs: number;
}

interface Execution {
  readonly name: string;
  readonly result: Promise<Json>;
  /** Settles once the event log has been read to its end and the end has been told. */
  followed?: Promise<void>;
  /** Settles once the event log has been read to its end: the transition count is final. */
  logRead?: Promise<void>;
  /** What Step Functions bills: every state entered, and every retry of a step. */
  stateTransitions: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** Stops the run where it stands (the runtime closing): no further state is entered. */
  readonly abort: () => void;
}

/** Replaces every `${Name}` in the ASL text, and refuses to run with a placeholder left unreplaced. */
export function applySubstitutions(aslText: string, substitutions: Readonly<Record<string, string>>): string {
  const replaced = aslText.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => substitutions[name] ?? whole);
  const missing = /\$\{([A-Za-z0-9_]+)\}/.exec(replaced);
  if (missing) throw new Error(`no substitution for \${${missing[1]}} in the state machine definition`);
  return replaced;
}

interface NestedStates<S> {
  readonly Type: string;
  readonly ItemProcessor?: { readonly States: Readonly<Record<string, S>> };
  readonly Iterator?: { readonly States: Readonly<Record<string, S>> };
}

/** Every Task state, including those inside Map bodies, by name. */
export function taskStates<S extends NestedStates<S>>(definition: { readonly States: Readonly<Record<string, S>> }): Map<string, S> {
  const tasks = new Map<string, S>();
  const visit = (states: Readonly<Record<string, S>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') tasks.set(name, state);
      const body = state.ItemProcessor ?? state.Iterator;
      if (body) visit(body.States);
    }
  };
  visit(definition.States);
  return tasks;
}

/** The function a Task state invokes: its Resource, or `Parameters.FunctionName` for the integration resource. */
function functionNameOf(stateName: string, state: AslState): string {
  const arn = state.Resource === WAIT_FOR_TOKEN_RESOURCE ? String(state.Parameters?.FunctionName) : (state.Resource ?? '');
  const match = LAMBDA_ARN.exec(arn);
  if (!match?.[1]) throw new Error(`state ${stateName} invokes ${arn}, which is not a Lambda function ARN`);
  return match[1];
}

/** Finds the task token the state put in its payload, wherever the ASL placed it. */
function findToken(value: unknown, pending: ReadonlyMap<string, unknown>): string | undefined {
  if (typeof value === 'string') return pending.has(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const element of value) {
      const token = findToken(element, pending);
      if (token) return token;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const element of Object.values(value)) {
      const token = findToken(element, pending);
      if (token) return token;
    }
  }
  return undefined;
}

/** A failure with the error name Step Functions would route on. */
class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export interface LocalWorkflowOptions {
  /** The ASL text with `${…}` placeholders, exactly as deployed. */
  readonly aslText: string;
  /** Lambda handlers by function name (the last part of the ARN the substitutions produce). */
  readonly functions: ReadonlyMap<string, LambdaHandler<unknown, unknown>>;
  /** Placeholder → local Lambda ARN, the local twin of CDK's `definitionSubstitutions`. */
  readonly substitutions: Readonly<Record<string, string>>;
  /** Pause before a retry, instead of the ASL's backoff (tests use 0 to stay fast). */
  readonly retryIntervalMs?: number;
  /**
   * Told when an execution fails, as EventBridge's Execution Status Change
   * event tells the `execution-ended` handler in AWS. Settles before `waitFor` does.
   */
  readonly onExecutionFailed?: (executionName: string, error: { error: string; cause: string }) => Promise<unknown>;
  /**
   * Told when an execution ends, whatever its status (the twin of the rule on
   * every Execution Status Change: a session's cost is closed when it ends).
   * Called instead of `onExecutionFailed` when both are given. Settles before `waitFor` does.
   */
  readonly onExecutionEnded?: (executionName: string, status: 'SUCCEEDED' | 'FAILED', error?: { error: string; cause: string }) => Promise<unknown>;
}

/**
 * The workflow port on aws-local-stepfunctions, running the deployed ASL.
 *
 * Task states are overridden by name, as that library requires, but the
 * override is derived from the state's own Resource: a Lambda ARN invokes
 * that handler with the state's input; `lambda:invoke.waitForTaskToken`
 * invokes `Parameters.FunctionName` with `Parameters.Payload`, then waits for
 * the token it generated to be completed through this port, as Step
 * Functions does. `$$.Task.Token` is supplied through the context object.
 */
export class LocalWorkflow implements WorkflowPort {
  readonly events = new EventEmitter<{ event: [WorkflowEvent] }>();
  private readonly stateMachine: StateMachine;
  private readonly overrides: Record<string, TaskOverride> = {};
  private readonly retryOverrides: Record<string, number> = {};
  private readonly pendingTokens = new Map<string, Deferred<Json>>();
  private readonly executions = new Map<string, Execution>();
  /** Set by `close`: executions stopped then are left for the next runtime to resume, not told ended. */
  private closing = false;

  constructor(private readonly options: LocalWorkflowOptions) {
    const definition = JSON.parse(applySubstitutions(options.aslText, options.substitutions)) as AslDefinition;
    this.stateMachine = new StateMachine(definition as ConstructorParameters<typeof StateMachine>[0], {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    for (const [name, state] of taskStates(definition)) {
      this.overrides[name] = this.overrideFor(name, state);
      if (state.Retry && options.retryIntervalMs !== undefined) this.retryOverrides[name] = options.retryIntervalMs;
    }
  }

  /** The local function each Task state invokes, for the fidelity test. */
  functionNamesByState(): Record<string, string> {
    const definition = JSON.parse(applySubstitutions(this.options.aslText, this.options.substitutions)) as AslDefinition;
    const names: Record<string, string> = {};
    for (const [name, state] of taskStates(definition)) names[name] = functionNameOf(name, state);
    return names;
  }

  private overrideFor(stateName: string, state: AslState): TaskOverride {
    if (state.Resource !== WAIT_FOR_TOKEN_RESOURCE && !LAMBDA_ARN.test(state.Resource ?? '')) {
      throw new Error(`state ${stateName} uses ${state.Resource}, which the local runtime does not emulate`);
    }
    const functionName = functionNameOf(stateName, state);
    return async (input) => {
      const handler = this.options.functions.get(functionName);
      if (!handler) throw new Error(`state ${stateName} invokes ${functionName}, which the local runtime has not registered`);
      if (state.Resource !== WAIT_FOR_TOKEN_RESOURCE) return roundTrip(await handler(roundTrip(input), fakeLambdaContext(functionName)));

      const payload: unknown = input && typeof input === 'object' && 'Payload' in input ? input.Payload : undefined;
      const token = findToken(payload, this.pendingTokens);
      const waiter = token ? this.pendingTokens.get(token) : undefined;
      if (!token || !waiter) throw new Error(`state ${stateName} did not pass $$.Task.Token to ${functionName}`);
      try {
        await handler(roundTrip(payload), fakeLambdaContext(functionName));
        return await waiter.promise;
      } finally {
        this.pendingTokens.delete(token);
      }
    };
  }

  private newToken(): string {
    const token = `local-token-${randomUUID()}`;
    this.pendingTokens.set(token, deferred<Json>());
    return token;
  }

  startSession(sessionId: string): Promise<{ alreadyRunning: boolean }> {
    if (this.executions.has(sessionId)) return Promise.resolve({ alreadyRunning: true });
    // refused like a throttled StartExecution: the session stays Created, for the sweeper or the next runtime's resume
    if (this.closing) return Promise.reject(new TransientError(`the local runtime is closing; session ${sessionId} starts when it runs again`));
    const newToken = () => this.newToken();
    // a getter, so every evaluation of $$.Task.Token (every attempt of every step) gets a fresh token
    const tokens = {
      get Token() {
        return newToken();
      },
    };
    const run = this.stateMachine.run(
      { sessionId },
      {
        overrides: { taskResourceLocalHandlers: this.overrides, retryIntervalOverrides: this.retryOverrides },
        context: { Execution: { Id: `local:${sessionId}`, Name: sessionId }, Task: tokens },
      },
    );
    const execution: Execution = { name: sessionId, result: run.result, stateTransitions: 0, status: 'RUNNING', abort: run.abort };
    this.executions.set(sessionId, execution);
    const settled = run.result.then(
      async () => {
        execution.status = 'SUCCEEDED';
        await this.options.onExecutionEnded?.(sessionId, 'SUCCEEDED').catch(() => undefined);
      },
      async (error: unknown) => {
        // stopped by close: the session did not fail, it is carried on by the next runtime (resumeUnfinishedSessions)
        if (this.closing) return;
        execution.status = 'FAILED';
        const failure = error instanceof Error ? { error: error.name, cause: error.message } : { error: 'ExecutionFailed', cause: String(error) };
        const told = this.options.onExecutionEnded ? this.options.onExecutionEnded(sessionId, 'FAILED', failure) : this.options.onExecutionFailed?.(sessionId, failure);
        await told?.catch(() => undefined);
      },
    );
    execution.logRead = this.follow(execution, run.eventLogs);
    execution.followed = Promise.all([execution.logRead, settled]).then(() => undefined);
    return Promise.resolve({ alreadyRunning: false });
  }

  private async follow(execution: Execution, logs: AsyncGenerator<EventLog>): Promise<void> {
    for await (const log of logs) {
      // Step Functions bills a retry as one more transition ("each retry will be charged as an additional state transition")
      if (log.type === 'StateEntered' || log.type === 'StateRetried') execution.stateTransitions++;
      const state = 'state' in log ? log.state : undefined;
      this.events.emit('event', {
        executionName: execution.name,
        type: log.type,
        ...(state ? { stateName: state.name, stateType: state.type } : {}),
        ...('index' in log && typeof log.index === 'number' ? { mapIndex: log.index } : {}),
        ...('Error' in log ? { error: log.Error } : {}),
        ...('Cause' in log ? { cause: String(log.Cause) } : {}),
        timestampMs: log.timestamp,
      });
    }
  }

  completeTask(taskToken: string, output: unknown): Promise<boolean> {
    const waiter = this.pendingTokens.get(taskToken);
    if (!waiter) return Promise.resolve(false);
    this.pendingTokens.delete(taskToken);
    waiter.resolve(roundTrip(output));
    return Promise.resolve(true);
  }

  failTask(taskToken: string, errorName: string, cause: string): Promise<boolean> {
    const waiter = this.pendingTokens.get(taskToken);
    if (!waiter) return Promise.resolve(false);
    this.pendingTokens.delete(taskToken);
    waiter.reject(new TaskFailure(errorName, cause));
    return Promise.resolve(true);
  }

  /** Resolves when the execution ends, with its final status and transition count. */
  async waitFor(executionName: string): Promise<{ status: 'SUCCEEDED' | 'FAILED'; stateTransitions: number }> {
    const execution = this.executions.get(executionName);
    if (!execution) throw new Error(`no execution named ${executionName}`);
    await execution.result.catch(() => undefined);
    await execution.followed;
    return { status: execution.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED', stateTransitions: execution.stateTransitions };
  }

  /**
   * The execution's billed transitions, once its event log has been read to
   * the end (the end is told while the log is still being read, so this waits
   * for it). Unknown after a restart: the count lives in this process only.
   */
  async countStateTransitions(executionName: string): Promise<number | undefined> {
    const execution = this.executions.get(executionName);
    if (!execution) return undefined;
    // an ended execution's log is read to its end first; a running one answers what it has entered so far, as
    // GetExecutionHistory does (an execution AWS stopped while this twin still runs it: a test's simulated event)
    if (execution.status !== 'RUNNING') await execution.logRead;
    return execution.stateTransitions;
  }

  executionNames(): string[] {
    return [...this.executions.keys()];
  }

  /**
   * Stops every running execution where it stands and waits until each has
   * stopped, as a killed process would leave them but without their steps
   * writing to a store that is closing: a step under way finishes (the
   * runtime waits for its invocation), no later state begins. Their sessions
   * stay as recorded, for the next runtime on the same data to resume.
   */
  async close(): Promise<void> {
    this.closing = true;
    const running = [...this.executions.values()].filter((execution) => execution.status === 'RUNNING');
    for (const execution of running) execution.abort();
    await Promise.allSettled(running.flatMap((execution) => (execution.followed ? [execution.followed] : [])));
  }
}

/** Step Functions passes JSON text between states; so does the local twin, so nothing but JSON survives. */
function roundTrip(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}
