import type { AgentCommand, AgentInvocation } from '../model/agent.js';

/**
 * Runs a script on a computer. Sending returns at once; completion arrives
 * later as an event (SSM through EventBridge, or the sandbox agent), and the
 * receiver reads the result back with `getInvocation`.
 *
 * Every implementation keeps one contract (test/adapters/agent-contract.test.ts),
 * so the engine classifies a command the same way whichever agent ran it:
 * - `send` refuses, before anything goes out, a command outside
 *   `assertCommandLimits` (ConfigurationError), one for a computer it does
 *   not manage (AgentUnreachableError), and one for another platform
 *   (AgentFailedError); an offline computer's command waits for delivery.
 * - a command ends in one of SSM's final statuses, spelled as SSM's
 *   StatusDetails: never delivered (DeliveryTimedOut), killed at its execution
 *   timeout (ExecutionTimedOut), Cancelled, or the script's own end (Success
 *   or Failed with its exit code; exit 194, 3010 on Windows, restarts the
 *   computer and runs the command again first).
 * - each output stream is whole, or its last `OUTPUT_TAIL_BYTES`, or
 *   (SSM only, when its full copy cannot be read) its inline beginning; a cut
 *   stream carries a note starting with `OUTPUT_TRUNCATED_PREFIX`, and a cut
 *   stdout sets `stdoutTruncated`. Reading never fails for want of output.
 */
export interface AgentPort {
  send(command: AgentCommand): Promise<{ commandId: string }>;
  getInvocation(commandId: string, agentId: string): Promise<AgentInvocation>;
  /**
   * The command sent to `agentId` with exactly this comment since `sentAfter`,
   * if any. SSM has no idempotency token, so this is how a retry learns that a
   * crashed attempt did send before it died.
   */
  findCommand(agentId: string, comment: string, sentAfter: Date): Promise<string | undefined>;
  /** Whether the computer's agent is connected now (SSM ping status), so offline behaviour can be applied up front; a computer it does not manage is not. */
  isOnline(agentId: string): Promise<boolean>;
  /** Stops a command that has not finished; a command that already ended is left as it was. */
  cancel(commandId: string, agentId: string): Promise<void>;
}
