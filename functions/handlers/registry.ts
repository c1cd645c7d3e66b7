/**
 * Every Lambda handler, once. The CDK stack creates one function per entry
 * and the local runtime loads the same modules; the state machine reaches the
 * step handlers through `${<substitution>}` placeholders in its ASL file.
 * Plain data on purpose: the CDK app reads it without importing handler code.
 *
 * Each entry declares the ports it uses and how (`ports`). That one list is
 * the handler's whole authority: the CDK stack derives its IAM grants from it
 * and nothing else, and both runtimes hand the handler only those ports, so a
 * handler that reaches for one it did not declare fails in the local tests
 * with the missing declaration named, not with AccessDenied in production.
 */

/**
 * What each port offers, by access level. The levels follow what IAM can tell
 * apart: reading a port never needs a write permission, and the agent's three
 * levels are three different SSM permissions.
 */
export const PORT_LEVELS = {
  /** Sessions, actions, plans, detections, dispatches (the table). */
  sessions: ['read', 'write'],
  /** Each session's append-only log (the table). */
  sessionLog: ['read', 'write'],
  /** Tenants, computers, software, tasks, deployments (the table). */
  catalog: ['read', 'write'],
  /** SSM Run Command: send a script, read results and connectivity, cancel a running command. */
  agent: ['send', 'read', 'cancel'],
  /** SSM's managed-node list (DescribeInstanceInformation by tag), for importing computers. */
  inventory: ['read'],
  /** The session state machine: start an execution, answer a waiting task token, read an ended execution's history (the transitions it was billed). */
  workflow: ['start', 'answer', 'read'],
  /** The one-time EventBridge Scheduler timer of a session waiting for its window. */
  windowTimers: ['write'],
  /** Secret task parameter values, SecureString parameters under `/nightshift/secrets/` (the computers read them, Nightshift only writes). */
  secrets: ['write'],
  /** Schedules, their runs and each run's targets (the table). */
  schedules: ['read', 'write'],
  /** The recurring EventBridge Scheduler schedule behind each Nightshift schedule, in Nightshift's schedule group. */
  scheduleTriggers: ['read', 'write'],
  /** The run worker (`advance-runs`, invoked asynchronously): a run's fan-out and starts, for callers that must answer quickly. */
  runWork: ['request'],
  /** Who changed what and when, per resource (the table): append-only. */
  audit: ['read', 'write'],
  /** Run and session events on the EventBridge bus, for the MSP's PSA or chat. */
  events: ['publish'],
  /** Powertools Metrics through the embedded metric format: log lines, no IAM. */
  metrics: ['write'],
  /** End-user email through SES v2 (the MSP's verified identity and Nightshift's configuration set). */
  mailer: ['send'],
  /** The HMAC key ring that signs and checks end-user link tokens (one Secrets Manager secret). */
  linkKeys: ['read'],
  /** MSP and tenant branding for emails and link pages (the table). */
  branding: ['read', 'write'],
  /** Each session's email send records and link outcomes (the table). */
  notifications: ['read', 'write'],
} as const;

export type PortName = keyof typeof PORT_LEVELS;
export type PortLevel<P extends PortName> = (typeof PORT_LEVELS)[P][number];
/** One declared use of a port, e.g. `sessions:read`, `agent:send`. */
export type PortAccess = { [P in PortName]: `${P}:${PortLevel<P>}` }[PortName];

export interface HandlerEntry {
  /** Function name suffix and log name. */
  readonly name: string;
  /** Module path from the repository root; it exports `handler` (Lambda) and `createHandler` (local runtime). */
  readonly entry: string;
  /** The ASL placeholder that stands for this function's ARN, for handlers the state machine invokes. */
  readonly substitution?: string;
  readonly description: string;
  /** Every port the handler touches, with the access it needs; nothing else is granted or handed to it. */
  readonly ports: readonly PortAccess[];
  /** The Lambda timeout; the local runtime fails an invocation that runs longer, as Lambda would. */
  readonly timeoutSeconds: number;
}

/** What every step that moves a session does: read it, write it conditionally, log the change. */
const SESSION_STEP = ['sessions:read', 'sessions:write', 'sessionLog:write'] as const satisfies readonly PortAccess[];
/** What sending a session's end-user email takes: its computer and tenant, the branding, the send record, SES and the link keys. */
const SEND_EMAIL = ['catalog:read', 'branding:read', 'notifications:read', 'notifications:write', 'mailer:send', 'linkKeys:read'] as const satisfies readonly PortAccess[];
/** Most handlers finish in well under a second; 30 s leaves room for SDK retries with backoff. */
const DEFAULT_TIMEOUT_SECONDS = 30;
/**
 * The reconciler looks for up to 150 s (its budget, passed by the schedule)
 * and needs room for the look in hand; see `RECONCILE_BUDGET_SECONDS` below.
 */
const RECONCILE_TIMEOUT_SECONDS = 180;

/** A fire starts a session per computer; 15 minutes (Lambda's maximum) bounds a run's fan-out per invocation. */
const FAN_OUT_TIMEOUT_SECONDS = 900;

export const HANDLERS: readonly HandlerEntry[] = [
  {
    name: 'start-session',
    entry: 'functions/handlers/start-session.ts',
    description: 'Creates a maintenance session (idempotently) and starts its workflow',
    // `supersede` cancels the computer's unfinished session first, which wakes its gate, clears its timer and stops its command
    ports: [...SESSION_STEP, 'workflow:start', 'metrics:write', 'workflow:answer', 'windowTimers:write', 'agent:read', 'agent:cancel', 'audit:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'prepare-session',
    entry: 'functions/handlers/prepare-session.ts',
    substitution: 'PrepareSessionFunctionArn',
    description: 'Resolves the deployments that apply to the computer and starts the session',
    ports: [...SESSION_STEP, 'catalog:read'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'dispatch-command',
    entry: 'functions/handlers/dispatch-command.ts',
    substitution: 'DispatchCommandFunctionArn',
    description: 'Sends a detection or action command to the computer and parks the task token',
    ports: [...SESSION_STEP, 'catalog:read', 'agent:send', 'agent:read', 'agent:cancel', 'workflow:answer'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'plan-session',
    entry: 'functions/handlers/plan-session.ts',
    substitution: 'PlanSessionFunctionArn',
    description: 'Plans the maintenance actions from the detected state',
    ports: [...SESSION_STEP],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'notify-session',
    entry: 'functions/handlers/notify-session.ts',
    substitution: 'NotifySessionFunctionArn',
    description: "Sends the end user the detection email: what will change and when, with the links the schedule allows",
    ports: ['sessions:read', 'sessionLog:write', 'metrics:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'gate-session',
    entry: 'functions/handlers/gate-session.ts',
    substitution: 'GateSessionFunctionArn',
    description: 'The gate before execution: runs, ends, or parks its task token until the maintenance window',
    ports: [...SESSION_STEP, 'windowTimers:write', 'workflow:answer', 'schedules:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'window-timer',
    entry: 'functions/handlers/window-timer.ts',
    description: "Target of a session's one-time window timer: wakes the gate waiting for the maintenance window",
    ports: [...SESSION_STEP, 'windowTimers:write', 'workflow:answer', 'schedules:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'record-action-failure',
    entry: 'functions/handlers/record-action-failure.ts',
    substitution: 'RecordActionFailureFunctionArn',
    description: 'Records an action whose command could not be sent, so the session goes on without it',
    ports: [...SESSION_STEP],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'finish-execution',
    entry: 'functions/handlers/finish-execution.ts',
    substitution: 'FinishExecutionFunctionArn',
    description: 'Applies the reboot preference after the last action',
    ports: [...SESSION_STEP],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'report-session',
    entry: 'functions/handlers/report-session.ts',
    substitution: 'ReportSessionFunctionArn',
    description: 'Verifies the actions against the second detection and records the final status',
    ports: [...SESSION_STEP, 'metrics:write', 'events:publish', 'schedules:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'record-failure',
    entry: 'functions/handlers/record-failure.ts',
    substitution: 'RecordFailureFunctionArn',
    description: 'Records why a session failed',
    ports: [...SESSION_STEP, 'metrics:write', 'events:publish', 'schedules:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'postpone-session',
    entry: 'functions/handlers/postpone-session.ts',
    description: 'Moves a waiting session later, within its postpone limits',
    ports: [...SESSION_STEP, 'windowTimers:write', 'audit:write', 'metrics:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'run-session-now',
    entry: 'functions/handlers/run-session-now.ts',
    description: "Pulls a waiting session's execution to now",
    ports: [...SESSION_STEP, 'windowTimers:write', 'workflow:answer', 'schedules:write', 'audit:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'cancel-session',
    entry: 'functions/handlers/cancel-session.ts',
    description: 'Cancels a session, stopping its running command',
    ports: [...SESSION_STEP, 'windowTimers:write', 'workflow:answer', 'agent:read', 'agent:cancel', 'audit:write', 'metrics:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'get-session-log',
    entry: 'functions/handlers/get-session-log.ts',
    description: "Reads a page of a session's log",
    ports: ['sessionLog:read'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'save-catalog',
    entry: 'functions/handlers/save-catalog.ts',
    description: 'Validates and stores a tenant, computer, software, task or deployment, recording the change in the audit trail',
    // audit:read: a save reads the entity's last entry, so a retried save adds nothing
    ports: ['catalog:read', 'catalog:write', 'secrets:write', 'audit:read', 'audit:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'explain-computer',
    entry: 'functions/handlers/explain-computer.ts',
    description: 'Explains which deployment of each item applies to a computer, and why',
    ports: ['catalog:read'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'reconcile-commands',
    entry: 'functions/handlers/reconcile-commands.ts',
    description: 'Polls agent commands whose completion event is overdue, so a lost event never leaves a session hanging',
    ports: [...SESSION_STEP, 'agent:read', 'agent:cancel', 'workflow:answer', 'metrics:write'],
    timeoutSeconds: RECONCILE_TIMEOUT_SECONDS,
  },
  {
    name: 'complete-command',
    entry: 'functions/handlers/complete-command.ts',
    description: 'Consumes SSM command status events and completes the waiting workflow step',
    ports: [...SESSION_STEP, 'agent:read', 'workflow:answer'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'execution-ended',
    entry: 'functions/handlers/execution-ended.ts',
    description: 'When a session execution ends: records it Failed if it failed, timed out or was aborted, and closes its usage (the state transitions it was billed, added to its run once)',
    ports: [...SESSION_STEP, 'windowTimers:write', 'metrics:write', 'events:publish', 'schedules:write', 'workflow:read', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'mail-events',
    entry: 'functions/handlers/mail-events.ts',
    description: "When SES reports an end-user email bounced, reported as spam, rejected or delayed: records it on the session's send record and says it in the session's log",
    ports: ['notifications:read', 'notifications:write', 'sessionLog:write', 'metrics:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'sweep-sessions',
    entry: 'functions/handlers/sweep-sessions.ts',
    description: 'Starts sessions left Created by a lost workflow start, and fails those that never began',
    ports: [...SESSION_STEP, 'workflow:start', 'metrics:write', 'events:publish', 'schedules:write', ...SEND_EMAIL],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'retire-secrets',
    entry: 'functions/handlers/retire-secrets.ts',
    description: 'Deletes the secret values deployments stopped naming, once no session under way can still need them',
    ports: ['catalog:read', 'catalog:write', 'secrets:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'manage-schedule',
    entry: 'functions/handlers/manage-schedule.ts',
    description: 'Creates, updates, enables, disables, duplicates and deletes schedules, keeping their Scheduler triggers and audit trail in step',
    ports: ['schedules:read', 'schedules:write', 'scheduleTriggers:write', 'audit:read', 'audit:write', 'catalog:read'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'preview-schedule',
    entry: 'functions/handlers/preview-schedule.ts',
    description: 'Answers which computers a schedule would target and when each one\'s window would open',
    ports: ['schedules:read', 'catalog:read', 'sessions:read'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'fire-schedule',
    entry: 'functions/handlers/fire-schedule.ts',
    description: 'A schedule fired (or was run now): records the run and starts one session per targeted computer, once each',
    // starting a session is the start-session use case: it claims the computer and starts the workflow
    ports: ['schedules:read', 'schedules:write', ...SESSION_STEP, 'catalog:read', 'workflow:start', 'metrics:write', 'events:publish'],
    timeoutSeconds: FAN_OUT_TIMEOUT_SECONDS,
  },
  {
    name: 'advance-runs',
    entry: 'functions/handlers/advance-runs.ts',
    description: "The run worker: every minute each active schedule run counts its sessions, applies its error budget and rings, and starts what its rollout allows; asked for one run, fans it out or starts what an operator's resume or promote allows",
    ports: ['schedules:read', 'schedules:write', ...SESSION_STEP, 'catalog:read', 'workflow:start', 'metrics:write', 'events:publish'],
    timeoutSeconds: FAN_OUT_TIMEOUT_SECONDS,
  },
  {
    name: 'manage-run',
    entry: 'functions/handlers/manage-run.ts',
    description: "Shows a schedule run and its targets; halts, resumes, promotes or cancels it",
    // the sessions a resume or promote allows are started by the run worker, asked for here; the failures accepted are counted from the sessions
    ports: ['schedules:read', 'schedules:write', 'sessions:read', 'audit:write', 'runWork:request', 'events:publish'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'reconcile-schedules',
    entry: 'functions/handlers/reconcile-schedules.ts',
    description: 'Makes every Scheduler trigger match its schedule in the table, and reports each drift it fixed',
    ports: ['schedules:read', 'scheduleTriggers:read', 'scheduleTriggers:write', 'catalog:read', 'metrics:write'],
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  },
  {
    name: 'api',
    entry: 'functions/handlers/api.ts',
    description: 'The operator HTTP API and the end-user link pages behind API Gateway: every route parses, checks the caller\'s role and tenants (links: their signed token), and calls one use case',
    // the union of the operator handlers' ports: each route calls the use case the matching operator handler calls
    ports: [
      ...SESSION_STEP,
      'sessionLog:read',
      'catalog:write',
      'secrets:write',
      'agent:read',
      'agent:cancel',
      'inventory:read',
      'workflow:start',
      'workflow:answer',
      'windowTimers:write',
      'schedules:read',
      'schedules:write',
      'scheduleTriggers:write',
      // a run-now, resume or promote hands its fan-out and starts to the run worker: they can take longer than the API may
      'runWork:request',
      'audit:read',
      'audit:write',
      'events:publish',
      'metrics:write',
      // the end-user link pages and the branding routes
      ...SEND_EMAIL,
      'branding:write',
    ],
    // API Gateway's HTTP API gives up on an integration after 30 s
    timeoutSeconds: 29,
  },
];

/** The registry entry of `name`; an unknown name is a wiring mistake, named. */
export function handlerEntry(name: string): HandlerEntry {
  const entry = HANDLERS.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`the handler registry has no ${name}`);
  return entry;
}

/**
 * The reconciler runs every 5 minutes for up to 150 s of looks (about 3,000 at
 * ~50 ms per look: ListCommands to find a command by its comment, then
 * GetCommandInvocation and its writes), inside its registry timeout (180 s)
 * that leaves room for the look in hand; a run therefore ends long before the
 * next starts, and a backlog larger than one run's looks is carried on by the next.
 */
export const RECONCILE_BUDGET_SECONDS = 150;

/**
 * A handler that runs on a fixed rate, not on an event: an EventBridge rule in
 * the stack, the runtime clock locally (`local/scheduled-rules.ts`). One table
 * for both, so what runs when, and with which input, is the same in each.
 */
export interface ScheduledRule {
  /** The rule's construct id in the stack. */
  readonly id: string;
  readonly handler: string;
  readonly description: string;
  readonly everyMinutes: number;
  /** The event the rule sends; without one, EventBridge's own "Scheduled Event". */
  readonly input?: Readonly<Record<string, unknown>>;
  /** EventBridge's delivery retries for this rule's target. */
  readonly retryAttempts: number;
}

export const SCHEDULED_RULES: readonly ScheduledRule[] = [
  {
    id: 'ReconcileCommandsSchedule',
    handler: 'reconcile-commands',
    description: 'Completes agent commands whose status event was lost',
    everyMinutes: 5,
    input: { budgetSeconds: RECONCILE_BUDGET_SECONDS },
    retryAttempts: 2,
  },
  {
    id: 'SweepSessionsSchedule',
    handler: 'sweep-sessions',
    description: 'Starts sessions whose workflow start was lost, fails those that never began',
    everyMinutes: 5,
    retryAttempts: 2,
  },
  {
    id: 'RetireSecretsSchedule',
    handler: 'retire-secrets',
    description: 'Deletes the secret values deployments stopped naming, once no session under way can still need them',
    everyMinutes: 60,
    retryAttempts: 2,
  },
  {
    // put and delete keep triggers in step as schedules change; the sweep only repairs what a failed or lost
    // write left behind, so a quarter of an hour is soon enough
    id: 'ReconcileSchedulesSchedule',
    handler: 'reconcile-schedules',
    description: 'Makes every schedule trigger in EventBridge Scheduler match its schedule in the table',
    everyMinutes: 15,
    retryAttempts: 2,
  },
  {
    id: 'AdvanceRunsSchedule',
    handler: 'advance-runs',
    description: 'Moves every active schedule run on: counts, error budget, rings, and the next sessions to start',
    everyMinutes: 1,
    // the next minute's run is the retry: a late one would only overlap it
    retryAttempts: 0,
  },
];
