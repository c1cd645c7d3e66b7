import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidInstanceId,
  SendCommandCommand,
  SSMClient,
  UnsupportedPlatformType,
  type CommandInvocationStatus,
} from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmAgent } from '../../functions/adapters/agent.ssm.js';
import { AgentFailedError, AgentUnreachableError, ConfigurationError } from '../../functions/core/errors.js';
import {
  MAX_EXECUTION_TIMEOUT_SECONDS,
  OUTPUT_TAIL_BYTES,
  isFinalInvocationStatus,
  type AgentCommand,
  type AgentInvocation,
  type InvocationStatus,
} from '../../functions/core/model/agent.js';
import type { AgentPort } from '../../functions/core/ports/agent.port.js';
import { REBOOT_MARKER } from '../../functions/core/scripts/contract.js';
import { parseActionOutput, type ActionOutput } from '../../functions/core/scripts/output.js';
import { SandboxAgent, type CommandStatusEvent } from '../../local/sandbox-agent.js';
import { manualClock } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * One contract for both agents: whatever a computer does with a command, the
 * SSM adapter (over SSM and S3 answering as they do, mocked: no local twin)
 * and the sandbox agent (real bash in a machine folder) hand the engine the
 * same invocation, so the engine classifies it the same way: the same status,
 * the same exit code, the same output (and the same cut, and the same note,
 * past the same limit), the same refusals at sending.
 *
 * Each case says what the computer does twice: as a bash script the sandbox
 * runs, and as what SSM reports for it.
 */

const NONCE = 'n1';
const COMMENT = `nightshift/ses_contract/Action#001/${NONCE}`;
const result = (code: number, failedStep?: number) => `\nNIGHTSHIFT-RESULT ${NONCE} ${code} 12 ${failedStep ?? '-'}\n`;
const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
/** A script that prints exactly this and exits with this code. */
const printing = (stdout: string, stderr: string, code: number) => `printf '%s' ${quoted(stdout)}\nprintf '%s' ${quoted(stderr)} >&2\nexit ${code}\n`;
/** Says it started (so a test can act on a running script), then runs until something stops it. */
const HANGS = ': > "$NIGHTSHIFT_ROOT/started"\nsleep 600\n';

/** 100-byte lines, enough of them to pass OUTPUT_TAIL_BYTES by 50 lines, then the result record. */
const LINES_PAST_TAIL = Math.ceil(OUTPUT_TAIL_BYTES / 100) + 50;
const LONG_OUTPUT = `${`${'x'.repeat(99)}\n`.repeat(LINES_PAST_TAIL)}${result(0)}`;
const LONG_OUTPUT_TAIL = LONG_OUTPUT.slice(LONG_OUTPUT.length - OUTPUT_TAIL_BYTES);

/** What happens once the command is out, done to the sandbox for real; SSM's answers already say how it ended. */
type Then = 'time out' | 'miss delivery' | 'cancel running' | 'cancel waiting';

interface ContractCase {
  readonly name: string;
  /** The script the sandbox runs. */
  readonly script: string;
  /** What the computer printed, whole: the sandbox's script prints it, SSM reports it (inline, and in S3). */
  readonly stdout: string;
  readonly stderr: string;
  /** What SSM's GetCommandInvocation answers for this case. */
  readonly ssm: { readonly Status: CommandInvocationStatus; readonly StatusDetails: string; readonly ResponseCode: number };
  readonly offline?: boolean;
  readonly executionTimeoutSeconds?: number;
  readonly then?: Then;
  /** The status read right after sending, while the command waits for its offline computer. */
  readonly waiting?: 'Pending';
  readonly expected: {
    readonly status: InvocationStatus;
    readonly responseCode: number;
    readonly stdout: string;
    readonly stdoutTruncated: boolean;
    /** How the engine reads an action's result from this invocation; absent where no script ran to the end. */
    readonly action?: Partial<ActionOutput>;
  };
}

const CASES: readonly ContractCase[] = [
  {
    name: 'a script that succeeds',
    script: printing(`installed 1.2${result(0)}`, '', 0),
    stdout: `installed 1.2${result(0)}`,
    stderr: '',
    ssm: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 },
    expected: { status: 'Success', responseCode: 0, stdout: `installed 1.2${result(0)}`, stdoutTruncated: false, action: { exitCode: 0, rebootRequired: false, outputTail: 'installed 1.2' } },
  },
  {
    name: 'a script error',
    script: printing(`step 1${result(3, 1)}`, 'disk full\n', 3),
    stdout: `step 1${result(3, 1)}`,
    stderr: 'disk full\n',
    ssm: { Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 3 },
    expected: { status: 'Failed', responseCode: 3, stdout: `step 1${result(3, 1)}`, stdoutTruncated: false, action: { exitCode: 3, failedStep: 1, outputTail: 'step 1\ndisk full' } },
  },
  {
    name: 'a script that asks for a restart',
    script: printing(`installed\n${REBOOT_MARKER}${result(0)}`, '', 0),
    stdout: `installed\n${REBOOT_MARKER}${result(0)}`,
    stderr: '',
    ssm: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 },
    expected: { status: 'Success', responseCode: 0, stdout: `installed\n${REBOOT_MARKER}${result(0)}`, stdoutTruncated: false, action: { exitCode: 0, rebootRequired: true } },
  },
  {
    name: 'a script that restarts the computer and runs again (exit 194)',
    script: `if [ -f "$NIGHTSHIFT_ROOT/restarted" ]; then printf 'after the restart\\n'; exit 0; fi\n: > "$NIGHTSHIFT_ROOT/restarted"\nexit 194\n`,
    stdout: 'after the restart\n',
    stderr: '',
    ssm: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 },
    expected: { status: 'Success', responseCode: 0, stdout: 'after the restart\n', stdoutTruncated: false, action: { exitCode: 0 } },
  },
  {
    name: 'a script that runs past its execution timeout',
    script: HANGS,
    stdout: '',
    stderr: '',
    executionTimeoutSeconds: 5,
    then: 'time out',
    ssm: { Status: 'TimedOut', StatusDetails: 'Execution Timed Out', ResponseCode: -1 },
    expected: { status: 'ExecutionTimedOut', responseCode: -1, stdout: '', stdoutTruncated: false },
  },
  {
    name: 'an offline computer that never comes back before the delivery timeout',
    script: printing('never runs', '', 0),
    stdout: '',
    stderr: '',
    offline: true,
    waiting: 'Pending',
    then: 'miss delivery',
    ssm: { Status: 'TimedOut', StatusDetails: 'Delivery Timed Out', ResponseCode: -1 },
    expected: { status: 'DeliveryTimedOut', responseCode: -1, stdout: '', stdoutTruncated: false },
  },
  {
    name: 'a running script that is cancelled',
    script: HANGS,
    stdout: '',
    stderr: '',
    then: 'cancel running',
    ssm: { Status: 'Cancelled', StatusDetails: 'Cancelled', ResponseCode: -1 },
    expected: { status: 'Cancelled', responseCode: -1, stdout: '', stdoutTruncated: false },
  },
  {
    name: 'a command cancelled while it waits for an offline computer',
    script: printing('never runs', '', 0),
    stdout: '',
    stderr: '',
    offline: true,
    waiting: 'Pending',
    then: 'cancel waiting',
    ssm: { Status: 'Cancelled', StatusDetails: 'Cancelled', ResponseCode: -1 },
    expected: { status: 'Cancelled', responseCode: -1, stdout: '', stdoutTruncated: false },
  },
  {
    name: 'an output longer than OUTPUT_TAIL_BYTES',
    script: `yes "$(printf 'x%.0s' $(seq 99))" | head -n ${LINES_PAST_TAIL}\nprintf '%s' ${quoted(result(0))}\n`,
    stdout: LONG_OUTPUT,
    stderr: '',
    ssm: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 },
    expected: {
      status: 'Success',
      responseCode: 0,
      // written out here rather than computed by the code under test: the end, from its first whole line, behind the note
      stdout: `[output truncated: only the last 10,485,760 of its ${LONG_OUTPUT.length.toLocaleString('en-US')} bytes were kept]\n${LONG_OUTPUT_TAIL.slice(LONG_OUTPUT_TAIL.indexOf('\n') + 1)}`,
      stdoutTruncated: true,
      action: { exitCode: 0 },
    },
  },
];

/** A refusal at sending: nothing runs, the step that sent hears why. */
interface Refusal {
  readonly name: string;
  readonly command: (agentId: string) => AgentCommand;
  /** Sent to a computer the agent does not manage. */
  readonly unmanaged?: boolean;
  /** What SSM answers the SendCommand, if the adapter gets that far. */
  readonly ssmError?: Error;
  readonly expected: new (...args: never[]) => Error;
}

const commandFor = (agentId: string, overrides: Partial<AgentCommand> = {}): AgentCommand => ({
  agentId,
  platform: 'linux',
  script: 'true\n',
  comment: COMMENT,
  deliveryTimeoutSeconds: 600,
  executionTimeoutSeconds: 600,
  ...overrides,
});

const REFUSALS: readonly Refusal[] = [
  {
    name: 'a computer the agent does not manage is unreachable',
    command: (agentId) => commandFor(agentId),
    unmanaged: true,
    ssmError: new InvalidInstanceId({ message: 'Instances not in a valid state', $metadata: {} }),
    expected: AgentUnreachableError,
  },
  {
    name: 'a command for another platform reaches the computer and is refused',
    command: (agentId) => commandFor(agentId, { platform: 'windows', script: 'Write-Output 1' }),
    ssmError: new UnsupportedPlatformType({ message: 'The document does not support the platform', $metadata: {} }),
    expected: AgentFailedError,
  },
  {
    name: 'a command longer than any agent allows is refused before it goes out',
    command: (agentId) => commandFor(agentId, { executionTimeoutSeconds: MAX_EXECUTION_TIMEOUT_SECONDS + 1 }),
    expected: ConfigurationError,
  },
];

/** One agent under the contract: it prepares a computer for a case and brings a sent command to its end its own way. */
interface Backend {
  readonly name: string;
  readonly agent: AgentPort;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** Before each test: no answers left from the one before. */
  reset(): void;
  /** A computer for this case, online or not; for a refusal, maybe one the agent does not manage. */
  computer(index: number, options: { offline?: boolean; unmanaged?: boolean }): Promise<string>;
  /** What SSM answers for the case, for the backend that asks SSM. */
  answer(c: ContractCase | Refusal, commandId: string): void;
  /** Carries a sent command to its end the way this agent gets there. */
  drive(c: ContractCase, commandId: string, agentId: string): Promise<void>;
  /** Whether anything was sent for a refused command. */
  sentAnything(agentId: string): boolean;
}

function sandboxBackend(): Backend {
  const clock = manualClock();
  const events = new Map<string, CommandStatusEvent>();
  let machinesDir = '';
  let agent: SandboxAgent | undefined;
  const sandbox = (): SandboxAgent => {
    if (!agent) throw new Error('the sandbox backend is not set up');
    return agent;
  };
  const roots = new Map<string, string>();
  return {
    name: 'the sandbox agent (real bash)',
    get agent() {
      return sandbox();
    },
    async setUp() {
      machinesDir = await mkdtemp(path.join(tmpdir(), 'nightshift-contract-'));
      agent = new SandboxAgent({
        machinesDir,
        clock,
        pollMs: 5,
        onEvent: (event) => {
          events.set(event.detail['command-id'], event);
          return Promise.resolve();
        },
      });
      await agent.discover();
    },
    async tearDown() {
      await agent?.idle();
      await rm(machinesDir, { recursive: true, force: true });
    },
    async computer(index, { offline = false, unmanaged = false }) {
      const agentId = `i-00000000000c0${String(index).padStart(3, '0')}`;
      if (unmanaged) return agentId;
      const { root } = await sandbox().addMachine({ agentId, name: `pc${index}`, platform: 'linux', online: !offline, latencyMs: 0 });
      roots.set(agentId, root);
      return agentId;
    },
    reset() {
      // each test has machines of its own
    },
    answer() {
      // the sandbox runs the script; nothing to stage
    },
    async drive(c, commandId, agentId) {
      const started = () => existsSync(path.join(roots.get(agentId) ?? '', 'started'));
      switch (c.then) {
        case 'time out':
          await until(started);
          clock.advance(((c.executionTimeoutSeconds ?? 0) + 1) * 1000);
          break;
        case 'miss delivery':
          clock.advance(601_000);
          break;
        case 'cancel running':
          await until(started);
          await sandbox().cancel(commandId, agentId);
          break;
        case 'cancel waiting':
          await sandbox().cancel(commandId, agentId);
          break;
        case undefined:
          break;
      }
      await until(() => events.has(commandId));
    },
    sentAnything(agentId) {
      return sandbox().history(agentId).length > 0;
    },
  };
}

function ssmBackend(): Backend {
  const ssm = mockClient(SSMClient);
  const s3 = mockClient(S3Client);
  const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
    outputBucket: 'out',
    outputPrefix: 'commands/',
    region: 'eu-west-1',
  });
  /** SSM's inline part: the first 24,000 characters (8,000 of stderr), its own mark included, as its agent cuts them. */
  const inline = (text: string, limit: number) => (text.length < limit ? text : `${text.slice(0, limit - 22)}---Output truncated---`);
  return {
    name: 'the SSM adapter (SSM and S3 mocked)',
    agent,
    setUp() {
      return Promise.resolve();
    },
    tearDown() {
      ssm.restore();
      s3.restore();
      return Promise.resolve();
    },
    reset() {
      ssm.reset();
      s3.reset();
    },
    computer(index, { offline = false, unmanaged = false }) {
      const agentId = `i-00000000000c0${String(index).padStart(3, '0')}`;
      // SSM has no ping status for an instance it does not manage
      ssm
        .on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: [agentId] }] })
        .resolves({ InstanceInformationList: unmanaged ? [] : [{ InstanceId: agentId, PingStatus: offline ? 'ConnectionLost' : 'Online' }] });
      return Promise.resolve(agentId);
    },
    answer(c, commandId) {
      if (!('ssm' in c)) {
        if (c.ssmError) ssm.on(SendCommandCommand).rejects(c.ssmError);
        return;
      }
      ssm.on(SendCommandCommand).resolves({ Command: { CommandId: commandId } });
      ssm.on(CancelCommandCommand).resolves({});
      const final = {
        ...c.ssm,
        StandardOutputContent: inline(c.stdout, 24_000),
        StandardOutputUrl: `https://s3.eu-west-1.amazonaws.com/out/commands/${commandId}/stdout`,
        StandardErrorContent: inline(c.stderr, 8_000),
        StandardErrorUrl: `https://s3.eu-west-1.amazonaws.com/out/commands/${commandId}/stderr`,
        Comment: COMMENT,
      };
      const invocations = ssm.on(GetCommandInvocationCommand, { CommandId: commandId });
      if (c.waiting) invocations.resolvesOnce({ Status: c.waiting, StatusDetails: c.waiting, ResponseCode: -1, Comment: COMMENT }).resolves(final);
      else invocations.resolves(final);
      // S3 serves a suffix range of the whole output the way it does: the last bytes, and the whole size in Content-Range
      s3.on(GetObjectCommand).callsFake((input: { Key?: string; Range?: string }) => {
        const whole = input.Key?.endsWith('stderr') ? c.stderr : c.stdout;
        const suffix = Number(/^bytes=-(\d+)$/.exec(input.Range ?? '')?.[1] ?? whole.length);
        const start = Math.max(0, whole.length - suffix);
        return { Body: sdkStreamMixin(Readable.from([Buffer.from(whole.slice(start))])), ContentRange: `bytes ${start}-${whole.length - 1}/${whole.length}` };
      });
    },
    async drive(c, commandId, agentId) {
      // SSM ends the command itself; the engine's only part is the cancel
      if (c.then === 'cancel running' || c.then === 'cancel waiting') await agent.cancel(commandId, agentId);
    },
    sentAnything() {
      return ssm.commandCalls(SendCommandCommand).length > 0;
    },
  };
}

/** What the engine takes from an invocation: the fields it records, and its reading of an action's result. */
function asTheEngineSeesIt(invocation: AgentInvocation) {
  return {
    status: invocation.status,
    final: isFinalInvocationStatus(invocation.status),
    responseCode: invocation.responseCode,
    stdout: invocation.stdout,
    stdoutTruncated: invocation.stdoutTruncated,
    action: parseActionOutput(invocation.stdout, invocation.stderr, NONCE, invocation.responseCode),
    comment: invocation.comment,
  };
}

describe.each([sandboxBackend(), ssmBackend()])('the agent contract: $name', (backend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  let index = 0;
  beforeEach(() => {
    index++;
    backend.reset();
  });

  it.each(CASES)('$name', async (c) => {
    const agentId = await backend.computer(index, { offline: c.offline === true });
    backend.answer(c, `cmd-${index}`);
    const { commandId } = await backend.agent.send(commandFor(agentId, { script: c.script, executionTimeoutSeconds: c.executionTimeoutSeconds ?? 600 }));
    if (c.waiting) {
      const waiting = await backend.agent.getInvocation(commandId, agentId);
      expect(waiting.status).toBe(c.waiting);
      expect(isFinalInvocationStatus(waiting.status)).toBe(false);
    }
    await backend.drive(c, commandId, agentId);
    const seen = asTheEngineSeesIt(await backend.agent.getInvocation(commandId, agentId));
    expect(seen).toMatchObject({
      status: c.expected.status,
      final: true,
      responseCode: c.expected.responseCode,
      stdoutTruncated: c.expected.stdoutTruncated,
      comment: COMMENT,
      ...(c.expected.action ? { action: expect.objectContaining(c.expected.action) as unknown } : {}),
    });
    // compared whole, and apart from the rest, so a difference shows as a diff rather than 10 MB of matcher output
    expect(seen.stdout === c.expected.stdout, `stdout differs: ${JSON.stringify(seen.stdout.slice(0, 120))}…`).toBe(true);
  });

  it.each(REFUSALS)('refuses at sending: $name', async (refusal) => {
    const agentId = await backend.computer(index, { unmanaged: refusal.unmanaged === true });
    backend.answer(refusal, `cmd-${index}`);
    await expect(backend.agent.send(refusal.command(agentId))).rejects.toBeInstanceOf(refusal.expected);
    if (refusal.expected === ConfigurationError) expect(backend.sentAnything(agentId)).toBe(false);
  });

  it('calls a computer online, offline, or (unmanaged) not online, without an error', async () => {
    const online = await backend.computer(index, {});
    expect(await backend.agent.isOnline(online)).toBe(true);
    const offline = await backend.computer(index + 100, { offline: true });
    expect(await backend.agent.isOnline(offline)).toBe(false);
    const unmanaged = await backend.computer(index + 200, { unmanaged: true });
    expect(await backend.agent.isOnline(unmanaged)).toBe(false);
  });
});
