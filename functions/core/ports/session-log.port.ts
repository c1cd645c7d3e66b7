import type { SessionLogEntry } from '../model/session.js';

export interface LogPage {
  readonly entries: readonly SessionLogEntry[];
  /** Pass back to read on; absent on the last page so far (a running session may add more). */
  readonly cursor?: string;
}

/**
 * A session's append-only log: stage changes, action output, who asked for
 * what. Readable in order while the session runs; kept for a retention time.
 */
export interface SessionLog {
  /**
   * `once` names the one event the line stands for (an SES report): a line
   * appended again with the same key and time is the line already written,
   * so a retried event writes no second one.
   */
  append(entry: SessionLogEntry, options?: { readonly once?: string }): Promise<void>;
  read(sessionId: string, options: { cursor?: string; limit: number }): Promise<LogPage>;
}
