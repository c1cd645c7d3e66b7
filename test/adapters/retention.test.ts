import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionLog } from '../../functions/adapters/session-log.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import type { Action } from '../../functions/core/model/session.js';
import { ensureTable, startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { RetentionSweep } from '../../local/retention-sweep.js';
import { actionRecord, sessionRecord } from '../support/domain.js';
import { manualClock } from '../support/fleet.js';

const DAY_MS = 86_400_000;
const RETENTION_DAYS = 90;
const TABLE = 'nightshift-retention';

const action = (sessionId: string, actionId: string): Action => actionRecord(sessionId, actionId);

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('retention: every record of a session carries a TTL, and the local runtime deletes what expired (dynalite has no TTL)', () => {
  let server: LocalDynamo;
  let raw: ReturnType<typeof createDocumentClient>;
  let table: DynamoTable;
  const clock = manualClock(new Date('2026-01-01T00:00:00Z'));
  let store: DynamoSessionStore;
  let log: DynamoSessionLog;

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    server = await startDynalite(undefined);
    const client = createDynamoClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    await ensureTable(client, TABLE);
    raw = createDocumentClient(client);
    table = new DynamoTable(raw, TABLE);
    store = new DynamoSessionStore(table, { retentionDays: RETENTION_DAYS, clock });
    log = new DynamoSessionLog(table, RETENTION_DAYS);
  });
  afterAll(() => server.close());

  const itemsOf = async (sessionId: string) =>
    ((await raw.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).filter((item) => item.PK === `SESSION#${sessionId}`);

  it('writes expiresAt on the session, its actions, plan, detections, dispatches and log lines; a session is kept a full retention from its end', async () => {
    const createdAt = clock.now().toISOString();
    await store.createSession(sessionRecord('short', { status: 'Running', createdAt, updatedAt: createdAt }));
    await store.createPlannedActions('short', [action('short', '001')]);
    await store.savePlan({ sessionId: 'short', items: [], plannedAt: createdAt });
    await store.saveDetection({ sessionId: 'short', phase: 'Initial', items: {}, completedAt: createdAt });
    await store.claimDispatch({ sessionId: 'short', key: 'Detect', taskToken: 't', status: 'Sending', attempts: 1, nonce: 'n_1', createdAt });
    await log.append({ sessionId: 'short', at: createdAt, kind: 'Stage', message: 'started' });

    const written = await itemsOf('short');
    expect(written.map((item) => String(item.SK).split('#')[0]).sort()).toEqual(['ACTION', 'DETECTION', 'DISPATCH', 'LOG', 'PLAN', 'SESSION']);
    const expected = Math.floor(Date.parse(createdAt) / 1000) + RETENTION_DAYS * 86_400;
    for (const item of written) expect(item.expiresAt, String(item.SK)).toBe(expected);

    // a long session: created now, ended 40 days later, its session record is kept 90 days from the end
    await store.createSession(sessionRecord('long', { status: 'Running', createdAt, updatedAt: createdAt }));
    clock.advance(40 * DAY_MS);
    const endedAt = clock.now().toISOString();
    await store.updateSession('long', 1, { status: 'Passed', endedAt }, endedAt);
    const [longSession] = await itemsOf('long');
    expect(longSession?.expiresAt).toBe(Math.floor(Date.parse(endedAt) / 1000) + RETENTION_DAYS * 86_400);
    // a change that does not end the session leaves its expiry alone
    expect((await store.getSession('long'))?.status).toBe('Passed');
  });

  it('the local sweep deletes exactly the records past their expiry on the runtime clock, and nothing before', async () => {
    const sweep = new RetentionSweep(table, clock, silent);
    // 40 days in: nothing has expired yet
    expect(await sweep.sweepOnce()).toEqual({ deleted: 0, more: false });
    expect(await itemsOf('short')).toHaveLength(6);

    // 90 days after creation: "short" (all its records) and "long"'s session record is still within 90 days of its end
    clock.advance(50 * DAY_MS + 1_000);
    const result = await sweep.sweepOnce();
    expect(result.deleted).toBe(6);
    expect(await itemsOf('short')).toEqual([]);
    expect((await store.getSession('long'))?.status).toBe('Passed');

    // 90 days after its end, "long" goes too
    clock.advance(40 * DAY_MS);
    await sweep.sweepOnce();
    expect(await store.getSession('long')).toBeUndefined();
  });
});
