import { describe, expect, it, vi } from 'vitest';
import { sessionOptionsSchema, type Action } from '../../functions/core/model/session.js';
import { finishExecution } from '../../functions/core/use-cases/finish-execution.js';
import { sweepCreatedSessions } from '../../functions/core/use-cases/sweep-sessions.js';
import { useCaseHarness, type Harness } from './harness.js';

const MINUTE = 60_000;
const OPTIONS = { createdForSeconds: 300, giveUpAfterSeconds: 3_600, limit: 10 };

// each sweep reads every Created session in its table: one table (describe) per test
describe('the sweeper: a Created session whose workflow never started (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('starts it once it has sat Created past the grace, and says so in its log and the operator logs', async () => {
    h = harness();
    const old = await h.session({ status: 'Created' });
    h.clock.advance(4 * MINUTE);
    const young = await h.session({ status: 'Created' });
    h.clock.advance(1 * MINUTE + 1);
    const start = vi.spyOn(h.workflow, 'startSession');
    expect(await sweepCreatedSessions(h.deps, OPTIONS)).toEqual({ checked: 1, started: 1, failed: 0 });
    expect(start.mock.calls).toEqual([[old.id]]);
    expect(h.lines.map((l) => [l.sessionId, l.kind, l.message])).toEqual([[old.id, 'Stage', 'workflow started by the sweeper: the first start did not go through']]);
    expect(h.logged).toEqual([{ level: 'warn', message: 'started a session whose workflow had not started', fields: { sessionId: old.id } }]);
    expect((await h.deps.sessions.getSession(young.id))?.status).toBe('Created');
  });
});

describe('the sweeper: an execution that exists but never began its session (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('fails the session past the give-up age, NOT_STARTED, and waits for one younger', async () => {
    h = harness();
    const ancient = await h.session({ status: 'Created' });
    h.clock.advance(MINUTE);
    const atTheLimit = await h.session({ status: 'Created' });
    h.clock.advance(54 * MINUTE);
    const recent = await h.session({ status: 'Created' });
    h.clock.advance(6 * MINUTE);
    // now ancient is 61 minutes old, atTheLimit exactly 60, recent 6: all three past the 5-minute grace
    vi.spyOn(h.workflow, 'startSession').mockResolvedValue({ alreadyRunning: true });
    expect(await sweepCreatedSessions(h.deps, OPTIONS)).toEqual({ checked: 3, started: 0, failed: 1 });
    expect(await h.deps.sessions.getSession(ancient.id)).toMatchObject({
      status: 'Failed',
      failure: { code: 'NOT_STARTED', message: 'its workflow execution exists but never began the session' },
    });
    expect((await h.deps.sessions.getSession(atTheLimit.id))?.status).toBe('Created');
    expect((await h.deps.sessions.getSession(recent.id))?.status).toBe('Created');
    expect(h.logged.map((l) => l.message)).toEqual(['session failed']);
  });
});

describe('the sweeper: one page at a time (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('looks at no more sessions than its limit', async () => {
    h = harness();
    for (let i = 0; i < 3; i++) await h.session({ status: 'Created' });
    h.clock.advance(10 * MINUTE);
    expect(await sweepCreatedSessions(h.deps, { ...OPTIONS, limit: 2 })).toEqual({ checked: 2, started: 2, failed: 0 });
  });

  it('finds nothing to do in a table without stale Created sessions', async () => {
    h = harness();
    expect(await sweepCreatedSessions(h.deps, { ...OPTIONS, createdForSeconds: 86_400 })).toEqual({ checked: 0, started: 0, failed: 0 });
  });
});

describe('after the last action: the reboot preference (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  const withReboot = (reboot: 'IfNecessary' | 'Suppress' | 'Force') => ({ options: sessionOptionsSchema.parse({ reboot }) });
  const ran = (actionId: string, overrides: Partial<Action> = {}) => ({ actionId, status: 'Complete' as const, result: 'Success' as const, ...overrides });

  it('restarts once an action asked for it (IfNecessary), as an action of its own that verification follows', async () => {
    h = harness();
    const session = await h.session(withReboot('IfNecessary'));
    await h.actions(session.id, [ran('001', { rebootRequired: true, itemName: 'App' }), ran('002', { status: 'DeterminingResult', rebootRequired: true, itemName: 'Tool' })]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: true, rebootActionId: '003', verify: true });
    expect(await h.deps.sessions.getAction(session.id, '003')).toMatchObject({
      actionId: '003',
      itemKey: 'computer:restart',
      itemId: 'restart',
      itemName: 'Restart',
      type: 'Reboot',
      reason: 'RebootRequested',
      dependsOn: [],
      critical: false,
      status: 'NotStarted',
      result: 'Pending',
    });
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'restarting, as asked for by App, Tool']]);
  });

  it('answers with the restart it created before, running it only while it has not ended', async () => {
    h = harness();
    const session = await h.session(withReboot('IfNecessary'));
    await h.actions(session.id, [ran('001', { rebootRequired: true })]);
    await finishExecution(h.deps, session.id);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: true, rebootActionId: '002', verify: true });
    expect(await h.deps.sessions.getActions(session.id)).toHaveLength(2);
    expect(h.lines).toHaveLength(1);
    for (const [status, reboot] of [['PerformingAction', true], ['Complete', false], ['Cancelled', false]] as const) {
      const other = await h.session(withReboot('Force'));
      await h.actions(other.id, [ran('001'), { actionId: '002', type: 'Reboot', status }]);
      expect([status, await finishExecution(h.deps, other.id)]).toEqual([status, { reboot, rebootActionId: '002', verify: true }]);
    }
  });

  it('does not restart when nothing asked for it, unless the session forces it', async () => {
    h = harness();
    const quiet = await h.session(withReboot('IfNecessary'));
    await h.actions(quiet.id, [ran('001')]);
    expect(await finishExecution(h.deps, quiet.id)).toEqual({ reboot: false, verify: true });
    expect(await h.deps.sessions.getActions(quiet.id)).toHaveLength(1);
    expect((await h.deps.sessions.getSession(quiet.id))?.rebootPending).toBeUndefined();
    expect(h.lines).toEqual([]);

    const forced = await h.session(withReboot('Force'));
    await h.actions(forced.id, [ran('001'), ran('002'), ran('003')]);
    expect(await finishExecution(h.deps, forced.id)).toEqual({ reboot: true, rebootActionId: '004', verify: true });
    expect((await h.deps.sessions.getAction(forced.id, '004'))?.reason).toBe('RebootForced');
    expect(h.lines.map((l) => l.message)).toEqual(['restarting (the session forces a restart)']);
  });

  it('restarts a forced session even after observations only, but verifies nothing they did not change', async () => {
    h = harness();
    const session = await h.session(withReboot('Force'));
    await h.actions(session.id, [ran('001', { type: 'TaskAudit' }), ran('002', { type: 'TaskMonitor' })]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: true, rebootActionId: '003', verify: false });
  });

  it('counts as run only actions that completed or await their result', async () => {
    h = harness();
    const session = await h.session(withReboot('Force'));
    await h.actions(session.id, [
      { actionId: '001', rebootRequired: true },
      { actionId: '002', status: 'PerformingAction', rebootRequired: true },
      { actionId: '003', status: 'Skipped', result: 'Failed', rebootRequired: true },
      { actionId: '004', status: 'Cancelled', result: 'Cancelled' },
    ]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: false, verify: false });
    expect((await h.deps.sessions.getSession(session.id))?.rebootPending).toBeUndefined();
  });

  it('records a restart the preference suppressed as pending, once', async () => {
    h = harness();
    const session = await h.session(withReboot('Suppress'));
    await h.actions(session.id, [
      ran('001', { rebootRequired: true, itemName: 'App' }),
      ran('002', { rebootRequired: false, itemName: 'Tool' }),
      ran('003', { rebootRequired: true, itemName: 'Driver' }),
    ]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: false, verify: true });
    expect((await h.deps.sessions.getSession(session.id))?.rebootPending).toBe(true);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'restart pending (suppressed by preference), asked for by App, Driver']]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: false, verify: true });
    expect(h.lines).toHaveLength(1);
    expect(await h.deps.sessions.getActions(session.id)).toHaveLength(3);
  });

  it('does not count a restart that ran as a change to verify', async () => {
    h = harness();
    const session = await h.session(withReboot('Force'));
    await h.actions(session.id, [ran('001', { type: 'TaskAudit' }), ran('002', { type: 'Reboot', itemKey: 'computer:restart' })]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: false, rebootActionId: '002', verify: false });
  });

  it('does nothing for a cancelled session', async () => {
    h = harness();
    const session = await h.session({ ...withReboot('Force'), status: 'Cancelled' });
    await h.actions(session.id, [ran('001', { rebootRequired: true })]);
    expect(await finishExecution(h.deps, session.id)).toEqual({ reboot: false, verify: false });
    expect(await h.deps.sessions.getActions(session.id)).toHaveLength(1);
  });
});
