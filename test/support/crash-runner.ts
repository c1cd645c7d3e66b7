/**
 * One life of the local runtime for the crash-resume test: opens the runtime
 * on `CRASH_DATA_DIR` (which resumes whatever a killed life left), seeds the
 * crash fleet the first time, starts each session when its turn comes, and
 * works until every session has ended — unless the test SIGKILLs it first,
 * which is the point. Prints one line per fact the test follows:
 *   `ready <resumed session count>`, `event <session> <type> <state or ->`,
 *   `unfinished <session>=<status>,…` (or `unfinished -`) whenever that list changes,
 *   `report <json>` (last, once every session has ended).
 * Run through the bundle `crash-build.ts` makes, so a life starts in about a second.
 *
 * `CRASH_ONLY` (session ids, comma-separated) runs part of the fleet.
 * `CRASH_FREEZE_SEND=before|after` freezes this life in the one window a
 * random kill almost never hits: the first action's dispatch is claimed, and
 * its command is not sent yet (`before`) or sent but not recorded (`after`);
 * the life prints `frozen` and waits there to be killed.
 * `CRASH_FREEZE_INDEX=1` freezes it inside dynalite's write of a running
 * session's record, where a kill leaves the status index without the session:
 * its old index entry deleted, the new one and the record not written yet.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isFinalSessionStatus, type Action, type Session } from '../../functions/core/model/session.js';
import { createLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { CRASH_MACHINES, CRASH_SESSIONS, crashComputer, crashDeployments, crashSoftware, type CrashSession } from './crash-fleet.js';
import { TEST_TENANT } from './fleet.js';

export interface CrashReport {
  readonly sessions: readonly { readonly session: Session; readonly actions: readonly Action[]; readonly log: readonly string[] }[];
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function seed(runtime: LocalRuntime, marker: string): Promise<void> {
  // every write here is an upsert or a create-unless-present: a life killed while seeding seeds again
  await runtime.deps.catalog.putTenant(TEST_TENANT);
  for (const software of crashSoftware()) await runtime.deps.catalog.putSoftware(software);
  for (const machine of CRASH_MACHINES) {
    await runtime.deps.catalog.putComputer(crashComputer(machine));
    await runtime.agent.addMachine({
      agentId: machine.agentId,
      name: machine.name,
      platform: 'linux',
      online: machine.onlineAfterSeconds === undefined,
      latencyMs: machine.latencyMs,
    });
  }
  await writeFile(marker, 'seeded\n');
}

const only = process.env.CRASH_ONLY?.split(',');
const SESSIONS = CRASH_SESSIONS.filter((session) => !only || only.includes(session.sessionId));

/** Holds the first action command forever, before or after the agent took it: a life to be killed there. */
function freezeFirstActionSend(runtime: LocalRuntime, when: string): void {
  const send = runtime.agent.send.bind(runtime.agent);
  let frozen = false;
  runtime.agent.send = async (command) => {
    if (frozen || !command.comment.includes('/Action#')) return send(command);
    frozen = true;
    if (when === 'after') await send(command);
    say('frozen');
    return new Promise(() => undefined);
  };
}

/** An item as dynalite stores it: attribute values in DynamoDB's JSON. */
type DynaliteItem = Record<string, { readonly S?: string } | undefined>;
/** The part of dynalite's internal `db` module every item write goes through: index entries first, then the item. */
interface DynaliteDb {
  updateIndexes(store: unknown, table: unknown, existingItem: DynaliteItem | null | undefined, item: DynaliteItem | null | undefined, done: (error?: Error | null) => void): void;
}

/** Holds the first write to a running session's record forever, at the point where its old status index entry is gone. */
function freezeInsideStatusIndexWrite(): void {
  // dynalite's item writes look `updateIndexes` up on this module object each time, so the replacement is the one they call
  const db = createRequire(import.meta.url)('dynalite/db/index.js') as DynaliteDb;
  const updateIndexes = db.updateIndexes.bind(db);
  let frozen = false;
  db.updateIndexes = (store, table, existingItem, item, done) => {
    const runningSession = existingItem?.entity?.S === 'Session' && existingItem.status?.S === 'Running';
    if (frozen || !runningSession || !item) {
      updateIndexes(store, table, existingItem, item, done);
      return;
    }
    frozen = true;
    // the deletes alone (an index update towards no item only deletes), and never the callback that would write the rest
    updateIndexes(store, table, existingItem, null, () => say('frozen'));
  };
}

/** The last `unfinished` line printed, so the line goes out only when the list changes. */
let unfinishedSaid = '';

/**
 * A machine's next session starts once the one before it on that machine has
 * ended. Says which sessions are unfinished, and in which status, whenever that
 * changes: the work this life has left, and what a test that gives up on it names.
 */
async function startDueSessions(runtime: LocalRuntime, t0Ms: number): Promise<boolean> {
  const ended = new Set<string>();
  const unfinished: string[] = [];
  for (const planned of SESSIONS) {
    const session = await runtime.deps.sessions.getSession(planned.sessionId);
    if (session && isFinalSessionStatus(session.status) && session.endedAt !== undefined) {
      ended.add(planned.sessionId);
      continue;
    }
    // a final status listed here has no endedAt yet: its Report has not run
    unfinished.push(`${planned.sessionId}=${session?.status ?? 'NotStarted'}`);
    if (session) continue;
    const before = SESSIONS.slice(0, SESSIONS.indexOf(planned)).filter((s) => s.machine === planned.machine);
    if (before.every((s) => ended.has(s.sessionId))) await start(runtime, planned, t0Ms);
  }
  const line = `unfinished ${unfinished.join(',') || '-'}`;
  if (line !== unfinishedSaid) say(line);
  unfinishedSaid = line;
  return unfinished.length === 0;
}

async function start(runtime: LocalRuntime, planned: CrashSession, t0Ms: number): Promise<void> {
  for (const deployment of crashDeployments(planned)) await runtime.deps.catalog.putDeployment(deployment);
  await runtime.startSession(`crash-${planned.machine}`, planned.sessionId, planned.options(t0Ms));
}

/** Machines come online on the wall clock, whichever life of the runtime is up then. */
function scheduleOnline(runtime: LocalRuntime, t0Ms: number): void {
  for (const machine of CRASH_MACHINES) {
    if (typeof machine.onlineAfterSeconds !== 'number') continue;
    const { agentId } = machine;
    const bringOnline = () => void runtime.agent.setOnline(agentId, true);
    setTimeout(bringOnline, Math.max(0, t0Ms + machine.onlineAfterSeconds * 1000 - Date.now())).unref();
  }
}

async function report(runtime: LocalRuntime): Promise<CrashReport> {
  const sessions = [];
  for (const planned of SESSIONS) {
    const session = await runtime.deps.sessions.getSession(planned.sessionId);
    if (!session) throw new Error(`session ${planned.sessionId} was never created`);
    const log = await runtime.deps.sessionLog.read(planned.sessionId, { limit: 500 });
    sessions.push({ session, actions: await runtime.deps.sessions.getActions(planned.sessionId), log: log.entries.map((entry) => entry.message) });
  }
  return { sessions };
}

export async function main(): Promise<void> {
  const dataDir = process.env.CRASH_DATA_DIR ?? '';
  const t0Ms = Number(process.env.CRASH_T0_MS);
  if (!dataDir || !Number.isFinite(t0Ms)) throw new Error('CRASH_DATA_DIR and CRASH_T0_MS are required');
  await mkdir(dataDir, { recursive: true });
  const runtime = await createLocalRuntime({
    dataDir,
    retryIntervalMs: 100,
    agentPollMs: 25,
    timerPollMs: 25,
    // the test's "does it fail without resume?" check
    ...(process.env.CRASH_NO_RESUME ? { resume: false } : {}),
  });
  runtime.workflow.events.on('event', (event) => {
    if (event.stateName || event.type.startsWith('Execution')) say(`event ${event.executionName} ${event.type} ${event.stateName ?? '-'}`);
  });
  const freeze = process.env.CRASH_FREEZE_SEND;
  if (freeze) freezeFirstActionSend(runtime, freeze);
  if (process.env.CRASH_FREEZE_INDEX) freezeInsideStatusIndexWrite();
  say(`ready ${runtime.resumed.length}`);
  const marker = path.join(dataDir, 'seeded');
  if (!existsSync(marker)) await seed(runtime, marker);
  scheduleOnline(runtime, t0Ms);
  while (!(await startDueSessions(runtime, t0Ms))) await new Promise((resolve) => setTimeout(resolve, 100));
  await runtime.agent.idle();
  say(`report ${JSON.stringify(await report(runtime))}`);
  await runtime.close();
}
