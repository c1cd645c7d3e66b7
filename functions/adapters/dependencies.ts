import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigurationError } from '../core/errors.js';
import type { ManagedNodeInventory } from '../core/ports/inventory.port.js';
import type { AgentPort } from '../core/ports/agent.port.js';
import type { AuditStore } from '../core/ports/audit.port.js';
import type { BrandingStore } from '../core/ports/branding-store.port.js';
import type { LinkTokens } from '../core/ports/link-tokens.port.js';
import type { Mailer } from '../core/ports/mailer.port.js';
import type { NotificationStore } from '../core/ports/notification-store.port.js';
import type { Renderer } from '../core/ports/renderer.port.js';
import type { EventPublisher } from '../core/ports/events.port.js';
import type { CatalogStore } from '../core/ports/catalog-store.port.js';
import type { Clock, IdGenerator } from '../core/ports/clock.port.js';
import type { Logger } from '../core/ports/logger.port.js';
import type { Metrics } from '../core/ports/metrics.port.js';
import type { ScheduleStore } from '../core/ports/schedule-store.port.js';
import type { ScheduleTriggerPort } from '../core/ports/schedule-trigger.port.js';
import type { SecretStore } from '../core/ports/secret-store.port.js';
import type { SessionLog } from '../core/ports/session-log.port.js';
import type { SessionStore } from '../core/ports/session-store.port.js';
import type { WindowTimerPort } from '../core/ports/window-timer.port.js';
import type { RunWorkPort } from '../core/ports/run-work.port.js';
import type { WorkflowPort } from '../core/ports/workflow.port.js';
import type { AgentSettings, Dependencies, NotifySettings } from '../core/use-cases/dependencies.js';
import type { HandlerEntry, PortAccess, PortLevel, PortName } from '../handlers/registry.js';
import { createDocumentClient } from './aws-clients.js';
import { DynamoAuditStore } from './audit-store.dynamodb.js';
import { DynamoBrandingStore } from './branding-store.dynamodb.js';
import { DynamoNotificationStore } from './notification-store.dynamodb.js';
import { templateRenderer } from './renderer.templates.js';
import { DynamoCatalogStore } from './catalog-store.dynamodb.js';
import { DynamoTable } from './dynamodb-table.js';
import { DEFAULT_START_PACING, PacedWorkflow, type StartPacing } from './paced-workflow.js';
import { DynamoScheduleStore } from './schedule-store.dynamodb.js';
import { DynamoSessionLog } from './session-log.dynamodb.js';
import { DEFAULT_RETENTION_DAYS, DynamoSessionStore } from './session-store.dynamodb.js';
import { randomIds, systemClock } from './system.js';
import { attachUsageSink, metered, usageSinkOf } from './usage-meter.js';
import { DynamoUsageStore } from './usage-store.dynamodb.js';

/**
 * The parts of the wiring that differ between AWS and the embedded runtime.
 * A port whose implementation differs per runtime is a field here; a port
 * built the same way in both is built in `createDependencies` itself.
 */
export interface RuntimeParts {
  /** Lambda's own client, or one pointed at dynalite with static credentials. */
  readonly dynamo: DynamoDBClient;
  readonly tableName: string;
  /** SSM Run Command, or the sandbox machines. */
  readonly agent: AgentPort;
  /** SSM's managed-node list, or the sandbox machines' descriptors. */
  readonly inventory: ManagedNodeInventory;
  /** Step Functions, or aws-local-stepfunctions running the same ASL. */
  readonly workflow: WorkflowPort;
  /** EventBridge Scheduler `at()` schedules, or timers persisted on the runtime clock. */
  readonly windowTimers: WindowTimerPort;
  /** PutEvents to the Nightshift event bus, or events kept in memory (and the log) locally. */
  readonly events: EventPublisher;
  /** EventBridge Scheduler cron schedules in Nightshift's schedule group, or croner on the runtime clock. */
  readonly scheduleTriggers: ScheduleTriggerPort;
  /** An asynchronous invocation of the `advance-runs` function, or the same handler on the runtime's event loop. */
  readonly runWork: RunWorkPort;
  /** SSM Parameter Store SecureString parameters, or a private file in the data folder. */
  readonly secrets: SecretStore;
  /** Standard output for CloudWatch, or the local log file. */
  readonly logger: Logger;
  /** Powertools EMF flushed per invocation, or counts kept in memory for the demo and tests. */
  readonly metrics: Metrics;
  /** SES v2 in the account, or the same adapter against aws-ses-v2-local. */
  readonly mailer: Mailer;
  /** The link key ring from Secrets Manager, or a private file in the data folder. */
  readonly linkKeys: LinkTokens;
  /** @default the templates in `templates/` */
  readonly renderer?: Renderer;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default random, time-sortable ids */
  readonly ids?: IdGenerator;
}

/** Settings both runtimes share, with one set of defaults. */
export interface DependencySettings {
  /**
   * Days a session's records and log lines are kept before DynamoDB's TTL deletes them.
   * @default 90
   */
  readonly retentionDays?: number;
  /** @default DEFAULT_AGENT_SETTINGS, field by field */
  readonly agent?: Partial<AgentSettings>;
  /** @default DEFAULT_START_PACING */
  readonly startPacing?: StartPacing;
  /** Where end-user links point. */
  readonly notify: NotifySettings;
}

/** The agent limits both runtimes start from; a deployment or a test overrides them field by field. */
export const DEFAULT_AGENT_SETTINGS: AgentSettings = {
  // two days: an MSP's laptops are often off over a weekend
  deliveryTimeoutSeconds: 172_800,
  detectionItemTimeoutSeconds: 120,
  actionTimeoutSeconds: 3_600,
  skipOfflineAfterSeconds: 600,
};

/**
 * The pacer in front of the engine, which also answers how many transitions
 * an execution was billed (the pacer only paces starts, so that question goes
 * straight to the engine).
 */
function pacedWorkflow(workflow: WorkflowPort, pacing: StartPacing): WorkflowPort {
  const paced = new PacedWorkflow(workflow, pacing);
  const countStateTransitions = workflow.countStateTransitions?.bind(workflow);
  return {
    startSession: (sessionId) => paced.startSession(sessionId),
    completeTask: (taskToken, output) => paced.completeTask(taskToken, output),
    failTask: (taskToken, errorName, cause) => paced.failTask(taskToken, errorName, cause),
    ...(countStateTransitions ? { countStateTransitions } : {}),
  };
}

/** The one wiring of the ports, used by the Lambda entry points and the local runtime alike. */
export function createDependencies(parts: RuntimeParts, settings: DependencySettings): Dependencies {
  const clock = parts.clock ?? systemClock;
  const retentionDays = settings.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const table = new DynamoTable(createDocumentClient(parts.dynamo), parts.tableName);
  const deps: Dependencies = {
    sessions: new DynamoSessionStore(table, { retentionDays, clock }),
    sessionLog: new DynamoSessionLog(table, retentionDays),
    catalog: new DynamoCatalogStore(table),
    secrets: parts.secrets,
    // what a session is billed for outside the table is counted where it is asked for (see usage-meter.ts)
    agent: metered(parts.agent, { send: (meter) => meter.add('commandsSent') }),
    inventory: parts.inventory,
    // every start goes through the pacer: a schedule's fan-out of thousands stays inside the StartExecution quota
    workflow: pacedWorkflow(parts.workflow, settings.startPacing ?? DEFAULT_START_PACING),
    windowTimers: metered(parts.windowTimers, { set: (meter) => meter.add('schedulesWritten') }),
    schedules: new DynamoScheduleStore(table),
    scheduleTriggers: parts.scheduleTriggers,
    runWork: parts.runWork,
    audit: new DynamoAuditStore(table),
    events: metered(parts.events, { publish: (meter, events) => meter.add('eventsPublished', events.length) }),
    notifications: new DynamoNotificationStore(table, { retentionDays, clock }),
    branding: new DynamoBrandingStore(table),
    mailer: metered(parts.mailer, { send: (meter) => meter.add('emailsSent') }),
    linkKeys: parts.linkKeys,
    renderer: parts.renderer ?? templateRenderer,
    notifySettings: settings.notify,
    clock,
    ids: parts.ids ?? randomIds,
    logger: parts.logger,
    metrics: parts.metrics,
    agentSettings: { ...DEFAULT_AGENT_SETTINGS, ...settings.agent },
  };
  attachUsageSink(deps, new DynamoUsageStore(table, { retentionDays, clock }));
  return deps;
}

/** The ports a handler may be denied: every port of the registry's vocabulary that `Dependencies` has today. */
type GuardedPort = PortName & keyof Dependencies;
/** The access level each method of a port needs; `-?` makes a method added to a port interface fail to compile until it is classified here. */
type MethodLevels<T, L extends string> = { readonly [M in keyof T]-?: L };

/**
 * Which access each port method needs. This is what makes the registry's
 * declaration binding locally: IAM enforces the same levels in AWS.
 */
const METHOD_LEVELS: { readonly [P in GuardedPort]: MethodLevels<Dependencies[P], PortLevel<P>> } = {
  sessions: {
    getSession: 'read',
    getSessionWith: 'read',
    getSessionStatus: 'read',
    getSessionStatuses: 'read',
    listSessionsByComputer: 'read',
    listSessionsByStatus: 'read',
    listSessionsInStatusSince: 'read',
    listSessions: 'read',
    countSessions: 'read',
    getActions: 'read',
    getAction: 'read',
    getActionContext: 'read',
    getPlan: 'read',
    getDetection: 'read',
    getDispatch: 'read',
    listDispatches: 'read',
    listWaitingDispatches: 'read',
    createSession: 'write',
    updateSession: 'write',
    claimComputer: 'write',
    createActions: 'write',
    createPlannedActions: 'write',
    updateAction: 'write',
    startActionDispatch: 'write',
    completeActionDispatch: 'write',
    savePlan: 'write',
    saveDetection: 'write',
    claimDispatch: 'write',
    replaceDispatchToken: 'write',
    takeOverDispatch: 'write',
    completeDispatch: 'write',
    markTokenDelivered: 'write',
    abandonDispatch: 'write',
    rescheduleDispatch: 'write',
    getUsage: 'read',
    closeUsage: 'write',
  } satisfies MethodLevels<SessionStore, PortLevel<'sessions'>>,
  sessionLog: { read: 'read', append: 'write' } satisfies MethodLevels<SessionLog, PortLevel<'sessionLog'>>,
  catalog: {
    getTenant: 'read',
    listTenants: 'read',
    getComputer: 'read',
    listComputers: 'read',
    getSoftware: 'read',
    listSoftware: 'read',
    getTasks: 'read',
    listTasks: 'read',
    getDeployment: 'read',
    listDeployments: 'read',
    putTenant: 'write',
    putComputer: 'write',
    putSoftware: 'write',
    putTask: 'write',
    putDeployment: 'write',
    deleteSoftware: 'write',
    deleteTask: 'write',
    deleteDeployment: 'write',
    retireSecrets: 'write',
    listRetiredSecretsDue: 'read',
    forgetRetiredSecrets: 'write',
  } satisfies MethodLevels<CatalogStore, PortLevel<'catalog'>>,
  agent: { send: 'send', getInvocation: 'read', findCommand: 'read', isOnline: 'read', cancel: 'cancel' } satisfies MethodLevels<AgentPort, PortLevel<'agent'>>,
  workflow: { startSession: 'start', completeTask: 'answer', failTask: 'answer', countStateTransitions: 'read' } satisfies MethodLevels<WorkflowPort, PortLevel<'workflow'>>,
  windowTimers: { set: 'write', clear: 'write' } satisfies MethodLevels<WindowTimerPort, PortLevel<'windowTimers'>>,
  schedules: {
    getSchedule: 'read',
    listSchedules: 'read',
    getRun: 'read',
    listRuns: 'read',
    listRunTargets: 'read',
    createSchedule: 'write',
    replaceSchedule: 'write',
    deleteSchedule: 'write',
    createRun: 'write',
    takeRunLease: 'write',
    releaseRunLease: 'write',
    updateRun: 'write',
    listActiveRuns: 'read',
    putRunTarget: 'write',
    settleRunTarget: 'write',
    fixRunTargetWindow: 'write',
    acquireExecutionSlot: 'write',
    releaseExecutionSlot: 'write',
    addSessionUsage: 'write',
    getRunUsage: 'read',
  } satisfies MethodLevels<ScheduleStore, PortLevel<'schedules'>>,
  scheduleTriggers: { list: 'read', put: 'write', delete: 'write' } satisfies MethodLevels<ScheduleTriggerPort, PortLevel<'scheduleTriggers'>>,
  runWork: { request: 'request' } satisfies MethodLevels<RunWorkPort, PortLevel<'runWork'>>,
  audit: { list: 'read', listByTenant: 'read', record: 'write' } satisfies MethodLevels<AuditStore, PortLevel<'audit'>>,
  inventory: { listByTag: 'read' } satisfies MethodLevels<ManagedNodeInventory, PortLevel<'inventory'>>,
  events: { publish: 'publish' } satisfies MethodLevels<EventPublisher, PortLevel<'events'>>,
  secrets: { put: 'write', delete: 'write' } satisfies MethodLevels<SecretStore, PortLevel<'secrets'>>,
  metrics: { count: 'write', seconds: 'write' } satisfies MethodLevels<Metrics, PortLevel<'metrics'>>,
  notifications: {
    claimEmail: 'write',
    markEmailSent: 'write',
    releaseEmail: 'write',
    recordLinkOutcome: 'write',
    recordDeliveryProblem: 'write',
    listEmails: 'read',
    getLinkOutcome: 'read',
  } satisfies MethodLevels<NotificationStore, PortLevel<'notifications'>>,
  branding: { list: 'read', get: 'read', put: 'write', delete: 'write' } satisfies MethodLevels<BrandingStore, PortLevel<'branding'>>,
  mailer: { send: 'send' } satisfies MethodLevels<Mailer, PortLevel<'mailer'>>,
  // issuing a link and checking one both read the ring: the secret is never written by a handler
  linkKeys: { issue: 'read', check: 'read' } satisfies MethodLevels<LinkTokens, PortLevel<'linkKeys'>>,
};

/**
 * What every handler gets without declaring it: no IAM stands behind these.
 * A new field of `Dependencies` fails to compile here until it is either
 * ambient or a port of the registry's vocabulary.
 */
const AMBIENT: { readonly [K in Exclude<keyof Dependencies, GuardedPort>]: true } = { clock: true, ids: true, logger: true, agentSettings: true, renderer: true, notifySettings: true };

/**
 * `port` as a handler that declared `declared` may see it: a method whose
 * access was not declared throws a `ConfigurationError` naming the missing
 * declaration when it is touched (not when the handler is built, so a handler
 * fails exactly where it oversteps). Methods are looked up on each access, so
 * a test that replaces one on the real object is still seen.
 */
function guardPort<T extends object>(port: T, portName: GuardedPort, levels: Readonly<Record<string, string>>, declared: ReadonlySet<string>, handlerName: string): T {
  return new Proxy(port, {
    get(target, property) {
      // symbols (inspection) and `then` (an `await` of the port itself) are not port methods
      if (typeof property === 'symbol') return Reflect.get(target, property) as unknown;
      if (property === 'then') return undefined;
      const level = levels[property];
      if (level === undefined) {
        throw new ConfigurationError(`${handlerName} used ${portName}.${property}, which is not part of the ${portName} port`);
      }
      const access = `${portName}:${level}`;
      if (!declared.has(access)) {
        throw new ConfigurationError(
          `${handlerName} used ${portName}.${property}, which needs '${access}': declare it in the handler's ports in functions/handlers/registry.ts (the stack grants the IAM permissions from that list)`,
        );
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The dependencies a handler may use: only the ports its registry entry
 * declares, each only at the declared access. Both runtimes hand this to the
 * handler, so the local tests fail where production would be denied.
 */
export function restrictToDeclaredPorts(deps: Dependencies, entry: Pick<HandlerEntry, 'name' | 'ports'>): Dependencies {
  const declared = new Set<string>(entry.ports);
  const guard = <P extends GuardedPort>(port: P): Dependencies[P] => guardPort(deps[port], port, METHOD_LEVELS[port], declared, entry.name);
  const ambient = Object.fromEntries(Object.keys(AMBIENT).map((key) => [key, deps[key as keyof typeof AMBIENT]])) as Pick<Dependencies, keyof typeof AMBIENT>;
  const restricted: Dependencies = {
    ...ambient,
    sessions: guard('sessions'),
    sessionLog: guard('sessionLog'),
    catalog: guard('catalog'),
    secrets: guard('secrets'),
    agent: guard('agent'),
    inventory: guard('inventory'),
    workflow: guard('workflow'),
    windowTimers: guard('windowTimers'),
    schedules: guard('schedules'),
    scheduleTriggers: guard('scheduleTriggers'),
    runWork: guard('runWork'),
    audit: guard('audit'),
    events: guard('events'),
    metrics: guard('metrics'),
    notifications: guard('notifications'),
    branding: guard('branding'),
    mailer: guard('mailer'),
    linkKeys: guard('linkKeys'),
  };
  // the meter writes usage to the table: only a handler whose role may write the table records it (every one with a session does)
  const sink = usageSinkOf(deps);
  if (sink && entry.ports.some((access) => TABLE_WRITES.has(access))) attachUsageSink(restricted, sink);
  return restricted;
}

/** The accesses whose grant lets a role write the table (port-grants.ts: `writeTable`). */
const TABLE_WRITES: ReadonlySet<string> = new Set<PortAccess>(['sessions:write', 'sessionLog:write', 'catalog:write', 'schedules:write', 'audit:write', 'notifications:write', 'branding:write']);
