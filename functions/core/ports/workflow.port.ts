/** The session workflow engine: Step Functions in AWS, aws-local-stepfunctions locally. */
export interface WorkflowPort {
  /**
   * Starts the session's execution. The execution name is derived from the
   * session id, so a repeated start is refused by the engine and answered
   * with `alreadyRunning`.
   */
  startSession(sessionId: string): Promise<{ alreadyRunning: boolean }>;
  /** Resumes the step waiting on `taskToken` with `output`. Returns false if the token is no longer waiting. */
  completeTask(taskToken: string, output: unknown): Promise<boolean>;
  /** Fails the step waiting on `taskToken` with an error name its Catch/Retry can route on. */
  failTask(taskToken: string, errorName: string, cause: string): Promise<boolean>;
  /**
   * The state transitions Step Functions bills for the session's execution:
   * every state entered, and every retry of a step. Asked once the execution
   * has ended; `undefined` when the engine no longer knows it (its history
   * expired, or the local runtime restarted since). Optional: a test double
   * of the engine need not count.
   */
  countStateTransitions?(executionName: string): Promise<number | undefined>;
}
