import type { AgentCommand, AgentInvocation } from '../model/agent.js';

/**
 * Runs a script on a computer. Sending returns at once; completion arrives
 * later as an event (SSM through EventBridge, or the sandbox agent), and the
 * receiver reads the result back with `getInvocation`.
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
  /** Whether the computer's agent is connected now (SSM ping status), so offline behaviour can be applied up front. */
  isOnline(agentId: string): Promise<boolean>;
  /** Stops a command that has not finished; a command that already ended is left as it was. */
  cancel(commandId: string, agentId: string): Promise<void>;
}
