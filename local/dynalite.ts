import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../functions/adapters/table-definition.js';

/** The SDK's request signer contract (`signer` of a client), as the SDK types it. */
type SdkRequestSigner = Extract<NonNullable<DynamoDBClientConfig['signer']>, { sign: unknown }>;
/** The SDK's request handler contract (`requestHandler` of a client), as the SDK types it. */
type SdkRequestHandler = Extract<NonNullable<DynamoDBClientConfig['requestHandler']>, { handle: (...args: never[]) => unknown; httpHandlerConfigs: unknown }>;
type SdkRequest = Parameters<SdkRequestHandler['handle']>[0];
type SdkResponse = Awaited<ReturnType<SdkRequestHandler['handle']>>['response'];

export interface LocalDynamo {
  /** Where dynalite listens on loopback: for clients in other processes, and anything that wants real HTTP. */
  readonly endpoint: string;
  /**
   * The same dynalite, for a client in this process (`requestHandler`): each
   * request, signed and serialised by the SDK as for AWS, is handed to
   * dynalite's own HTTP request handler without the loopback socket. The wire
   * protocol is unchanged (JSON bodies, target and auth headers, status codes,
   * error types); only the TCP and HTTP parsing on both sides is skipped,
   * which is a third of each call's CPU here (client and server share one
   * event loop).
   */
  readonly requestHandler: SdkRequestHandler;
  /**
   * The signer for that client: dynalite checks that a request carries a
   * well-formed SigV4 Authorization header and a date, never its signature
   * (there is no secret to check it against), so a SHA-256 of every body and
   * an HMAC chain per request (a fifth of the SDK's CPU per call here) would
   * be computed for no reader. Clients over `endpoint` sign as usual.
   */
  readonly signer: SdkRequestSigner;
  close(): Promise<void>;
}

/** What dynalite requires of a signature's form (its index.js): credential scope, signed headers, a signature, a date. */
const UNVERIFIED_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unverified';

const unverifiedSigner: SdkRequestSigner = {
  sign: (request) => {
    request.headers.authorization = UNVERIFIED_AUTHORIZATION;
    request.headers['x-amz-date'] = '20260101T000000Z';
    return Promise.resolve(request);
  },
};

/**
 * A real DynamoDB wire protocol on loopback. With `dataDir` the data lives on
 * disk (LevelDB) and survives restarts; without it, in memory.
 */
export async function startDynalite(dataDir: string | undefined): Promise<LocalDynamo> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    await rebuildSecondaryIndexes(dataDir);
  }
  const server = dynalite({ ...(dataDir ? { path: dataDir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const inProcess = inProcessRequestHandler(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requestHandler: inProcess.handler,
    signer: unverifiedSigner,
    // as an HTTP server lets its open requests finish before it closes (and dynalite its database), so do in-process ones
    close: async () => {
      await inProcess.drain();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** The parts of a request dynalite's handler reads: headers (lower-case names), method, url, and the body as `data` and `end` events. */
class InProcessRequest extends EventEmitter {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super();
  }
}

/** The parts of a response dynalite's handler writes: status, headers, one `end` with the whole body. */
class InProcessResponse {
  statusCode = 200;
  /** dynalite keeps the request's content type here to answer with it. */
  contentType = 'application/x-amz-json-1.0';
  readonly headers: Record<string, string> = {};

  constructor(private readonly ended: (response: InProcessResponse, body: Buffer) => void) {}

  setHeader(name: string, value: string | number): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  end(body?: string | Buffer): this {
    this.ended(this, typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0)));
    return this;
  }
}

const bodyBytes = (body: unknown): Buffer | undefined => {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  // as the SDK's own Node handler writes a Uint8Array body: its bytes, never its string form
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
};

function urlOf(request: SdkRequest): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query)) {
    for (const each of Array.isArray(value) ? value : [value]) query.append(name, each ?? '');
  }
  const search = query.toString();
  return search ? `${request.path}?${search}` : request.path;
}

/**
 * An SDK request handler that serves every request with `server`'s own
 * request listener, in this process. `drain` refuses new requests as a
 * closed port would (ECONNREFUSED) and resolves once those under way have
 * answered, so the database never closes under a write.
 */
function inProcessRequestHandler(server: Server): { readonly handler: SdkRequestHandler; drain(): Promise<void> } {
  const [listener] = server.listeners('request') as RequestListener[];
  if (!listener) throw new Error('dynalite started without a request handler');
  const underWay = new Set<Promise<unknown>>();
  let closing = false;
  const handler: SdkRequestHandler = {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    handle: (request: SdkRequest) => {
      if (closing) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED: dynalite is closed'), { code: 'ECONNREFUSED' }));
      const answered = serve(request);
      underWay.add(answered);
      void answered.then(
        () => underWay.delete(answered),
        () => underWay.delete(answered),
      );
      return answered;
    },
  };
  const serve = (request: SdkRequest) =>
    new Promise<{ response: SdkResponse }>((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
      const incoming = new InProcessRequest(request.method, urlOf(request), headers);
      const outgoing = new InProcessResponse((response, body) => {
        // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- HttpResponse is a data class the SDK tells by shape (HttpResponse.isInstance), and its package is not one of ours
        resolve({ response: { statusCode: response.statusCode, headers: response.headers, body } });
      });
      try {
        listener(incoming as unknown as IncomingMessage, outgoing as unknown as ServerResponse);
        const body = bodyBytes(request.body);
        if (body && body.length > 0) incoming.emit('data', body);
        incoming.emit('end');
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  return {
    handler,
    async drain() {
      closing = true;
      while (underWay.size > 0) await Promise.allSettled([...underWay]);
    },
  };
}

/**
 * Creates the table from the shared definition unless it exists (a second
 * `npm start` finds it), and returns once it is ACTIVE: DynamoDB creates a
 * table asynchronously, and so does dynalite (a tick later), so a write sent
 * at once could find no table.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 0.01, maxDelay: 0.5 }, { TableName: tableName });
}

/** The slice of dynalite's `db/index.js` the index rebuild uses: the same functions its writes use. */
interface DynaliteKeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: string;
}
interface DynaliteIndexDefinition {
  readonly IndexName: string;
  readonly KeySchema: readonly DynaliteKeySchemaElement[];
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
}
interface DynaliteTableDefinition {
  readonly TableName: string;
  readonly TableArn?: string;
  readonly KeySchema: readonly DynaliteKeySchemaElement[];
  readonly AttributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: string }[];
  readonly GlobalSecondaryIndexes?: readonly DynaliteIndexDefinition[];
  readonly LocalSecondaryIndexes?: readonly DynaliteIndexDefinition[];
}
/** What the table of a given name is to be: `createTableInput`, as a plain shape. */
type WantedTable = (tableName: string) => {
  readonly KeySchema: readonly DynaliteKeySchemaElement[];
  readonly AttributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: string }[];
  readonly GlobalSecondaryIndexes: readonly DynaliteIndexDefinition[];
};
type StoredItem = Record<string, unknown>;
interface DynaliteDbModule {
  getIndexActions(
    indexes: readonly DynaliteIndexDefinition[],
    existingItem: StoredItem | null,
    item: StoredItem,
    table: DynaliteTableDefinition,
  ): { puts: { index: string; key: string; item: StoredItem }[]; deletes: { index: string; key: string }[] };
}
/** The slice of `level` (classic-level) used here; dynalite opens the same folder with JSON values. */
type LevelBatchOperation = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };
interface LevelRange {
  readonly gte: string;
  readonly lt: string;
}
interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
  keys(range: LevelRange): { all(): Promise<string[]> };
  values(range: LevelRange): { all(): Promise<unknown[]> };
  batch(operations: LevelBatchOperation[]): Promise<void>;
}
interface LevelModule {
  Level: new (location: string, options: { valueEncoding: 'json' }) => LevelDatabase;
}

/**
 * Every key under dynalite's sublevel `name` (its wrapper prefixes keys with
 * `name~`). The upper bound swaps the trailing `~` (0x7E) for 0x7F, so the
 * range holds every suffix and nothing from a sibling sublevel.
 */
const sublevelRange = (name: string): LevelRange => ({ gte: `${name}~`, lt: `${name}\x7f` });

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * A stored table with the global indexes the shared definition has now. A
 * folder written before an index was added (or its projection changed) has
 * the old set, and dynalite implements no UpdateTable that creates an index:
 * the definition is brought up to date here, and the rebuild below fills the
 * new index from the items. Indexes that did not change keep what dynalite
 * recorded of them. Only tables keyed as the definition says are touched (the
 * folder holds the runtime's own table and nothing else).
 */
function withWantedIndexes(table: DynaliteTableDefinition, wanted: ReturnType<WantedTable>): DynaliteTableDefinition | undefined {
  if (!sameJson(table.KeySchema, wanted.KeySchema)) return undefined;
  const stored = table.GlobalSecondaryIndexes ?? [];
  const indexes = wanted.GlobalSecondaryIndexes.map((index) => {
    const kept = stored.find((candidate) => candidate.IndexName === index.IndexName);
    if (kept && sameJson(kept.KeySchema, index.KeySchema) && sameJson(kept.Projection, index.Projection)) return kept;
    // what dynalite's createTable records of a new index, already built
    return {
      ...index,
      IndexArn: `${table.TableArn ?? `table/${table.TableName}`}/index/${index.IndexName}`,
      IndexSizeBytes: 0,
      ItemCount: 0,
      IndexStatus: 'ACTIVE',
      ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0, NumberOfDecreasesToday: 0 },
    };
  });
  if (sameJson(indexes, stored) && sameJson(table.AttributeDefinitions, wanted.AttributeDefinitions)) return undefined;
  return { ...table, AttributeDefinitions: wanted.AttributeDefinitions, GlobalSecondaryIndexes: indexes };
}

/**
 * Rebuilds every secondary index of every table in a persistent dynalite
 * folder from the table's items, before dynalite opens it; a table whose
 * global indexes differ from `wantedTable`'s (a folder from before an index
 * was added) gets the wanted set first (see `withWantedIndexes`).
 *
 * Why: dynalite writes an item and each of its index entries as separate
 * LevelDB writes (db/index.js updateIndexes after the item put/delete), so a
 * runtime killed in between leaves an index missing an entry or holding a
 * stale one, and every Query on that index (the reconciler's worklist, the
 * sweeper's status range, a computer's sessions, catalog listings) answers
 * wrongly from then on. Items are the truth; indexes are derived, so they are
 * recomputed with dynalite's own `getIndexActions` (same keys, same projection)
 * and swapped in with one atomic batch: a kill during the rebuild leaves the
 * old indexes, and the next start rebuilds again. Local tables are small, so a
 * full rebuild stays cheap.
 */
export async function rebuildSecondaryIndexes(dataDir: string, wantedTable: WantedTable = createTableInput): Promise<void> {
  // Resolved from dynalite's own folder: the same `level` and `db` it runs on, not a second copy.
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level') as LevelModule;
  const dynaliteDb = requireFromDynalite('./db/index.js') as DynaliteDbModule;

  const db = new Level(dataDir, { valueEncoding: 'json' });
  await db.open();
  try {
    const operations: LevelBatchOperation[] = [];
    const tables: DynaliteTableDefinition[] = [];
    for (const stored of (await db.values(sublevelRange('table')).all()) as DynaliteTableDefinition[]) {
      const updated = withWantedIndexes(stored, wantedTable(stored.TableName));
      tables.push(updated ?? stored);
      if (!updated) continue;
      // dynalite's table sublevel keys a definition by its table name
      operations.push({ type: 'put', key: `table~${stored.TableName}`, value: updated });
      const gone = (stored.GlobalSecondaryIndexes ?? []).filter((index) => !(updated.GlobalSecondaryIndexes ?? []).some((kept) => kept.IndexName === index.IndexName));
      for (const index of gone) {
        for (const key of await db.keys(sublevelRange(`index-global~${stored.TableName}~${index.IndexName}`)).all()) operations.push({ type: 'del', key });
      }
    }
    for (const table of tables) {
      for (const [indexType, indexes] of [
        ['local', table.LocalSecondaryIndexes ?? []],
        ['global', table.GlobalSecondaryIndexes ?? []],
      ] as const) {
        if (indexes.length === 0) continue;
        // Sublevel names as dynalite's getIndexDb spells them.
        const sublevel = (indexName: string): string => `index-${indexType}~${table.TableName}~${indexName}`;
        for (const index of indexes) {
          for (const key of await db.keys(sublevelRange(sublevel(index.IndexName))).all()) {
            operations.push({ type: 'del', key });
          }
        }
        const items = (await db.values(sublevelRange(`item-${table.TableName}`)).all()) as StoredItem[];
        for (const item of items) {
          for (const put of dynaliteDb.getIndexActions(indexes, null, item, table).puts) {
            // A put after a del of the same key in one batch wins: unchanged entries are simply rewritten.
            operations.push({ type: 'put', key: `${sublevel(put.index)}~${put.key}`, value: put.item });
          }
        }
      }
    }
    if (operations.length > 0) await db.batch(operations);
  } finally {
    await db.close();
  }
}
