/**
 * `npm run bench:fleet -- --machines N --items M [--breakdown] [--warm-up K | --cold] [--on-disk] [--rounds K]`: N
 * sandbox machines with M software items each, brought to compliance by one
 * session per machine, all sessions at once, on the local runtime (dynalite,
 * the deployed ASL on aws-local-stepfunctions, real bash on the sandbox agent,
 * the real clock). Item k (1..M) is missing when k mod 3 = 0, at 1.0.0 when
 * k mod 3 = 1 and at 2.0.0 when k mod 3 = 2; every item is deployed at its
 * latest version, 2.0.0, detected from and installed as `opt/app<k>/VERSION`
 * in the machine's folder. 20 items make the 13-action session of issue 9.
 *
 * Prints one line:
 *   fleet: N machines x M items, S s, T state transitions, R agent round-trips,
 *   W table writes, O ms engine overhead per action, all compliant: yes
 *
 * - S: wall time from the first start-session call until every session's
 *   execution has ended.
 * - T, R: summed over sessions, as `waitForSession` reports them.
 * - W: DynamoDB write calls (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
 *   TransactWriteItems; a batch is one call) from the first start-session on.
 *   Seeding is not counted, and the bench itself only reads. The usage
 *   meter's writes (one per invocation, to the `USAGE` items beside each
 *   session) are not in W, so W stays the engine's own figure; `--breakdown`
 *   counts them apart.
 * - O, the mean over sessions of
 *     (session wall time − time the agent spent running that session's scripts) / actions of that session
 *   where the script time is startedAtMs → finishedAtMs of each of the
 *   session's commands (the agent writes the script file, runs bash, removes
 *   it). Everything else is engine: handlers, table calls, the state machine,
 *   token hand-offs, event delivery, and the agent's hand-over of each command
 *   (sentAtMs → startedAtMs; machines here have no simulated latency). With N
 *   sessions sharing this machine's cores, O includes waiting for the CPU, so
 *   it grows with N.
 * - Warm-up: before the measured sessions, K sessions (4 unless `--warm-up`
 *   says) run one after the other on K more machines, and nothing they do is
 *   in any figure. A fresh process runs every handler, the SDK, dynalite and
 *   the state machine for the first time, and V8 goes on optimizing them for
 *   a few sessions more: on this two-core machine (2026-12-01) eight sessions
 *   in a row measured O of 42-50, 37-39, 33-35, 32-33, then 28-33 ms. That is
 *   paid once per process (a running `npm start` is warm), not per session,
 *   so the line measures a process past it. The warm-up machines have the
 *   measured image for items 1-20 and every later item at 2.0.0 already: the
 *   same 13 actions whatever M, with the detection of all M items. `--cold`
 *   (`--warm-up 0`) measures the first sessions of the process instead;
 *   `--breakdown` prints each warm-up session's own O.
 * - The table: in memory, as the tests keep it, unless `--on-disk` puts it in
 *   LevelDB files in a temporary folder, as `npm start` keeps it in
 *   `.nightshift/` (each call goes through LevelDB's thread pool: on this
 *   machine (2026-12-01) about 5 ms more engine overhead per action).
 * - `--rounds K`: the fleet runs K times, one round after the other, each on
 *   machines of its own (after the one warm-up). S, T, R and W are per round
 *   (T, R and W the same in every round, or their mean if not); O is the mean
 *   over every round's sessions, as for one round. A second line gives each
 *   round's O with the mean's standard error, taken between rounds (the
 *   sessions of one round share the machine at once). One session's O moves
 *   by ±5 ms from session to session within one warm process on this
 *   two-core machine (24–48 ms in 40 sessions in a row, 2026-12-02), so a
 *   figure to compare with a target, or with another version of the code,
 *   wants several rounds. Not with `--breakdown`, which describes one round.
 * - With `--rounds` or `--breakdown`, a last line describes the machine: a
 *   fixed reference workload's time before and after the measured sessions
 *   (its speed of the hour; see machine-speed.ts) and how many cores other
 *   processes kept busy meanwhile. O moves with both, so figures taken on
 *   different machines, or hours, compare only where that line agrees.
 * - "all compliant" is checked, never assumed: every execution SUCCEEDED and
 *   every session Passed, every action ended Complete/Success, the engine's
 *   verification detection finds every item compliant, and every version file
 *   on every machine reads 2.0.0.
 *
 * `--breakdown` adds, after the line: Lambda invocations and table calls per
 * handler, table calls per command type, state transitions per state, the
 * usage meter's writes and what a session cost by its own count and, on
 * one machine, where the session's time goes: by activity, between one
 * action's script and the next against the session's once-only stages, and
 * this process's CPU outside the scripts (on a shared machine a steadier
 * figure than wall time, which also holds the waits for a core). Calls are
 * attributed to the handler running them through AsyncLocalStorage (correct
 * under concurrency too); it is only switched on with `--breakdown`, because
 * its promise hooks cost a few percent of CPU that the line should not pay.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { wholeNumberFlag } from './args.js';
import { otherLoadCores, referenceWorkloadMs, sampleCpu } from './machine-speed.js';
import { parseCommandComment } from '../functions/core/model/agent.js';
import type { Software } from '../functions/core/model/catalog.js';
import { isCompliant } from '../functions/core/planning/planner.js';
import { USAGE_SK_PREFIX } from '../functions/adapters/usage-store.dynamodb.js';
import { addUsage, formatUsd, NO_USAGE, priceUsage } from '../functions/core/model/usage.js';
import type { LambdaHandler } from '../functions/handlers/handler-kit.js';
import type { WorkflowEvent } from '../local/local-workflow.js';
import type { SessionOutcome } from '../local/runtime.js';
import { everywhere, readVersion, runtimeWithFleet, testComputer, testSoftware } from '../test/support/fleet.js';

const DESIRED_VERSION = '2.0.0';
const OLD_VERSION = '1.0.0';

const { values: flags } = parseArgs({
  options: {
    machines: { type: 'string', default: '1' },
    items: { type: 'string', default: '20' },
    breakdown: { type: 'boolean', default: false },
    'warm-up': { type: 'string', default: '4' },
    cold: { type: 'boolean', default: false },
    'on-disk': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
  },
  strict: true,
});

const positiveInteger = (name: string, text: string, max: number): number => wholeNumberFlag('bench:fleet', name, text, max);

// action ids have three digits (999 actions at most); a hundred machines is already a long run on a laptop
const machineCount = positiveInteger('machines', flags.machines, 100);
const itemCount = positiveInteger('items', flags.items, 999);
const breakdown = flags.breakdown;
const warmUpSessions = flags.cold ? 0 : wholeNumberFlag('bench:fleet', 'warm-up', flags['warm-up'], 20, 0);
const rounds = positiveInteger('rounds', flags.rounds, 50);
if (rounds > 1 && breakdown) {
  process.stderr.write('bench:fleet: --breakdown describes one round of the fleet; leave out --rounds, or --breakdown\n');
  process.exit(2);
}
/** The table in LevelDB files in a folder of its own, as `npm start` keeps it, rather than in memory as the tests do. */
const dataDir = flags['on-disk'] ? await mkdtemp(path.join(tmpdir(), 'nightshift-bench-')) : undefined;

const itemIds = Array.from({ length: itemCount }, (_, index) => `app${index + 1}`);
/** What machine starts with for item k: missing, 1.0.0 or 2.0.0, by k mod 3. */
const startingVersion = (k: number): string | undefined => (k % 3 === 0 ? undefined : k % 3 === 1 ? OLD_VERSION : DESIRED_VERSION);
const image: Record<string, string> = {};
itemIds.forEach((id, index) => {
  const version = startingVersion(index + 1);
  if (version !== undefined) image[id] = version;
});
const expectedActionsPerMachine = itemIds.filter((_, index) => startingVersion(index + 1) !== DESIRED_VERSION).length;

/** Items past the 20th already at the desired version: a warm-up session runs the 13 actions of 20 items, whatever M. */
const warmUpImage: Record<string, string> = Object.fromEntries(itemIds.map((id, index) => [id, index < 20 ? image[id] : DESIRED_VERSION]).filter((entry): entry is [string, string] => entry[1] !== undefined));

const machineOf = (index: number, name: string, machineImage = image) => ({
  computer: testComputer(name, `i-${(index + 1).toString(16).padStart(17, '0')}`),
  image: machineImage,
});
/** Each round's machines: `pc-001`… in the first, `pc-r2-001`… in the second, and so on. */
const roundMachines = Array.from({ length: rounds }, (_, round) =>
  Array.from({ length: machineCount }, (_, index) => machineOf(round * machineCount + index, `pc-${round === 0 ? '' : `r${round + 1}-`}${String(index + 1).padStart(3, '0')}`)),
);
const machines = roundMachines.flat();
/** The warm-up sessions' machines, outside every figure. */
const warmUpMachines = Array.from({ length: warmUpSessions }, (_, index) => machineOf(machines.length + index, `pc-warm-up-${index + 1}`, warmUpImage));
const software: Software[] = itemIds.map((id) => testSoftware(id, DESIRED_VERSION));

// ---- counting ----

const WRITE_COMMANDS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READ_COMMANDS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
/** Calls made outside any handler: the bench reading outcomes (and, without --breakdown, every call). */
const OUTSIDE = '(bench)';
const running = new AsyncLocalStorage<string>();
/** Epoch milliseconds with sub-millisecond resolution, comparable with the agent's records (which use the clock). */
const nowMs = (): number => performance.timeOrigin + performance.now();

interface Tally {
  calls: number;
  ms: number;
}
const add = (map: Map<string, Tally>, key: string, ms: number): void => {
  const entry = map.get(key) ?? { calls: 0, ms: 0 };
  entry.calls++;
  entry.ms += ms;
  map.set(key, entry);
};

/** Table calls by `<label> <command>`, the label being the handler that made the call. */
const tableCalls = new Map<string, Tally>();
/** The usage meter's writes, by the same key: kept out of `tableCalls` so W stays the engine's own figure. */
const meteringCalls = new Map<string, Tally>();
const invocations = new Map<string, Tally>();
/** Handler table calls by `<command> <item kind>`, with --breakdown. */
const callsByItem = new Map<string, Tally>();
/** Handler table calls by `<label> <command> <item kind>`, with --breakdown: what each action costs on its own. */
const callsByLabelAndItem = new Map<string, Tally>();
const transitionsByState = new Map<string, number>();
const executionEndedAt = new Map<string, number>();

type SpanKind = 'script' | 'table' | 'handler' | 'delivery';
interface Span {
  readonly kind: SpanKind;
  readonly start: number;
  readonly end: number;
}
/** Only with --breakdown on one machine, for the time sweep. */
const spans: Span[] = [];
const keepSpans = breakdown && machineCount === 1;

const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' && name in value ? (value as Record<string, unknown>)[name] : undefined;

/** A key attribute's value, whether the call carries it as a document value or already marshalled (`{ S: … }`). */
const text = (value: unknown): string | undefined => {
  const marshalled = field(value, 'S');
  return typeof value === 'string' ? value : typeof marshalled === 'string' ? marshalled : undefined;
};

/**
 * What kind of item a table call touches, from its sort key (or for a query,
 * its key condition values): SESSION, ACTION, DISPATCH, LOG,
 * DETECTION, PLAN, a catalog kind, or `batch` for a multi-item call.
 */
function itemKindOf(input: unknown): string {
  if (field(input, 'RequestItems') !== undefined || field(input, 'TransactItems') !== undefined) return 'batch';
  const values = field(input, 'ExpressionAttributeValues');
  const sortKey = text(field(field(input, 'Key'), 'SK')) ?? text(field(field(input, 'Item'), 'SK'));
  const queried = field(input, 'KeyConditionExpression') !== undefined ? (text(field(values, ':sk')) ?? text(field(values, ':pk'))) : undefined;
  const found = sortKey ?? queried;
  if (found === undefined) return '?';
  const index = field(input, 'IndexName');
  const kind = found.split('#')[0] ?? found;
  return typeof index === 'string' ? `${kind}@${index}` : `${kind}${queried !== undefined ? '*' : ''}`;
}

/** A write to a usage item (a session's or a run's): what the meter adds, not what the engine does. */
const isMeteringWrite = (command: string, input: unknown): boolean =>
  WRITE_COMMANDS.has(command) && (text(field(field(input, 'Key'), 'SK')) ?? '').startsWith(USAGE_SK_PREFIX);

/** Command id → dispatch key, learnt as each command starts: a completion event names only the command. */
const commandKeys = new Map<string, string>();

/**
 * dispatch-command and complete-command serve the detection, every action and
 * the verification alike; only the action ones scale with the number of
 * actions, so the label says which purpose the call served.
 */
function labelOf(handlerName: string, event: unknown): string {
  if (handlerName === 'dispatch-command') {
    const purpose = field(event, 'purpose');
    return typeof purpose === 'string' ? `${handlerName}[${purpose}]` : handlerName;
  }
  if (handlerName === 'complete-command') {
    const commandId = field(field(event, 'detail'), 'command-id');
    const key = typeof commandId === 'string' ? commandKeys.get(commandId) : undefined;
    return key ? `${handlerName}[${key.startsWith('Action#') ? 'Action' : key}]` : handlerName;
  }
  return handlerName;
}

const wrapHandler =
  (name: string, handler: LambdaHandler<unknown, unknown>): LambdaHandler<unknown, unknown> =>
  async (event, context) => {
    const label = labelOf(name, event);
    const start = nowMs();
    try {
      return breakdown ? await running.run(label, () => handler(event, context)) : await handler(event, context);
    } finally {
      const end = nowMs();
      add(invocations, label, end - start);
      if (keepSpans) spans.push({ kind: 'handler', start, end });
    }
  };

// ---- the fleet ----

/** This process's CPU milliseconds (bash children not included), at the moment of the call. */
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
/** This process's CPU while each command's script ran (from its start to its end, as the agent tells them), by command id. */
const scriptCpuStartedAt = new Map<string, number>();
const scriptCpuMs = new Map<string, number>();

const runtime = await runtimeWithFleet(
  { software, deployments: itemIds.map((id) => everywhere(id)), machines: [...machines, ...warmUpMachines] },
  {
    retryIntervalMs: 0,
    ...(dataDir === undefined ? {} : { dataDir }),
    // the agent's poll only paces the scripts' timeout watchdog here (the machines are online, without latency): its default
    wrapHandler,
    onAgentActivity: (record, phase) => {
      const key = parseCommandComment(record.comment)?.key;
      if (key !== undefined) commandKeys.set(record.commandId, key);
      if (phase === 'started') scriptCpuStartedAt.set(record.commandId, cpuMs());
      const startedAt = scriptCpuStartedAt.get(record.commandId);
      if (phase === 'finished' && startedAt !== undefined) scriptCpuMs.set(record.commandId, cpuMs() - startedAt);
    },
  },
);

runtime.workflow.events.on('event', (event: WorkflowEvent) => {
  // the rule the runtime counts stateTransitions by, so the per-state figures add up to T
  if (event.type === 'StateEntered' && event.stateName !== undefined) {
    transitionsByState.set(event.stateName, (transitionsByState.get(event.stateName) ?? 0) + 1);
  }
  if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted' || event.type === 'ExecutionTimeout') {
    executionEndedAt.set(event.executionName, event.timestampMs);
  }
});

interface SessionRun {
  readonly agentId: string;
  readonly sessionId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly scriptMs: number;
  /** This process's CPU while the session's scripts ran (the agent's own work, and other sessions' engine). */
  readonly scriptCpuMs: number;
  readonly outcome: SessionOutcome;
}

async function runSession(computerId: string, agentId: string): Promise<SessionRun> {
  const startMs = nowMs();
  const { sessionId } = await runtime.startSession(computerId);
  await runtime.workflow.waitFor(sessionId);
  // the execution's own end event: reading the outcome afterwards is the bench's time, not the session's
  const endMs = executionEndedAt.get(sessionId) ?? nowMs();
  const outcome = await runtime.waitForSession(sessionId);
  let scriptMs = 0;
  let scriptCpu = 0;
  for (const record of runtime.agent.history(agentId)) {
    if (parseCommandComment(record.comment)?.sessionId !== sessionId || record.startedAtMs === undefined) continue;
    if (keepSpans) spans.push({ kind: 'delivery', start: record.sentAtMs, end: record.startedAtMs });
    if (record.finishedAtMs === undefined) continue;
    scriptMs += record.finishedAtMs - record.startedAtMs;
    scriptCpu += scriptCpuMs.get(record.commandId) ?? 0;
    if (keepSpans) spans.push({ kind: 'script', start: record.startedAtMs, end: record.finishedAtMs });
  }
  return { agentId, sessionId, startMs, endMs, scriptMs, scriptCpuMs: scriptCpu, outcome };
}

/** The line's O for one session: (wall time − time in scripts) / actions. */
const overheadOf = (run: SessionRun): number => (run.endMs - run.startMs - run.scriptMs) / Math.max(1, run.outcome.actions.length);

let counting = false;
// In the client's stack from before the warm-up, and counting only once it is over: the warm-up then runs
// every table call through the same middleware as the measured sessions. Added after it, as before
// 2026-12-02, it changed the path of every call at the moment the measured sessions began.
runtime.dynamoClient.middlewareStack.add(
  (next, context) => async (args) => {
    if (!counting) return next(args);
    const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    const label = running.getStore() ?? OUTSIDE;
    const start = nowMs();
    try {
      return await next(args);
    } finally {
      const end = nowMs();
      const engine = !isMeteringWrite(command, args.input);
      add(engine ? tableCalls : meteringCalls, `${label} ${command}`, end - start);
      if (engine && breakdown && label !== OUTSIDE) add(callsByItem, `${command} ${itemKindOf(args.input)}`, end - start);
      if (engine && breakdown && label !== OUTSIDE) add(callsByLabelAndItem, `${label} ${command} ${itemKindOf(args.input)}`, end - start);
      if (keepSpans && label !== OUTSIDE) spans.push({ kind: 'table', start, end });
    }
  },
  { step: 'initialize', name: 'benchFleetTableCalls' },
);

// the warm-up sessions (see the header), one after the other: run and then forgotten, but for their own O
const warmUpRuns: SessionRun[] = [];
for (const machine of warmUpMachines) {
  const run = await runSession(machine.computer.id, machine.computer.agentId);
  if (run.outcome.session.status !== 'Passed') process.stderr.write(`  note: warm-up session ${warmUpRuns.length + 1} ended ${run.outcome.session.status}\n`);
  warmUpRuns.push(run);
}
invocations.clear();
transitionsByState.clear();
spans.length = 0;
counting = true;

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const commandOf = (key: string): string => key.slice(key.lastIndexOf(' ') + 1);
const labelOfKey = (key: string): string => key.slice(0, key.lastIndexOf(' '));
const countCalls = (kinds: ReadonlySet<string>, label: (l: string) => boolean = () => true): number =>
  sum([...tableCalls].filter(([key]) => kinds.has(commandOf(key)) && label(labelOfKey(key))).map(([, t]) => t.calls));

interface Round {
  readonly runs: readonly SessionRun[];
  readonly seconds: number;
  readonly writes: number;
}
const fleetRounds: Round[] = [];
// O depends on the machine of the hour: the lines meant for comparing figures say what it was (see machine-speed.ts)
const describesMachine = rounds > 1 || breakdown;
// the warm-up's trailing work (its last usage records, the agent tidying up) ends first: it is not the machine's speed
if (describesMachine) await Promise.all([runtime.agent.idle(), runtime.flushUsage()]);
const referenceBeforeMs = describesMachine ? await referenceWorkloadMs() : 0;
const machineBefore = describesMachine ? await sampleCpu() : undefined;
// after the machine's readings and before the second: the process's CPU is the sessions' alone
const cpuBefore = process.cpuUsage();
for (const fleet of roundMachines) {
  const startedAt = nowMs();
  const writesBefore = countCalls(WRITE_COMMANDS);
  const roundRuns = await Promise.all(fleet.map((m) => runSession(m.computer.id, m.computer.agentId)));
  fleetRounds.push({ runs: roundRuns, seconds: (nowMs() - startedAt) / 1000, writes: countCalls(WRITE_COMMANDS) - writesBefore });
}
// this process alone (bash children not included): one event loop runs every handler, the SDK, dynalite and the state machine
const cpuUsed = process.cpuUsage(cpuBefore);
const machineAfter = describesMachine ? await sampleCpu() : undefined;
const referenceAfterMs = describesMachine ? await referenceWorkloadMs() : 0;
const runs = fleetRounds.flatMap((round) => round.runs);
const fleetSeconds = sum(fleetRounds.map((round) => round.seconds)) / rounds;
const processCpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;

// ---- compliance: the engine's verdict, its verification detection, and the files themselves ----

const problems: string[] = [];
for (const run of runs) {
  const { session, actions, executionStatus } = run.outcome;
  if (executionStatus !== 'SUCCEEDED' || session.status !== 'Passed') {
    problems.push(`${session.computerId}: session ${run.sessionId} ended ${session.status} (execution ${executionStatus})${session.failure ? `: ${session.failure.message}` : ''}`);
  }
  for (const action of actions) {
    if (action.status !== 'Complete' || action.result !== 'Success') {
      problems.push(`${session.computerId}: action ${action.actionId} ${action.type} ${action.itemId} is ${action.status}/${action.result} (${action.resultReason ?? 'no reason'})`);
    }
  }
  const verification = await runtime.deps.sessions.getDetection(run.sessionId, 'Verification');
  if (session.items.length !== itemCount) problems.push(`${session.computerId}: the session has ${session.items.length} item(s), not ${itemCount}`);
  for (const item of session.items) {
    const detected = verification?.items[item.key];
    if (!detected || !isCompliant(item, detected)) {
      problems.push(`${session.computerId}: verification finds ${item.itemId} ${detected ? JSON.stringify(detected) : 'undetected'}`);
    }
  }
  const root = runtime.agent.rootOf(run.agentId);
  for (const id of itemIds) {
    const version = await readVersion(root, id);
    if (version !== DESIRED_VERSION) problems.push(`${session.computerId}: ${id} version file reads ${version ?? '(missing)'}`);
  }
}
const compliant = problems.length === 0;
// not a compliance failure, but then the bench measured some other session than the one it describes
const unexpectedPlans = runs.filter((r) => r.outcome.actions.length !== expectedActionsPerMachine);

// ---- the line ----

/** A count per round: the same in every round (the engine is deterministic), else their mean, with a decimal to show it. */
const perRound = (count: (round: Round) => number): string => {
  const counts = fleetRounds.map(count);
  return counts.every((c) => c === counts[0]) ? String(counts[0] ?? 0) : (sum(counts) / rounds).toFixed(1);
};
const transitions = perRound((round) => sum(round.runs.map((r) => r.outcome.stateTransitions)));
const roundTrips = perRound((round) => sum(round.runs.map((r) => r.outcome.agentRoundTrips)));
const writes = perRound((round) => round.writes);
const withActions = (of: readonly SessionRun[]): number[] => of.filter((r) => r.outcome.actions.length > 0).map(overheadOf);
const mean = (values: readonly number[]): number => (values.length > 0 ? sum(values) / values.length : 0);
const overheadPerAction = mean(withActions(runs));

process.stdout.write(
  `fleet: ${machineCount} machines x ${itemCount} items, ${fleetSeconds.toFixed(1)} s, ${transitions} state transitions, ` +
    `${roundTrips} agent round-trips, ${writes} table writes, ${overheadPerAction.toFixed(0)} ms engine overhead per action, ` +
    `all compliant: ${compliant ? 'yes' : 'no'}\n`,
);
if (rounds > 1) {
  // the spread is taken between rounds: the sessions of one round share the machine at once, so they do not vary apart
  const roundOverheads = fleetRounds.map((round) => mean(withActions(round.runs)));
  const roundsMean = mean(roundOverheads);
  const spread = Math.sqrt(sum(roundOverheads.map((o) => (o - roundsMean) ** 2)) / (rounds - 1));
  process.stdout.write(
    `rounds: ${rounds}, O by round ${roundOverheads.map((o) => o.toFixed(0)).join(', ')} ms; mean ${overheadPerAction.toFixed(1)} ms ` +
      `(standard deviation of the rounds ${spread.toFixed(1)}, standard error ${(spread / Math.sqrt(rounds)).toFixed(1)} ms)\n`,
  );
}
if (describesMachine) {
  process.stdout.write(
    `machine: the reference workload (bench/machine-speed.ts) took ${referenceBeforeMs.toFixed(1)} ms before the measured sessions ` +
      `and ${referenceAfterMs.toFixed(1)} ms after` +
      (machineBefore && machineAfter ? `; other processes kept ${otherLoadCores(machineBefore, machineAfter).toFixed(2)} of the machine's cores busy meanwhile` : '') +
      `. O moves with both, so compare O between runs whose machine line agrees\n`,
  );
}
for (const problem of problems.slice(0, 20)) process.stderr.write(`  ${problem}\n`);
if (problems.length > 20) process.stderr.write(`  … and ${problems.length - 20} more\n`);
for (const run of unexpectedPlans) {
  process.stderr.write(`  note: ${run.outcome.session.computerId} planned ${run.outcome.actions.length} action(s), the fleet's design says ${expectedActionsPerMachine}\n`);
}

// ---- the breakdown ----

/**
 * Splits one session's wall time by what was happening, in priority order:
 * a script running, else a table call in flight, else a handler running, else
 * the agent handing a command over, else nothing of those (the state machine,
 * token hand-offs, the event on its way to complete-command). Overlaps (a
 * dispatch recording its command while the script already runs) count once.
 */
function sweep(startMs: number, endMs: number): Record<SpanKind | 'glue', number> {
  const order: SpanKind[] = ['script', 'table', 'handler', 'delivery'];
  const totals: Record<SpanKind | 'glue', number> = { script: 0, table: 0, handler: 0, delivery: 0, glue: 0 };
  const points = [...new Set([startMs, endMs, ...spans.flatMap((s) => [s.start, s.end])])]
    .filter((p) => p >= startMs && p <= endMs)
    .sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i] ?? 0;
    const to = points[i + 1] ?? 0;
    const middle = (from + to) / 2;
    const active = new Set(spans.filter((s) => s.start <= middle && middle < s.end).map((s) => s.kind));
    totals[order.find((kind) => active.has(kind)) ?? 'glue'] += to - from;
  }
  return totals;
}

/**
 * The engine overhead of a one-machine session, split by where it falls: the
 * gaps between consecutive action scripts (what one more action adds), and
 * the rest, which the session pays once whatever its actions. Commands in
 * order: the detection, the actions, the verification.
 */
function engineSplit(run: SessionRun): { betweenActionsMs: number; betweenActions: number; onceOnlyMs: number; onceOnly: readonly number[] } | undefined {
  const commands = runtime.agent
    .history(run.agentId)
    .filter((record) => parseCommandComment(record.comment)?.sessionId === run.sessionId)
    .flatMap((record) => (record.startedAtMs !== undefined && record.finishedAtMs !== undefined ? [{ start: record.startedAtMs, end: record.finishedAtMs }] : []))
    .sort((a, b) => a.start - b.start);
  if (commands.length < 4) return undefined;
  const gaps = commands.map((command, index) => command.start - (index === 0 ? run.startMs : (commands[index - 1]?.end ?? run.startMs)));
  gaps.push(run.endMs - (commands.at(-1)?.end ?? run.endMs));
  // gaps[0] start → detection, gaps[1] detection → first action, then one per later action, the last two verification and end
  const between = gaps.slice(2, -2).sort((a, b) => a - b);
  const median = between[Math.floor(between.length / 2)] ?? 0;
  const onceOnly = [...gaps.slice(0, 2), ...gaps.slice(-2)];
  return { betweenActionsMs: median, betweenActions: between.length, onceOnlyMs: sum(onceOnly), onceOnly };
}

if (breakdown) {
  const out: string[] = [];
  const actions = sum(runs.map((r) => r.outcome.actions.length));
  const perAction = (n: number): string => (actions > 0 ? (n / actions).toFixed(2) : '-');
  const right = (text: string | number, width: number): string => String(text).padStart(width);
  const inside = (label: string): boolean => label !== OUTSIDE;
  const handlerWrites = countCalls(WRITE_COMMANDS, inside);
  const handlerReads = countCalls(READ_COMMANDS, inside);
  const lambdaCalls = sum([...invocations.values()].map((t) => t.calls));

  out.push('', `breakdown: ${runs.length} session(s), ${actions} action(s)`);
  out.push(
    warmUpRuns.length > 0
      ? `the ${warmUpRuns.length} warm-up session(s) before them, in order (the first in this process, V8 compiling and optimizing as they go; in no figure): ${warmUpRuns.map((run) => overheadOf(run).toFixed(0)).join(', ')} ms engine overhead per action`
      : 'no warm-up session (--cold): the line measured the first sessions of this process, V8 compiling as they went',
  );
  out.push(
    `this process used ${processCpuSeconds.toFixed(1)} s of CPU in the ${fleetSeconds.toFixed(1)} s (${((100 * processCpuSeconds) / fleetSeconds).toFixed(0)} %; ` +
      `near 100 % the fleet waits for its one event loop, whatever the cores)`,
  );
  out.push(
    `per action, all of the session's calls divided by its actions: ${perAction(handlerWrites)} table writes, ${perAction(handlerReads)} table reads, ` +
      `${perAction(lambdaCalls)} Lambda invocations; ${transitions} state transitions against a target of ${12 * runs.length + 2 * actions} (12 + 2·A per session)`,
  );
  // what one more action adds: its own step and its completion, and the report's write of its result (plus the plan's
  // batch of it); everything else a session does once, whatever its actions
  const actionPath = (commands: ReadonlySet<string>): number =>
    sum(
      [...callsByLabelAndItem]
        .filter(([key]) => commands.has(key.split(' ')[1] ?? ''))
        .filter(([key]) => /^(dispatch|complete)-command\[Action\] /.test(key) || / ACTION$/.test(key) || /^plan-session BatchWriteItem /.test(key))
        .map(([, t]) => t.calls),
    );
  out.push(
    `per action, on the action path (its step, its completion, the plan's and the report's writes of it): ` +
      `${perAction(actionPath(WRITE_COMMANDS))} table writes (target ≤ 4), ${perAction(actionPath(READ_COMMANDS))} table reads (target ≤ 2)`,
  );

  out.push('', 'Lambda invocations and table calls by handler ([purpose] for the agent steps):');
  out.push(`  ${'handler'.padEnd(28)}${right('invocations', 12)}${right('ms/inv', 8)}${right('writes', 8)}${right('reads', 7)}  by command`);
  const labels = [...new Set([...invocations.keys(), ...[...tableCalls.keys()].map(labelOfKey)])].sort();
  for (const label of labels) {
    const invoked = invocations.get(label) ?? { calls: 0, ms: 0 };
    const commands = [...tableCalls]
      .filter(([key]) => labelOfKey(key) === label)
      .sort((a, b) => b[1].calls - a[1].calls)
      .map(([key, t]) => `${commandOf(key)} ${t.calls}`)
      .join(', ');
    out.push(
      `  ${label.padEnd(28)}${right(invoked.calls, 12)}${right(invoked.calls > 0 ? (invoked.ms / invoked.calls).toFixed(1) : '-', 8)}` +
        `${right(countCalls(WRITE_COMMANDS, (l) => l === label), 8)}${right(countCalls(READ_COMMANDS, (l) => l === label), 7)}  ${commands}`,
    );
  }

  out.push('', 'table calls by command (handlers only):');
  const byCommand = new Map<string, Tally>();
  for (const [key, t] of tableCalls) {
    if (!inside(labelOfKey(key))) continue;
    const entry = byCommand.get(commandOf(key)) ?? { calls: 0, ms: 0 };
    entry.calls += t.calls;
    entry.ms += t.ms;
    byCommand.set(commandOf(key), entry);
  }
  for (const [command, t] of [...byCommand].sort((a, b) => b[1].calls - a[1].calls)) {
    out.push(`  ${command.padEnd(14)}${right(t.calls, 6)} calls, ${right(perAction(t.calls), 6)} per action, ${(t.ms / t.calls).toFixed(1)} ms each on average`);
  }

  out.push('', 'table calls by command and item (`*` a query under that sort-key prefix, `@GSI` a query of an index):');
  const kinds = [...callsByItem].sort((a, b) => b[1].calls - a[1].calls);
  for (const [key, t] of kinds) {
    out.push(`  ${key.padEnd(26)}${right(t.calls, 6)} calls, ${right(perAction(t.calls), 6)} per action, ${(t.ms / t.calls).toFixed(1)} ms each on average`);
  }
  const [first] = runs;
  if (first) {
    // JSON text is close to DynamoDB's item size (names plus values); a consistent read costs one unit per 4 KB
    const kb = (value: unknown): string => (JSON.stringify(value).length / 1024).toFixed(1);
    const actionSizes = first.outcome.actions.map((a) => JSON.stringify(a).length / 1024);
    out.push(
      `  item sizes: session ${kb(first.outcome.session)} KB (${first.outcome.session.items.length} frozen items), ` +
        `action ${actionSizes.length > 0 ? (sum(actionSizes) / actionSizes.length).toFixed(1) : '-'} KB on average`,
    );
  }

  out.push('', 'state transitions by state:');
  out.push(`  ${[...transitionsByState].map(([state, count]) => `${state} ${count}`).join(', ')}`);

  // the meter's own writes, not in W: one per metered invocation with an owner
  const meteringWrites = sum([...meteringCalls.values()].map((t) => t.calls));
  const meteringMs = sum([...meteringCalls.values()].map((t) => t.ms));
  out.push(
    '',
    `usage metering: ${meteringWrites} table writes not in W (${perAction(meteringWrites)} per action, ` +
      `${lambdaCalls > 0 ? (meteringWrites / lambdaCalls).toFixed(2) : '-'} per Lambda invocation, ${meteringWrites > 0 ? (meteringMs / meteringWrites).toFixed(1) : '-'} ms each on average)`,
  );
  // what the sessions cost by the meter's count; their executions' transitions come from the runtime, which tells
  // execution-ended of a succeeded execution only once local/runtime.ts does (until then the usage is not closed)
  let counted = NO_USAGE;
  for (const run of runs) {
    const usage = (await runtime.deps.sessions.getUsage(run.sessionId))?.counted ?? NO_USAGE;
    counted = addUsage(counted, { ...usage, stateTransitions: usage.stateTransitions || run.outcome.stateTransitions });
  }
  const price = priceUsage(counted);
  const perSessionUsd = (usd: number): string => formatUsd(usd / runs.length);
  out.push(
    `what a session cost at ${price.pricing.region} list prices (${price.pricing.asOf}), by its own count: ${perSessionUsd(price.priceUsd.total)} ` +
      `(Step Functions ${perSessionUsd(price.priceUsd.stepFunctions)}, Lambda ${perSessionUsd(price.priceUsd.lambda)}, DynamoDB ${perSessionUsd(price.priceUsd.dynamodb)}); ` +
      `per session ${(counted.lambdaInvocations / runs.length).toFixed(1)} invocations, ${(counted.tableWriteUnits / runs.length).toFixed(1)} write units, ` +
      `${(counted.tableReadUnits / runs.length).toFixed(1)} read units, ${(price.counted.lambdaGbSeconds / runs.length).toFixed(3)} GB-s`,
  );

  const [only] = runs;
  if (keepSpans && only && actions > 0) {
    const totals = sweep(only.startMs, only.endMs);
    const wall = only.endMs - only.startMs;
    const line = (what: string, ms: number): string => `  ${what.padEnd(50)}${right((ms / actions).toFixed(1), 7)} ms per action${right(`(${((100 * ms) / wall).toFixed(0)} %)`, 8)}`;
    out.push('', `where the session's ${(wall / 1000).toFixed(2)} s go (each instant counted once):`);
    out.push(line('agent running scripts', totals.script));
    out.push(line('engine overhead (the line\'s O)', wall - totals.script));
    out.push(line('  table calls in flight', totals.table));
    out.push(line('  handlers, outside table calls', totals.handler));
    out.push(line('  agent handing commands over', totals.delivery));
    out.push(line('  state machine, token hand-offs, event delivery', totals.glue));
    const split = engineSplit(only);
    if (split) {
      out.push(
        `  of the engine overhead: ${split.betweenActionsMs.toFixed(1)} ms from one action's script ending to the next one's starting (median of ${split.betweenActions}), ` +
          `and the session's once-only stages ${split.onceOnlyMs.toFixed(0)} ms (start to detection, detection to the first action, the last action to verification, ` +
          `verification to the end: ${split.onceOnly.map((ms) => ms.toFixed(0)).join(', ')} ms), ${(split.onceOnlyMs / actions).toFixed(1)} ms per action`,
      );
    }
    out.push(
      `  this process's CPU outside the scripts: ${((processCpuSeconds * 1000 - only.scriptCpuMs) / actions).toFixed(1)} ms per action ` +
        `(the engine's own cost; wall time also waits for a core when the machine is busy)`,
    );
  } else {
    out.push('', '(the time split is shown for one machine: concurrent sessions share the CPU)');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await runtime.close();
if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
if (!compliant) process.exitCode = 1;
