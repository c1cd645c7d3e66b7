import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionStore, WAITING_SHARD_COUNT, waitingShardPk } from '../../functions/adapters/session-store.dynamodb.js';
import { ConflictError, NotFoundError } from '../../functions/core/errors.js';
import type { Dispatch, DispatchKey } from '../../functions/core/model/agent.js';
import type { Action, Session } from '../../functions/core/model/session.js';
import { actionRecord, sessionRecord } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { testSoftware } from '../support/fleet.js';

const session = (id: string): Session =>
  sessionRecord(id, { computerId: 'pc-1', computerName: 'PC 1', agentId: 'i-0000000000000a001', tenantId: 't1', status: 'Created' });

const action = (sessionId: string, actionId: string): Action => actionRecord(sessionId, actionId);

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
  let catalog: DynamoCatalogStore;
  let table: DynamoTable;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    store = new DynamoSessionStore(dynamo.table);
    catalog = new DynamoCatalogStore(dynamo.table);
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

  it('reads a session status without its items (the per-action cancel check), and nothing for an unknown session', async () => {
    await store.createSession(session('s-status'));
    const cancelled = { at: '2026-11-23T09:03:00.000Z', by: { kind: 'Operator' as const, name: 'ops@msp.example' } };
    await store.updateSession('s-status', 1, { status: 'Cancelled', cancelled }, '2026-11-23T09:03:00.000Z');
    expect(await store.getSessionStatus('s-status')).toEqual({ status: 'Cancelled', cancelled });
    expect(await store.getSessionStatus('missing')).toBeUndefined();
  });

  it('lists sessions by computer (newest first) and by status', async () => {
    await store.createSession({ ...session('s3'), createdAt: '2026-11-24T09:00:00.000Z' });
    const byComputer = await store.listSessionsByComputer('pc-1', 10);
    expect(byComputer[0]?.id).toBe('s3');
    expect((await store.listSessionsByStatus('Running', 10)).map((s) => s.id)).toEqual(['s2']);
  });

  it("reads a run's sessions' statuses at once, telling one detected and waiting for its window from one at work; unknown ids are absent", async () => {
    const detected = { Detection: { status: 'Succeeded' as const }, Execution: { status: 'Unstarted' as const }, Verification: { status: 'Unstarted' as const } };
    // on a computer of their own: the listing below counts pc-1's sessions
    for (const id of ['s-waiting', 's-executing', 's-detecting']) await store.createSession({ ...session(id), computerId: 'pc-run' });
    await store.updateSession('s-waiting', 1, { status: 'Running', stages: detected }, '2026-11-23T09:01:00.000Z');
    await store.updateSession('s-executing', 1, { status: 'Running', stages: { ...detected, Execution: { status: 'Running' } } }, '2026-11-23T09:01:00.000Z');
    await store.updateSession('s-detecting', 1, { status: 'Running', stages: { ...detected, Detection: { status: 'Running' } } }, '2026-11-23T09:01:00.000Z');
    expect(await store.getSessionStatuses(['s-waiting', 's-executing', 's-detecting', 's-unknown'])).toEqual(
      new Map([
        ['s-waiting', { status: 'Running', awaitingExecution: true }],
        ['s-executing', { status: 'Running', awaitingExecution: false }],
        ['s-detecting', { status: 'Running', awaitingExecution: false }],
      ]),
    );
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

  it('claims a dispatch once, swaps tokens only while it waits, and completes it once, for its nonce only', async () => {
    await store.createSession(session('s5'));
    expect((await store.claimDispatch(dispatch('s5', 'token-1'))).created).toBe(true);
    const second = await store.claimDispatch(dispatch('s5', 'token-2'));
    expect(second).toMatchObject({ created: false, dispatch: { taskToken: 'token-1', status: 'Sending' } });
    expect(await store.replaceDispatchToken('s5', 'Detect', 'token-2')).toMatchObject({ taskToken: 'token-2', attempts: 2 });

    const outcome = { key: 'Detect', commandId: 'cmd-1', status: 'Success', summary: 'ok' } as const;
    // a command of another claim (another nonce) cannot complete this one
    await expect(store.completeDispatch('s5', 'Detect', 'n_other', outcome, 'later')).rejects.toBeInstanceOf(ConflictError);
    expect(await store.completeDispatch('s5', 'Detect', 'n_1', outcome, 'later')).toMatchObject({ status: 'Completed', taskToken: 'token-2', commandId: 'cmd-1' });
    await expect(store.completeDispatch('s5', 'Detect', 'n_1', outcome, 'later')).rejects.toBeInstanceOf(ConflictError);
    await expect(store.replaceDispatchToken('s5', 'Detect', 'token-3')).rejects.toBeInstanceOf(ConflictError);
    await store.markTokenDelivered('s5', 'Detect');
    expect((await store.listDispatches('s5'))[0]).toMatchObject({ status: 'Completed', tokenDelivered: true, outcome });
  });

  it('reads a session with the detection, plan and dispatch a stage asks for in one call, leaving out what was not asked for or is not there', async () => {
    await store.createSession(session('s-with'));
    const detection = { sessionId: 's-with', phase: 'Initial', items: { 'software:app1': { state: 'Present', version: '1.0.0' } }, completedAt: '2026-11-23T09:00:05.000Z' } as const;
    const plan = { sessionId: 's-with', items: [], plannedAt: '2026-11-23T09:00:06.000Z' };
    await store.saveDetection(detection);
    await store.savePlan(plan);
    await store.claimDispatch(dispatch('s-with', 'token-with'));
    await store.createPlannedActions('s-with', [action('s-with', '001')]);
    await store.startActionDispatch({ ...dispatch('s-with', 'token-action'), key: 'Action#001', nonce: 'n_action' }, { status: 'PerformingAction' });
    const batchGet = vi.spyOn(table, 'batchGet');
    const get = vi.spyOn(table, 'get');
    try {
      const all = await store.getSessionWith('s-with', { detection: 'Initial', plan: true, dispatch: 'Detect' });
      expect(all.session?.id).toBe('s-with');
      expect(all.detection).toEqual(detection);
      expect(all.plan).toEqual(plan);
      expect(all.dispatch).toMatchObject({ key: 'Detect', taskToken: 'token-with', nonce: 'n_1' });
      // one BatchGetItem for the four items, not a read each
      expect(batchGet).toHaveBeenCalledTimes(1);
      expect(get).not.toHaveBeenCalled();
    } finally {
      batchGet.mockRestore();
      get.mockRestore();
    }
    // only what is asked for comes back; a part not stored is left out, as is everything for an unknown session
    expect(Object.keys(await store.getSessionWith('s-with', {}))).toEqual(['session']);
    expect(await store.getSessionWith('s-with', { detection: 'Verification' })).not.toHaveProperty('detection');
    expect(await store.getSessionWith('missing', { detection: 'Initial', plan: true, dispatch: 'Detect' })).toEqual({});
    // an action's dispatch is read from the action it lives on
    expect((await store.getSessionWith('s-with', { dispatch: 'Action#001' })).dispatch).toMatchObject({ key: 'Action#001', nonce: 'n_action' });
  });

  it("keeps an action's dispatch on the action: one write starts it and claims the command, one write records the result", async () => {
    await store.createSession(session('s6'));
    await store.createPlannedActions('s6', [action('s6', '001'), { ...action('s6', '002'), type: 'TaskAudit', dependsOn: ['001'] }]);
    const claim = { sessionId: 's6', key: 'Action#001', taskToken: 'token-1', status: 'Sending', attempts: 1, nonce: 'n_a', createdAt: '2026-11-23T09:00:00.000Z' } as const;
    const started = await store.startActionDispatch(claim, { status: 'PerformingAction', startedAt: '2026-11-23T09:00:00.000Z' });
    expect(started).toMatchObject({ created: true, action: { status: 'PerformingAction' }, dispatch: { nonce: 'n_a' } });
    // the action as the model knows it carries no engine bookkeeping
    expect(started.action).not.toHaveProperty('dispatch');
    // a second start (a retried step) writes nothing and finds the first claim
    const again = await store.startActionDispatch({ ...claim, taskToken: 'token-2', nonce: 'n_b' }, { status: 'PerformingAction' });
    expect(again).toMatchObject({ created: false, action: { status: 'PerformingAction' }, dispatch: { taskToken: 'token-1', nonce: 'n_a' } });

    const context = await store.getActionContext('s6', '002', ['001']);
    expect(context.session?.id).toBe('s6');
    expect(context.action?.actionId).toBe('002');
    expect(context.dispatch).toBeUndefined();
    expect(context.prerequisites.map((a) => a.actionId)).toEqual(['001']);
    expect(context.software).toBeUndefined();
    // with the item it acts on, the catalog entry its script comes from arrives in the same read, apart from the actions
    await catalog.putSoftware(testSoftware('app1', '2.0.0'));
    const withItem = await store.getActionContext('s6', '002', ['001'], 'software:app1');
    expect(withItem.software).toEqual({ ...testSoftware('app1', '2.0.0'), revision: 1 });
    expect(withItem.task).toBeUndefined();
    expect(withItem.prerequisites.map((a) => a.actionId)).toEqual(['001']);
    expect((await store.getActionContext('s6', '002', [], 'task:gone')).task).toBeUndefined();
    expect((await store.listDispatches('s6')).map((d) => d.key)).toEqual(['Action#001']);
    expect((await store.listWaitingDispatches('2026-11-23T10:00:00.000Z', 100)).some((d) => d.sessionId === 's6')).toBe(true);

    const outcome = { key: 'Action#001', commandId: 'cmd-a', status: 'Success', summary: 'ScriptSucceeded' } as const;
    const complete = (nonce: string, types: Action['type'][]) =>
      store.completeActionDispatch({
        sessionId: 's6',
        actionId: '001',
        nonce,
        types,
        changes: { status: 'DeterminingResult', resultReason: 'ScriptSucceeded', exitCode: 0 },
        outcome,
        now: '2026-11-23T09:01:00.000Z',
        checkAfterSeconds: 1800,
      });
    // another claim's command, or an action of a type the caller did not decide for, writes nothing
    await expect(complete('n_b', ['Install'])).rejects.toBeInstanceOf(ConflictError);
    await expect(complete('n_a', ['TaskAudit'])).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getAction('s6', '001'))?.status).toBe('PerformingAction');
    const done = await complete('n_a', ['Install', 'Update']);
    expect(done.action).toMatchObject({ status: 'DeterminingResult', exitCode: 0 });
    expect(done.dispatch).toMatchObject({ status: 'Completed', taskToken: 'token-1', commandId: 'cmd-a', dueAt: '2026-11-23T09:31:00.000Z' });
    await expect(complete('n_a', ['Install'])).rejects.toBeInstanceOf(ConflictError);
    // still waiting to be settled: due for a look only after the check time
    const waiting = (at: string) => store.listWaitingDispatches(at, 100).then((list) => list.some((d) => d.sessionId === 's6'));
    expect(await waiting('2026-11-23T09:30:00.000Z')).toBe(false);
    expect(await waiting('2026-11-23T09:32:00.000Z')).toBe(true);
    // the report's result write settles it: off the worklist in the same write
    await store.updateAction('s6', '001', ['DeterminingResult'], { status: 'Complete', result: 'Success' }, { settleDispatch: true });
    expect(await waiting('2026-11-24T00:00:00.000Z')).toBe(false);
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
    status: 'Sending',
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
    await store.completeDispatch(first.sessionId, 'Verify', 'n_1', outcome, minute(5));
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
