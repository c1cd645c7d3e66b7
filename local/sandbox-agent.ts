import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AgentUnreachableError, NotFoundError } from '../functions/core/errors.js';
import type { AgentCommand, AgentInvocation, InvocationStatus } from '../functions/core/model/agent.js';
import type { AgentPort } from '../functions/core/ports/agent.port.js';
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
}

const SANDBOX_DIR = '.sandbox';
const EVENT_DELIVERY_ATTEMPTS = 8;
/** What AWS-RunShellScript does with exit 194: restart the computer, then run the whole command again. */
const RESTART_AND_RERUN_EXIT_CODE = 194;
const MAX_RESTARTS = 5;

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
 * (Cancelled).
 */
export class SandboxAgent implements AgentPort {
  private readonly machines = new Map<string, string>();
  private readonly commands = new Map<string, SandboxCommandRecord>();
  private readonly processes = new Map<string, ChildProcess>();
  private readonly cancelled = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly pollMs: number;

  constructor(private readonly options: SandboxAgentOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.pollMs = options.pollMs ?? 100;
  }

  /** Registers every machine folder found under `machinesDir`. */
  async discover(): Promise<MachineDescriptor[]> {
    await mkdir(this.options.machinesDir, { recursive: true });
    const found: MachineDescriptor[] = [];
    for (const entry of await readdir(this.options.machinesDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const root = path.join(this.options.machinesDir, entry.name);
      const descriptor = await readDescriptor(root).catch(() => undefined);
      if (!descriptor) continue;
      this.machines.set(descriptor.agentId, root);
      found.push(descriptor);
    }
    return found;
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

  rootOf(agentId: string): string {
    const root = this.machines.get(agentId);
    if (!root) throw new NotFoundError('sandbox machine', agentId);
    return root;
  }

  async setOnline(agentId: string, online: boolean): Promise<void> {
    const root = this.rootOf(agentId);
    await writeDescriptor(root, { ...(await readDescriptor(root)), online });
  }

  send(command: AgentCommand): Promise<{ commandId: string }> {
    const root = this.machines.get(command.agentId);
    // SSM refuses a command for an instance it does not manage (InvalidInstanceId)
    if (!root) return Promise.reject(new AgentUnreachableError(`${command.agentId} is not a managed sandbox machine`));
    if (command.platform !== 'linux') {
      return Promise.reject(new AgentUnreachableError(`sandbox machines run linux; ${command.agentId} got a ${command.platform} command`));
    }
    const commandId = randomUUID();
    const record: SandboxCommandRecord = {
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
    };
    this.commands.set(commandId, record);
    const work = this.execute(root, command, record)
      .catch((error: unknown) => this.failRecord(record, error))
      .finally(() => this.running.delete(work));
    this.running.add(work);
    return Promise.resolve({ commandId });
  }

  getInvocation(commandId: string, agentId: string): Promise<AgentInvocation> {
    const record = this.commands.get(commandId);
    if (!record || record.agentId !== agentId) return Promise.reject(new NotFoundError('command invocation', `${commandId}/${agentId}`));
    return Promise.resolve({ ...record.invocation });
  }

  findCommand(agentId: string, comment: string, sentAfter: Date): Promise<string | undefined> {
    for (const record of this.commands.values()) {
      if (record.agentId === agentId && record.comment === comment && record.sentAtMs >= sentAfter.getTime()) {
        return Promise.resolve(record.commandId);
      }
    }
    return Promise.resolve(undefined);
  }

  async isOnline(agentId: string): Promise<boolean> {
    return (await readDescriptor(this.rootOf(agentId))).online;
  }

  cancel(commandId: string, agentId: string): Promise<void> {
    const record = this.commands.get(commandId);
    if (!record || record.agentId !== agentId || record.finishedAtMs !== undefined) return Promise.resolve();
    this.cancelled.add(commandId);
    const child = this.processes.get(commandId);
    if (child?.pid !== undefined) killGroup(child.pid);
    return Promise.resolve();
  }

  /** Every command sent so far, oldest first. */
  history(agentId?: string): SandboxCommandRecord[] {
    return [...this.commands.values()].filter((record) => agentId === undefined || record.agentId === agentId);
  }

  /** Waits for every command in flight, including the delivery of its event. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async execute(root: string, command: AgentCommand, record: SandboxCommandRecord): Promise<void> {
    const delivered = await this.awaitDelivery(root, command, record);
    if (delivered === 'delivered') {
      record.startedAtMs = this.clock.now().getTime();
      record.invocation = { ...record.invocation, status: 'InProgress' };
      this.options.onActivity?.(record, 'started');
      let outcome = await this.runScript(root, command, record);
      while (outcome.responseCode === RESTART_AND_RERUN_EXIT_CODE && outcome.status === 'Failed' && record.restarts < MAX_RESTARTS) {
        record.restarts++;
        await restartMachine(root);
        outcome = await this.runScript(root, command, record);
      }
      record.invocation = { ...record.invocation, ...outcome };
    } else {
      record.invocation = { ...record.invocation, status: delivered };
    }
    record.finishedAtMs = this.clock.now().getTime();
    this.options.onActivity?.(record, 'finished');
    if (this.options.loseEvent?.(record)) return;
    await this.announce(record);
  }

  /** The agent itself broke (unreadable descriptor, spawn failure): like SSM, report the command Failed rather than go quiet. */
  private async failRecord(record: SandboxCommandRecord, error: unknown): Promise<void> {
    record.invocation = {
      ...record.invocation,
      status: 'Failed',
      responseCode: -1,
      stderr: `sandbox agent: ${error instanceof Error ? error.message : String(error)}`,
    };
    record.finishedAtMs = this.clock.now().getTime();
    await this.announce(record);
  }

  /** Waits for the machine's latency, or for it to come online, against the clock; the status if it never ran. */
  private async awaitDelivery(root: string, command: AgentCommand, record: SandboxCommandRecord): Promise<'delivered' | 'DeliveryTimedOut' | 'Cancelled'> {
    const deadline = record.sentAtMs + command.deliveryTimeoutSeconds * 1000;
    for (;;) {
      if (this.cancelled.has(record.commandId)) return 'Cancelled';
      const descriptor = await readDescriptor(root);
      if (descriptor.online) {
        await sleep(descriptor.latencyMs);
        return this.cancelled.has(record.commandId) ? 'Cancelled' : 'delivered';
      }
      if (this.clock.now().getTime() >= deadline) return 'DeliveryTimedOut';
      await sleep(this.pollMs);
    }
  }

  /** Runs the script with the machine folder as its world; kills the whole process group at the execution deadline. */
  private async runScript(
    root: string,
    command: AgentCommand,
    record: SandboxCommandRecord,
  ): Promise<Pick<AgentInvocation, 'status' | 'responseCode' | 'stdout' | 'stderr'>> {
    const scriptPath = path.join(root, SANDBOX_DIR, `${record.commandId}.sh`);
    await writeFile(scriptPath, command.script, { mode: 0o700 });
    const deadline = this.clock.now().getTime() + command.executionTimeoutSeconds * 1000;
    try {
      return await new Promise((resolve, reject) => {
        const child = spawn('bash', [scriptPath], {
          cwd: root,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: '/usr/local/bin:/usr/bin:/bin',
            LANG: 'C.UTF-8',
            HOME: path.join(root, 'home'),
            TMPDIR: path.join(root, 'tmp'),
            NIGHTSHIFT_ROOT: root,
          },
        });
        this.processes.set(record.commandId, child);
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        let timedOut = false;
        const watchdog = setInterval(() => {
          if (this.clock.now().getTime() < deadline || child.pid === undefined) return;
          timedOut = true;
          killGroup(child.pid);
        }, this.pollMs);
        child.on('error', (error) => {
          clearInterval(watchdog);
          reject(error);
        });
        child.on('close', (code) => {
          clearInterval(watchdog);
          this.processes.delete(record.commandId);
          const exitCode = code ?? -1;
          const cancelled = this.cancelled.has(record.commandId);
          resolve({
            status: cancelled ? 'Cancelled' : timedOut ? 'ExecutionTimedOut' : exitCode === 0 ? 'Success' : 'Failed',
            responseCode: cancelled || timedOut ? -1 : exitCode,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
      });
    } finally {
      await rm(scriptPath, { force: true });
    }
  }

  /** Delivers the status event like EventBridge → Lambda: retried with backoff while the receiver fails. */
  private async announce(record: SandboxCommandRecord): Promise<void> {
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
        return;
      } catch (error) {
        if (attempt >= EVENT_DELIVERY_ATTEMPTS) {
          process.stderr.write(`sandbox agent: giving up delivering the event of ${record.commandId}: ${String(error)}\n`);
          return;
        }
        await sleep(Math.min(2_000, 25 * 2 ** attempt));
      }
    }
  }
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

/** A restart the sandbox can show: the machine's temporary files are gone and its boot count went up. */
async function restartMachine(root: string): Promise<void> {
  await rm(path.join(root, 'tmp'), { recursive: true, force: true });
  await mkdir(path.join(root, 'tmp'), { recursive: true });
  const bootsFile = path.join(root, SANDBOX_DIR, 'boots');
  const boots = Number((await readFile(bootsFile, 'utf8').catch(() => '0')).trim()) || 0;
  await writeFile(bootsFile, `${boots + 1}\n`);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
