import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { ConflictError, NotFoundError } from '../../functions/core/errors.js';
import type { Dispatch } from '../../functions/core/model/agent.js';
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
