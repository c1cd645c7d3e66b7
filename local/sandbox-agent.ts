import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NODE_TENANT_TAG } from '../functions/core/catalog/secrets.js';
import { AgentFailedError, AgentUnreachableError, NotFoundError } from '../functions/core/errors.js';
import {
  OUTPUT_TAIL_BYTES,
  assertCommandLimits,
  keptTail,
  parseCommandComment,
  type AgentCommand,
  type AgentInvocation,
  type InvocationStatus,
} from '../functions/core/model/agent.js';
import type { AgentPort } from '../functions/core/ports/agent.port.js';
import { sharedScriptLauncher, type ScriptLauncher } from './script-launcher.js';
import { SANDBOX_ROLE_TENANT_VARIABLE } from './secret-store.local.js';
import { isSystemError } from './system-errors.js';
import type { Clock } from '../functions/core/ports/clock.port.js';

/** What a sandbox machine is; stored as `.sandbox/machine.json` inside its folder. */
export interface MachineDescriptor {
  readonly agentId: string;
  readonly name: string;
  readonly platform: 'linux';
  /** An offline machine holds commands until it comes online or their delivery timeout passes. */
  readonly online: boolean;
  /** Delay before a command starts, like an agent polling for work. */
  readonly latencyMs: number;
  /** The node's tags in the agent service (SSM tags), which a computer import maps to tenants. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * The tags of the node's IAM role (its instance profile's, or its hybrid
   * activation's): `nightshift:tenant` names the one tenant whose secrets it
   * may read, as the node policy grants in AWS.
   */
  readonly roleTags?: Readonly<Record<string, string>>;
}

/** The EventBridge event SSM emits when an invocation changes status; the sandbox emits the same shape. */
export interface CommandStatusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'EC2 Command Invocation Status-change Notification';
  readonly source: 'aws.ssm';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly 'command-id': string;
    readonly 'document-name': string;
    readonly 'instance-id': string;
    readonly 'requested-date-time': string;
    readonly status: InvocationStatus;
  };
}

export interface SandboxCommandRecord {
  readonly commandId: string;
  readonly agentId: string;
  readonly comment: string;
  readonly sentAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  /** How many times the machine restarted during this command (exit 194). */
  restarts: number;
  invocation: AgentInvocation;
}

export interface SandboxAgentOptions {
  /** Folder holding one sub-folder per machine. */
  readonly machinesDir: string;
  /** Receives each finished command's status event (the completion handler); a rejection is retried. */
  readonly onEvent: (event: CommandStatusEvent) => Promise<unknown>;
  /** Told when a command starts and ends, for live displays. */
  readonly onActivity?: (record: SandboxCommandRecord, phase: 'started' | 'finished') => void;
  /** Delivery and execution deadlines follow this clock (tests move it instead of waiting). */
  readonly clock?: Clock;
  /** How often waiting commands look at the clock and the machine descriptor. */
  readonly pollMs?: number;
  /** Simulates EventBridge losing an event: a command for which this says true finishes silently. */
  readonly loseEvent?: (record: SandboxCommandRecord) => boolean;
  /** Starts the scripts, each in its own process group (script-launcher.ts says why not from this process); the process's shared one unless given. */
  readonly launcher?: ScriptLauncher;
}

const SANDBOX_DIR = '.sandbox';
const COMMANDS_DIR = 'commands';
const STATE_FILE = 'command.json';
const SCRIPT_FILE = 'script.sh';
/** Like EventBridge, which retries a failing target for hours: long enough for a restarted runtime to catch up. */
const EVENT_DELIVERY_ATTEMPTS = 20;
/** What AWS-RunShellScript does with exit 194: restart the computer, then run the whole command again. */
const RESTART_AND_RERUN_EXIT_CODE = 194;
const MAX_RESTARTS = 5;
/** The wrapper's exit code when it finds its run already claimed: the agent gave that run up while it was down. */
const RUN_GIVEN_UP_EXIT_CODE = 75;
/** Written into a run's pid file by a restarted agent that found the run never began: the run must not begin now. */
const GIVEN_UP = 'given-up';

/**
 * Runs one script and leaves everything a restarted agent needs on disk: the
 * wrapper's pid (claimed with noclobber, so a run given up by a restarted
 * agent can never begin late), the output in files rather than pipes (a
 * script outlives a crashed agent, and its output with it), and the exit
 * code, written last and atomically.
 * Arguments: script, pid file, stdout file, stderr file, exit-code file.
 */
const WRAPPER = [
  'set -C',
  `{ printf '%s\\n' "$$" > "$2"; } 2>/dev/null || exit ${RUN_GIVEN_UP_EXIT_CODE}`,
  'set +C',
  'bash "$1" > "$3" 2> "$4" < /dev/null',
  '__ns_rc=$?',
  'printf \'%s\\n\' "$__ns_rc" > "$5.tmp" && mv -f "$5.tmp" "$5"',
  'exit "$__ns_rc"',
].join('\n');

/** What survives the agent, per command: `.sandbox/commands/<command id>/command.json`. */
interface StoredCommand {
  readonly record: SandboxCommandRecord;
  readonly deliveryTimeoutSeconds: number;
  readonly executionTimeoutSeconds: number;
  /** Script runs begun so far (more than one only after exit 194, or for a read-only command the agent lost). */
  readonly runs: number;
  /** The run whose exit 194 is counted in `restarts` already, so a recovered agent does not count it twice. */
  readonly restartedAfterRun?: number;
  /** When the current run is killed (ExecutionTimedOut), on the agent's clock. */
  readonly runDeadlineMs?: number;
  readonly cancelRequested?: boolean;
  /** The status event went out (or was lost on purpose); a restarted agent announces the others again. */
  readonly announced?: boolean;
}

/** A command as the agent tracks it: the stored part, plus what lives only as long as this process. */
interface CommandState {
  readonly root: string;
  readonly dir: string;
  stored: StoredCommand;
  /** The process group of the run in progress (the wrapper leads it). */
  pid?: number;
  driving: boolean;
  saving: Promise<void>;
  /**
   * The machine as it stood when the command was sent, read while the command
   * is saved: an online machine then takes the command without one more read
   * queued behind whatever the sender does next (the first delivery check).
   */
  descriptorAtSend?: Promise<MachineDescriptor>;
}

type RunOutcome = Pick<AgentInvocation, 'status' | 'responseCode' | 'stdout' | 'stderr' | 'stdoutTruncated'>;
/** A run found dead without an exit code after the agent itself went down. */
interface LostRun {
  readonly lost: true;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
}

const runFiles = (state: CommandState, run: number) => ({
  pid: path.join(state.dir, `run-${run}.pid`),
  stdout: path.join(state.dir, `run-${run}.out`),
  stderr: path.join(state.dir, `run-${run}.err`),
  exit: path.join(state.dir, `run-${run}.exit`),
});

/**
 * The agent port for sandbox machines: each machine is a folder, and the
 * generated bash runs for real with that folder as its world (working
 * directory, HOME, TMPDIR and NIGHTSHIFT_ROOT all point inside it). It is a
 * simulation of SSM's behaviour, not a security boundary.
 *
 * Like SSM it answers `send` at once, runs the command later, and announces
 * the end with a status event. Offline machines hold commands until they come
 * back or the delivery timeout passes (DeliveryTimedOut); scripts that overrun
 * the execution timeout are killed (ExecutionTimedOut); exit 194 restarts the
 * machine and runs the command again; a cancelled command is killed
 * (Cancelled). It refuses at sending what SSM refuses, and keeps each output
 * to the same last OUTPUT_TAIL_BYTES as the SSM adapter: the agent contract
 * (agent.port.ts) holds for both.
 *
 * It survives being killed, as the agent on a real computer outlives the
 * service that sent it work: every command is on disk from the moment `send`
 * answers, and scripts run in their own process group writing to files, so
 * they go on while the agent is down. After a restart, `discover` reads the
 * commands back (so `getInvocation` and `findCommand` answer for them) and
 * `resumeCommands` carries each unfinished one on: a command still waiting for
 * delivery waits again, a running script is re-attached (its exit code and
 * output are on disk when it ends), and a script that died while the agent was
 * down is never run again if it was an action — it ends Failed with no exit
 * code, which tells the completion it was interrupted — while a read-only
 * detection simply runs again. Finished commands whose event may not have gone
 * out are announced again; the completion handler is idempotent.
 */
export class SandboxAgent implements AgentPort {
  private readonly machines = new Map<string, string>();
  private readonly commands = new Map<string, CommandState>();
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly launcher: ScriptLauncher;

  constructor(private readonly options: SandboxAgentOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.pollMs = options.pollMs ?? 100;
    this.launcher = options.launcher ?? sharedScriptLauncher;
  }

  /** Registers every machine folder found under `machinesDir`, with the commands a previous run of the agent left there. */
  async discover(): Promise<MachineDescriptor[]> {
    await mkdir(this.options.machinesDir, { recursive: true });
    const found: MachineDescriptor[] = [];
    const loaded: CommandState[] = [];
    for (const entry of await readdir(this.options.machinesDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const root = path.join(this.options.machinesDir, entry.name);
      const descriptor = await readDescriptor(root).catch(() => undefined);
      if (!descriptor) continue;
      this.machines.set(descriptor.agentId, root);
      found.push(descriptor);
      loaded.push(...(await this.loadCommands(root)));
    }
    // history is oldest first, across machines, as it was before the restart
    for (const state of loaded.sort((a, b) => a.stored.record.sentAtMs - b.stored.record.sentAtMs)) {
      this.commands.set(state.stored.record.commandId, state);
    }
    return found;
  }

  /**
   * Carries on every command a previous run of the agent left unfinished or
   * unannounced (see the class comment). Call it once the completion handler
   * can take events; returns how many commands it picked up.
   */
  resumeCommands(): number {
    let resumed = 0;
    for (const state of this.commands.values()) {
      if (state.driving || state.stored.announced) continue;
      resumed++;
      this.drive(state);
    }
    return resumed;
  }

  /** Creates the machine's folder unless it exists; an existing machine keeps its state and descriptor. */
  async addMachine(descriptor: MachineDescriptor, folderName = descriptor.name): Promise<{ root: string; created: boolean }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(folderName)) throw new Error(`not a safe machine folder name: ${folderName}`);
    const root = path.join(this.options.machinesDir, folderName);
    const existing = await readDescriptor(root).catch(() => undefined);
    if (!existing) {
      for (const dir of [SANDBOX_DIR, 'home', 'tmp', 'opt', 'var/log']) await mkdir(path.join(root, dir), { recursive: true });
      await writeDescriptor(root, descriptor);
    }
    this.machines.set(descriptor.agentId, root);
    return { root, created: !existing };
  }

  /** Every registered machine as its descriptor says now, like SSM's managed-node list. */
  async describeMachines(): Promise<MachineDescriptor[]> {
    const descriptors = await Promise.all([...this.machines.values()].map((root) => readDescriptor(root).catch(() => undefined)));
    return descriptors.filter((descriptor) => descriptor !== undefined);
  }

  rootOf(agentId: string): string {
    const root = this.machines.get(agentId);
    if (!root) throw new NotFoundError('sandbox machine', agentId);
    return root;
  }

  async setOnline(agentId: string, online: boolean): Promise<void> {
    const root = this.rootOf(agentId);
    await writeDescriptor(root, { ...(await readDescriptor(root)), online });
  }

  async send(command: AgentCommand): Promise<{ commandId: string }> {
    const root = this.machines.get(command.agentId);
    // what SSM answers, refusing the send: a command past the limits, for an instance it does not manage
    // (InvalidInstanceId), or a document for another platform (UnsupportedPlatformType: reached, and refused)
    assertCommandLimits(command);
    if (!root) throw new AgentUnreachableError(`${command.agentId} is not a managed sandbox machine`);
    if (command.platform !== 'linux') {
      throw new AgentFailedError(`${command.agentId} cannot run a ${command.platform} command: sandbox machines run linux`);
    }
    const commandId = randomUUID();
    const descriptorAtSend = readDescriptor(root);
    // awaited by the first delivery check; a send that fails before then must not leave it unhandled
    descriptorAtSend.catch(() => undefined);
    const state: CommandState = {
      root,
      dir: path.join(root, SANDBOX_DIR, COMMANDS_DIR, commandId),
      stored: {
        record: {
          commandId,
          agentId: command.agentId,
          comment: command.comment,
          sentAtMs: this.clock.now().getTime(),
          restarts: 0,
          invocation: {
            commandId,
            agentId: command.agentId,
            status: 'Pending',
            responseCode: -1,
            stdout: '',
            stderr: '',
            stdoutTruncated: false,
            comment: command.comment,
          },
        },
        deliveryTimeoutSeconds: command.deliveryTimeoutSeconds,
        executionTimeoutSeconds: command.executionTimeoutSeconds,
        runs: 0,
      },
      driving: false,
      saving: Promise.resolve(),
      descriptorAtSend,
    };
    // on disk before the id is handed out: whoever learns of the command (its completion event,
    // a retry or a cancel asking findCommand by its comment) can count on a restarted agent knowing it too.
    // The script is written alongside the state, whose rename into place waits for both: a restarted agent
    // never finds a command without its script (a folder without command.json is one `send` never answered)
    await mkdir(state.dir, { recursive: true });
    await this.save(state, writeFile(path.join(state.dir, SCRIPT_FILE), command.script, { mode: 0o700 }));
    this.commands.set(commandId, state);
    this.drive(state);
    return { commandId };
  }

  getInvocation(commandId: string, agentId: string): Promise<AgentInvocation> {
    const record = this.commands.get(commandId)?.stored.record;
    if (!record || record.agentId !== agentId) return Promise.reject(new NotFoundError('command invocation', `${commandId}/${agentId}`));
    return Promise.resolve({ ...record.invocation });
  }

  findCommand(agentId: string, comment: string, sentAfter: Date): Promise<string | undefined> {
    for (const { stored } of this.commands.values()) {
      const { record } = stored;
      if (record.agentId === agentId && record.comment === comment && record.sentAtMs >= sentAfter.getTime()) {
        return Promise.resolve(record.commandId);
      }
    }
    return Promise.resolve(undefined);
  }

  /** Like SSM, which has no ping status for an instance it does not manage: not online, rather than an error. */
  async isOnline(agentId: string): Promise<boolean> {
    const root = this.machines.get(agentId);
    return root === undefined ? false : (await readDescriptor(root)).online;
  }

  async cancel(commandId: string, agentId: string): Promise<void> {
    const state = this.commands.get(commandId);
    if (!state || state.stored.record.agentId !== agentId || state.stored.record.finishedAtMs !== undefined) return;
    state.stored = { ...state.stored, cancelRequested: true };
    await this.save(state);
    if (state.pid !== undefined) killGroup(state.pid);
  }

  /** Every command sent so far (by this run of the agent or an earlier one), oldest first. */
  history(agentId?: string): SandboxCommandRecord[] {
    return [...this.commands.values()]
      .map((state) => state.stored.record)
      .filter((record) => agentId === undefined || record.agentId === agentId);
  }

  /** Waits for every command in flight, including the delivery of its event. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async loadCommands(root: string): Promise<CommandState[]> {
    const commandsDir = path.join(root, SANDBOX_DIR, COMMANDS_DIR);
    const entries = await readdir(commandsDir, { withFileTypes: true }).catch(() => []);
    const states: CommandState[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || this.commands.has(entry.name)) continue;
      const dir = path.join(commandsDir, entry.name);
      const text = await readFile(path.join(dir, STATE_FILE), 'utf8').catch(() => undefined);
      if (text === undefined) {
        // the agent died inside `send`, before the command was recorded: nobody was given its id, and nothing ran
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      states.push({ root, dir, stored: JSON.parse(text) as StoredCommand, driving: false, saving: Promise.resolve() });
    }
    return states;
  }

  /** Moves a command on from wherever it stands, in the background, until its event is out. */
  private drive(state: CommandState): void {
    state.driving = true;
    const work = this.advance(state)
      .catch((error: unknown) => this.failRecord(state, error))
      .finally(() => {
        state.driving = false;
        this.running.delete(work);
      });
    this.running.add(work);
  }

  private async advance(state: CommandState): Promise<void> {
    const { record } = state.stored;
    if (record.finishedAtMs === undefined) {
      if (record.startedAtMs === undefined) {
        const delivered = await this.awaitDelivery(state);
        if (delivered !== 'delivered') {
          await this.finish(state, { status: delivered });
          await this.announceAndClear(state);
          return;
        }
        record.startedAtMs = this.clock.now().getTime();
        record.invocation = { ...record.invocation, status: 'InProgress' };
        // saved with the first run's count, before that run begins (runOnce): a restarted agent that finds
        // neither delivers the command again, which is right, since nothing ran
        this.options.onActivity?.(record, 'started');
      }
      await this.finish(state, await this.runToEnd(state));
    }
    // also for a command that finished while a previous agent was saving or cleaning up
    await this.announceAndClear(state);
  }

  /**
   * Announces the end while the run files are removed: once the outcome is
   * saved they have served, and the completion need not wait for them. Both
   * settle before this does, so a failure of either is handled once.
   */
  private async announceAndClear(state: CommandState): Promise<void> {
    const results = await Promise.allSettled([this.announce(state), clearRunFiles(state)]);
    for (const result of results) {
      if (result.status === 'rejected') throw result.reason instanceof Error ? result.reason : new Error(String(result.reason));
    }
  }

  /** Runs the script until the command's end: through machine restarts (exit 194), and on from a run a previous agent left. */
  private async runToEnd(state: CommandState): Promise<RunOutcome> {
    let outcome: RunOutcome | LostRun = (await this.recoverRun(state)) ?? (await this.runOnce(state));
    for (;;) {
      if ('lost' in outcome) {
        // a detection only reads: running it again from the start is what the session needs
        if (isReadOnly(state)) {
          outcome = await this.runOnce(state);
          continue;
        }
        // an action never runs twice: no exit code tells the completion its effect is for verification to find out
        return {
          status: 'Failed',
          responseCode: -1,
          stdout: outcome.stdout,
          stdoutTruncated: outcome.stdoutTruncated,
          stderr: `${outcome.stderr}${outcome.stderr && !outcome.stderr.endsWith('\n') ? '\n' : ''}sandbox agent: the script stopped without an exit code while the agent was down; it was not run again\n`,
        };
      }
      const { stored } = state;
      if (outcome.status === 'Failed' && outcome.responseCode === RESTART_AND_RERUN_EXIT_CODE && stored.record.restarts < MAX_RESTARTS) {
        const run = stored.runs - 1;
        if (stored.restartedAfterRun !== run) {
          stored.record.restarts++;
          state.stored = { ...stored, restartedAfterRun: run };
          await this.save(state);
        }
        // keyed by command and run: a restarted agent that finds this run's exit 194 again does not boot twice
        await restartMachine(state.root, `${stored.record.commandId}#${run}`);
        outcome = await this.runOnce(state);
        continue;
      }
      return outcome;
    }
  }

  /** Starts the next run of the script and waits for it. */
  private async runOnce(state: CommandState): Promise<RunOutcome> {
    if (state.stored.cancelRequested) return cancelledOutcome();
    const run = state.stored.runs;
    // counted before it begins: a restarted agent looks at this run, never skips past one that may have begun
    state.stored = { ...state.stored, runs: run + 1, runDeadlineMs: this.clock.now().getTime() + state.stored.executionTimeoutSeconds * 1000 };
    await this.save(state);
    const files = runFiles(state, run);
    const roleTenant = (await readDescriptor(state.root)).roleTags?.[NODE_TENANT_TAG];
    // its own process group, started detached: a timeout or a cancel kills the whole script, and the script outlives a crashed agent
    const launched = await this.launcher.launch('bash', ['-c', WRAPPER, 'nightshift-sandbox-run', path.join(state.dir, SCRIPT_FILE), files.pid, files.stdout, files.stderr, files.exit], {
      cwd: state.root,
      env: {
        // `<machines>/.bin` first: its `aws` answers secret look-ups from the local store (local/secret-store.local.ts), never the real AWS
        PATH: `${path.join(this.options.machinesDir, '.bin')}:/usr/local/bin:/usr/bin:/bin`,
        LANG: 'C.UTF-8',
        HOME: path.join(state.root, 'home'),
        TMPDIR: path.join(state.root, 'tmp'),
        NIGHTSHIFT_ROOT: state.root,
        // what the sandbox's `aws` knows of the node role, to refuse another tenant's secret as IAM would
        ...(roleTenant === undefined ? {} : { [SANDBOX_ROLE_TENANT_VARIABLE]: roleTenant }),
      },
    });
    state.pid = launched.pid;
    // a cancel that landed while the run was being counted or launched found nothing to kill yet
    if (state.stored.cancelRequested) killGroup(state.pid);
    return this.watch(state, run, launched.exited);
  }

  /**
   * Where the last run a previous agent began stands now: ended while the
   * agent was down (its exit code is on disk), still running (re-attached),
   * never begun (given up for good, so it cannot begin late; the next run is
   * the first), or dead without an exit code (lost).
   */
  private async recoverRun(state: CommandState): Promise<RunOutcome | LostRun | undefined> {
    if (state.stored.runs === 0) return undefined;
    const run = state.stored.runs - 1;
    const files = runFiles(state, run);
    if ((await readExitCode(files.exit)) !== undefined) return this.outcomeOf(state, run, false);
    const pid = await claimOrReadPid(files.pid);
    if (pid === undefined) return undefined;
    if (await isRunOf(pid, state)) {
      state.pid = pid;
      return this.watch(state, run, untilGone(pid, state, this.pollMs));
    }
    if ((await readExitCode(files.exit)) !== undefined) return this.outcomeOf(state, run, false);
    const output = await readOutput(files);
    return { lost: true, ...output };
  }

  /** Waits for a run to end, killing its process group at the execution deadline. */
  private async watch(state: CommandState, run: number, ended: Promise<void>): Promise<RunOutcome> {
    let timedOut = false;
    const watchdog = setInterval(() => {
      const deadline = state.stored.runDeadlineMs;
      if (deadline === undefined || this.clock.now().getTime() < deadline || state.pid === undefined) return;
      timedOut = true;
      killGroup(state.pid);
    }, this.pollMs);
    try {
      await ended;
    } finally {
      clearInterval(watchdog);
      state.pid = undefined;
    }
    return this.outcomeOf(state, run, timedOut);
  }

  private async outcomeOf(state: CommandState, run: number, timedOut: boolean): Promise<RunOutcome> {
    const files = runFiles(state, run);
    // the run has ended (or was found ended): its output is whole, whichever file is read first
    const [exitCode, output] = await Promise.all([readExitCode(files.exit), readOutput(files)]);
    if (state.stored.cancelRequested) return { ...cancelledOutcome(), ...output };
    if (timedOut) return { status: 'ExecutionTimedOut', responseCode: -1, ...output };
    // killed by a signal: no exit code, like SSM's -1
    if (exitCode === undefined) return { status: 'Failed', responseCode: -1, ...output };
    return { status: exitCode === 0 ? 'Success' : 'Failed', responseCode: exitCode, ...output };
  }

  private async finish(state: CommandState, outcome: Partial<RunOutcome> & Pick<RunOutcome, 'status'>): Promise<void> {
    const { record } = state.stored;
    record.invocation = { ...record.invocation, ...outcome };
    record.finishedAtMs = this.clock.now().getTime();
    await this.save(state);
    this.options.onActivity?.(record, 'finished');
  }

  /** The agent itself broke (unreadable descriptor, spawn failure): like SSM, report the command Failed rather than go quiet. */
  private async failRecord(state: CommandState, error: unknown): Promise<void> {
    const { record } = state.stored;
    if (record.finishedAtMs === undefined) {
      record.invocation = {
        ...record.invocation,
        status: 'Failed',
        responseCode: -1,
        stderr: `sandbox agent: ${error instanceof Error ? error.message : String(error)}`,
      };
      record.finishedAtMs = this.clock.now().getTime();
      await this.save(state).catch(() => undefined);
    }
    await this.announce(state);
  }

  /** Waits for the machine's latency, or for it to come online, against the clock; the status if it never ran. */
  private async awaitDelivery(state: CommandState): Promise<'delivered' | 'DeliveryTimedOut' | 'Cancelled'> {
    const deadline = state.stored.record.sentAtMs + state.stored.deliveryTimeoutSeconds * 1000;
    // read afresh each time: a cancel replaces the stored state while this waits
    const cancelled = () => state.stored.cancelRequested === true;
    for (;;) {
      if (cancelled()) return 'Cancelled';
      const descriptor = await (state.descriptorAtSend ?? readDescriptor(state.root));
      state.descriptorAtSend = undefined;
      if (descriptor.online) {
        // no latency, no timer: a zero-delay timer still waits for the next turn of the event loop
        if (descriptor.latencyMs > 0) await sleep(descriptor.latencyMs);
        return cancelled() ? 'Cancelled' : 'delivered';
      }
      if (this.clock.now().getTime() >= deadline) return 'DeliveryTimedOut';
      await sleep(this.pollMs);
    }
  }

  /** Delivers the status event like EventBridge → Lambda: retried with backoff while the receiver fails. */
  private async announce(state: CommandState): Promise<void> {
    const { record } = state.stored;
    if (state.stored.announced) return;
    if (this.options.loseEvent?.(record)) {
      state.stored = { ...state.stored, announced: true };
      await this.save(state);
      return;
    }
    const event: CommandStatusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      source: 'aws.ssm',
      account: '000000000000',
      time: new Date(record.finishedAtMs ?? record.sentAtMs).toISOString(),
      region: 'us-east-1',
      resources: [`arn:aws:ec2:us-east-1:000000000000:instance/${record.agentId}`],
      detail: {
        'command-id': record.commandId,
        'document-name': 'AWS-RunShellScript',
        'instance-id': record.agentId,
        'requested-date-time': new Date(record.sentAtMs).toISOString(),
        status: record.invocation.status,
      },
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.onEvent(event);
        break;
      } catch (error) {
        if (attempt >= EVENT_DELIVERY_ATTEMPTS) {
          // left unannounced: the next start of the agent tries again, and the reconciler meanwhile
          process.stderr.write(`sandbox agent: giving up delivering the event of ${record.commandId}: ${String(error)}\n`);
          return;
        }
        await sleep(Math.min(2_000, 25 * 2 ** attempt));
      }
    }
    state.stored = { ...state.stored, announced: true };
    await this.save(state);
  }

  /**
   * Writes the command's state to a temporary file and renames it over the
   * old one, one write at a time; the rename also waits for `writtenAlongside`
   * (another file that must be on disk before this state is).
   */
  private save(state: CommandState, writtenAlongside?: Promise<void>): Promise<void> {
    const text = JSON.stringify(state.stored);
    const file = path.join(state.dir, STATE_FILE);
    // observed now as well as below: were an earlier save still keeping this one waiting, a failed write
    // alongside must not go unhandled meanwhile (it still fails this save)
    writtenAlongside?.catch(() => undefined);
    state.saving = state.saving.then(async () => {
      const temporary = `${file}.${randomUUID()}.tmp`;
      await Promise.all([writeFile(temporary, text), writtenAlongside]);
      await rename(temporary, file);
    });
    return state.saving;
  }
}

const cancelledOutcome = (): RunOutcome => ({ status: 'Cancelled', responseCode: -1, stdout: '', stderr: '', stdoutTruncated: false });

/** Detection and verification only read the computer; everything else is an action and runs at most once. */
function isReadOnly(state: CommandState): boolean {
  const key = parseCommandComment(state.stored.record.comment)?.key;
  return key === 'Detect' || key === 'Verify';
}

/**
 * Once the outcome is in command.json, the script and the run files have
 * served. They are plain files: `unlink` each, rather than `rm`, whose
 * directory walk costs this event loop a millisecond per command.
 */
async function clearRunFiles(state: CommandState): Promise<void> {
  const leftovers = (await readdir(state.dir).catch(() => [])).filter((name) => name !== STATE_FILE && !name.startsWith(`${STATE_FILE}.`));
  await Promise.all(
    leftovers.map((name) =>
      unlink(path.join(state.dir, name)).catch((error: unknown) => {
        if (!isSystemError(error, 'ENOENT')) throw error;
      }),
    ),
  );
}

async function readExitCode(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const code = text === undefined ? Number.NaN : Number.parseInt(text.trim(), 10);
  return Number.isInteger(code) ? code : undefined;
}

/** A run's output as SSM would hand it over: each stream whole, or its last OUTPUT_TAIL_BYTES behind the same note. */
async function readOutput(files: ReturnType<typeof runFiles>): Promise<{ stdout: string; stderr: string; stdoutTruncated: boolean }> {
  const [stdout, stderr] = await Promise.all([readTail(files.stdout), readTail(files.stderr)]);
  return { stdout: stdout.text, stderr: stderr.text, stdoutTruncated: stdout.truncated };
}

/** The end of a file a script may still be writing; a file that is not there is an empty output. */
async function readTail(file: string): Promise<{ text: string; truncated: boolean }> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return { text: '', truncated: false };
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, OUTPUT_TAIL_BYTES);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return keptTail(buffer.subarray(0, bytesRead).toString('utf8'), size);
  } finally {
    await handle.close();
  }
}

/**
 * The run's wrapper pid, or undefined when the run never began — in which
 * case it is given up here, atomically, so a wrapper that was spawned but had
 * not claimed its run yet finds it taken and runs nothing.
 */
async function claimOrReadPid(file: string): Promise<number | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, `${GIVEN_UP}\n`, { flag: 'wx' });
      return undefined;
    } catch (error) {
      if (!isSystemError(error, 'EEXIST')) throw error;
    }
    const text = (await readFile(file, 'utf8')).trim();
    if (text === GIVEN_UP) return undefined;
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0) return pid;
    // created by the wrapper a moment ago, its pid not written yet
    if (attempt >= 50) throw new Error(`unreadable pid file ${file}`);
    await sleep(20);
  }
}

const execFileText = promisify(execFile);

/** The process's command line, or undefined when it is gone (or a zombie). */
async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim() || undefined;
  } catch {
    const procfs = await readFile('/proc/self/cmdline').then(() => true, () => false);
    if (procfs) return undefined;
  }
  // no procfs (macOS): ask ps
  try {
    return (await execFileText('ps', ['-o', 'command=', '-p', String(pid)])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still this command's wrapper, and not a process that reused the number since. */
async function isRunOf(pid: number, state: CommandState): Promise<boolean> {
  return (await commandLineOf(pid))?.includes(path.join(state.dir, SCRIPT_FILE)) ?? false;
}

/** Resolves once a re-attached run (not our child, so no exit event) is gone. */
async function untilGone(pid: number, state: CommandState, pollMs: number): Promise<void> {
  while (await isRunOf(pid, state)) await sleep(pollMs);
}

async function readDescriptor(root: string): Promise<MachineDescriptor> {
  return JSON.parse(await readFile(path.join(root, SANDBOX_DIR, 'machine.json'), 'utf8')) as MachineDescriptor;
}

/** Written to a temporary file and renamed, so a command polling the descriptor never reads half of it. */
async function writeDescriptor(root: string, descriptor: MachineDescriptor): Promise<void> {
  const file = path.join(root, SANDBOX_DIR, 'machine.json');
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(descriptor, null, 2)}\n`);
  await rename(temporary, file);
}

/**
 * A restart the sandbox can show: the machine's temporary files are gone and
 * its boot count went up. Once per `key`: the boot log (one short appended
 * line per restart) says which restarts happened, and the count is rewritten
 * from it every time, so an agent killed anywhere in here neither loses nor
 * doubles a boot.
 */
async function restartMachine(root: string, key: string): Promise<void> {
  const logFile = path.join(root, SANDBOX_DIR, 'boot-log');
  const booted = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  if (!booted.includes(key)) {
    await rm(path.join(root, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(root, 'tmp'), { recursive: true });
    await writeFile(logFile, `${key}\n`, { flag: 'a' });
    booted.push(key);
  }
  const bootsFile = path.join(root, SANDBOX_DIR, 'boots');
  const temporary = `${bootsFile}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${booted.length}\n`);
  await rename(temporary, bootsFile);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
