import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { ensureTable, startDynalite, type LocalDynamo } from '../../local/dynalite.js';

const TABLE = 'nightshift-in-process';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe("dynalite's in-process request handler: the same wire protocol without the loopback socket", () => {
  let dynamo: LocalDynamo;
  let overHttp: DynamoDBClient;
  let inProcess: DynamoDBClient;
  let http: DynamoDBDocumentClient;
  let local: DynamoDBDocumentClient;

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    dynamo = await startDynalite(undefined);
    overHttp = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    // as the local runtime builds it: the endpoint still names the server, and requests are signed in form only
    inProcess = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials, requestHandler: dynamo.requestHandler, signer: dynamo.signer });
    http = createDocumentClient(overHttp);
    local = createDocumentClient(inProcess);
  });
  afterAll(async () => {
    overHttp.destroy();
    inProcess.destroy();
    await dynamo.close();
  });

  it('creates the table and answers only once it is ACTIVE, so the first write finds it (dynalite, like DynamoDB, activates it later)', async () => {
    await ensureTable(inProcess, TABLE);
    await expect(local.send(new PutCommand({ TableName: TABLE, Item: { PK: 'T#1', SK: 'FIRST', at: 1 } }))).resolves.toBeDefined();
  });

  it('serves the same store as the HTTP endpoint, both ways, with every attribute type intact', async () => {
    const item = { PK: 'T#2', SK: 'ITEM', text: 'crème brûlée ✓', count: 42, ratio: 0.5, flag: true, none: null, list: [1, 'two', { three: 3 }], map: { nested: { deep: 'yes' } }, bytes: new Uint8Array([0, 1, 254, 255]) };
    await local.send(new PutCommand({ TableName: TABLE, Item: item }));
    expect((await http.send(new GetCommand({ TableName: TABLE, Key: { PK: 'T#2', SK: 'ITEM' }, ConsistentRead: true }))).Item).toEqual(item);

    await http.send(new PutCommand({ TableName: TABLE, Item: { PK: 'T#2', SK: 'OTHER', by: 'http' } }));
    const queried = await local.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'T#2' } }));
    expect(queried.Items?.map((i) => String(i.SK))).toEqual(['ITEM', 'OTHER']);
  });

  it("refuses as DynamoDB does, with the SDK's own error classes: a failed condition, a missing table, bad input", async () => {
    const update = new UpdateCommand({
      TableName: TABLE,
      Key: { PK: 'T#3', SK: 'ITEM' },
      UpdateExpression: 'SET #s = :s',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'Running' },
    });
    await expect(local.send(update)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(local.send(new GetCommand({ TableName: 'no-such-table', Key: { PK: 'x', SK: 'y' } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(local.send(new GetCommand({ TableName: TABLE, Key: { PK: 'x' } }))).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it('signs in form only: the header dynalite checks is there, with no computed signature (SigV4 puts hex digits there), and dynalite takes it', async () => {
    const seen: Record<string, string>[] = [];
    const capturing = createDynamoClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials,
      signer: dynamo.signer,
      requestHandler: {
        ...dynamo.requestHandler,
        handle: (request: Parameters<LocalDynamo['requestHandler']['handle']>[0]) => {
          seen.push({ ...request.headers });
          return dynamo.requestHandler.handle(request);
        },
      },
    });
    const item = { PK: 'T#5', SK: 'ITEM', body: 'x'.repeat(4096) };
    await createDocumentClient(capturing).send(new PutCommand({ TableName: TABLE, Item: item }));
    expect((await http.send(new GetCommand({ TableName: TABLE, Key: { PK: 'T#5', SK: 'ITEM' }, ConsistentRead: true }))).Item).toEqual(item);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=host;x-amz-date, Signature=unverified$/);
    capturing.destroy();
  });

  it('keeps many calls in flight at once, each answered with its own result', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `T#4#${i}`);
    await Promise.all(keys.map((PK, i) => local.send(new PutCommand({ TableName: TABLE, Item: { PK, SK: 'ITEM', i } }))));
    const read = await Promise.all(keys.map((PK) => local.send(new GetCommand({ TableName: TABLE, Key: { PK, SK: 'ITEM' }, ConsistentRead: true }))));
    expect(read.map((r) => Number(r.Item?.i))).toEqual(keys.map((_, i) => i));
  });
});

describe('closing dynalite while in-process requests are under way', () => {
  it('lets the requests under way answer before the database closes, and refuses later ones as a closed port would (none lands on a closed database)', async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const dynamo = await startDynalite(undefined);
    await ensureTable(createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials, requestHandler: dynamo.requestHandler }), TABLE);
    let handed = 0;
    let closed: Promise<void> | undefined;
    // the close starts right after the 10th request reached dynalite: requests are under way when it does
    const closingHandler: typeof dynamo.requestHandler = {
      ...dynamo.requestHandler,
      handle: (...args: Parameters<LocalDynamo['requestHandler']['handle']>) => {
        const answer = dynamo.requestHandler.handle(...args);
        if (++handed === 10) closed = dynamo.close();
        return answer;
      },
    };
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials, requestHandler: closingHandler, maxAttempts: 1 });
    const documents = createDocumentClient(client);
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, index) => documents.send(new PutCommand({ TableName: TABLE, Item: { PK: 'T#close', SK: String(index) } }))));
    await closed;
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThanOrEqual(10);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(String(outcome.reason)).toMatch(/ECONNREFUSED/);
    client.destroy();
  });
});
