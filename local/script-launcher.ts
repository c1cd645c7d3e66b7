import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process started by the launcher: its pid (it leads its own process group), and its end. */
export interface LaunchedProcess {
  readonly pid: number;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
}

export interface LaunchOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** What the helper is told: start `file` with `args`, detached, its output ignored. */
interface LaunchRequest {
  readonly id: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** What the helper answers, twice per request: the pid (or why there is none), then the exit. */
interface LaunchReport {
  readonly id: number;
  readonly pid?: number;
  readonly error?: string;
  readonly exited?: boolean;
}

/**
 * The helper's program, plain CommonJS for a bare `node -e` (no loader, no
 * TypeScript): it starts each requested process in its own session and
 * process group, with no pipes to it, and reports its pid and its exit. It
 * leaves when the runtime does (the IPC channel closes) without touching what
 * it started: those outlive a crashed runtime, as scripts outlive a crashed agent.
 */
const HELPER_PROGRAM = `
const { spawn } = require('node:child_process');
const report = (message) => { if (process.connected) process.send(message); };
process.on('disconnect', () => process.exit(0));
process.on('message', (request) => {
  let child;
  try {
    child = spawn(request.file, request.args, { cwd: request.cwd, env: request.env, detached: true, stdio: 'ignore' });
  } catch (error) {
    report({ id: request.id, error: String(error && error.message || error) });
    return;
  }
  child.once('spawn', () => report({ id: request.id, pid: child.pid }));
  child.once('error', (error) => report({ id: request.id, error: error.message }));
  child.once('exit', () => report({ id: request.id, exited: true }));
});
`;

/** An idle helper is let go after this long; the next launch starts another (~50 ms). */
const IDLE_HELPER_MS = 2_000;

export interface ScriptLauncherOptions {
  /** How long the helper stays once nothing it started is running. */
  readonly idleHelperMs?: number;
}

/** Once the helper is gone, how often a process it left running is looked for. */
const ORPHAN_POLL_MS = 50;

interface Launch {
  readonly helper: ChildProcess;
  readonly started: { resolve(process: LaunchedProcess): void; reject(error: Error): void };
  readonly exited: { resolve(): void; promise: Promise<void> };
  pid?: number;
}

/**
 * Starts the sandbox's scripts from a small helper process instead of this
 * one. Node starts a child with fork() on Linux, and forking the runtime (a
 * heap of hundreds of MB, dynalite's data included) stops its event loop for
 * ~25 ms per script; afterwards every page the runtime writes to takes a
 * copy-on-write fault, so the engine's next steps (a table call, a young-
 * generation GC) run two to three times slower than on a process that did
 * not fork. The helper is a bare Node process of a few MB: forking it is
 * cheap, and the runtime's memory is never shared. A helper is started on
 * the first launch and let go once idle, so a test file that ran a few
 * scripts leaves no process behind; `sharedScriptLauncher` is the one every
 * sandbox agent in the process uses.
 */
export class ScriptLauncher {
  private helper: ChildProcess | undefined;
  private nextId = 1;
  private readonly launches = new Map<number, Launch>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ScriptLauncherOptions = {}) {}

  launch(file: string, args: readonly string[], options: LaunchOptions): Promise<LaunchedProcess> {
    const helper = this.ensureHelper();
    const id = this.nextId++;
    let resolveExited = (): void => undefined;
    const exitedPromise = new Promise<void>((resolve) => {
      resolveExited = resolve;
    });
    return new Promise<LaunchedProcess>((resolve, reject) => {
      this.launches.set(id, { helper, started: { resolve, reject }, exited: { resolve: resolveExited, promise: exitedPromise } });
      const request: LaunchRequest = { id, file, args, cwd: options.cwd, env: options.env };
      helper.send(request, (error) => {
        if (error) this.settle(id, { id, error: `the script launcher did not take the request: ${error.message}` });
      });
    });
  }

  /** Lets the helper go now (processes it started run on). */
  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // a helper let go already (idle, or closed before) has nothing left to let go of
    if (this.helper?.connected) this.helper.disconnect();
  }

  private ensureHelper(): ChildProcess {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.helper?.connected) return this.helper;
    const helper = spawn(process.execPath, ['-e', HELPER_PROGRAM], {
      // no NODE_OPTIONS: the helper needs no loader (the runtime may run under tsx or vitest)
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // neither the helper nor its channel keeps this process alive: what waits on a script holds it open
    helper.unref();
    helper.channel?.unref();
    helper.on('message', (message: LaunchReport) => this.settle(message.id, message));
    helper.once('exit', () => this.helperGone(helper));
    // `on`, not `once`: a second 'error' with no listener would throw in this process
    helper.on('error', () => this.helperGone(helper));
    this.helper = helper;
    return helper;
  }

  private settle(id: number, report: LaunchReport): void {
    const launch = this.launches.get(id);
    if (!launch) return;
    if (report.pid !== undefined && launch.pid === undefined) {
      launch.pid = report.pid;
      launch.started.resolve({ pid: report.pid, exited: launch.exited.promise });
    }
    if (report.error !== undefined && launch.pid === undefined) {
      this.launches.delete(id);
      launch.started.reject(new Error(report.error));
    }
    if (report.exited) {
      this.launches.delete(id);
      launch.exited.resolve();
    }
    if (this.launches.size === 0) this.letGoWhenIdle();
  }

  private letGoWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.options.idleHelperMs ?? IDLE_HELPER_MS);
    this.idleTimer.unref();
  }

  /**
   * The helper died with launches open: one not started yet fails; a process
   * that runs on is watched by its pid until it is gone (it is no child of
   * this process, so no exit event would come).
   */
  private helperGone(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = undefined;
    for (const [id, launch] of this.launches) {
      if (launch.helper !== helper) continue;
      this.launches.delete(id);
      if (launch.pid === undefined) {
        launch.started.reject(new Error('the script launcher exited before starting the script'));
        continue;
      }
      void untilGone(launch.pid).then(() => launch.exited.resolve());
    }
  }
}

async function untilGone(pid: number): Promise<void> {
  while (await isRunning(pid)) await sleep(ORPHAN_POLL_MS);
}

/** Alive and not a zombie: an orphan's new parent may be slow to reap it (or, in a container, never do so). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // the state is the first field after the command name, which is in parentheses and may hold anything
  if (stat !== undefined) return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The launcher every sandbox agent in this process shares. */
export const sharedScriptLauncher = new ScriptLauncher();
