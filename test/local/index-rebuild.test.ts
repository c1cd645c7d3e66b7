import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import type { Dispatch } from '../../functions/core/model/agent.js';
import type { SessionStore } from '../../functions/core/ports/session-store.port.js';
import { createLocalRuntime } from '../../local/runtime.js';
import { sessionRecord } from '../support/domain.js';

/**
 * A runtime killed between dynalite's item write and its index writes leaves
 * an index missing an entry, or holding one for an item that has moved on.
 * This test makes both by hand in the LevelDB folder, then checks that a
 * runtime started on that folder answers its index queries from the items.
 */

const TABLE = 'nightshift-local';
const GSI_PREFIX = `index-global~${TABLE}~`;
const LATER = '2099-01-01T00:00:00.000Z';

/** The slice of `level` (dynalite's own copy) used to reach into the folder as a kill would leave it. */
interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
  iterator(range: { gte: string; lt: string }): { all(): Promise<[string, StoredItem][]> };
  batch(operations: ({ type: 'put'; key: string; value: StoredItem } | { type: 'del'; key: string })[]): Promise<void>;
}
type StoredItem = Record<string, { S?: string } | undefined>;
const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as {
  Level: new (location: string, options: { valueEncoding: 'json' }) => LevelDatabase;
};

async function withLevel<T>(dataDir: string, use: (db: LevelDatabase) => Promise<T>): Promise<T> {
  const db = new Level(path.join(dataDir, 'dynamodb'), { valueEncoding: 'json' });
  await db.open();
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/** Every GSI entry (full LevelDB key and stored projection) of the item with this PK and SK. */
const indexEntriesOf = (db: LevelDatabase, pk: string, sk: string): Promise<[string, StoredItem][]> =>
  db
    .iterator({ gte: GSI_PREFIX, lt: `${GSI_PREFIX.slice(0, -1)}\x7f` })
    .all()
    .then((entries) => entries.filter(([, value]) => value.PK?.S === pk && value.SK?.S === sk));

const session = (id: string) =>
  sessionRecord(id, { computerId: 'pc-1', status: 'Created', createdAt: '2026-11-23T09:00:00.000Z', updatedAt: '2026-11-23T09:00:00.000Z' });
const dispatch = (sessionId: string): Dispatch => ({
  sessionId,
  key: 'Detect',
  taskToken: `token-${sessionId}`,
  status: 'Sending',
  attempts: 1,
  nonce: 'n_1',
  createdAt: '2026-11-23T09:00:01.000Z',
});

/** What the sweeper, the reconciler and the console read from the GSIs. */
async function indexAnswers(store: SessionStore) {
  return {
    created: (await store.listSessionsInStatusSince('Created', LATER, 50)).map((s) => s.id).sort(),
    running: (await store.listSessionsByStatus('Running', 50)).map((s) => s.id).sort(),
    byComputer: (await store.listSessionsByComputer('pc-1', 50)).map((s) => s.id).sort(),
    // with the status each summary entry's projection holds: a stale projection shows as an old status
    listed: (await store.listSessions({ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', limit: 50 })).items.map((s) => `${s.id}:${s.status}`).sort(),
    waiting: (await store.listWaitingDispatches(LATER, 50)).map((d) => d.sessionId).sort(),
  };
}
const CORRECT = {
  created: ['s-kept', 's-lost'],
  running: ['s-moved'],
  byComputer: ['s-kept', 's-lost', 's-moved'],
  listed: ['s-kept:Created', 's-lost:Created', 's-moved:Running'],
  waiting: ['s-kept', 's-lost'],
};
/** The session's entries: the day, tenant, computer and status listings (GSI3-6); the dispatch's: the worklist (GSI2). */
const ENTRIES_PER_SESSION_AND_DISPATCH = 5;

describe('a runtime started on a folder a kill left with broken indexes', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-index-'));

    // Everything starts Created and waiting on its Detect command.
    let runtime = await createLocalRuntime({ dataDir, resume: false, logFile: false });
    for (const id of ['s-kept', 's-lost', 's-moved']) {
      await runtime.deps.sessions.createSession(session(id));
      await runtime.deps.sessions.claimDispatch(dispatch(id));
    }
    await runtime.close();
    // The entries s-moved has now: they go stale once it moves on.
    const stale = await withLevel(dataDir, async (db) => [
      ...(await indexEntriesOf(db, 'SESSION#s-moved', 'SESSION')),
      ...(await indexEntriesOf(db, 'SESSION#s-moved', 'DISPATCH#Detect')),
    ]);
    expect(stale).toHaveLength(ENTRIES_PER_SESSION_AND_DISPATCH);

    // s-moved starts running and its command's answer is delivered.
    runtime = await createLocalRuntime({ dataDir, resume: false, logFile: false });
    await runtime.deps.sessions.updateSession('s-moved', 1, { status: 'Running' }, '2026-11-23T09:05:00.000Z');
    await runtime.deps.sessions.markTokenDelivered('s-moved', 'Detect');
    await runtime.close();

    await withLevel(dataDir, async (db) => {
      // Killed after the item writes but before the index deletes: s-moved's old entries are back.
      // Killed after s-lost's item writes but before its index puts: its entries are gone.
      const lost = [
        ...(await indexEntriesOf(db, 'SESSION#s-lost', 'SESSION')),
        ...(await indexEntriesOf(db, 'SESSION#s-lost', 'DISPATCH#Detect')),
      ];
      expect(lost).toHaveLength(ENTRIES_PER_SESSION_AND_DISPATCH);
      await db.batch([
        ...stale.map(([key, value]) => ({ type: 'put' as const, key, value })),
        ...lost.map(([key]) => ({ type: 'del' as const, key })),
      ]);
    });
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('is what dynalite alone would answer wrongly (the corruption is real)', async () => {
    // dynalite straight on the folder, without the startup rebuild
    const server = dynalite({ path: path.join(dataDir, 'dynamodb') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const client = createDynamoClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const answers = await indexAnswers(new DynamoSessionStore(new DynamoTable(createDocumentClient(client), TABLE)));
      // s-lost is missing everywhere; s-moved's stale entries put it back on the worklist and back to Created in the
      // listing (the status readers read the session itself, so only its absence from them shows there)
      expect(answers).toEqual({
        created: ['s-kept'],
        running: ['s-moved'],
        byComputer: ['s-kept', 's-moved'],
        listed: ['s-kept:Created', 's-moved:Created'],
        waiting: ['s-kept', 's-moved'],
      });
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers status, worklist and computer queries from the items after a restart', async () => {
    const runtime = await createLocalRuntime({ dataDir, resume: false, logFile: false });
    try {
      expect(await indexAnswers(runtime.deps.sessions)).toEqual(CORRECT);
    } finally {
      await runtime.close();
    }
  });

  it('leaves correct indexes as they are on a second restart', async () => {
    const runtime = await createLocalRuntime({ dataDir, resume: false, logFile: false });
    try {
      expect(await indexAnswers(runtime.deps.sessions)).toEqual(CORRECT);
    } finally {
      await runtime.close();
    }
  });
});
