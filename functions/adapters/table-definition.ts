/**
 * The one DynamoDB table, described once: the CDK stack and the local runtime
 * (dynalite) both build it from this object, so they cannot drift apart.
 *
 * Key design — every state change is one conditional write to one item
 * (dynalite has no transactions, and none are needed). Index entries are
 * attributes of the item they index, so they change in that same write.
 *
 * | item        | PK                 | SK                        | index entries (GSIn: PK / SK)                                                        |
 * |-------------|--------------------|---------------------------|--------------------------------------------------------------------------------------|
 * | session     | SESSION#<id>       | SESSION                   | GSI3: SESSIONS#<createdAt day>#<shard of 8> / <createdAt>#<id>                       |
 * |             |                    |                           | GSI4: TENANT#<tenantId>#<createdAt month> / <createdAt>#<id>                         |
 * |             |                    |                           | GSI5: COMPUTER#<computerId> / <createdAt>#<id>                                       |
 * |             |                    |                           | GSI6: STATUS#<status>#<shard of 8> / <updatedAt>#<id>                                |
 * | action      | SESSION#<id>       | ACTION#<actionId>         | GSI2: DISPATCH#Waiting#<shard> / <dueAt>#<id>#Action#<actionId> (its command's dispatch, a map on the item) |
 * | detection   | SESSION#<id>       | DETECTION#<phase>         |                                                                                      |
 * | plan        | SESSION#<id>       | PLAN                      |                                                                                      |
 * | log line    | SESSION#<id>       | LOG#<at>#<writer>-<count> | (expiresAt: retention; time order, then write order per process)                    |
 * | dispatch    | SESSION#<id>       | DISPATCH#<Detect/Verify>  | GSI2: DISPATCH#Waiting#<shard> / <dueAt>#<id>#<key> (sparse: only while its step waits) |
 * | tenant      | TENANT#<id>        | TENANT                    | GSI1: TENANTS / <name>#<id>                                                          |
 * | computer    | COMPUTER#<id>      | COMPUTER                  | GSI1: COMPUTERS / <tenantId>#<name>#<id>                                             |
 * | software    | SOFTWARE#<id>      | SOFTWARE                  | GSI1: SOFTWARE / <name>#<id>                                                         |
 * | task        | TASK#<id>          | TASK                      | GSI1: TASKS / <name>#<id>                                                            |
 * | deployment  | DEPLOYMENT#<id>    | DEPLOYMENT                | GSI1: DEPLOYMENTS / <id>                                                             |
 * | audit entry | AUDIT#<resource>#<id> | V#<version, 10 digits> | GSI1: AUDIT#TENANT#<tenantId> / <at>#<resource>#<id>#V#<version> (only with a tenant) |
 * |             |                    |                           | GSI2: AUDIT#ALL#<shard of 4> / <at>#<resource>#<id>#V#<version>                      |
 *
 * (Schedules and runs: see schedule-store.dynamodb.ts, GSI1 and GSI2.)
 *
 * A session and everything it owns share one partition, so the console reads
 * a whole session (actions, detections, dispatches) with one Query. GSI1 and
 * GSI2 project whole items (catalog listings, the reconciler's worklist and
 * the audit trail need them); `version` on the session item guards every update.
 *
 * Sessions are listed through GSI3–GSI6, which project only the summary
 * attributes (`SESSION_SUMMARY_ATTRIBUTES`). A session's record is ~12 KB
 * (its frozen items); in an index projecting whole items every update of it
 * would be rewritten there whole (12 write units per index, twice when the
 * key moves: 36 write units per update in GSI1 and GSI2 as they were keyed
 * before). A summary entry is under 1 KB (~0.8 KB for a finished scheduled
 * session): an update writes 5 units in all four (GSI6's key moves with
 * `updatedAt`), a page of 50 reads ~12 units, and an update that changes only
 * unprojected attributes writes no index at all.
 *
 * Session access patterns, and why each is keyed so:
 *
 * - All sessions, newest first (GSI3). One partition per UTC day of
 *   `createdAt`, split into 8 shards by a hash of the session id: every
 *   session update also writes its entry (status, updatedAt), at 10,000
 *   computers 16–75 a second fleet-wide at night, all of them on today's
 *   sessions, and a schedule firing for every computer creates thousands
 *   within minutes; 8 shards spread that over 8 partitions (8,000 write
 *   units a second between them), and the day keeps each partition finite.
 *   A page merges the shards of the newest day still holding unread sessions
 *   (8 Queries), going back a day only once that day is used up.
 * - One tenant, or a Viewer's set of tenants (GSI4). One partition per tenant
 *   and month: a tenant is a fraction of the fleet, so it needs no shards; the
 *   month keeps the partition finite and costs at most 3 partitions per tenant
 *   for a 31-day range. A tenant set merges its tenants' partitions; past
 *   100 tenants (a Viewer of a large subtree) it reads the fleet-wide day
 *   shards (GSI3) instead and keeps its tenants' sessions, which costs what a
 *   fleet-wide listing costs but no more partitions than that.
 * - One computer (GSI5). A computer has about one session a day: one
 *   partition for its whole retention, read with the range as a key condition.
 * - By status: a filter on any of the above (the status changes, the key must
 *   not, or every transition would move the entry). Status counts read the
 *   range's entries, projecting only `status` (see DynamoSessionStore.countSessions).
 * - In a status, since before a time (GSI6): the sweeper's "still Created"
 *   and the local runtime's "unfinished" questions. The status moves the
 *   entry, so it is sharded like GSI3 (8 shards, the same hash, fixed for the
 *   session's life); its readers read every shard and then the sessions
 *   themselves (the index is eventually consistent; the session is not).
 *
 * The sort key of GSI3–GSI5 is `<createdAt>#<id>`: unique, and ordered the
 * same way in every partition, so the one key last handed out is the cursor
 * for all of them (functions/core/newest-first-merge.ts).
 *
 * The reconciler's worklist is spread over 16 shards (a hash of session id and
 * dispatch key, fixed for the dispatch's life), so no single partition takes
 * every dispatch write. Each shard sorts by `dueAt`, when an answer is next
 * expected: the creation time at first; once a completion is recorded, "now"
 * for a detection (its completion takes it off once the step is told) and 30
 * minutes on for an action (the report's result write takes it off); further
 * out (5 min doubling to 1 h) each time the reconciler finds the command still
 * running. An action's dispatch lives on the action item, so starting the
 * action and claiming its command is one write, and so is recording the result
 * and completing the command. A run reads every shard's
 * earliest due entries and moves each one it looks at out of the overdue
 * range, so the index order is the cursor: a run stopped by its time budget is
 * continued by the next, and no overdue entry waits behind one looked at before.
 *
 * The audit trail is read per tenant (GSI1, one partition per tenant: its
 * changes are people's, a few a minute, or an import's, at most 2,000 in one
 * request) and across tenants (GSI2, 4 shards by a hash of resource and id,
 * merged like the session shards; shards rather than months, because a list
 * of every change newest first would have to know where the months stop, and
 * shards are a fixed set).
 */

/**
 * What a session summary needs (SessionSummary, and `stages` for its current
 * stage): the attributes GSI3–GSI6 project besides the keys. `trigger`,
 * `requestedBy`, `actionCount` and `executeAt` are projected when a session item carries them.
 */
export const SESSION_SUMMARY_ATTRIBUTES = [
  'id',
  'computerId',
  'computerName',
  'tenantId',
  'status',
  'stages',
  'createdAt',
  'updatedAt',
  'endedAt',
  'origin',
  'trigger',
  'requestedBy',
  'actionCount',
  'executeAt',
] as const;

type Projection = { readonly type: 'ALL' } | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };
const ALL: Projection = { type: 'ALL' };
const SESSION_SUMMARY: Projection = { type: 'INCLUDE', nonKeyAttributes: SESSION_SUMMARY_ATTRIBUTES };

export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  globalSecondaryIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK', projection: ALL },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK', projection: ALL },
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK', projection: SESSION_SUMMARY },
    { indexName: 'GSI4', partitionKey: 'GSI4PK', sortKey: 'GSI4SK', projection: SESSION_SUMMARY },
    { indexName: 'GSI5', partitionKey: 'GSI5PK', sortKey: 'GSI5SK', projection: SESSION_SUMMARY },
    { indexName: 'GSI6', partitionKey: 'GSI6PK', sortKey: 'GSI6SK', projection: SESSION_SUMMARY },
  ],
  /** Epoch seconds; DynamoDB deletes expired session data in AWS (dynalite keeps it, which is fine locally). */
  timeToLiveAttribute: 'expiresAt',
} as const;

export type IndexName = (typeof TABLE_DEFINITION.globalSecondaryIndexes)[number]['indexName'];

/** The same table as a CreateTable request (plain data, so this file needs no SDK import). */
export function createTableInput(tableName: string) {
  const keyAttributes = [
    TABLE_DEFINITION.partitionKey,
    TABLE_DEFINITION.sortKey,
    ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection:
        index.projection.type === 'ALL'
          ? { ProjectionType: 'ALL' as const }
          : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projection.nonKeyAttributes] },
    })),
  };
}
