import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toEntity } from '../functions/adapters/dynamodb-table.js';
import { ConflictError } from '../functions/core/errors.js';
import type { Session, SessionStatus } from '../functions/core/model/session.js';
import type { WorkflowPort } from '../functions/core/ports/workflow.port.js';
import type { Dependencies } from '../functions/core/use-cases/dependencies.js';
import { log } from '../functions/core/use-cases/session-updates.js';

/** Statuses of a session whose workflow has not ended. */
const UNFINISHED: readonly SessionStatus[] = ['Created', 'Running', 'PendingConnectivity', 'Postponed'];

/** The local table, read directly: where the session records themselves are. */
export interface LocalTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** A session whose workflow has not ended: an unfinished status, or cancelled with its Report (which stamps endedAt) not run. */
const isUnfinished = (session: Session): boolean =>
  UNFINISHED.includes(session.status) || (session.status === 'Cancelled' && session.endedAt === undefined);

/**
 * Every session whose workflow has not ended, read from the session records
 * themselves, oldest first.
 *
 * Not through the status index (`listSessionsByStatus`): dynalite writes an
 * item's index entries and then the item as separate LevelDB writes, the old
 * entry deleted first, so a runtime killed in between leaves the index
 * without the session for good (the record is right, no status query ever
 * returns it again). A session lost that way was never resumed, and its
 * computer's next session never started. The records are the truth after a
 * crash, and a local table is small enough to read whole once per start.
 */
export async function listUnfinishedSessions(table: LocalTable): Promise<Session[]> {
  const found: Session[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new ScanCommand({
        TableName: table.tableName,
        ConsistentRead: true,
        FilterExpression: '#entity = :session',
        ExpressionAttributeNames: { '#entity': 'entity' },
        ExpressionAttributeValues: { ':session': 'Session' },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const session = toEntity<Session>(item);
      if (isUnfinished(session)) found.push(session);
    }
    const next: Record<string, unknown> | undefined = page.LastEvaluatedKey;
    startKey = next;
  } while (startKey);
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * What a local runtime does when it starts on data a killed runtime left:
 * every unfinished session's workflow starts again from the top. That is
 * all resuming takes, because every step is idempotent against the session
 * record — a step already done answers what it recorded (Prepare, Plan,
 * FinishExecution, Report), a command already sent is found by its dispatch
 * and never sent again (its completion, or the stored outcome, answers the
 * new task token), and the gate parks its new token and re-arms its timer.
 * In AWS the same property is what makes Step Functions Redrive safe.
 *
 * The one thing the record cannot tell is that a claim to send (a dispatch
 * still Sending) belongs to an attempt that is dead: in AWS its lease runs
 * out; here no attempt outlives the runtime, so the lease ends now, and the
 * retried step asks the agent whether the command went out before sending.
 */
export async function resumeUnfinishedSessions(deps: Dependencies, workflow: WorkflowPort, table: LocalTable): Promise<string[]> {
  const sessions = await listUnfinishedSessions(table);
  const now = deps.clock.now().toISOString();
  for (const session of sessions) {
    for (const dispatch of await deps.sessions.listDispatches(session.id)) {
      if (dispatch.status !== 'Sending') continue;
      await deps.sessions.takeOverDispatch(session.id, dispatch.key, dispatch.leaseUntil, now).catch((error: unknown) => {
        // sent or taken over meanwhile: nothing of ours to end
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    await log(deps, session.id, 'Stage', 'the local runtime restarted: the session goes on from its last recorded step');
    await workflow.startSession(session.id);
  }
  if (sessions.length > 0) deps.logger.info('resumed unfinished sessions', { count: sessions.length });
  return sessions.map((session) => session.id);
}
