import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../functions/core/errors.js';
import { sessionOptionsSchema, type DetectedItem, type Session } from '../../functions/core/model/session.js';
import { planSession } from '../../functions/core/use-cases/plan-session.js';
import { softwareItem, taskItem } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const RUNTIME = softwareItem('runtime', { itemName: 'Runtime' });
const APP = softwareItem('app', { itemName: 'App', dependencies: [{ key: 'software:runtime', requires: 'Installed' }] });
const GIT = softwareItem('git', { itemName: 'Git' });

describe('planning a session from its first detection (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  const detected = async (sessionId: string, items: Record<string, DetectedItem>) => {
    await h.deps.sessions.saveDetection({ sessionId, phase: 'Initial', items, completedAt: h.clock.now().toISOString() });
  };
  const planned = async (overrides: Partial<Session> = {}, items: Record<string, DetectedItem> = { 'software:runtime': { state: 'Absent' }, 'software:app': { state: 'Present', version: '1.0' }, 'software:git': { state: 'Present', version: '2.0' } }) => {
    const session = await h.session({ items: [APP, RUNTIME, GIT], ...overrides });
    await detected(session.id, items);
    return session;
  };

  it('numbers the actions, prerequisites first, and hands the workflow each one with what it depends on', async () => {
    h = harness();
    const session = await planned();
    expect(await planSession(h.deps, session.id)).toEqual({
      sessionId: session.id,
      actionIds: ['001', '002'],
      actions: [
        { actionId: '001', dependsOn: [], itemKey: 'software:runtime' },
        { actionId: '002', dependsOn: ['001'], itemKey: 'software:app' },
      ],
      actionCount: 2,
      // for each action's step, whose dispatch asks whether the computer is online while it reads
      agentId: session.agentId,
      execute: true,
    });
    const [runtime, app] = await h.deps.sessions.getActions(session.id);
    expect(runtime).toEqual({
      sessionId: session.id,
      actionId: '001',
      itemKey: 'software:runtime',
      itemId: 'runtime',
      itemName: 'Runtime',
      type: 'Install',
      reason: 'SoftwareMissing',
      toVersion: '2.0',
      dependsOn: [],
      critical: true,
      status: 'NotStarted',
      result: 'Pending',
    });
    expect(app).toMatchObject({ actionId: '002', type: 'Update', reason: 'UpdateAvailable', fromVersion: '1.0', toVersion: '2.0', dependsOn: ['001'] });
    expect((await h.deps.sessions.getSession(session.id))?.stages.Execution.status).toBe('Unstarted');
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'planned 2 action(s): Install Runtime, Update App']]);
    expect(h.logged).toEqual([{ level: 'info', message: 'session planned', fields: { sessionId: session.id, computerId: 'pc', actionCount: 2 } }]);
  });

  it('makes an action depend only on prerequisites that have actions of their own', async () => {
    h = harness();
    const session = await planned({}, { 'software:runtime': { state: 'Present', version: '2.0' }, 'software:app': { state: 'Present', version: '1.0' }, 'software:git': { state: 'Present', version: '2.0' } });
    expect((await planSession(h.deps, session.id)).actions).toEqual([{ actionId: '001', dependsOn: [], itemKey: 'software:app' }]);
    expect((await h.deps.sessions.getAction(session.id, '001'))?.dependsOn).toEqual([]);
  });

  it('keeps a snapshot of every decision, the items left alone included, naming each action', async () => {
    h = harness();
    const session = await planned();
    await planSession(h.deps, session.id);
    const plan = await h.deps.sessions.getPlan(session.id);
    expect(plan?.plannedAt).toBe(h.clock.now().toISOString());
    expect(new Map(plan?.items.map((item) => [item.key, item]))).toEqual(
      new Map([
        ['software:runtime', { key: 'software:runtime', itemName: 'Runtime', reason: 'SoftwareMissing', detected: { state: 'Absent' }, action: 'Install', toVersion: '2.0', actionId: '001' }],
        [
          'software:app',
          { key: 'software:app', itemName: 'App', reason: 'UpdateAvailable', detected: { state: 'Present', version: '1.0' }, action: 'Update', fromVersion: '1.0', toVersion: '2.0', actionId: '002' },
        ],
        ['software:git', { key: 'software:git', itemName: 'Git', reason: 'UpToDate', detected: { state: 'Present', version: '2.0' } }],
      ]),
    );
  });

  it('never lets an observation or a non-critical item fail the session', async () => {
    h = harness();
    const session = await h.session({
      items: [softwareItem('tool', { critical: false }), taskItem('audit', { mode: 'Audit' }), taskItem('watch', { mode: 'Monitor' }), taskItem('fix', { mode: 'Enforce' })],
    });
    await detected(session.id, { 'software:tool': { state: 'Absent' }, 'task:audit': { state: 'Compliant' }, 'task:watch': { state: 'NotCompliant' }, 'task:fix': { state: 'NotCompliant' } });
    await planSession(h.deps, session.id);
    const critical = new Map((await h.deps.sessions.getActions(session.id)).map((a) => [`${a.type} ${a.itemId}`, a.critical]));
    expect(critical).toEqual(new Map([['Install tool', false], ['TaskAudit audit', false], ['TaskMonitor watch', false], ['TaskEnforce fix', true]]));
  });

  it('runs nothing for a detection-only session: execution is skipped now, and the log says nothing will run', async () => {
    h = harness();
    const session = await planned({ options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) });
    expect(await planSession(h.deps, session.id)).toMatchObject({ actionIds: ['001', '002'], execute: false });
    const now = h.clock.now().toISOString();
    expect((await h.deps.sessions.getSession(session.id))?.stages.Execution).toEqual({ status: 'Skipped', startedAt: now, endedAt: now });
    expect(h.lines.map((l) => l.message)).toEqual(['planned 2 action(s) (detection only: nothing will run): Install Runtime, Update App']);
  });

  it('skips execution when there is nothing to do', async () => {
    h = harness();
    const session = await planned({}, { 'software:runtime': { state: 'Present', version: '2.0' }, 'software:app': { state: 'Present', version: '2.0' }, 'software:git': { state: 'Present', version: '3.0' } });
    expect(await planSession(h.deps, session.id)).toEqual({ sessionId: session.id, actionIds: [], actions: [], actionCount: 0, agentId: session.agentId, execute: false });
    expect((await h.deps.sessions.getSession(session.id))?.stages.Execution.status).toBe('Skipped');
    expect(h.lines.map((l) => l.message)).toEqual(['planned: nothing to do']);
    expect(await h.deps.sessions.getActions(session.id)).toEqual([]);
  });

  it('says which items it left alone because detection could not read them, so "nothing to do" is never read as compliant', async () => {
    h = harness();
    const session = await planned({}, {
      'software:runtime': { state: 'Undetermined', reason: 'the detection script exited 3: registry hive corrupt' },
      'software:app': { state: 'Present', version: '2.0' },
      'software:git': { state: 'Present', version: '3.0' },
    });
    expect(await planSession(h.deps, session.id)).toMatchObject({ actionIds: [], execute: false });
    expect(h.lines.map((l) => l.message)).toEqual(['planned: nothing to do; left alone, could not determine: Runtime (the detection script exited 3: registry hive corrupt)']);
  });

  it('says why each item was left alone: a version it cannot compare, or a state that says nothing of the item', async () => {
    h = harness();
    const session = await planned({}, {
      'software:runtime': { state: 'Present', version: 'build seven' },
      'software:app': { state: 'Present', version: '2.0' },
      'software:git': { state: 'Compliant' },
    });
    await planSession(h.deps, session.id);
    expect(h.lines.map((l) => l.message)).toEqual(['planned: nothing to do; left alone, could not determine: Runtime (version build seven cannot be compared), Git (Compliant)']);
  });

  it('names at most five undetermined items in its log line and counts the rest', async () => {
    h = harness();
    const items = Array.from({ length: 7 }, (_, i) => softwareItem(`s${String(i)}`, { itemName: `S${String(i)}` }));
    const session = await h.session({ items });
    await detected(session.id, Object.fromEntries(items.map((item) => [item.key, { state: 'Undetermined', reason: 'denied' } as const])));
    await planSession(h.deps, session.id);
    expect(h.lines.map((l) => l.message)).toEqual(['planned: nothing to do; left alone, could not determine: S0 (denied), S1 (denied), S2 (denied), S3 (denied), S4 (denied) and 2 more']);
  });

  it('answers a repeated step with what the first recorded, without planning, writing or logging anew', async () => {
    h = harness();
    const session = await planned();
    const first = await planSession(h.deps, session.id);
    // execution moved on meanwhile, and FinishExecution added a restart
    await h.deps.sessions.updateAction(session.id, '001', ['NotStarted'], { status: 'PerformingAction' });
    await h.actions(session.id, [{ actionId: '003', itemKey: 'computer:restart', itemId: 'restart', type: 'Reboot' }]);
    const plan = await h.deps.sessions.getPlan(session.id);
    h.clock.advance(60_000);
    expect(await planSession(h.deps, session.id)).toEqual(first);
    expect((await h.deps.sessions.getAction(session.id, '001'))?.status).toBe('PerformingAction');
    expect(await h.deps.sessions.getPlan(session.id)).toEqual(plan);
    expect(h.lines).toHaveLength(1);
    expect(h.logged).toHaveLength(1);
  });

  it('repeats a detection-only plan without writing the skipped stage again', async () => {
    h = harness();
    const session = await planned({ options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) });
    await planSession(h.deps, session.id);
    const skipped = await h.deps.sessions.getSession(session.id);
    h.clock.advance(60_000);
    expect(await planSession(h.deps, session.id)).toMatchObject({ execute: false, actionCount: 2 });
    expect(await h.deps.sessions.getSession(session.id)).toEqual(skipped);
  });

  it('plans a session postponed during detection, or waiting for its computer', async () => {
    h = harness();
    for (const status of ['Postponed', 'PendingConnectivity'] as const) {
      const session = await planned({ status });
      expect((await planSession(h.deps, session.id)).actionCount).toBe(2);
    }
  });

  it('plans nothing for a cancelled session, and writes nothing', async () => {
    h = harness();
    const session = await planned({ status: 'Cancelled' });
    expect(await planSession(h.deps, session.id)).toEqual({ sessionId: session.id, actionIds: [], actions: [], actionCount: 0, agentId: session.agentId, execute: false });
    expect(await h.deps.sessions.getPlan(session.id)).toBeUndefined();
    expect(await h.deps.sessions.getActions(session.id)).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it.each(['Created', 'Passed', 'Failed', 'PartialPassed'] as const)('refuses to plan a %s session', async (status) => {
    h = harness();
    const session = await planned({ status });
    await expect(planSession(h.deps, session.id)).rejects.toThrow(new IllegalTransitionError('session', status, 'planning'));
    expect(await h.deps.sessions.getPlan(session.id)).toBeUndefined();
  });

  it('refuses to plan before detection', async () => {
    h = harness();
    const session = await h.session({ items: [APP] });
    await expect(planSession(h.deps, session.id)).rejects.toThrow('session cannot go from undetected to planning');
  });

  it("refuses to hand the computer's restart to Execute as a planned step", async () => {
    h = harness();
    const session = await planned();
    await h.deps.sessions.savePlan({ sessionId: session.id, plannedAt: h.clock.now().toISOString(), items: [] });
    await h.actions(session.id, [{ actionId: '001', itemKey: 'computer:restart', itemId: 'restart', type: 'Reboot' }]);
    await expect(planSession(h.deps, session.id)).rejects.toThrow('action cannot go from Reboot to the plan');
  });
});
