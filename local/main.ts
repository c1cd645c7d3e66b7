/**
 * `npm start`: boots the embedded runtime, seeds the demo tenant, runs one
 * maintenance session per sandbox machine and shows each stage live, then a
 * readable report. State persists in `.nightshift/`, so a second run finds
 * the machines compliant ("nothing to do"); delete the folder to start over.
 */
import path from 'node:path';
import { parseCommandComment } from '../functions/core/model/agent.js';
import type { Action, DetectedItem, PlannedItem, Session } from '../functions/core/model/session.js';
import type { WorkflowEvent } from './local-workflow.js';
import { DEMO_DEPLOYMENTS, DEMO_SOFTWARE, DEMO_TASKS, DEMO_TENANT, seedDemo } from './demo-fleet.js';
import { REPO_ROOT, createLocalRuntime, type LocalRuntime, type SessionOutcome } from './runtime.js';
import type { SandboxCommandRecord } from './sandbox-agent.js';
import { bold, clockTime, cyan, dim, green, padEnd, red, seconds, table, yellow } from './terminal.js';

const DATA_DIR = process.env.NIGHTSHIFT_DATA_DIR ?? path.join(REPO_ROOT, '.nightshift');

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
  return `  ${dim(clockTime(new Date()))}  ${cyan(padEnd(machineBySession.get(sessionId) ?? sessionId, 10))}`;
}

function describeResult(action: Action): string {
  if (action.result === 'Success') return green('Success');
  if (action.result === 'Failed') return red(action.status === 'Skipped' ? 'Skipped' : 'Failed');
  return yellow(action.status);
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

const describeDetected = (detected: DetectedItem | undefined): string => {
  switch (detected?.state) {
    case 'Present':
      return detected.version;
    case 'Absent':
      return 'absent';
    case 'Compliant':
      return 'compliant';
    case 'NotCompliant':
      return 'not compliant';
    case 'Undetermined':
      return '?';
    case undefined:
      return '—';
  }
};

function afterColumn(action: Action, verified: DetectedItem | undefined): string {
  if (action.type === 'TaskAudit') return action.outputTail?.split('\n').filter((l) => !l.startsWith('nightshift:')).at(-1)?.slice(0, 40) ?? '—';
  if (action.type === 'TaskMonitor') return 'reported';
  if (action.type === 'Uninstall') return action.result === 'Success' ? 'removed' : describeDetected(verified);
  return action.versionAfter ?? describeDetected(verified);
}

const REASON_WORDS: Record<PlannedItem['reason'], string> = {
  SoftwareMissing: 'missing',
  UpdateAvailable: 'update available',
  OlderVersionRequired: 'older version pinned',
  SoftwareDetected: 'installed, must not be',
  TestFailed: 'health check failed',
  TaskNotCompliant: 'not compliant',
  AuditRequested: 'audit',
  PrerequisiteMissing: 'prerequisite',
  ConflictingSoftware: 'conflicts with a deployed item',
  RebootRequested: 'asked for by an installer',
  RebootForced: 'the session restarts every time',
  UpToDate: 'up to date',
  NewerVersionInstalled: 'newer than the catalog',
  AnyVersionInstalled: 'installed',
  SoftwareAbsent: 'absent, as deployed',
  NotInstalledUpdateIfFound: 'not installed (update if found)',
  TaskCompliant: 'compliant',
  Ignored: 'ignored by deployment',
  NotAssigned: 'no enabled deployment',
  Undetermined: 'could not be determined',
  PrerequisiteNotNeeded: 'prerequisite not needed',
  DependencyConflict: 'conflicting deployments',
};

async function sessionReport(runtime: LocalRuntime, outcome: SessionOutcome, machineName: string): Promise<string> {
  const { session, actions } = outcome;
  const tookMs = Date.parse(session.endedAt ?? session.updatedAt) - Date.parse(session.createdAt);
  const status = session.status === 'Passed' ? green(session.status) : session.status === 'PartialPassed' ? yellow(session.status) : red(session.status);
  const heading = `${bold(machineName)} ${dim(`(${session.computerName}, ${session.agentId})`)} — ${status} in ${seconds(tookMs)}`;
  if (session.failure) return `${heading}\n  ${red(session.failure.code)}: ${session.failure.message}`;
  const plan = await runtime.deps.sessions.getPlan(session.id);
  const verification = await runtime.deps.sessions.getDetection(session.id, 'Verification');
  const untouched = (plan?.items ?? [])
    .filter((item) => item.action === undefined)
    .map((item) => `${item.itemName} ${dim(`(${REASON_WORDS[item.reason]}${item.detected.state === 'Present' ? ` ${item.detected.version}` : ''})`)}`);
  // audits and monitoring observe; a session with only those changed nothing
  const observations = actions.filter((a) => a.type === 'TaskAudit' || a.type === 'TaskMonitor');
  if (actions.length === observations.length) {
    const observed = observations.map((a) => `${a.itemName}: ${afterColumn(a, undefined)}`);
    return [
      `${heading} — nothing to do`,
      ...(untouched.length ? [`  ${dim('compliant:')} ${untouched.join(', ')}`] : []),
      ...(observed.length ? [`  ${dim('observed:')} ${observed.join(', ')}`] : []),
    ].join('\n');
  }
  const rows = actions.map((action) => {
    const item = plan?.items.find((i) => i.actionId === action.actionId);
    return [
      action.type,
      action.itemName,
      describeDetected(item?.detected),
      afterColumn(action, verification?.items[action.itemKey]),
      describeResult(action),
      action.durationMs === undefined ? '' : seconds(action.durationMs),
      action.result === 'Success' ? dim(REASON_WORDS[action.reason]) : (action.resultReason ?? ''),
    ];
  });
  const lines = [heading, table(['ACTION', 'ITEM', 'BEFORE', 'AFTER', 'RESULT', 'TIME', 'WHY'], rows)];
  // the decisions an end user would ask about: removals and pinned versions
  for (const action of actions.filter((a) => a.type === 'Uninstall' || a.type === 'Downgrade')) {
    const summary = session.items.find((item) => item.key === action.itemKey)?.explanation.summary;
    if (summary) lines.push(`  ${dim('why:')} ${summary}`);
  }
  if (untouched.length) lines.push(`  ${dim('left alone:')} ${untouched.join(', ')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  process.stdout.write(`${bold('Nightshift')} — maintenance sessions on the embedded runtime\n`);
  const runtime: LocalRuntime = await createLocalRuntime({
    dataDir: DATA_DIR,
    onAgentActivity: (record, phase) => showAgentActivity(runtime, record, phase),
  });
  // sessions a killed run left are already going again: their lines are named from their records
  runtimeForNames = runtime;
  runtime.workflow.events.on('event', (event) => showWorkflowEvent(runtime, event));
  try {
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
        const { sessionId } = await runtime.startSession(machine.computer.id);
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
    for (const { machine, outcome } of outcomes) process.stdout.write(`${await sessionReport(runtime, outcome, machine.computer.id)}\n\n`);

    const transitions = outcomes.reduce((sum, { outcome }) => sum + outcome.stateTransitions, 0);
    const roundTrips = outcomes.reduce((sum, { outcome }) => sum + outcome.agentRoundTrips, 0);
    const failed = outcomes.filter(({ outcome }) => outcome.session.status !== ('Passed' as Session['status'])).length;
    if (failed > 0) process.stdout.write(`${red(`${failed} session(s) did not pass`)} — the report above says why.\n`);
    process.stdout.write(
      `demo: ${outcomes.length} sessions, ${transitions} state transitions, ${roundTrips} agent round-trips, ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await runtime.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`nightshift: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
