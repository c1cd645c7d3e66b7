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
  /** True when the agent cut stdout short (SSM keeps 24,000 characters inline). */
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
