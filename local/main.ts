/**
 * `npm run demo` (`local/main.ts`): boots the embedded runtime, seeds the demo
 * tenant, runs one maintenance session per sandbox machine and shows each
 * stage live, then a readable report, and exits. State persists in
 * `.nightshift/`, so a second run finds the machines compliant ("nothing to
 * do"); delete the folder to start over.
 *
 * `npm start` (`--serve`): the same, then keeps the runtime going with the
 * operator API on a local port until Ctrl-C: schedules fire, timers wake
 * sessions, and sessions started through the API or the CLI show live here.
 * `--skip-demo` serves without running the demo sessions first.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCommandComment } from '../functions/core/model/agent.js';
import { NIGHTSHIFT_BRANDING } from '../functions/core/model/branding.js';
import { formatInstant } from '../functions/core/notifications/emails.js';
import { notifyOptionsSchema, type DetectedItem, type SessionOptions } from '../functions/core/model/session.js';
import type { ReportRow } from '../functions/core/model/session-report.js';
import { getSessionReport } from '../functions/core/use-cases/session-report.js';
import type { WorkflowEvent } from './local-workflow.js';
import type { Schedule } from '../functions/core/model/schedule.js';
import type { SkipReason } from '../functions/core/model/schedule-run.js';
import { isErrorEnvelope } from '../functions/handlers/handler-kit.js';
import { SCHEDULED_RULES } from '../functions/handlers/registry.js';
import { DEMO_DEPLOYMENTS, DEMO_SOFTWARE, DEMO_TASKS, DEMO_TENANT, LEGAL_DMS, NORTHWIND_TENANT, TONIGHT_MACHINE, seedDemo } from './demo-fleet.js';
import { startApiServer, type ApiServer } from './api-server.js';
import { REPO_ROOT, createLocalRuntime, type LocalRuntime } from './runtime.js';
import type { SandboxCommandRecord } from './sandbox-agent.js';
import { isSystemError } from './system-errors.js';
import { bold, clockTime, cyan, dim, green, padEnd, red, seconds, table, yellow } from './terminal.js';

const DATA_DIR = process.env.NIGHTSHIFT_DATA_DIR ?? path.join(REPO_ROOT, '.nightshift');
/** 0 takes any free port. */
const API_PORT = Number(process.env.NIGHTSHIFT_PORT ?? '8787');
const SERVE = process.argv.includes('--serve');
const SKIP_DEMO = process.argv.includes('--skip-demo');

/**
 * The runtime's clock: real time plus an offset the schedule scene moves
 * forward, so the nightly schedule fires in a moment rather than tonight,
 * through the same trigger, timers and handlers as it would at its hour.
 */
const demoClock = {
  offsetMs: 0,
  now: (): Date => new Date(Date.now() + demoClock.offsetMs),
};

const SCHEDULE_ID = 'northwind-nightly-dms';

/** The top-level stages as the operator knows them; the other states are plumbing. */
const STAGE_LABELS: Readonly<Record<string, string>> = {
  Prepare: 'resolve deployments',
  Detect: 'detect (read-only)',
  Plan: 'plan',
  Execute: 'execute',
  Restart: 'restart',
  Verify: 'verify',
  Report: 'report',
  RecordFailure: 'record failure',
};

const startedAt = Date.now();
const machineBySession = new Map<string, string>();
const stageStartMs = new Map<string, number>();
let printing: Promise<void> = Promise.resolve();
/** Lines come from several sessions at once; a chain keeps each line whole and in order. */
const say = (line: () => Promise<string | undefined> | string | undefined): void => {
  printing = printing.then(async () => {
    const text = await line();
    if (text !== undefined) process.stdout.write(`${text}\n`);
  });
};

let runtimeForNames: LocalRuntime | undefined;

/** A session's first lines can print before its start returns: the machine's name then comes from the session record. */
async function prefix(sessionId: string): Promise<string> {
  if (!machineBySession.has(sessionId)) {
    const session = await runtimeForNames?.deps.sessions.getSession(sessionId);
    if (session) machineBySession.set(sessionId, session.computerId);
  }
  return `  ${dim(clockTime(new Date()))}  ${cyan(padEnd(machineBySession.get(sessionId) ?? sessionId, 12))}`;
}

function describeResult(result: ReportRow['result']): string {
  if (result === 'Success') return green(result);
  if (result === 'Failed' || result === 'Skipped') return red(result);
  return yellow(result);
}

function showWorkflowEvent(runtime: LocalRuntime, event: WorkflowEvent): void {
  const sessionId = event.executionName;
  const label = event.stateName ? STAGE_LABELS[event.stateName] : undefined;
  const key = `${sessionId}/${event.stateName ?? ''}`;
  if (event.type === 'StateEntered' && label) {
    stageStartMs.set(key, event.timestampMs);
    say(async () => `${await prefix(sessionId)}${bold('▶')} ${label}`);
  } else if (event.type === 'StateExited' && label && event.stateName !== 'Execute') {
    const tookMs = event.timestampMs - (stageStartMs.get(key) ?? event.timestampMs);
    say(async () => {
      const detail = await stageDetail(runtime, sessionId, event.stateName ?? '');
      return `${await prefix(sessionId)}${green('✓')} ${label}${detail ? ` — ${detail}` : ''} ${dim(seconds(tookMs))}`;
    });
  } else if (event.type === 'StateRetried') {
    say(async () => `${await prefix(sessionId)}${yellow('↻')} ${event.stateName ?? ''} retried after ${event.error ?? 'an error'}`);
  } else if (event.type === 'StateCaught' || (event.type === 'StateFailed' && event.mapIndex === undefined)) {
    say(async () => `${await prefix(sessionId)}${red('✗')} ${event.stateName ?? ''}: ${event.error ?? ''} ${event.cause ?? ''}`);
  }
}

async function stageDetail(runtime: LocalRuntime, sessionId: string, stateName: string): Promise<string | undefined> {
  const session = await runtime.deps.sessions.getSession(sessionId);
  if (!session) return undefined;
  if (stateName === 'Prepare') {
    const prerequisites = session.items.filter((i) => i.origin === 'Prerequisite').length;
    return `${session.items.length - prerequisites} item(s) deployed here${prerequisites ? `, ${prerequisites} prerequisite(s)` : ''}`;
  }
  if (stateName === 'Detect' || stateName === 'Verify') {
    const detection = await runtime.deps.sessions.getDetection(sessionId, stateName === 'Detect' ? 'Initial' : 'Verification');
    if (!detection) return undefined;
    const states = Object.values(detection.items);
    const count = (state: DetectedItem['state']) => states.filter((s) => s.state === state).length;
    const parts = [
      `${count('Present')} installed`,
      `${count('Absent')} absent`,
      ...(count('Compliant') + count('NotCompliant') ? [`${count('Compliant')} of ${count('Compliant') + count('NotCompliant')} task(s) compliant`] : []),
      ...(count('Undetermined') ? [yellow(`${count('Undetermined')} undetermined`)] : []),
    ];
    return parts.join(', ');
  }
  if (stateName === 'Plan') {
    const actions = await runtime.deps.sessions.getActions(sessionId);
    return actions.length === 0 ? 'nothing to do' : `${actions.length} action(s): ${actions.map((a) => `${a.type} ${a.itemName}`).join(', ')}`;
  }
  if (stateName === 'Report') return session.status === 'Passed' ? green(session.status) : session.status === 'PartialPassed' ? yellow(session.status) : red(session.status);
  return undefined;
}

function showAgentActivity(runtime: LocalRuntime, record: SandboxCommandRecord, phase: 'started' | 'finished'): void {
  const reference = parseCommandComment(record.comment);
  if (!reference?.key.startsWith('Action#')) return;
  const actionId = reference.key.slice('Action#'.length);
  say(async () => {
    const action = await runtime.deps.sessions.getAction(reference.sessionId, actionId);
    if (!action) return undefined;
    const target = action.toVersion ? ` ${action.fromVersion ? `${action.fromVersion} → ` : ''}${action.toVersion}` : '';
    if (phase === 'started') return `${await prefix(reference.sessionId)}  ${dim('…')} ${action.type} ${action.itemName}${target}`;
    const tookMs = (record.finishedAtMs ?? 0) - (record.startedAtMs ?? record.sentAtMs);
    const ok = record.invocation.status === 'Success';
    return `${await prefix(reference.sessionId)}  ${ok ? green('✓') : red('✗')} ${action.type} ${action.itemName}${target} ${dim(`exit ${record.invocation.responseCode}, ${seconds(tookMs)}`)}`;
  });
}

/** The core's report, drawn for a terminal. */
async function sessionReport(runtime: LocalRuntime, sessionId: string, machineName: string): Promise<string> {
  const report = await getSessionReport(runtime.deps, sessionId);
  const status = report.status === 'Passed' ? green(report.status) : report.status === 'PartialPassed' ? yellow(report.status) : red(report.status);
  const heading = `${bold(machineName)} ${dim(`(${report.computerName}, ${report.agentId})`)} — ${status} in ${seconds(report.durationMs)}`;
  if (report.failure) return `${heading}\n  ${red(report.failure.code)}: ${report.failure.message}`;
  if (report.changedNothing) {
    return [
      `${heading} — nothing to do`,
      ...(report.leftAlone.length ? [`  ${dim('compliant:')} ${report.leftAlone.join(', ')}`] : []),
      ...(report.observed.length ? [`  ${dim('observed:')} ${report.observed.join(', ')}`] : []),
    ].join('\n');
  }
  const rows = report.rows.map((row) => [
    row.type,
    row.itemName,
    row.before,
    row.after,
    describeResult(row.result),
    row.durationMs === undefined ? '' : seconds(row.durationMs),
    row.result === 'Success' ? dim(row.why) : row.why,
  ]);
  const lines = [heading, table(['ACTION', 'ITEM', 'BEFORE', 'AFTER', 'RESULT', 'TIME', 'WHY'], rows)];
  for (const why of report.why) lines.push(`  ${dim('why:')} ${why}`);
  if (report.leftAlone.length) lines.push(`  ${dim('left alone:')} ${report.leftAlone.join(', ')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  process.stdout.write(`${bold('Nightshift')} — maintenance sessions on the embedded runtime\n`);
  const runtime: LocalRuntime = await createLocalRuntime({
    dataDir: DATA_DIR,
    clock: demoClock,
    // emails of a run without the server (npm run demo) point where npm start serves the link pages
    linkBaseUrl: `http://127.0.0.1:${API_PORT === 0 ? 8787 : API_PORT}`,
    onAgentActivity: (record, phase) => showAgentActivity(runtime, record, phase),
  });
  // sessions a killed run left are already going again: their lines are named from their records
  runtimeForNames = runtime;
  runtime.workflow.events.on('event', (event) => showWorkflowEvent(runtime, event));
  try {
    // serving starts first, so the demo's emails link to pages that answer
    const server = SERVE ? await startServer(runtime) : undefined;
    if (!SKIP_DEMO) await demo(runtime);
    if (server) await serve(runtime, server);
  } finally {
    // lines still being written read the table: they finish before it closes
    await printing.catch(() => undefined);
    await runtime.close();
  }
}

async function demo(runtime: LocalRuntime): Promise<void> {
  const seed = await seedDemo(runtime);
  process.stdout.write(
    [
      `  data      ${path.relative(process.cwd(), DATA_DIR) || DATA_DIR} ${dim('(DynamoDB on dynalite, sandbox machines as folders; delete it to start over)')}`,
      `  tenant    ${DEMO_TENANT.name}: ${seed.machines.length} computers${seed.machinesCreated ? dim(` (${seed.machinesCreated} imaged now)`) : ''}`,
      `  catalog   ${DEMO_SOFTWARE.length} software items, ${DEMO_TASKS.length} maintenance tasks, ${DEMO_DEPLOYMENTS.length} deployments`,
      // a run killed mid-way left these; they go on from their last recorded step, and the machines' starts below find them
      ...(runtime.resumed.length ? [`  resumed   ${runtime.resumed.length} session(s) the last run left unfinished`] : []),
      '',
    ].join('\n'),
  );

  const started = await Promise.all(
    seed.machines.map(async (machine) => {
      const sessionId = await startDemoSession(runtime, machine.computer.id, {});
      machineBySession.set(sessionId, machine.computer.id);
      return { machine, sessionId };
    }),
  );
  const outcomes = await Promise.all(
    started.map(async ({ machine, sessionId }) => ({ machine, outcome: await runtime.waitForSession(sessionId) })),
  );
  await runtime.agent.idle();
  await printing;

  process.stdout.write(`\n${bold('Report')}\n\n`);
  for (const { machine, outcome } of outcomes) process.stdout.write(`${await sessionReport(runtime, outcome.session.id, machine.computer.id)}\n\n`);

  const tonight = await tonightScene(runtime);
  process.stdout.write(`${tonight}\n`);

  const scene = await scheduleScene(runtime);
  // the scene's session lines are printed as they came; its report follows them
  await runtime.agent.idle();
  await printing;
  process.stdout.write(`${scene}\n`);

  const mail = await runtime.mailbox.messages();
  process.stdout.write(`\n${bold('Email')}\n\n  sent      ${mail.length} email(s) to end users this run ${dim(`(detection and follow-up; ${SERVE ? 'open the mailbox: line below' : 'npm start serves them at a mailbox: URL'})`)}\n\n`);

  const transitions = outcomes.reduce((sum, { outcome }) => sum + outcome.stateTransitions, 0);
  const roundTrips = outcomes.reduce((sum, { outcome }) => sum + outcome.agentRoundTrips, 0);
  const failed = outcomes.filter(({ outcome }) => outcome.session.status !== 'Passed').length;
  if (failed > 0) process.stdout.write(`${red(`${failed} session(s) did not pass`)} — the report above says why.\n`);
  process.stdout.write(
    `demo: ${outcomes.length} sessions, ${transitions} state transitions, ${roundTrips} agent round-trips, ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`,
  );
}

/**
 * The operator API on 127.0.0.1 until SIGINT or SIGTERM, with one line per
 * front door (`api: <url>`, `token: <dev token>`). The token is an Admin's for
 * this local issuer only (a deployed API refuses it); it is also kept in a file
 * readable by this user, for the CLI and scripts.
 */
async function startServer(runtime: LocalRuntime): Promise<ApiServer> {
  return startApiServer(runtime, { port: API_PORT }).catch((error: unknown) => {
    if (isSystemError(error, 'EADDRINUSE')) {
      throw new Error(`port ${API_PORT} is in use; start with NIGHTSHIFT_PORT=<port> (0 takes any free port)`);
    }
    throw error;
  });
}

async function serve(runtime: LocalRuntime, server: ApiServer): Promise<void> {
  if (SKIP_DEMO) await seedDemo(runtime);
  // from here on the stack's rate rules run as in AWS; not during the demo, whose clock jumps hours at once
  runtime.scheduledRules.start();
  const tokenFile = path.join(DATA_DIR, 'api', 'dev-token');
  await mkdir(path.dirname(tokenFile), { recursive: true });
  await writeFile(tokenFile, `${server.devToken}\n`, { mode: 0o600 });
  const shown = (file: string): string => path.relative(process.cwd(), file) || file;
  process.stdout.write(
    [
      '',
      `${bold('Serving')} ${dim(`(Ctrl-C to stop; OpenAPI at ${server.url}/openapi.json)`)}`,
      `api: ${server.url}`,
      `token: ${server.devToken}`,
      `console: ${server.consoleUrl}`,
      `mailbox: ${runtime.mailbox.url}`,
      dim(`  (an Admin token for this local API only, 7 days; also in ${shown(tokenFile)}, which the CLI reads: npm run -s cli -- sessions list)`),
      dim(`  rules: ${SCHEDULED_RULES.map((rule) => `${rule.handler} every ${rule.everyMinutes === 1 ? 'minute' : `${rule.everyMinutes} min`}`).join(', ')} (runtime clock)`),
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write(`\n${dim('stopping…')}\n`);
  await server.close();
}

/** What a schedule's default email options give the end user: the demo's sessions are started as a schedule would start them. */
const DEMO_NOTIFY = notifyOptionsSchema.parse({});

/**
 * Starts a demo session with end-user email on. A session an earlier demo
 * left waiting on the computer (the tonight scene's) is replaced, as an
 * operator's "start again" would.
 */
async function startDemoSession(runtime: LocalRuntime, computerId: string, options: Partial<SessionOptions>): Promise<string> {
  const answer = await runtime.invoke('start-session', { computerId, supersede: true, options: { ...options, notify: DEMO_NOTIFY }, by: { kind: 'Operator', name: 'nightshift demo' } });
  if (isErrorEnvelope(answer)) throw new Error(`the demo session for ${computerId} was refused: ${answer.error.message}`);
  return (answer as { sessionId: string }).sessionId;
}

/**
 * Tonight's maintenance: a session whose window opens in a few hours, so it
 * waits (one parked task token, one timer) and its user's detection email
 * carries working Postpone, Cancel and Run-now links.
 */
async function tonightScene(runtime: LocalRuntime): Promise<string> {
  const now = runtime.deps.clock.now();
  const executeAt = new Date(Math.ceil((now.getTime() + 3 * 3_600_000) / 3_600_000) * 3_600_000);
  const sessionId = await startDemoSession(runtime, TONIGHT_MACHINE.computer.id, {
    executeAt: executeAt.toISOString(),
    postpone: { delayMinutes: 60, maxCount: 2, maxDelayMinutes: 24 * 60 },
  });
  machineBySession.set(sessionId, TONIGHT_MACHINE.computer.id);
  // the detection email goes out once the plan is made; the session then parks until its window
  let emails: readonly string[] = [];
  for (let waitedMs = 0; waitedMs <= 30_000; waitedMs += 100) {
    const session = await runtime.deps.sessions.getSession(sessionId);
    emails = (await runtime.deps.notifications.listEmails(sessionId)).flatMap((email) => (email.status === 'Sent' ? [email.key] : []));
    if (session?.windowWait || (session && ['Passed', 'PartialPassed', 'Failed', 'Cancelled'].includes(session.status))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await printing;
  const session = await runtime.deps.sessions.getSession(sessionId);
  const waiting = session?.windowWait !== undefined;
  return [
    `\n${bold('Tonight')}\n`,
    `  ${TONIGHT_MACHINE.computer.name}: ${waiting ? `maintenance waits for its window, ${formatInstant(executeAt.toISOString(), NIGHTSHIFT_BRANDING, TONIGHT_MACHINE.computer.timeZone)} (session ${sessionId})` : `session ${sessionId} is ${session?.status ?? 'unknown'}`}`,
    `  email     ${emails.includes('Detection') ? `detection email sent to ${TONIGHT_MACHINE.computer.primaryUser?.email ?? 'its user'}, with Postpone, Cancel and Run-now links` : 'no detection email (nothing to do)'}`,
  ].join('\n');
}

const SKIP_WORDS: Readonly<Record<SkipReason, string>> = {
  Offline: 'offline, and this schedule skips offline computers',
  NoApplicableDeployments: 'nothing the schedule covers is deployed here',
  ActiveSession: 'busy with another session',
  TenantDisabled: 'its tenant is on hold',
  StartFailed: 'its session could not start',
};

/**
 * A schedule fires on the runtime clock over Northwind Legal's computers:
 * the canary ring's session fails (the installer cannot reach its license
 * server), the rollout controller halts the run before the second ring, and
 * the run report shows every target with its ring, session or skip reason.
 */
async function scheduleScene(runtime: LocalRuntime): Promise<string> {
  const now = runtime.deps.clock.now();
  // the next whole minute at least a minute away (Scheduler keeps time to the minute), and after the last run
  // (an earlier demo moved its clock ahead: the same minute again would be the same run)
  const [lastRun] = await runtime.deps.schedules.listRuns(SCHEDULE_ID, 1);
  const earliestMs = Math.max(now.getTime() + 60_000, lastRun ? Date.parse(lastRun.scheduledTime) + 60_000 : 0);
  const fireAt = new Date(Math.ceil(earliestMs / 60_000) * 60_000);
  const schedule = {
    name: 'Northwind nightly DMS rollout',
    tenantId: NORTHWIND_TENANT.id,
    includeChildTenants: true,
    target: { kind: 'AllComputers' },
    limitTo: `software:${LEGAL_DMS.id}`,
    recurrence: { kind: 'Daily' },
    detectionTime: fireAt.toISOString().slice(11, 16),
    timeZone: 'UTC',
    executeImmediatelyAfterDetection: true,
    offline: { behaviour: 'Skip' },
    rollout: {
      rings: [
        { name: 'canary', percent: 50, successThresholdPercent: 100, soakMinutes: 30 },
        { name: 'office', percent: 100 },
      ],
    },
  };
  const by = { kind: 'Operator', name: 'demo' };
  const stored = await runtime.invoke('manage-schedule', { operation: 'get', scheduleId: SCHEDULE_ID });
  const saved = isErrorEnvelope(stored)
    ? await runtime.invoke('manage-schedule', { operation: 'create', scheduleId: SCHEDULE_ID, schedule, by })
    : await runtime.invoke('manage-schedule', { operation: 'update', scheduleId: SCHEDULE_ID, expectedVersion: (stored as { schedule: Schedule }).schedule.version, schedule, by });
  if (isErrorEnvelope(saved)) throw new Error(`the demo schedule was refused: ${saved.error.message}`);

  const lines = [`\n${bold('Schedule')}\n`, `  ${schedule.name}: daily at ${schedule.detectionTime} UTC over ${NORTHWIND_TENANT.name} and its child tenants, rings canary 50% then office`];
  // the runtime clock jumps to a second before the fire; croner fires it on that clock, as Scheduler would at that hour
  demoClock.offsetMs += fireAt.getTime() - now.getTime() - 1_000;
  const runId = runtime.deps.ids.derive('run', [SCHEDULE_ID, fireAt.toISOString()]);
  // the fire has done its part once every first-ring target has its session (or its skip)
  const firstRingStarted = async (): Promise<boolean> => {
    const fired = await runtime.deps.schedules.getRun(runId);
    if (!fired || fired.status === 'Starting') return false;
    return (await runtime.deps.schedules.listRunTargets(runId)).every((t) => t.skipped !== undefined || t.ring > 0 || t.sessionId !== undefined);
  };
  for (let waitedMs = 0; !(await firstRingStarted()); waitedMs += 100) {
    if (waitedMs > 30_000) throw new Error('the demo schedule did not fire');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const started = (await runtime.deps.schedules.listRunTargets(runId)).filter((t) => t.sessionId !== undefined);
  for (const target of started) {
    machineBySession.set(target.sessionId ?? '', target.computerId);
    await runtime.waitForSession(target.sessionId ?? '');
  }
  await printing;
  // the controller's next look (every minute in AWS): the canary ring ended below its threshold
  await runtime.invoke('advance-runs', {});
  const run = await runtime.deps.schedules.getRun(runId);
  if (!run) throw new Error('the demo run vanished');
  const targets = await runtime.deps.schedules.listRunTargets(runId);
  const statuses = await runtime.deps.sessions.getSessionStatuses(targets.flatMap((t) => (t.sessionId ? [t.sessionId] : [])));
  const ringName = (ring: number): string => run.rollout.rings[ring]?.name ?? String(ring);
  const rows = targets.map((t) => {
    const status = t.sessionId ? statuses.get(t.sessionId)?.status : undefined;
    const outcome = status ? (status === 'Passed' ? green(status) : status === 'Failed' ? red(status) : status) : t.skipped ? yellow(`skipped: ${SKIP_WORDS[t.skipped]}`) : dim('not started');
    return [t.computerName, t.skipped ? '' : ringName(t.ring), outcome];
  });
  const skipped = Object.entries(run.skipped).map(([reason, count]) => `${String(count)} ${reason}`).join(', ');
  const events = runtime.events.published.flatMap((e) => (e.detailType === 'nightshift.run' && e.detail.runId === runId ? [e.detail.event] : []));
  lines.push(
    `  fired     ${fireAt.toISOString()} — run ${runId}`,
    `  run       ${run.status === 'Halted' ? yellow(run.status) : run.status}${run.haltReason ? ` — ${run.haltReason}` : ''}`,
    `  counts    ${run.targeted} targeted, ${run.started} started, ${skipped ? `skipped ${skipped}` : 'none skipped'}; ${run.outcome.passed} passed, ${run.outcome.failed} failed, ${run.outcome.queued} waiting for their ring`,
    `  events    ${events.join(' → ')} ${dim('(nightshift.run on the event bus)')}`,
    '',
    table(['Computer', 'Ring', 'Outcome'], rows),
  );
  return lines.join('\n');
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`nightshift: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  // a session parked at its window (tonight's) holds the workflow engine's timer for the Gate's TimeoutSeconds,
  // up to two weeks: the runtime is closed and the session is on disk, so the process ends here and the next
  // start resumes it from its record
  .finally(() => process.exit());
