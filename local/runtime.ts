import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDocumentClient, createDynamoClient } from '../functions/adapters/aws-clients.js';
import { DynamoCatalogStore } from '../functions/adapters/catalog-store.dynamodb.js';
import { DynamoTable } from '../functions/adapters/dynamodb-table.js';
import { createJsonLogger } from '../functions/adapters/logger.json.js';
import { DynamoSessionLog } from '../functions/adapters/session-log.dynamodb.js';
import { DynamoSessionStore } from '../functions/adapters/session-store.dynamodb.js';
import { randomIds, systemClock } from '../functions/adapters/system.js';
import type { Clock, IdGenerator } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { AgentSettings, Dependencies, LifecycleSettings } from '../functions/core/use-cases/dependencies.js';
import type { Action, Session, SessionOptions } from '../functions/core/model/session.js';
import type { DependencyProvider, LambdaHandler } from '../functions/handlers/handler-kit.js';
import { HANDLERS } from '../functions/handlers/registry.js';
import { ensureTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { fakeLambdaContext } from './lambda-context.js';
import { LocalWorkflow } from './local-workflow.js';
import { SandboxAgent, type SandboxCommandRecord } from './sandbox-agent.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SESSION_ASL_PATH = path.join(REPO_ROOT, 'statemachines', 'session.asl.json');
const TABLE_NAME = 'nightshift-local';

/** Local function names and ARNs: the local twin of the CDK stack's functions and `definitionSubstitutions`. */
export const localFunctionName = (handlerName: string): string => `nightshift-${handlerName}`;
export const localSubstitutions = (): Record<string, string> =>
  Object.fromEntries(
    HANDLERS.flatMap((entry) =>
      entry.substitution
        ? [[entry.substitution, `arn:aws:lambda:us-east-1:000000000000:function:${localFunctionName(entry.name)}`]]
        : [],
    ),
  );

export interface LocalRuntimeOptions {
  /** Keeps DynamoDB data and machine folders here across runs; a fresh temporary folder when absent. */
  readonly dataDir?: string;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly agentSettings?: Partial<AgentSettings>;
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
  /** Runs the command reconciler this often, as the schedule in AWS does; off when absent. */
  readonly reconcileEveryMs?: number;
  /** Every Wait state of the ASL lasts this long (tests on a manual clock); absent: until its timestamp, in real time. */
  readonly waitStateMs?: number;
  readonly lifecycle?: Partial<LifecycleSettings>;
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
  readonly agent: SandboxAgent;
  readonly workflow: LocalWorkflow;
  /** The DynamoDB client every adapter shares: benches and tests add middleware to count table calls. */
  readonly dynamoClient: DynamoDBClient;
  /** The function names handlers are registered under (what Task states may invoke). */
  functionNames(): string[];
  /** Invokes a registered handler the way Lambda would. */
  invoke(handlerName: string, event: unknown): Promise<unknown>;
  startSession(computerId: string, sessionId?: string, options?: Partial<SessionOptions>): Promise<{ sessionId: string; created: boolean }>;
  waitForSession(sessionId: string): Promise<SessionOutcome>;
  close(): Promise<void>;
}

const DEFAULT_AGENT_SETTINGS: AgentSettings = {
  deliveryTimeoutSeconds: 600,
  detectionItemTimeoutSeconds: 30,
  actionTimeoutSeconds: 300,
  skipOfflineAfterSeconds: 60,
};

const DEFAULT_LIFECYCLE: LifecycleSettings = { windowCheckSeconds: 60 };

function fileLogger(file: string | false): { logger: Logger; stream?: WriteStream } {
  if (file === false) return { logger: { info: () => undefined, warn: () => undefined, error: () => undefined } };
  const stream = createWriteStream(file, { flags: 'a' });
  return { logger: createJsonLogger({ service: 'nightshift', runtime: 'local' }, (line) => stream.write(`${line}\n`)), stream };
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
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(dynamoClient, TABLE_NAME);
  const table = new DynamoTable(createDocumentClient(dynamoClient), TABLE_NAME);
  const { logger, stream } = fileLogger(options.logFile ?? path.join(dataDir, 'logs', 'nightshift.log'));

  const handlers = new Map<string, LambdaHandler<unknown, unknown>>();
  const invoke = async (handlerName: string, event: unknown): Promise<unknown> => {
    const handler = handlers.get(localFunctionName(handlerName));
    if (!handler) throw new Error(`no handler named ${handlerName}`);
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
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    ...(options.waitStateMs === undefined ? {} : { waitStateMs: options.waitStateMs }),
  });

  const deps: Dependencies = {
    sessions: new DynamoSessionStore(table),
    sessionLog: new DynamoSessionLog(table, 90),
    catalog: new DynamoCatalogStore(table),
    agent,
    workflow,
    clock,
    ids: options.ids ?? randomIds,
    logger,
    agentSettings: { ...DEFAULT_AGENT_SETTINGS, ...options.agentSettings },
    lifecycle: { ...DEFAULT_LIFECYCLE, ...options.lifecycle },
  };
  const provide: DependencyProvider = () => deps;
  for (const entry of HANDLERS) {
    const module = (await import(pathToFileURL(path.join(REPO_ROOT, entry.entry)).href)) as {
      createHandler?: (provide: DependencyProvider) => LambdaHandler<unknown, unknown>;
    };
    if (typeof module.createHandler !== 'function') throw new Error(`${entry.entry} does not export createHandler`);
    const handler = module.createHandler(provide);
    handlers.set(localFunctionName(entry.name), options.wrapHandler ? options.wrapHandler(entry.name, handler) : handler);
  }

  // the local twin of the scheduled rule: same handler, a timer instead of EventBridge
  const reconciler = options.reconcileEveryMs
    ? setInterval(() => {
        invoke('reconcile-commands', { overdueAfterSeconds: 0, limit: 200 }).catch((error: unknown) => {
          logger.error('reconciler failed', { error: error instanceof Error ? error.message : String(error) });
        });
      }, options.reconcileEveryMs)
    : undefined;
  reconciler?.unref();

  return {
    dataDir,
    deps,
    agent,
    workflow,
    dynamoClient,
    functionNames: () => [...handlers.keys()],
    invoke,
    async startSession(computerId, sessionId, sessionOptions) {
      return (await invoke('start-session', {
        computerId,
        ...(sessionId ? { sessionId } : {}),
        ...(sessionOptions ? { options: sessionOptions } : {}),
        by: { kind: 'Operator', name: 'local runtime' },
      })) as {
        sessionId: string;
        created: boolean;
      };
    },
    async waitForSession(sessionId) {
      const { status, stateTransitions } = await workflow.waitFor(sessionId);
      const session = await deps.sessions.getSession(sessionId);
      if (!session) throw new Error(`session ${sessionId} vanished`);
      const dispatches = await deps.sessions.listDispatches(sessionId);
      return {
        session,
        actions: await deps.sessions.getActions(sessionId),
        stateTransitions,
        agentRoundTrips: dispatches.filter((d) => d.commandId !== undefined).length,
        executionStatus: status,
      };
    },
    async close() {
      if (reconciler) clearInterval(reconciler);
      await agent.idle();
      await dynamo.close();
      dynamoClient.destroy();
      await new Promise<void>((resolve) => (stream ? stream.end(resolve) : resolve()));
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
