/**
 * The one-time timer that wakes a session waiting for its maintenance window:
 * an EventBridge Scheduler `at()` schedule in AWS, a persisted timer on the
 * runtime clock locally. A session has at most one timer, named after it, so
 * moving the window moves that timer and can never leave a second one behind.
 * When the timer fires it invokes the `window-timer` handler with the session id.
 */
export interface WindowTimerPort {
  /** Arms the session's timer for `at`, or moves it there if it is armed already. */
  set(sessionId: string, at: string): Promise<void>;
  /** Disarms the session's timer; one that fired already, or never existed, is fine. */
  clear(sessionId: string): Promise<void>;
}
