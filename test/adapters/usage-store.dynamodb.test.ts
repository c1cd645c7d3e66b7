import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoScheduleStore } from '../../functions/adapters/schedule-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { UsageMeter, withUsageMeter } from '../../functions/adapters/usage-meter.js';
import { DynamoUsageStore, USAGE_SK } from '../../functions/adapters/usage-store.dynamodb.js';
import { addUsage, NO_COUNTERS, NO_USAGE, type CountedUsage, type UsageCounters } from '../../functions/core/model/usage.js';
import { ensureTable, startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { sessionRecord } from '../support/domain.js';
import { manualClock } from '../support/fleet.js';

const TABLE = 'nightshift-usage-test';
const counters = (overrides: Partial<UsageCounters>): UsageCounters => ({ ...NO_COUNTERS, lambdaInvocations: 1, ...overrides });
const withTransitions = (c: UsageCounters, stateTransitions = 0): CountedUsage => ({ ...c, stateTransitions });

describe('usage on the table (dynalite): counted as DynamoDB reports it, stored beside the session, added to its run once', () => {
  let server: LocalDynamo;
  let client: DynamoDBClient;
  let table: DynamoTable;
  let usage: DynamoUsageStore;
  let sessions: DynamoSessionStore;
  let schedules: DynamoScheduleStore;
  /** What DynamoDB said each call consumed, and the conditional writes it refused, while `observing`. */
  const observed = { read: 0, write: 0, refused: 0 };
  let observing = false;

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    server = await startDynalite(undefined);
    client = createDynamoClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await ensureTable(client, TABLE);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          const result = await next(args);
          const consumed: unknown = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const units = (Array.isArray(consumed) ? consumed : [consumed]).reduce((sum: number, entry: unknown) => sum + ((entry as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0), 0);
          if (observing) observed[/^(GetItem|BatchGetItem|Query|Scan)Command$/.test(context.commandName ?? '') ? 'read' : 'write'] += units;
          return result;
        } catch (error) {
          if (observing && error instanceof Error && error.name === 'ConditionalCheckFailedException') observed.refused++;
          throw error;
        }
      },
      { step: 'initialize', name: 'observeConsumedCapacity' },
    );
    table = new DynamoTable(createDocumentClient(client), TABLE);
    const clock = manualClock();
    usage = new DynamoUsageStore(table, { retentionDays: 90, clock });
    sessions = new DynamoSessionStore(table, { retentionDays: 90, clock });
    schedules = new DynamoScheduleStore(table);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it("counts every table call's units as DynamoDB reported them, and a refused conditional write as one write unit", async () => {
    await sessions.createSession(sessionRecord('ses_metered'));
    const meter = new UsageMeter(512);
    Object.assign(observed, { read: 0, write: 0, refused: 0 });
    observing = true;
    await withUsageMeter(meter, async () => {
      const session = await sessions.getSession('ses_metered');
      await sessions.updateSession('ses_metered', session?.version ?? 0, { status: 'Running' }, '2026-11-23T09:00:01.000Z');
      await sessions.updateSession('ses_metered', session?.version ?? 0, { status: 'Running' }, '2026-11-23T09:00:01.000Z').catch(() => undefined);
      await sessions.getActions('ses_metered');
      await sessions.getSessionStatuses(['ses_metered', 'ses_absent']);
    });
    observing = false;
    const { owner, counters: counted } = meter.close(3);
    expect(observed.refused).toBe(1);
    expect(observed.read).toBeGreaterThan(0);
    expect(counted.tableReadUnits).toBe(observed.read);
    // what DynamoDB reported, one unit for the refusal, and one for the meter's own write to come
    expect(counted.tableWriteUnits).toBe(observed.write + observed.refused + 1);
    expect(owner).toEqual({ kind: 'session', id: 'ses_metered' });
  });

  it("records an invocation's usage in one write of one unit, next to the session, never touching the session item", async () => {
    await sessions.createSession(sessionRecord('ses_apart'));
    const before = await sessions.getSession('ses_apart');
    Object.assign(observed, { read: 0, write: 0, refused: 0 });
    observing = true;
    await usage.record({ kind: 'session', id: 'ses_apart' }, counters({ lambdaDurationMs: 40, tableReadUnits: 1.5 }));
    observing = false;
    expect(observed.write).toBe(1);
    await usage.record({ kind: 'session', id: 'ses_apart' }, counters({ lambdaDurationMs: 10, tableReadUnits: 0.5 }));
    expect(await sessions.getSession('ses_apart')).toEqual(before);
    expect((await sessions.getUsage('ses_apart'))?.counted).toEqual({ ...NO_USAGE, lambdaInvocations: 2, lambdaDurationMs: 50, tableReadUnits: 2 });
    const item = await table.get('SESSION#ses_apart', USAGE_SK);
    expect(item?.expiresAt).toEqual(expect.any(Number));
    expect(Object.keys(item ?? {}).some((name) => name.startsWith('GSI'))).toBe(false);
  });

  it('closes once: the first close records the transitions and freezes the counters; a repeated close answers what the first froze', async () => {
    await sessions.createSession(sessionRecord('ses_closed', { status: 'Passed' }));
    const sessionBefore = await sessions.getSession('ses_closed');
    await usage.record({ kind: 'session', id: 'ses_closed' }, counters({ lambdaDurationMs: 7 }));
    const first = await sessions.closeUsage('ses_closed', { stateTransitions: 30, at: '2026-11-23T10:00:00.000Z' });
    expect(first).toEqual({ closedNow: true, atEnd: { ...NO_USAGE, lambdaInvocations: 1, lambdaDurationMs: 7, stateTransitions: 30 } });
    await usage.record({ kind: 'session', id: 'ses_closed' }, counters({ lambdaDurationMs: 3 }));
    const again = await sessions.closeUsage('ses_closed', { stateTransitions: 31, at: '2026-11-23T10:05:00.000Z' });
    expect(again).toEqual({ closedNow: false, atEnd: first.atEnd });
    expect(await sessions.getUsage('ses_closed')).toEqual({
      counted: { ...NO_USAGE, lambdaInvocations: 2, lambdaDurationMs: 10, stateTransitions: 30 },
      closedAt: '2026-11-23T10:00:00.000Z',
    });
    // the session's own item, its status and version, are never written by metering or closing
    expect(await sessions.getSession('ses_closed')).toEqual(sessionBefore);
  });

  it("adds a session to its run exactly once, though its close is delivered again or its first delivery died before adding; the run stays the sum of its sessions and its own fan-out", async () => {
    const runId = 'run_sum';
    await usage.record({ kind: 'run', id: runId }, counters({ lambdaDurationMs: 100, eventsPublished: 2 }));
    for (const id of ['ses_r1', 'ses_r2']) await usage.record({ kind: 'session', id }, counters({ lambdaDurationMs: 20, tableWriteUnits: 3 }));

    // ses_r1: closed and added, then delivered again
    const r1 = await sessions.closeUsage('ses_r1', { stateTransitions: 20, runId, at: '2026-11-23T11:00:00.000Z' });
    expect(await schedules.addSessionUsage(runId, 'ses_r1', r1.atEnd, '2026-11-23T11:00:00.000Z')).toBe(true);
    const r1Again = await sessions.closeUsage('ses_r1', { stateTransitions: 20, runId, at: '2026-11-23T11:01:00.000Z' });
    expect(await schedules.addSessionUsage(runId, 'ses_r1', r1Again.atEnd, '2026-11-23T11:01:00.000Z')).toBe(false);

    // ses_r2: closed, its delivery dies before adding; a late invocation lands; the redelivery adds what the close froze
    await sessions.closeUsage('ses_r2', { stateTransitions: 22, runId, at: '2026-11-23T11:00:00.000Z' });
    await usage.record({ kind: 'session', id: 'ses_r2' }, counters({ lambdaDurationMs: 5 }));
    const r2 = await sessions.closeUsage('ses_r2', { stateTransitions: 22, runId, at: '2026-11-23T11:02:00.000Z' });
    expect(r2.closedNow).toBe(false);
    expect(await schedules.addSessionUsage(runId, 'ses_r2', r2.atEnd, '2026-11-23T11:02:00.000Z')).toBe(true);
    // and an invocation after that reaches the run as well
    await usage.record({ kind: 'session', id: 'ses_r1' }, counters({ lambdaDurationMs: 1 }));

    const own = withTransitions(counters({ lambdaDurationMs: 100, eventsPublished: 2 }));
    const sessionsNow = await Promise.all(['ses_r1', 'ses_r2'].map(async (id) => (await sessions.getUsage(id))?.counted ?? NO_USAGE));
    const run = await schedules.getRunUsage(runId);
    expect(run.sessionsCounted).toBe(2);
    expect(run.counted).toEqual(sessionsNow.reduce(addUsage, own));
    expect(run.counted).toMatchObject({ lambdaInvocations: 5, stateTransitions: 42, lambdaDurationMs: 146 });
  });

  it('answers a run with no usage as nothing used', async () => {
    expect(await schedules.getRunUsage('run_none')).toEqual({ counted: NO_USAGE, sessionsCounted: 0 });
  });
});
