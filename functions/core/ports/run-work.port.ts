/**
 * Hands a run's next step (its fan-out, or the starts an operator's resume
 * or promote allows) to the background run worker: the `advance-runs`
 * function, invoked asynchronously in AWS (900 s, retried by Lambda, a
 * dead-letter queue behind it), the same handler on the runtime's own event
 * loop locally. A caller with a short deadline (the API's 29 s) records what
 * was asked and returns; the worker does what takes long.
 *
 * Delivery is at least once and may be lost: every step is idempotent
 * against the run's record, and the controller's minute sweep takes any run
 * a lost request left behind.
 */
export interface RunWorkPort {
  /** Asks for one step on the run soon. Resolves once the request is accepted, not when the step is done. */
  request(runId: string): Promise<void>;
}
