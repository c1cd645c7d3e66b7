import { describe, expect, it } from 'vitest';
import type { Action } from '../../functions/core/model/session.js';
import { decideStart, settleWithoutRunning } from '../../functions/core/use-cases/start-action.js';
import { actionRecord } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const action = (actionId: string, overrides: Partial<Action> = {}): Action => actionRecord('s', actionId, { toVersion: undefined, ...overrides });

describe('whether an action runs (pure)', () => {
  it('runs an action that has not started and whose prerequisites did not fail', () => {
    const succeeded = action('001', { status: 'Complete', result: 'Success' });
    const verifying = action('002', { status: 'DeterminingResult', result: 'Pending' });
    expect(decideStart(action('003', { dependsOn: ['001', '002'] }), [succeeded, verifying])).toEqual({ kind: 'run' });
    expect(decideStart(action('003'), [])).toEqual({ kind: 'run' });
  });

  it('answers where it stands for an action already past NotStarted, whatever its prerequisites say', () => {
    for (const status of ['PerformingAction', 'DeterminingResult', 'Complete', 'Skipped', 'Cancelled'] as const) {
      expect(decideStart(action('002', { status, dependsOn: ['001'] }), [action('001', { result: 'Failed' })])).toEqual({ kind: 'done', status });
    }
  });

  it('skips an action whose prerequisite failed or was skipped, naming the first such', () => {
    const failed = action('001', { status: 'Complete', result: 'Failed' });
    const skipped = action('002', { status: 'Skipped', result: 'Pending' });
    expect(decideStart(action('003', { dependsOn: ['001', '002'] }), [failed, skipped])).toEqual({ kind: 'skip', failedPrerequisite: failed });
    expect(decideStart(action('003', { dependsOn: ['002'] }), [failed, skipped])).toEqual({ kind: 'skip', failedPrerequisite: skipped });
  });

  it('looks only at the actions this one depends on', () => {
    const unrelatedFailure = action('001', { status: 'Complete', result: 'Failed' });
    expect(decideStart(action('003', { dependsOn: ['002'] }), [unrelatedFailure])).toEqual({ kind: 'run' });
  });

  it('observes a monitoring action instead of running it, unless a prerequisite failed', () => {
    expect(decideStart(action('001', { type: 'TaskMonitor' }), [])).toEqual({ kind: 'observe' });
    const failed = action('000', { result: 'Failed' });
    expect(decideStart(action('001', { type: 'TaskMonitor', dependsOn: ['000'] }), [failed])).toEqual({ kind: 'skip', failedPrerequisite: failed });
  });
});

describe('settling an action that runs nothing (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('skips it, saying which prerequisite failed, and logs it', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', itemName: 'Runtime', type: 'Update', status: 'Complete', result: 'Failed' }, { actionId: '002', dependsOn: ['001'] }]);
    const [prerequisite, dependent] = await h.deps.sessions.getActions(session.id);
    if (!prerequisite || !dependent) throw new Error('actions missing');
    expect(await settleWithoutRunning(h.deps, session, dependent, { kind: 'skip', failedPrerequisite: prerequisite })).toBe('Skipped');
    expect(await h.deps.sessions.getAction(session.id, '002')).toMatchObject({
      status: 'Skipped',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: 'prerequisite Runtime (Update) did not succeed',
      endedAt: h.clock.now().toISOString(),
    });
    expect(h.lines.map((l) => [l.kind, l.message, l.actionId])).toEqual([['Action', 'Install App skipped: Runtime did not succeed', '002']]);
  });

  it('completes an observation as reported, without a log line', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', type: 'TaskMonitor' }]);
    const [monitor] = await h.deps.sessions.getActions(session.id);
    if (!monitor) throw new Error('action missing');
    expect(await settleWithoutRunning(h.deps, session, monitor, { kind: 'observe' })).toBe('Complete');
    const now = h.clock.now().toISOString();
    expect(await h.deps.sessions.getAction(session.id, '001')).toMatchObject({ status: 'Complete', result: 'Success', resultStage: 'Execution', resultReason: 'ReportedNotCompliant', startedAt: now, endedAt: now });
    expect(h.lines).toEqual([]);
  });

  it('answers where the action stands when it was done already, or moved first by someone else', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', type: 'TaskMonitor' }]);
    const [monitor] = await h.deps.sessions.getActions(session.id);
    if (!monitor) throw new Error('action missing');
    expect(await settleWithoutRunning(h.deps, session, monitor, { kind: 'done', status: 'Cancelled' })).toBe('Cancelled');
    // a cancel closed it between the read and this write
    await h.deps.sessions.updateAction(session.id, '001', ['NotStarted'], { status: 'Cancelled', result: 'Cancelled' });
    expect(await settleWithoutRunning(h.deps, session, monitor, { kind: 'observe' })).toBe('Cancelled');
    expect(await settleWithoutRunning(h.deps, session, monitor, { kind: 'skip', failedPrerequisite: monitor })).toBe('Cancelled');
    expect(h.lines).toEqual([]);
  });

  it('lets a store failure other than a lost race through', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', type: 'TaskMonitor' }]);
    const [monitor] = await h.deps.sessions.getActions(session.id);
    if (!monitor) throw new Error('action missing');
    const broken = new Error('the table is throttled');
    const deps = { ...h.deps, sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, { updateAction: () => Promise.reject(broken) }) };
    await expect(settleWithoutRunning(deps, session, monitor, { kind: 'observe' })).rejects.toBe(broken);
  });

  it('falls back to what it read when the action is gone', async () => {
    h = harness();
    const session = await h.session();
    const ghost = action('009', { sessionId: session.id, type: 'TaskMonitor' });
    await expect(settleWithoutRunning(h.deps, session, ghost, { kind: 'observe' })).resolves.toBe('NotStarted');
  });
});
