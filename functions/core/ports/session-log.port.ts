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
  append(entry: SessionLogEntry): Promise<void>;
  read(sessionId: string, options: { cursor?: string; limit: number }): Promise<LogPage>;
}
