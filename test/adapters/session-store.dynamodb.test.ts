import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionStore, WAITING_SHARD_COUNT, waitingShardPk } from '../../functions/adapters/session-store.dynamodb.js';
import { ConflictError, NotFoundError } from '../../functions/core/errors.js';
import type { Dispatch, DispatchKey } from '../../functions/core/model/agent.js';
import type { Action, Session } from '../../functions/core/model/session.js';
import { sessionRecord } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';

const session = (id: string): Session =>
  sessionRecord(id, { computerId: 'pc-1', computerName: 'PC 1', agentId: 'i-0000000000000a001', tenantId: 't1', status: 'Created' });

const action = (sessionId: string, actionId: string): Action => ({
  sessionId,
  actionId,
  itemKey: 'software:app',
  itemId: 'app',
  itemName: 'App',
  type: 'Install',
  reason: 'SoftwareMissing',
  toVersion: '1.0',
  dependsOn: [],
  critical: true,
  status: 'NotStarted',
  result: 'Pending',
});

const dispatch = (sessionId: string, taskToken: string): Dispatch => ({
  sessionId,
  key: 'Detect',
  taskToken,
  status: 'Sending',
  attempts: 1,
  nonce: 'n_1',
  createdAt: '2026-11-23T09:00:01.000Z',
});

describe('the DynamoDB session store (on dynalite): every write is conditional', () => {
  let store: DynamoSessionStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    store = new DynamoSessionStore(dynamo.table);
    close = dynamo.close;
  });
  afterAll(() => close());

  it('creates a session once; a second create with the same id is a conflict and changes nothing', async () => {
    await store.createSession(session('s1'));
    await expect(store.createSession({ ...session('s1'), computerName: 'changed' })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getSession('s1'))?.computerName).toBe('PC 1');
  });

  it('applies an update only at the version it was read at', async () => {
    await store.createSession(session('s2'));
    const updated = await store.updateSession('s2', 1, { status: 'Running' }, '2026-11-23T09:01:00.000Z');
    expect(updated).toMatchObject({ status: 'Running', version: 2, updatedAt: '2026-11-23T09:01:00.000Z' });
    await expect(store.updateSession('s2', 1, { status: 'Failed' }, '2026-11-23T09:02:00.000Z')).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getSession('s2'))?.status).toBe('Running');
    await expect(store.updateSession('nope', 1, { status: 'Running' }, 'x')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists sessions by computer (newest first) and by status', async () => {
    await store.createSession({ ...session('s3'), createdAt: '2026-11-24T09:00:00.000Z' });
    const byComputer = await store.listSessionsByComputer('pc-1', 10);
    expect(byComputer[0]?.id).toBe('s3');
    expect((await store.listSessionsByStatus('Running', 10)).map((s) => s.id)).toEqual(['s2']);
  });

  it('moves an action only from the statuses the caller names', async () => {
    await store.createSession(session('s4'));
    await store.createActions('s4', [action('s4', '001'), action('s4', '002')]);
    // a repeated plan leaves the written actions alone
    await store.createActions('s4', [{ ...action('s4', '001'), itemName: 'changed' }]);
    expect((await store.getActions('s4')).map((a) => [a.actionId, a.itemName])).toEqual([
      ['001', 'App'],
      ['002', 'App'],
    ]);
    await store.updateAction('s4', '001', ['NotStarted'], { status: 'PerformingAction', startedAt: 'now' });
    await expect(store.updateAction('s4', '001', ['NotStarted'], { status: 'PerformingAction' })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getAction('s4', '001'))?.status).toBe('PerformingAction');
  });

  it('claims a dispatch once, swaps tokens only while it waits, and completes it once', async () => {
    await store.createSession(session('s5'));
    expect((await store.claimDispatch(dispatch('s5', 'token-1'))).created).toBe(true);
    const second = await store.claimDispatch(dispatch('s5', 'token-2'));
    expect(second).toMatchObject({ created: false, dispatch: { taskToken: 'token-1', status: 'Sending' } });

    await store.markDispatchSent('s5', 'Detect', 'cmd-1');
    await expect(store.markDispatchSent('s5', 'Detect', 'cmd-2')).rejects.toBeInstanceOf(ConflictError);
    expect(await store.replaceDispatchToken('s5', 'Detect', 'token-2')).toMatchObject({ taskToken: 'token-2', attempts: 2, commandId: 'cmd-1' });

    const outcome = { key: 'Detect', commandId: 'cmd-1', status: 'Success', summary: 'ok' } as const;
    expect(await store.completeDispatch('s5', 'Detect', outcome, 'later')).toMatchObject({ status: 'Completed', taskToken: 'token-2' });
    await expect(store.completeDispatch('s5', 'Detect', outcome, 'later')).rejects.toBeInstanceOf(ConflictError);
    await expect(store.replaceDispatchToken('s5', 'Detect', 'token-3')).rejects.toBeInstanceOf(ConflictError);
    await store.markTokenDelivered('s5', 'Detect');
    expect((await store.listDispatches('s5'))[0]).toMatchObject({ status: 'Completed', tokenDelivered: true, outcome });
  });
});

describe("the reconciler's worklist in the store (on dynalite): sharded, due order, moved only as read", () => {
  let store: DynamoSessionStore;
  let table: DynamoTable;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    store = new DynamoSessionStore(table);
    close = dynamo.close;
  });
  afterAll(() => close());

  const sent = (sessionId: string, key: DispatchKey, createdAt: string): Dispatch => ({
    sessionId,
    key,
    taskToken: `token-${sessionId}`,
    status: 'Sent',
    commandId: `cmd-${sessionId}`,
    attempts: 1,
    nonce: 'n_1',
    createdAt,
  });
  const entriesIn = async (pk: string) => table.query({ pk, index: 'GSI2' });
  const shardEntries = async () => Promise.all(Array.from({ length: WAITING_SHARD_COUNT }, (_, shard) => entriesIn(waitingShardPk(shard))));
  const clear = async () => {
    for (const entries of await shardEntries()) {
      for (const entry of entries) await store.markTokenDelivered(String(entry.sessionId), entry.key as DispatchKey);
    }
  };

  it('spreads waiting dispatches over every shard, so no single partition takes every dispatch write', async () => {
    const count = 256;
    for (let from = 0; from < count; from += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - from) }, (_, i) => store.claimDispatch(sent(`w${from + i}`, 'Detect', '2026-11-23T09:00:00.000Z'))),
      );
    }
    const perShard = (await shardEntries()).map((entries) => entries.length);
    expect(perShard.reduce((sum, n) => sum + n, 0)).toBe(count);
    // every shard holds some, none more than twice its even share
    expect(Math.min(...perShard)).toBeGreaterThan(0);
    expect(Math.max(...perShard)).toBeLessThanOrEqual((2 * count) / WAITING_SHARD_COUNT);
    expect(await entriesIn('DISPATCH#Waiting')).toHaveLength(0);
    await clear();
  });

  it('lists only what is due, earliest due first across shards, and moves an entry only from where it was read', async () => {
    const minute = (m: number) => `2026-11-23T09:${String(m).padStart(2, '0')}:00.000Z`;
    for (let m = 0; m < 20; m++) await store.claimDispatch(sent(`d${(m * 7) % 20}`, 'Verify', minute(m)));
    const due = await store.listWaitingDispatches(minute(10), 100);
    expect(due.map((d) => d.createdAt)).toEqual(Array.from({ length: 10 }, (_, m) => minute(m)));
    // a page smaller than the shards are many is still the start of the due order (the caller asks again for more)
    const small = (await store.listWaitingDispatches(minute(20), 3)).map((d) => d.createdAt);
    expect(small.length).toBeGreaterThan(0);
    expect(small).toEqual(Array.from({ length: small.length }, (_, m) => minute(m)));

    const [first] = due;
    if (!first) throw new Error('nothing due');
    await store.rescheduleDispatch(first.sessionId, first.key, minute(0), minute(30));
    expect(await store.getDispatch(first.sessionId, first.key)).toMatchObject({ dueAt: minute(30), looks: 1 });
    expect((await store.listWaitingDispatches(minute(10), 100)).map((d) => d.createdAt)[0]).toBe(minute(1));
    // a second run that read the entry before the move loses: the first move stands
    await expect(store.rescheduleDispatch(first.sessionId, first.key, minute(0), minute(40))).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getDispatch(first.sessionId, first.key))?.dueAt).toBe(minute(30));

    // a completion recorded but not yet delivered is due at once, wherever its next look was
    const outcome = { key: 'Verify', commandId: `cmd-${first.sessionId}`, status: 'Success', summary: 'ok' } as const;
    await store.completeDispatch(first.sessionId, 'Verify', outcome, minute(5));
    expect((await store.listWaitingDispatches(minute(6), 100)).find((d) => d.sessionId === first.sessionId)).toMatchObject({ status: 'Completed' });
    // delivered: out of the worklist, and no look can put it back
    await store.markTokenDelivered(first.sessionId, 'Verify');
    expect((await store.listWaitingDispatches(minute(59), 100)).some((d) => d.sessionId === first.sessionId)).toBe(false);
    await expect(store.rescheduleDispatch(first.sessionId, 'Verify', minute(5), minute(50))).rejects.toBeInstanceOf(ConflictError);
    await clear();
  });

  it('still reads entries written before sharding, and moves each to its shard on its first look', async () => {
    const old = sent('legacy', 'Detect', '2026-11-22T09:00:00.000Z');
    await table.putIf(
      { PK: 'SESSION#legacy', SK: 'DISPATCH#Detect', entity: 'Dispatch', GSI2PK: 'DISPATCH#Waiting', GSI2SK: `${old.createdAt}#legacy#Detect`, ...old },
      undefined,
    );
    expect(await store.listWaitingDispatches('2026-11-23T00:00:00.000Z', 10)).toEqual([old]);
    await store.rescheduleDispatch('legacy', 'Detect', old.createdAt, '2026-11-23T10:00:00.000Z');
    expect(await entriesIn('DISPATCH#Waiting')).toHaveLength(0);
    expect((await shardEntries()).flat().filter((entry) => entry.sessionId === 'legacy')).toHaveLength(1);
  });
});
