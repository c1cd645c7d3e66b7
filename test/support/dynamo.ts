import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { ensureTable, startDynalite } from '../../local/dynalite.js';

/** A real DynamoDB wire protocol (dynalite, in memory) with the Nightshift table created from its shared definition. */
export async function dynamoTable(): Promise<{ table: DynamoTable; close: () => Promise<void> }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const server = await startDynalite(undefined);
  const client = createDynamoClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ensureTable(client, 'nightshift-test');
  return {
    table: new DynamoTable(createDocumentClient(client), 'nightshift-test'),
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
