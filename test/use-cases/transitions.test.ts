import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { ConflictError, IllegalTransitionError, RequestRefusedError } from '../../functions/core/errors.js';
import {
  newStages,
  sessionOptionsSchema,
  type Session,
  type SessionStatus,
} from '../../functions/core/model/session.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { cancelSession, postponeSession, runSessionNow } from '../../functions/core/use-cases/session-requests.js';
import { moveAction, mutateSession } from '../../functions/core/use-cases/session-updates.js';
import { sessionRecord } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

const someone = { kind: 'Operator', name: 'ops' } as const;

// the tables themselves are pinned row by row in test/core/session-model.test.ts

describe('stale and illegal transitions are rejected, never applied', () => {
  let deps: Pick<Dependencies, 'sessions' | 'sessionLog' | 'clock' | 'agent'> & Dependencies;
  let close: () => Promise<void>;
  let n = 0;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    close = dynamo.close;
    deps = {
      sessions: new DynamoSessionStore(dynamo.table),
      sessionLog: { append: () => Promise.resolve(), read: () => Promise.resolve({ entries: [] }) },
      clock: manualClock(),
      windowTimers: { set: () => Promise.resolve(), clear: () => Promise.resolve() },
    } as unknown as Dependencies;
  });
  afterAll(() => close());

  async function sessionIn(status: SessionStatus, extra: Partial<Session> = {}): Promise<Session> {
    const session = sessionRecord(`s${++n}`, {
      status,
      options: sessionOptionsSchema.parse({ executeAt: '2026-11-23T20:00:00.000Z' }),
      executeAt: '2026-11-23T20:00:00.000Z',
      ...extra,
    });
    await deps.sessions.createSession(session);
    return session;
  }

  it('refuses an illegal status change before writing anything', async () => {
    const session = await sessionIn('Created');
    await expect(mutateSession(deps, session.id, () => ({ status: 'Passed' }))).rejects.toBeInstanceOf(IllegalTransitionError);
    expect((await deps.sessions.getSession(session.id))?.version).toBe(1);
  });

  it('refuses a write from a stale reader (conditional on the version)', async () => {
    const session = await sessionIn('Running');
    await deps.sessions.updateSession(session.id, 1, { status: 'Postponed' }, '2026-11-23T10:00:00.000Z');
    await expect(deps.sessions.updateSession(session.id, 1, { status: 'Cancelled' }, '2026-11-23T10:00:01.000Z')).rejects.toBeInstanceOf(ConflictError);
    expect((await deps.sessions.getSession(session.id))?.status).toBe('Postponed');
  });

  it('refuses requests a finished session cannot take, with the reason', async () => {
    const session = await sessionIn('Passed');
    for (const request of [postponeSession, runSessionNow, cancelSession]) {
      await expect(request(deps, { sessionId: session.id, by: someone })).rejects.toThrow(new RequestRefusedError('the session has already ended (Passed)'));
    }
  });

  it('refuses to postpone a session whose execution started; run-now there is already satisfied and changes nothing', async () => {
    const startedAt = '2026-11-23T22:00:00.000Z';
    const session = await sessionIn('Running', { stages: { ...newStages(), Execution: { status: 'Running', startedAt } } });
    await expect(postponeSession(deps, { sessionId: session.id, by: someone })).rejects.toThrow('execution has already started, so it can no longer be postponed');
    // the retry of a run-now that started execution but failed before waking the gate must not be refused
    expect(await runSessionNow(deps, { sessionId: session.id, by: someone })).toEqual({ executeAt: startedAt });
    expect((await deps.sessions.getSession(session.id))?.version).toBe(session.version);
    const finished = await sessionIn('Running', { stages: { ...newStages(), Execution: { status: 'Succeeded' } } });
    await expect(runSessionNow(deps, { sessionId: finished.id, by: someone })).rejects.toThrow('execution has already started, so it can no longer be moved');
  });

  it('refuses an illegal action status change', async () => {
    const session = await sessionIn('Running');
    await deps.sessions.createActions(session.id, [
      { sessionId: session.id, actionId: '001', itemKey: 'software:a', itemId: 'a', itemName: 'A', type: 'Install', reason: 'SoftwareMissing', dependsOn: [], critical: true, status: 'Complete', result: 'Success' },
    ]);
    await expect(moveAction(deps, session.id, '001', ['Complete'], { status: 'PerformingAction' })).rejects.toBeInstanceOf(IllegalTransitionError);
    await expect(moveAction(deps, session.id, '001', ['NotStarted'], { status: 'PerformingAction' })).rejects.toBeInstanceOf(ConflictError);
  });
});
