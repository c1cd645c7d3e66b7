import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDocumentClient, createDynamoClient, createSesClient } from '../functions/adapters/aws-clients.js';
import { createHmacLinkTokens } from '../functions/adapters/link-tokens.hmac.js';
import { createSesMailer } from '../functions/adapters/mailer.sesv2.js';
import { DynamoTable } from '../functions/adapters/dynamodb-table.js';
import { createDependencies, restrictToDeclaredPorts } from '../functions/adapters/dependencies.js';
import { parseCommandComment } from '../functions/core/model/agent.js';
import { concurrentInvocations, PowertoolsLogger } from '../functions/adapters/logger.powertools.js';
import { InMemoryMetrics } from '../functions/adapters/metrics.memory.js';
import { attachUsageSink, usageSinkOf } from '../functions/adapters/usage-meter.js';
import { systemClock } from '../functions/adapters/system.js';
import type { Clock, IdGenerator } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { AgentSettings, Dependencies } from '../functions/core/use-cases/dependencies.js';
import type { Action, Session, SessionOptions } from '../functions/core/model/session.js';
import { isErrorEnvelope, type DependencyProvider, type ErrorEnvelope, type LambdaHandler } from '../functions/handlers/handler-kit.js';
import { HANDLERS, SCHEDULED_RULES, type PortAccess } from '../functions/handlers/registry.js';
import { SandboxManagedNodeInventory } from './inventory.local.js';
import { ensureTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { RetentionSweep } from './retention-sweep.js';
import { DeferredUsageSink } from './deferred-usage-sink.js';
import { fakeLambdaContext } from './lambda-context.js';
import type { StartPacing } from '../functions/adapters/paced-workflow.js';
import { LocalEventBus } from './local-events.js';
import { LocalRunWork } from './local-run-work.js';
import { LocalScheduleTriggers } from './schedule-triggers.js';
import { LocalTimers } from './local-timers.js';
import { LocalScheduledRules } from './scheduled-rules.js';
import { LocalWorkflow } from './local-workflow.js';
import { resumeUnfinishedSessions } from './resume.js';
import { SandboxAgent, type SandboxCommandRecord } from './sandbox-agent.js';
import { LocalSecretStore } from './secret-store.local.js';
import { localKeyRing } from './link-keys.local.js';
import { SimulatedMailEvents } from './mail-simulator.js';
import { startMailbox, type LocalMailbox } from './mailbox.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SESSION_ASL_PATH = path.join(REPO_ROOT, 'statemachines', 'session.asl.json');
const TABLE_NAME = 'nightshift-local';

/** Local function names and ARNs: the local twin of the CDK stack's functions and `definitionSubstitutions`. */
export const localFunctionName = (handlerName: string): string => `nightshift-${handlerName}`;
export const localSubstitutions = (): Record<string, string> => ({
  // the stack's is the deployment's partition (aws-us-gov, aws-cn, …); locally it is always `aws`
  Partition: 'aws',
  ...Object.fromEntries(
    HANDLERS.flatMap((entry) =>
      entry.substitution
        ? [[entry.substitution, `arn:aws:lambda:us-east-1:000000000000:function:${localFunctionName(entry.name)}`]]
        : [],
    ),
  ),
});

/**
 * Lambda's own timeout, locally: Step Functions sees `Sandbox.Timedout` when a
 * function runs past its timeout, so the ASL's Retry and Catch meet the same
 * name in both runtimes. Lambda stops the function there; locally its promise
 * is only abandoned, so what it does after the timeout still happens.
 */
export class LambdaTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';

  constructor(functionName: string, timeoutSeconds: number) {
    super(`${functionName}: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
  }
}

/** An invocation that runs longer than `timeoutSeconds` fails the way Lambda fails it; its context tells the handler the same deadline. */
function withLambdaTimeout(functionName: string, handler: LambdaHandler<unknown, unknown>, timeoutSeconds: number): LambdaHandler<unknown, unknown> {
  const timeoutMs = timeoutSeconds * 1000;
  return (event) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new LambdaTimeoutError(functionName, timeoutSeconds));
      }, timeoutMs);
      // a handler frozen by a test must not keep the process alive for its timeout
      timer.unref();
      handler(event, fakeLambdaContext(functionName, timeoutMs))
        .then(resolve, reject)
        .finally(() => {
          clearTimeout(timer);
        });
    });
}

/** An operator handler's refusal, thrown for in-process callers; `code` is the envelope's. */
export class LocalRefusal extends Error {
  override readonly name = 'LocalRefusal';
  readonly code: ErrorEnvelope['error']['code'];
  readonly field: string | undefined;

  constructor(envelope: ErrorEnvelope) {
    super(envelope.error.message);
    this.code = envelope.error.code;
    this.field = envelope.error.field;
  }
}

export interface LocalRuntimeOptions {
  /** Keeps DynamoDB data and machine folders here across runs; a fresh temporary folder when absent. */
  readonly dataDir?: string;
  /** Where the local SES (aws-ses-v2-local) listens; 0 (the default) takes any free port. */
  readonly mailboxPort?: number;
  /** Where end-user links point until the local server says where it serves them. */
  readonly linkBaseUrl?: string;
  /** How session executions are started (the pacer in front of the workflow); tests shorten its retries. */
  readonly startPacing?: StartPacing;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly agentSettings?: Partial<AgentSettings>;
  /** Days before a session's records expire (DynamoDB TTL in AWS). Default: the same as a deployment's. */
  readonly retentionDays?: number;
  /** Replaces the registry's `timeoutSeconds` of the named handlers (a test shortens one to see it enforced). */
  readonly handlerTimeoutSeconds?: Readonly<Record<string, number>>;
  /** Replaces the ports the named handlers declare (a test takes one away to see the handler fail as IAM would deny it). */
  readonly handlerPorts?: Readonly<Record<string, readonly PortAccess[]>>;
  /** Pause before a Retry in the ASL; tests use 0. */
  readonly retryIntervalMs?: number;
  /** Where structured logs go: a file path, or `false` for none. Default: `<dataDir>/logs/nightshift.log`. */
  readonly logFile?: string | false;
  /** Lets a test wrap a handler (fault injection) without touching the handler itself. */
  readonly wrapHandler?: (name: string, handler: LambdaHandler<unknown, unknown>) => LambdaHandler<unknown, unknown>;
  readonly onAgentActivity?: (record: SandboxCommandRecord, phase: 'started' | 'finished') => void;
  /** Simulates lost SSM status events (the reconciler's reason to exist). */
  readonly loseAgentEvent?: (record: SandboxCommandRecord) => boolean;
  /** How often the sandbox agent looks at machines and deadlines. */
  readonly agentPollMs?: number;
  /**
   * Runs the stack's rate rules (reconciler, sweeper, run controller, secret
   * retirement, trigger reconcile) on the runtime clock from the start. Off by
   * default: tests invoke those handlers when they mean to, and `npm start`
   * turns them on (`scheduledRules.start()`) once its demo is done.
   */
  readonly scheduledRules?: boolean;
  /** How often window timers due on the runtime clock are looked for, in real milliseconds. */
  readonly timerPollMs?: number;
  /**
   * Carry on what a killed runtime left in `dataDir` (unfinished sessions, the
   * sandbox's commands) as soon as the runtime is up. Default: on whenever
   * `dataDir` is given.
   */
  readonly resume?: boolean;
}

export interface SessionOutcome {
  readonly session: Session;
  readonly actions: Action[];
  readonly stateTransitions: number;
  /** Commands the agent ran for this session: one batched detection, one per action, one verification. */
  readonly agentRoundTrips: number;
  readonly executionStatus: 'SUCCEEDED' | 'FAILED';
}

export interface LocalRuntime {
  readonly dataDir: string;
  readonly deps: Dependencies;
  /** What the handlers recorded (the Metrics port's in-memory twin of CloudWatch EMF): counts the demo and tests can read. */
  readonly metrics: InMemoryMetrics;
  readonly agent: SandboxAgent;
  readonly workflow: LocalWorkflow;
  readonly timers: LocalTimers;
  /** Run and session events as the event bus would carry them. */
  readonly events: LocalEventBus;
  /** The run worker's asynchronous steps: `idle()` resolves once every step asked for has ended. */
  readonly runWork: LocalRunWork;
  /** The schedules' triggers on the runtime clock (EventBridge Scheduler's twin). */
  readonly scheduleTriggers: LocalScheduleTriggers;
  /** The stack's rate rules on the runtime clock; started by `scheduledRules: true` or `start()`. */
  readonly scheduledRules: LocalScheduledRules;
  /** The sessions a killed runtime left unfinished, resumed at start. */
  readonly resumed: readonly string[];
  /** The local SES: every email the runtime sent, on a web page and through `messages()`. */
  readonly mailbox: LocalMailbox;
  /** SES's mailbox simulator and its sending events, handed to `mail-events`: `idle()` resolves once each one raised so far was handled. */
  readonly mailEvents: Pick<SimulatedMailEvents, 'idle'>;
  /** The local server serving the link pages tells the runtime where they are. */
  setLinkBaseUrl(url: string): void;
  /** The DynamoDB client every adapter shares: benches and tests add middleware to count table calls. */
  readonly dynamoClient: DynamoDBClient;
  /** The function names handlers are registered under (what Task states may invoke). */
  functionNames(): string[];
  /** Invokes a registered handler the way Lambda would. */
  invoke(handlerName: string, event: unknown): Promise<unknown>;
  /** The dependencies a handler is given: only the ports its registry entry declares (the local API server serves the `api` handler's app with them). */
  handlerDependencies(handlerName: string): Dependencies;
  startSession(computerId: string, sessionId?: string, options?: Partial<SessionOptions>): Promise<{ sessionId: string; created: boolean }>;
  waitForSession(sessionId: string): Promise<SessionOutcome>;
  /**
   * Writes the usage still held back (see deferred-usage-sink.ts), for a
   * reader of a cost right after an invocation. `waitForSession` and `close`
   * do it themselves.
   */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

function fileLogger(file: string | false): { logger: Logger; stream?: WriteStream } {
  if (file === false) return { logger: { info: () => undefined, warn: () => undefined, error: () => undefined } };
  const stream = createWriteStream(file, { flags: 'a' });
  return { logger: new PowertoolsLogger({ persistentKeys: { runtime: 'local' }, write: (line) => stream.write(`${line}\n`) }), stream };
}

/**
 * The embedded runtime: dynalite for DynamoDB, aws-local-stepfunctions for
 * the session ASL, the sandbox agent for SSM, and the unchanged handler
 * modules from `functions/handlers` behind all of them.
 */
export async function createLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  // Lambda runs Node 22; locally the SDK only talks to dynalite, so its Node 20 end-of-support notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'nightshift-')));
  await mkdir(path.join(dataDir, 'logs'), { recursive: true });

  const dynamo: LocalDynamo = await startDynalite(temporary ? undefined : path.join(dataDir, 'dynamodb'));
  const dynamoClient = createDynamoClient({
    endpoint: dynamo.endpoint,
    // SDK requests handed to dynalite's own handler without a socket, signed in form only: the same protocol, a fraction of the CPU
    requestHandler: dynamo.requestHandler,
    signer: dynamo.signer,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(dynamoClient, TABLE_NAME);
  const { logger, stream } = fileLogger(options.logFile ?? path.join(dataDir, 'logs', 'nightshift.log'));

  const handlers = new Map<string, LambdaHandler<unknown, unknown>>();
  // every handler invocation still running, so close waits for them: up to its Lambda timeout, where Lambda would stop it
  // (locally one that runs on past it is only abandoned)
  const invocations = new Set<Promise<unknown>>();
  const underWay = <T>(invocation: Promise<T>): Promise<T> => {
    invocations.add(invocation);
    invocation.then(
      () => invocations.delete(invocation),
      () => invocations.delete(invocation),
    );
    return invocation;
  };
  const invocationsEnded = async (): Promise<void> => {
    while (invocations.size > 0) await Promise.allSettled([...invocations]);
  };
  const invoke = async (handlerName: string, event: unknown): Promise<unknown> => {
    const handler = handlers.get(localFunctionName(handlerName));
    if (!handler) throw new Error(`no handler named ${handlerName}`);
    // the timeout wrapper hands the handler its own context, with its deadline
    return handler(event, fakeLambdaContext(localFunctionName(handlerName)));
  };

  const clock = options.clock ?? systemClock;
  const agent = new SandboxAgent({
    machinesDir: path.join(dataDir, 'machines'),
    onEvent: (event) => invoke('complete-command', event),
    clock,
    ...(options.onAgentActivity ? { onActivity: options.onAgentActivity } : {}),
    ...(options.loseAgentEvent ? { loseEvent: options.loseAgentEvent } : {}),
    ...(options.agentPollMs === undefined ? {} : { pollMs: options.agentPollMs }),
  });
  await agent.discover();

  const workflow = new LocalWorkflow({
    aslText: await readFile(SESSION_ASL_PATH, 'utf8'),
    functions: handlers,
    substitutions: localSubstitutions(),
    // the local twin of the Execution Status Change rule: every end closes the session's usage, a failed one also fails the session
    onExecutionEnded: (executionName, status, failure) =>
      invoke('execution-ended', { detail: { name: executionName, status, ...(failure ? { error: failure.error, cause: failure.cause } : {}) } }),
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
  });

  const timers = new LocalTimers({
    file: path.join(dataDir, 'timers.json'),
    clock,
    logger,
    ...(options.timerPollMs === undefined ? {} : { pollMs: options.timerPollMs }),
  });
  await timers.load();

  const scheduleTriggers = new LocalScheduleTriggers({
    file: path.join(dataDir, 'schedule-triggers.json'),
    clock,
    logger,
    ...(options.timerPollMs === undefined ? {} : { pollMs: options.timerPollMs }),
  });
  await scheduleTriggers.load();

  const metrics = new InMemoryMetrics();
  const events = new LocalEventBus(logger);
  // the run worker is the advance-runs handler, as the asynchronous invocation in AWS targets it
  const runWork = new LocalRunWork((event) => invoke('advance-runs', event), logger);
  const mailbox = await startMailbox({ port: options.mailboxPort ?? 0 });
  const sesClient = createSesClient({ endpoint: mailbox.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // the twin of the stack's mail-events rule: a simulator address's bounce or spam report reaches the same handler
  const mailEvents = new SimulatedMailEvents(createSesMailer(sesClient, {}), { deliver: (event) => invoke('mail-events', event), clock, logger });
  // the API server's URL is known once it listens: the settings read it when a link is made
  let linkBaseUrl = options.linkBaseUrl ?? '';
  const notify = {
    get linkBaseUrl(): string {
      return linkBaseUrl;
    },
  };
  // the one wiring both runtimes share; only what differs locally is passed in (see createCloudDependencies for AWS)
  const deps: Dependencies = createDependencies(
    {
      dynamo: dynamoClient,
      tableName: TABLE_NAME,
      agent,
      inventory: new SandboxManagedNodeInventory(agent),
      workflow,
      windowTimers: timers,
      scheduleTriggers,
      runWork,
      events,
      secrets: await LocalSecretStore.open(path.join(dataDir, 'secrets'), path.join(dataDir, 'machines')),
      mailer: mailEvents,
      // the cache follows the runtime clock, as key rotation would in Lambda
      linkKeys: createHmacLinkTokens(localKeyRing(dataDir), () => clock.now().getTime()),
      logger,
      metrics,
      clock,
      ...(options.ids ? { ids: options.ids } : {}),
    },
    {
      ...(options.agentSettings ? { agent: options.agentSettings } : {}),
      ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
      ...(options.startPacing === undefined ? {} : { startPacing: options.startPacing }),
      notify,
    },
  );
  // usage is written between steps, not in them: in Lambda it never delays the next step (see deferred-usage-sink.ts)
  const store = usageSinkOf(deps);
  const usage = store ? new DeferredUsageSink(store, logger) : undefined;
  if (usage) attachUsageSink(deps, usage);
  const inInvocation = concurrentInvocations();
  const dependenciesByHandler = new Map<string, Dependencies>();
  for (const entry of HANDLERS) {
    const module = (await import(pathToFileURL(path.join(REPO_ROOT, entry.entry)).href)) as {
      createHandler?: (provide: DependencyProvider) => LambdaHandler<unknown, unknown>;
    };
    if (typeof module.createHandler !== 'function') throw new Error(`${entry.entry} does not export createHandler`);
    // each handler sees only the ports its entry declares, as its IAM role in AWS allows only those
    const handlerDeps = restrictToDeclaredPorts(deps, { name: entry.name, ports: options.handlerPorts?.[entry.name] ?? entry.ports });
    dependenciesByHandler.set(entry.name, handlerDeps);
    const handler = module.createHandler(() => handlerDeps);
    const wrapped = options.wrapHandler ? options.wrapHandler(entry.name, handler) : handler;
    const functionName = localFunctionName(entry.name);
    // handlers run side by side in this one process: each invocation in its own context keeps its log keys its own
    const scoped: LambdaHandler<unknown, unknown> = (event, context) => inInvocation(context.awsRequestId, () => wrapped(event, context));
    const timed = withLambdaTimeout(functionName, scoped, options.handlerTimeoutSeconds?.[entry.name] ?? entry.timeoutSeconds);
    handlers.set(functionName, (event, context) => underWay(timed(event, context)));
  }

  // the local twin of DynamoDB TTL, which dynalite lacks: records past their retention go, on the runtime clock
  const retention = new RetentionSweep(new DynamoTable(createDocumentClient(dynamoClient), TABLE_NAME), clock, logger);
  retention.start();

  // the local twin of EventBridge Scheduler: due timers invoke the same handler the `at()` schedules target
  timers.start((sessionId) => invoke('window-timer', { sessionId }));
  // and of its recurring schedules: each occurrence invokes fire-schedule, as the Scheduler target does
  scheduleTriggers.start((event) => invoke('fire-schedule', event));

  // the local twin of the stack's rate rules: the same table, the same handlers, on the runtime clock
  const scheduledRules = new LocalScheduledRules({ rules: SCHEDULED_RULES, clock, logger, invoke: (name, event) => invoke(name, event) });
  if (options.scheduledRules) scheduledRules.start();

  // after a crash: workflows start again from their record, then the sandbox carries on its commands and
  // announces what finished while nobody listened (either order is safe; this one lets claims be taken over first)
  const resume = options.resume ?? !temporary;
  const resumed = resume ? await resumeUnfinishedSessions(deps, workflow) : [];
  if (resume) agent.resumeCommands();

  return {
    dataDir,
    resumed,
    deps,
    metrics,
    agent,
    workflow,
    timers,
    scheduleTriggers,
    scheduledRules,
    runWork,
    events,
    dynamoClient,
    mailbox,
    mailEvents,
    setLinkBaseUrl(url) {
      linkBaseUrl = url.replace(/\/+$/, '');
    },
    functionNames: () => [...handlers.keys()],
    invoke,
    handlerDependencies(handlerName) {
      const handlerDeps = dependenciesByHandler.get(handlerName);
      if (!handlerDeps) throw new Error(`no handler named ${handlerName}`);
      return handlerDeps;
    },
    async startSession(computerId, sessionId, sessionOptions) {
      const answer = await invoke('start-session', {
        computerId,
        ...(sessionId ? { sessionId } : {}),
        ...(sessionOptions ? { options: sessionOptions } : {}),
        by: { kind: 'Operator', name: 'local runtime' },
      });
      // the operator handler answers a refusal with an envelope; callers here want it thrown
      if (isErrorEnvelope(answer)) throw new LocalRefusal(answer);
      return answer as { sessionId: string; created: boolean };
    },
    async waitForSession(sessionId) {
      const { status, stateTransitions } = await workflow.waitFor(sessionId);
      // what its last steps used, for whoever reads the session's cost next
      await usage?.flush();
      const session = await deps.sessions.getSession(sessionId);
      if (!session) throw new Error(`session ${sessionId} vanished`);
      // every command the agent took for this session, those whose completion never came included
      const commands = agent.history(session.agentId).filter((record) => parseCommandComment(record.comment)?.sessionId === sessionId);
      return {
        session,
        actions: await deps.sessions.getActions(sessionId),
        stateTransitions,
        agentRoundTrips: commands.length,
        executionStatus: status,
      };
    },
    flushUsage: () => usage?.flush() ?? Promise.resolve(),
    async close() {
      await scheduledRules.stop();
      // no state begins after this; the steps under way finish before the store closes under them
      await workflow.close();
      await invocationsEnded();
      await runWork.idle();
      await retention.stop();
      await timers.close();
      await scheduleTriggers.close();
      await agent.idle();
      // what the last commands' completions and timers set going, and SES's reports on the last emails
      await invocationsEnded();
      await mailEvents.idle();
      await usage?.flush();
      await dynamo.close();
      dynamoClient.destroy();
      sesClient.destroy();
      await mailbox.close();
      await new Promise<void>((resolve) => (stream ? stream.end(resolve) : resolve()));
      // steps were stopped and waited for above; a file a sandbox script still writes as the folder goes would make one
      // pass find it not empty, so rm tries again rather than failing a test's teardown
      if (temporary) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}
