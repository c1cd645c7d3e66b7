import type { Dependencies } from './dependencies.js';
import { recordFailure } from './record-failure.js';
import { log } from './session-updates.js';

export interface SweepOptions {
  /** A session still Created this long after its last write lost its workflow start. */
  readonly createdForSeconds: number;
  /** Past this age a session whose execution exists but never began it is failed rather than waited for. */
  readonly giveUpAfterSeconds: number;
  readonly limit: number;
}

export interface SweepResult {
  readonly checked: number;
  readonly started: number;
  readonly failed: number;
}

/**
 * Creating a session and starting its execution are two writes to two
 * services; a throttled or crashed start leaves a Created session that no
 * workflow will ever move. Every few minutes this starts each such session
 * (the execution is named after it, so a start that did happen is refused,
 * not doubled), and fails one whose execution exists but never began it.
 */
export async function sweepCreatedSessions(deps: Dependencies, options: SweepOptions): Promise<SweepResult> {
  const nowMs = deps.clock.now().getTime();
  const before = new Date(nowMs - options.createdForSeconds * 1000).toISOString();
  const stale = await deps.sessions.listSessionsInStatusSince('Created', before, options.limit);
  let started = 0;
  let failed = 0;
  for (const session of stale) {
    const { alreadyRunning } = await deps.workflow.startSession(session.id);
    if (!alreadyRunning) {
      started++;
      await log(deps, session.id, 'Stage', 'workflow started by the sweeper: the first start did not go through');
      deps.logger.warn('started a session whose workflow had not started', { sessionId: session.id });
      continue;
    }
    if (nowMs - Date.parse(session.createdAt) > options.giveUpAfterSeconds * 1000) {
      failed++;
      await recordFailure(deps, session.id, { Error: 'SessionNotStarted', Cause: 'its workflow execution exists but never began the session' });
    }
  }
  return { checked: stale.length, started, failed };
}
