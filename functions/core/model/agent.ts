import { ConfigurationError } from '../errors.js';
import type { Platform } from './catalog.js';

/** What a command is for; one dispatch per purpose per session, so a retried stage finds its earlier command. */
export type DispatchKey = 'Detect' | 'Verify' | `Action#${string}`;

export interface AgentCommand {
  readonly agentId: string;
  readonly platform: Platform;
  readonly script: string;
  /** Shown in the SSM console next to the command; never parsed back. */
  readonly comment: string;
  /** How long SSM keeps trying to deliver to an offline computer. */
  readonly deliveryTimeoutSeconds: number;
  /** How long the script may run once it started. */
  readonly executionTimeoutSeconds: number;
}

/**
 * The longest a command may run. SSM allows 172,800 s with AWS-RunShellScript
 * and AWS-RunPowerShellScript but only 28,800 s with AWS-RunRemoteScript, which
 * runs the scripts too large to send inline; the core cannot know which one a
 * command will go out with, so every command keeps to the smaller.
 */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 28_800;
/** Every command's time limit goes through here, so none can ask an agent for more than it allows. */
export const boundedExecutionTimeout = (seconds: number): number => Math.min(MAX_EXECUTION_TIMEOUT_SECONDS, Math.max(1, Math.ceil(seconds)));

/** SSM's bounds on how long it keeps trying to deliver a command (its `TimeoutSeconds`). */
const MIN_DELIVERY_TIMEOUT_SECONDS = 30;
export const MAX_DELIVERY_TIMEOUT_SECONDS = 2_592_000;

/**
 * Every agent refuses a command outside these limits before anything goes
 * out, the same way, naming the field: a command past them is a bug in whoever
 * built it, and SSM would refuse it anyway, with a less readable error.
 */
export function assertCommandLimits(command: Pick<AgentCommand, 'executionTimeoutSeconds' | 'deliveryTimeoutSeconds'>): void {
  const { executionTimeoutSeconds: execution, deliveryTimeoutSeconds: delivery } = command;
  if (!Number.isInteger(execution) || execution < 1 || execution > MAX_EXECUTION_TIMEOUT_SECONDS) {
    throw new ConfigurationError(`executionTimeoutSeconds: ${execution} is not a whole number of seconds from 1 to ${MAX_EXECUTION_TIMEOUT_SECONDS}`);
  }
  if (!Number.isInteger(delivery) || delivery < MIN_DELIVERY_TIMEOUT_SECONDS || delivery > MAX_DELIVERY_TIMEOUT_SECONDS) {
    throw new ConfigurationError(
      `deliveryTimeoutSeconds: ${delivery} is not a whole number of seconds from ${MIN_DELIVERY_TIMEOUT_SECONDS} to ${MAX_DELIVERY_TIMEOUT_SECONDS}`,
    );
  }
}

/**
 * The most of one output stream (stdout or stderr) an invocation carries: its
 * end, where a script prints its records. Room for the records of 1,000
 * detection items at their largest (about 10 KB each), and a bound on what a
 * script that prints without end can cost the reader.
 */
export const OUTPUT_TAIL_BYTES = 10 * 1024 * 1024;

/** Every note an agent puts into an output it could not return whole starts like this, so a reader (or a test) can tell. */
export const OUTPUT_TRUNCATED_PREFIX = '[output truncated';

const count = (value: number): string => value.toLocaleString('en-US');

/**
 * The kept end of an output longer than `OUTPUT_TAIL_BYTES`: `tail` is its
 * last bytes, decoded, and `totalBytes` its whole length. The cut lands inside
 * a line (maybe inside a character), so the tail starts after its first line
 * break, behind a note saying how much is missing.
 */
export function keptTail(tail: string, totalBytes: number): { text: string; truncated: boolean } {
  if (totalBytes <= OUTPUT_TAIL_BYTES) return { text: tail, truncated: false };
  const lineStart = tail.indexOf('\n') + 1;
  return {
    text: `${OUTPUT_TRUNCATED_PREFIX}: only the last ${count(OUTPUT_TAIL_BYTES)} of its ${count(totalBytes)} bytes were kept]\n${tail.slice(lineStart)}`,
    truncated: true,
  };
}

/** SSM command invocation statuses, as SSM spells them (its StatusDetails, without spaces). */
export const INVOCATION_STATUSES = [
  'Pending',
  'InProgress',
  'Delayed',
  'Cancelling',
  'Success',
  'Failed',
  'Cancelled',
  'TimedOut',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

export const isInvocationStatus = (text: string): text is InvocationStatus => (INVOCATION_STATUSES as readonly string[]).includes(text);

/** The statuses of a command still on its way or running; every other status is final. */
const IN_FLIGHT_STATUSES: readonly InvocationStatus[] = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];

export const FINAL_INVOCATION_STATUSES: readonly InvocationStatus[] = INVOCATION_STATUSES.filter((status) => !IN_FLIGHT_STATUSES.includes(status));

export const isFinalInvocationStatus = (status: InvocationStatus): boolean => FINAL_INVOCATION_STATUSES.includes(status);

export interface AgentInvocation {
  readonly commandId: string;
  readonly agentId: string;
  readonly status: InvocationStatus;
  /** The script's exit code; -1 when it never ran. */
  readonly responseCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * True when stdout is not the whole output: only its end was kept (past
   * `OUTPUT_TAIL_BYTES`), or only its beginning (SSM's inline part, when the
   * full copy could not be read). Either way a note starting with
   * `OUTPUT_TRUNCATED_PREFIX` says so in the text; stderr carries the same note
   * when it was cut.
   */
  readonly stdoutTruncated: boolean;
  /** The comment the command was sent with; it names the session and dispatch it belongs to. */
  readonly comment: string;
}

/** The bookkeeping that ties an agent command to the workflow step waiting for it. */
export interface Dispatch {
  readonly sessionId: string;
  readonly key: DispatchKey;
  /** The token of the latest workflow attempt waiting for this dispatch. */
  readonly taskToken: string;
  /**
   * Sending: claimed with a lease; its command is out, or about to go out, and
   * is known by its comment (which names this dispatch's nonce), so sending
   * costs no second write. Completed: the outcome is recorded. Abandoned:
   * claimed by a step that ended (its session ended) before any command went out.
   */
  readonly status: 'Sending' | 'Completed' | 'Abandoned';
  /** While a Sending attempt may still be alive, no other attempt sends (SSM has no idempotency token). */
  readonly leaseUntil?: string;
  /** Recorded with the outcome (the completion event names it); before that, the comment finds the command. */
  readonly commandId?: string;
  readonly attempts: number;
  /** Tags this command's records in its output, so nothing a script prints can pass for one; also in its comment. */
  readonly nonce: string;
  readonly createdAt: string;
  readonly completedAt?: string;
  /** Whether the waiting workflow step is known to have been told (then the dispatch leaves the reconciler's worklist). */
  readonly tokenDelivered?: boolean;
  /** The summary handed to the workflow, kept so a retried step can be answered without a second command. */
  readonly outcome?: DispatchOutcome;
  /** Sent while the computer was offline: the session waits for it (PendingConnectivity) until the command runs. */
  readonly sentOffline?: boolean;
  /**
   * When an answer is next expected (absent: `createdAt`, an answer is expected
   * from the moment the command exists). The reconciler looks at a waiting
   * dispatch once this is its grace (`overdueAfterSeconds`) in the past; each
   * look that finds it still waiting moves this further out.
   */
  readonly dueAt?: string;
  /** How many looks found it still waiting: each one spaces the next further apart. */
  readonly looks?: number;
}

/** Where a waiting dispatch stands in the reconciler's worklist. */
export const dispatchDueAt = (dispatch: Pick<Dispatch, 'dueAt' | 'createdAt'>): string => dispatch.dueAt ?? dispatch.createdAt;

const COMMENT_PREFIX = 'nightshift';
/** SSM keeps a command comment of at most 100 characters. */
const MAX_COMMENT_CHARS = 100;

/**
 * The comment names session, dispatch and nonce: the completion event finds
 * its dispatch by it, and a retry or the reconciler find the command by it
 * (SSM comments hold 100 characters; with the longest session id, 48, these take 96).
 */
export function commandComment(sessionId: string, key: DispatchKey, nonce: string): string {
  const comment = `${COMMENT_PREFIX}/${sessionId}/${key}/${nonce}`;
  // session ids are refused past 48 characters at the door; this is the last guard before SSM refuses the send
  if (comment.length > MAX_COMMENT_CHARS) throw new RangeError(`command comment ${comment} is longer than SSM's ${MAX_COMMENT_CHARS} characters`);
  return comment;
}

export interface CommandReference {
  readonly sessionId: string;
  readonly key: DispatchKey;
  readonly nonce: string;
}

export function parseCommandComment(comment: string): CommandReference | undefined {
  const match = /^nightshift\/([A-Za-z0-9_-]+)\/(Detect|Verify|Action#[0-9]{3,6})\/([A-Za-z0-9_-]+)$/.exec(comment);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { sessionId: match[1], key: match[2] as DispatchKey, nonce: match[3] };
}

/** Small, JSON-safe: this is what the state machine receives, so it stays far below the 256 KB payload limit. */
export interface DispatchOutcome {
  readonly key: DispatchKey;
  readonly commandId: string;
  readonly status: InvocationStatus;
  readonly summary: string;
}
