import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { createTableInput } from '../../functions/adapters/table-definition.js';
import { ensureTable, startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { sessionRecord } from '../support/domain.js';

/**
 * A data folder from before the session listing indexes: its table has GSI1
 * and GSI2 only, and dynalite cannot add an index to a table. Starting on it
 * brings the table's indexes up to the shared definition and fills them from
 * the items, so the listing works on data written before and after.
 */

const TABLE = 'nightshift-local';

async function open(dataDir: string): Promise<{ dynamo: LocalDynamo; client: DynamoDBClient; store: DynamoSessionStore }> {
  const dynamo = await startDynalite(dataDir);
  const client = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return { dynamo, client, store: new DynamoSessionStore(new DynamoTable(createDocumentClient(client), TABLE)) };
}

describe('a data folder whose table predates an index', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-upgrade-'));
    const { dynamo, client, store } = await open(dataDir);
    const current = createTableInput(TABLE);
    const old = current.GlobalSecondaryIndexes.filter((index) => index.IndexName === 'GSI1' || index.IndexName === 'GSI2');
    await client.send(
      new CreateTableCommand({
        ...current,
        AttributeDefinitions: current.AttributeDefinitions.filter((attribute) => /^(PK|SK|GSI[12](PK|SK))$/.test(attribute.AttributeName)),
        GlobalSecondaryIndexes: old,
      }),
    );
    // written by today's store: its listing attributes are on the item, but the old table indexes none of them
    await store.createSession(sessionRecord('s-before', { createdAt: '2026-11-20T09:00:00.000Z', updatedAt: '2026-11-20T09:00:00.000Z', status: 'Created' }));
    client.destroy();
    await dynamo.close();
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('gets every index of the shared definition, with its projection, and lists what was written before', async () => {
    for (let start = 0; start < 2; start++) {
      // twice: the second start finds the definition current and changes nothing
      const { dynamo, client, store } = await open(dataDir);
      try {
        await ensureTable(client, TABLE);
        const described = await client.send(new DescribeTableCommand({ TableName: TABLE }));
        const indexes = described.Table?.GlobalSecondaryIndexes ?? [];
        expect(indexes.map((index) => [index.IndexName, index.Projection?.ProjectionType, index.IndexStatus]).sort()).toEqual(
          createTableInput(TABLE)
            .GlobalSecondaryIndexes.map((index) => [index.IndexName, index.Projection.ProjectionType, 'ACTIVE'])
            .sort(),
        );
        const page = await store.listSessions({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z', limit: 10 });
        expect(page.items.map((item) => item.id)).toEqual([...(start === 1 ? ['s-after-0'] : []), 's-before']);
        expect((await store.listSessionsInStatusSince('Created', '2026-11-21T00:00:00.000Z', 10)).map((s) => s.id)).toEqual(['s-before']);
        await store.createSession(sessionRecord(`s-after-${start}`, { createdAt: `2026-11-2${start + 1}T09:00:00.000Z`, updatedAt: '2026-11-21T09:00:00.000Z' }));
        expect((await store.listSessions({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z', limit: 10 })).items).toHaveLength(2 + start);
      } finally {
        client.destroy();
        await dynamo.close();
      }
    }
  });
});
