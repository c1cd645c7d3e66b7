import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCrashRunner } from '../support/crash-build.js';
import { CRASH_MACHINES, CRASH_SESSIONS, INTERRUPTED_MACHINE, INTERRUPTED_SOFTWARE } from '../support/crash-fleet.js';
import type { CrashReport } from '../support/crash-runner.js';

const KILLS = 20;
/** A life is killed this long after it was spawned: sometimes while it boots or resumes, mostly while it works. */
const KILL_AFTER_MS = { min: 150, max: 3_500 };
/**
 * The last life is given no fixed time: the work the kills left it, at the
 * speed this machine has right now, decides how long it takes. What it must
 * do is keep moving: this long without a line from it (no workflow event, no
 * change in which sessions are unfinished) is a stuck session, however loaded
 * the machine. A loaded two-core machine leaves a second or two between lines,
 * and boots a life in ten seconds at worst.
 */
const STALL_MS = 30_000;
/** The fleet's own waits (a window to open, a machine to come online) end this long after t0; no stall before then. */
const LAST_SCHEDULED_WAIT_MS =
  1000 *
  Math.max(
    ...CRASH_SESSIONS.map((session) => session.expected.executeAfterSeconds ?? 0),
    ...CRASH_MACHINES.map((machine) => (typeof machine.onlineAfterSeconds === 'number' ? machine.onlineAfterSeconds : 0)),
  );
const TEST_TIMEOUT_MS = 180_000;
/** Kept from the test's timeout for the checks and the clean-up, so a run that never ends still fails with its own message. */
const CHECKS_MARGIN_MS = 15_000;

/** mulberry32: small, seedable, good enough to pick kill times reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Kills a process group that may have ended since it was found. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Live processes whose command line mentions `needle` (zombies have none), with their process groups. */
async function processesMentioning(needle: string): Promise<{ pid: number; pgid: number; commandLine: string }[]> {
  const found = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').then((text) => text.replaceAll('\0', ' ').trim(), () => '');
    if (!commandLine.includes(needle)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // the fields after the parenthesised name: state, ppid, pgrp
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (Number.isInteger(pgid) && pgid > 0) found.push({ pid: Number(entry), pgid, commandLine });
  }
  return found;
}

interface Life {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Its exit code, once it has exited and every line it printed has been read. */
  readonly exited: Promise<number | null>;
  /** The states each session is in right now, as the life's workflow events say. */
  readonly inFlight: Map<string, Set<string>>;
  /** The sessions not ended yet and their statuses, as the life last said; absent until it says. */
  unfinished?: Map<string, string>;
  /** When the life was spawned or last printed a line: how a slow life is told from a stuck one. */
  progressAt: number;
  report?: CrashReport;
  resumed?: number;
  frozen: boolean;
  stderr: string;
}

/** One life of the runtime on `dataDir`: the bundled crash runner in a process of its own, followed line by line. */
function spawnLife(runnerFile: string, dataDir: string, t0Ms: number, env: Record<string, string> = {}): Life {
  const child = spawn(process.execPath, [runnerFile], {
    env: { ...process.env, CRASH_DATA_DIR: dataDir, CRASH_T0_MS: String(t0Ms), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': a process can exit before its last lines are read, and a `ready` missed there would count a
  // life that resumed as one killed while booting
  const exited = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));
  const life: Life = { child, exited, inFlight: new Map(), progressAt: Date.now(), frozen: false, stderr: '' };
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      life.progressAt = Date.now();
      const [kind, ...rest] = line.split(' ');
      if (kind === 'ready') life.resumed = Number(rest[0]);
      if (kind === 'unfinished') {
        const listed = rest[0] === '-' ? [] : (rest[0] ?? '').split(',');
        life.unfinished = new Map(listed.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
      }
      if (kind === 'frozen') life.frozen = true;
      if (kind === 'report') life.report = JSON.parse(rest.join(' ')) as CrashReport;
      if (kind === 'event') {
        const [sessionId = '', type, state = ''] = rest;
        const states = life.inFlight.get(sessionId) ?? new Set<string>();
        if (type === 'StateEntered') states.add(state);
        else if (type?.startsWith('Execution')) states.clear();
        else if (type === 'StateExited' || type === 'StateFailed' || type === 'StateCaught') states.delete(state);
        life.inFlight.set(sessionId, states);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    life.stderr += chunk.toString('utf8');
  });
  return life;
}

/** The sessions a life had not finished, with their statuses and the workflow states they were in: what a stuck run is about. */
function describeUnfinished(life: Life): string {
  if (!life.unfinished) return 'it never said which sessions were unfinished (it had not finished booting and resuming)';
  if (life.unfinished.size === 0) return 'none, every session had ended, yet the life did not exit (its agent still busy)';
  return [...life.unfinished]
    .map(([sessionId, status]) => {
      const states = life.inFlight.get(sessionId);
      // a session this life never ran a step of was not resumed, or not started
      const where = !states ? (status === 'NotStarted' ? '' : ' with no workflow in this life') : states.size > 0 ? ` in ${[...states].join(' > ')}` : '';
      return `${sessionId} ${status}${where}`;
    })
    .join('; ');
}

describe.skipIf(!existsSync('/proc/self/cmdline'))('the local runtime killed (SIGKILL) at random points and started again', () => {
  let runner = { file: '', remove: () => Promise.resolve() };
  const dataDirs: string[] = [];
  const newDataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nightshift-crash-'));
    dataDirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    runner = await buildCrashRunner();
  });
  afterAll(async () => {
    for (const dir of dataDirs) {
      for (const { pgid } of await processesMentioning(dir)) killGroup(pgid);
      await rm(dir, { recursive: true, force: true });
    }
    await runner.remove();
  });

  it(
    'resumes every session to its correct final status, and no action script runs twice',
    async () => {
      const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const random = prng(seed);
      process.stdout.write(`crash-resume: seed ${seed} (CRASH_SEED=${seed} replays the same kill delays)\n`);
      const startedAt = Date.now();
      const t0Ms = Date.now();
      const dataDir = await newDataDir();
      const machinesDir = path.join(dataDir, 'machines');

      const nextLife = () => spawnLife(runner.file, dataDir, t0Ms);

      // a power cut: the runtime and the slow installer's machine die at once, while that installer runs. That machine
      // alone: a script the cut happened to stop on another machine would change what its session rightly ends as
      // (an interrupted restart is Indeterminable, an installer stopped before its work leaves nothing to verify)
      const interruptedMachineDir = path.join(machinesDir, INTERRUPTED_MACHINE);
      let powerCut = false;
      const cutPowerWhenTheSlowInstallerRuns = async (life: Life | undefined): Promise<void> => {
        if (powerCut || !existsSync(path.join(interruptedMachineDir, 'runs', INTERRUPTED_SOFTWARE))) return;
        powerCut = true;
        life?.child.kill('SIGKILL');
        await life?.exited;
        for (const { pgid } of await processesMentioning(`${interruptedMachineDir}${path.sep}`)) killGroup(pgid);
      };

      /** Lets a life run until it exits or `stop` says so (then it is still running), cutting the power on the way if its time has come. */
      const runUntil = async (life: Life, stop: () => boolean): Promise<void> => {
        while (!stop() && life.child.exitCode === null && life.child.signalCode === null) {
          await cutPowerWhenTheSlowInstallerRuns(life);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };

      const hits = new Map<string, number>();
      let lives = 0;
      let resumedLives = 0;
      let killedBooting = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const current = nextLife();
        lives++;
        const killAt = Date.now() + KILL_AFTER_MS.min + random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min);
        await runUntil(current, () => Date.now() >= killAt);
        for (const states of current.inFlight.values()) for (const state of states) hits.set(state, (hits.get(state) ?? 0) + 1);
        current.child.kill('SIGKILL');
        await current.exited;
        if (current.resumed === undefined) killedBooting++;
        else if (current.resumed > 0) resumedLives++;
        await cutPowerWhenTheSlowInstallerRuns(undefined);
      }

      // the last life is left to finish, for as long as it keeps making progress; should the power cut still be to
      // come and end it, one more
      const finalStartedAt = Date.now();
      const giveUpAt = startedAt + TEST_TIMEOUT_MS - CHECKS_MARGIN_MS;
      const quietUntil = t0Ms + LAST_SCHEDULED_WAIT_MS;
      const stalled = (life: Life) => Date.now() - Math.max(life.progressAt, quietUntil) > STALL_MS;
      let last: Life;
      do {
        const current = nextLife();
        last = current;
        lives++;
        await runUntil(current, () => stalled(current) || Date.now() >= giveUpAt);
      } while (last.child.signalCode === 'SIGKILL' && Date.now() < giveUpAt);
      const stoppedBecause =
        last.child.exitCode !== null || last.child.signalCode !== null
          ? `it exited (${last.child.exitCode ?? last.child.signalCode})`
          : stalled(last)
            ? `it made no progress for ${STALL_MS / 1000} s`
            : `it was still going at the test's time limit`;
      // read before the kill: which sessions it left, and where
      const unfinished = describeUnfinished(last);
      last.child.kill('SIGKILL');
      const finished = await last.exited;
      const tookSeconds = ((Date.now() - startedAt) / 1000).toFixed(1);
      const lastSeconds = ((Date.now() - finalStartedAt) / 1000).toFixed(1);
      const hitStates = [...hits.entries()].sort((a, b) => b[1] - a[1]).map(([state, count]) => `${state} ${count}`);
      process.stdout.write(
        `crash-resume: seed ${seed}, ${CRASH_SESSIONS.length} sessions on ${CRASH_MACHINES.length} machines, ${KILLS} kills + 1 power cut, ` +
          `${lives} lives (${resumedLives} resumed sessions, ${killedBooting} killed while booting or resuming), ${tookSeconds} s (the last ${lastSeconds} s); ` +
          `kills landed in: ${hitStates.join(', ') || 'nothing'}\n`,
      );
      expect(
        finished,
        `the last life did not finish (seed ${seed}): ${stoppedBecause}; unfinished: ${unfinished}\n${last.stderr.slice(-3_000)}`,
      ).toBe(0);
      expect(powerCut).toBe(true);
      const report = last.report;
      if (!report) throw new Error('the last life printed no report');

      for (const planned of CRASH_SESSIONS) {
        const found = report.sessions.find((s) => s.session.id === planned.sessionId);
        if (!found) throw new Error(`no session ${planned.sessionId}`);
        const { session, actions, log } = found;
        const where = `${planned.sessionId} (seed ${seed})`;
        expect(session.status, where).toBe(planned.expected.status);
        expect(session.endedAt, where).toBeDefined();
        expect(session.failure?.code, where).toBe(planned.expected.failureCode);
        expect(session.rebootPending ?? false, where).toBe(planned.expected.rebootPending ?? false);
        if (planned.expected.failureCode) continue;
        const byItem = (rows: string[][]) => rows.sort((a, b) => (a[1] ?? '').localeCompare(b[1] ?? ''));
        expect(byItem(actions.map((a) => [a.type, a.itemId, a.status, a.result])), where).toEqual(
          byItem([
            ...planned.software.map((id) => ['Install', id, 'Complete', 'Success']),
            ...(planned.expected.restart ? [['Reboot', 'restart', 'Complete', 'Success']] : []),
          ]),
        );
        const executeAfter = planned.expected.executeAfterSeconds;
        if (executeAfter !== undefined) {
          expect(Date.parse(session.stages.Execution.startedAt ?? ''), where).toBeGreaterThanOrEqual(t0Ms + executeAfter * 1000);
        }
        // the installer the power cut stopped: never run again, its result found by verification
        const interrupted = actions.find((a) => a.itemId === INTERRUPTED_SOFTWARE);
        if (interrupted) {
          expect(interrupted).toMatchObject({ exitCode: -1, result: 'Success', resultStage: 'Verification', resultReason: 'Compliant' });
          expect(log.some((line) => line.includes(`App ${INTERRUPTED_SOFTWARE} was interrupted (verification decides)`)), where).toBe(true);
        }
      }

      // every installer ran exactly once, whatever the kills interrupted
      for (const planned of CRASH_SESSIONS) {
        if (planned.expected.failureCode) continue;
        for (const id of planned.software) {
          const runs = await readFile(path.join(machinesDir, planned.machine, 'runs', id), 'utf8');
          expect(runs, `${id} on ${planned.machine} (seed ${seed})`).toBe('run\n');
        }
      }
      expect(existsSync(path.join(machinesDir, 'unreachable', 'runs'))).toBe(false);
      for (const machine of CRASH_MACHINES) {
        const boots = await readFile(path.join(machinesDir, machine.name, '.sandbox', 'boots'), 'utf8').catch(() => '0');
        expect(Number(boots.trim()), `restarts of ${machine.name} (seed ${seed})`).toBe(machine.boots);
      }
      // nothing left behind: no script outlived the last life
      expect(await processesMentioning(machinesDir)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  /** Runs a life until it freezes at the point `env` names, then kills it there (SIGKILL). */
  async function killWhenFrozen(dataDir: string, t0Ms: number, env: Record<string, string>): Promise<void> {
    const frozen = spawnLife(runner.file, dataDir, t0Ms, env);
    await vi.waitFor(() => {
      if (!frozen.frozen) throw new Error(`not frozen yet${frozen.child.exitCode === null ? '' : `, exited: ${frozen.stderr}`}`);
    }, { timeout: 30_000, interval: 20 });
    frozen.child.kill('SIGKILL');
    await frozen.exited;
  }

  it.each(['before', 'after'] as const)(
    'a kill between claiming an action and the agent answering its send (%s the agent took it) neither loses nor repeats it',
    async (when) => {
      const dataDir = await newDataDir();
      const t0Ms = Date.now();
      const only = { CRASH_ONLY: 'crash-reboot-1' };
      await killWhenFrozen(dataDir, t0Ms, { ...only, CRASH_FREEZE_SEND: when });

      // its dispatch says Sending, with a lease that would hold a retry off for 90 s; the next life must not wait it out
      const next = spawnLife(runner.file, dataDir, t0Ms, only);
      expect(await next.exited, next.stderr.slice(-3_000)).toBe(0);
      expect(next.resumed).toBe(1);
      const found = next.report?.sessions[0];
      expect(found?.session.status).toBe('Passed');
      expect(found?.actions.map((a) => [a.type, a.result])).toEqual([
        ['Install', 'Success'],
        ['Install', 'Success'],
        ['Reboot', 'Success'],
      ]);
      for (const id of ['r1', 'r2']) expect(await readFile(path.join(dataDir, 'machines', 'reboot', 'runs', id), 'utf8')).toBe('run\n');
      expect(await readFile(path.join(dataDir, 'machines', 'reboot', '.sandbox', 'boots'), 'utf8')).toBe('1\n');
    },
    60_000,
  );

  it('a kill inside the write of a running session, which leaves the status index without it, still resumes that session', async () => {
    const dataDir = await newDataDir();
    const t0Ms = Date.now();
    const only = { CRASH_ONLY: 'crash-reboot-1' };
    await killWhenFrozen(dataDir, t0Ms, { ...only, CRASH_FREEZE_INDEX: '1' });

    // no status query finds the session any more; the next life must find it all the same, and finish it
    const next = spawnLife(runner.file, dataDir, t0Ms, only);
    const gaveUp = setTimeout(() => next.child.kill('SIGKILL'), 40_000);
    const finished = await next.exited;
    clearTimeout(gaveUp);
    expect(finished, `the next life did not finish; unfinished: ${describeUnfinished(next)}\n${next.stderr.slice(-3_000)}`).toBe(0);
    expect(next.resumed).toBe(1);
    expect(next.report?.sessions[0]?.session.status).toBe('Passed');
  }, 60_000);
});
