/**
 * The one DynamoDB table, described once: the CDK stack and the local runtime
 * (dynalite) both build it from this object, so they cannot drift apart.
 *
 * Key design — every state change is one conditional write to one item
 * (dynalite has no transactions, and none are needed):
 *
 * | item        | PK                 | SK                 | GSI1PK / GSI1SK                       | GSI2PK / GSI2SK                     |
 * |-------------|--------------------|--------------------|---------------------------------------|-------------------------------------|
 * | session     | SESSION#<id>       | SESSION            | COMPUTER#<computerId> / <createdAt>#<id> | STATUS#<status> / <updatedAt>#<id> |
 * | action      | SESSION#<id>       | ACTION#<actionId>  |                                       | DISPATCH#Waiting#<shard> / <dueAt>#<id>#Action#<actionId> (its command's dispatch, a map on the item) |
 * | detection   | SESSION#<id>       | DETECTION#<phase>  |                                       |                                     |
 * | plan        | SESSION#<id>       | PLAN               |                                       |                                     |
 * | log line    | SESSION#<id>       | LOG#<at>#<writer>-<count> |                                |                                     | (expiresAt: retention; time order, then write order per process)
 * | dispatch    | SESSION#<id>       | DISPATCH#<Detect/Verify> |                                       | DISPATCH#Waiting#<shard> / <dueAt>#<id>#<key> (sparse: only while its step waits) |
 * | tenant      | TENANT#<id>        | TENANT             | TENANTS / <name>#<id>                 |                                     |
 * | computer    | COMPUTER#<id>      | COMPUTER           | COMPUTERS / <tenantId>#<name>#<id>    |                                     |
 * | software    | SOFTWARE#<id>      | SOFTWARE           | SOFTWARE / <name>#<id>                |                                     |
 * | task        | TASK#<id>          | TASK               | TASKS / <name>#<id>                   |                                     |
 * | deployment  | DEPLOYMENT#<id>    | DEPLOYMENT         | DEPLOYMENTS / <id>                    |                                     |
 *
 * A session and everything it owns share one partition, so the console reads
 * a whole session (actions, detections, dispatches) with one Query. GSI1
 * answers "sessions of this computer, newest first" and catalog listings;
 * GSI2 answers "sessions in this status" and "commands still waiting" (the
 * reconciler's question). `version` on the session item guards every update.
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
 */
export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  globalSecondaryIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
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
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
