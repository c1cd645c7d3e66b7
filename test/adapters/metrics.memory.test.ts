import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const MINUTE = 60_000;

/**
 * What the use cases record, read from the local runtime's in-memory
 * Metrics: real handlers, real dynalite, real bash machines. Every session
 * outcome is counted by the write that ends the session, so a repeated step,
 * a late event or a retried start counts nothing.
 */
describe('metrics the sessions record', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('counts a start, a pass and a failure once each, and the actions that ran, however often the steps repeat', async () => {
    const passing = testComputer('pc-pass', 'i-0000000000000e001');
    const failing = testComputer('pc-fail', 'i-0000000000000e002');
    runtime = await runtimeWithFleet({
      software: [testSoftware('missing', '2.0.0'), testSoftware('outdated', '5.1'), testSoftware('broken', '1.0.0', { failInstall: true })],
      deployments: [everywhere('missing'), everywhere('outdated'), everywhere('broken', { target: { kind: 'Computer', computerId: failing.id } })],
      machines: [{ computer: passing, image: { outdated: '5.0' } }, { computer: failing }],
    });
    const rt = runtime;
    const [pass, fail] = await Promise.all([rt.startSession(passing.id, 'ses-pass'), rt.startSession(failing.id, 'ses-fail')]);
    const outcomes = await Promise.all([rt.waitForSession(pass.sessionId), rt.waitForSession(fail.sessionId)]);
    expect(outcomes.map((o) => o.session.status)).toEqual(['Passed', 'Failed']);
    const ran = outcomes.flatMap((o) => o.actions).filter((a) => a.startedAt !== undefined).length;
    expect(ran).toBe(5);

    const counted = () => ({
      started: rt.metrics.total('SessionsStarted'),
      passed: rt.metrics.total('SessionsPassed'),
      failed: rt.metrics.total('SessionsFailed'),
      unexpected: rt.metrics.total('SessionsFailedUnexpectedly'),
      actionsRun: rt.metrics.total('ActionsRun'),
    });
    // a failing installer is a routine failure: counted, but nothing pages
    expect(counted()).toEqual({ started: 2, passed: 1, failed: 1, unexpected: 0, actionsRun: ran });

    // every way the same end can be told again: a retried start, a repeated report, a late Catch, a late status event
    await rt.startSession(passing.id, 'ses-pass');
    for (const sessionId of ['ses-pass', 'ses-fail']) {
      await rt.invoke('report-session', { sessionId });
      await rt.invoke('record-failure', { sessionId, error: { Error: 'States.Timeout' } });
      expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status: 'ABORTED' } })).toEqual({ recorded: false });
    }
    expect(counted()).toEqual({ started: 2, passed: 1, failed: 1, unexpected: 0, actionsRun: ran });
  });

  it('counts a session its workflow abandoned as failed once, when the status event comes twice', async () => {
    const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
    const computer = testComputer('pc-wait', 'i-0000000000000e003');
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer }] },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    const rt = runtime;
    const { sessionId } = await rt.startSession(computer.id, undefined, { executeAt: new Date(clock.now().getTime() + 60 * MINUTE).toISOString() });
    await until(() => rt.timers.armed().length === 1);

    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status: 'TIMED_OUT' } })).toEqual({ recorded: true });
    expect(await rt.invoke('execution-ended', { detail: { name: sessionId, status: 'TIMED_OUT' } })).toEqual({ recorded: false });
    expect(rt.metrics.total('SessionsFailed')).toBe(1);
    // a workflow that timed out is never routine: this is the one that pages
    expect(rt.metrics.total('SessionsFailedUnexpectedly')).toBe(1);
    expect(rt.metrics.total('SessionsPassed')).toBe(0);
    expect(rt.metrics.total('ActionsRun')).toBe(0);
  });

  it("records the reconciler's lag: how long past due the most overdue entry it handled was, 0 when none was", async () => {
    const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
    const computer = testComputer('pc-lost', 'i-0000000000000e004');
    let lost = 0;
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer }] },
      { clock, agentPollMs: 10, loseAgentEvent: (record) => record.comment.includes('/Detect/') && lost++ === 0 },
    );
    const rt = runtime;
    const { sessionId } = await rt.startSession(computer.id);
    await until(() => rt.agent.history(computer.agentId)[0]?.finishedAtMs !== undefined);

    // the detection's completion event was lost; ten minutes later (runtime clock) the reconciler finds it
    clock.advance(10 * MINUTE);
    expect(await rt.invoke('reconcile-commands', { overdueAfterSeconds: 0 })).toMatchObject({ checked: 1, completed: 1 });
    expect((await rt.waitForSession(sessionId)).session.status).toBe('Passed');
    expect(await rt.invoke('reconcile-commands', { overdueAfterSeconds: 0 })).toMatchObject({ checked: 0 });

    expect(rt.metrics.values('ReconcilerLagSeconds')).toEqual([600, 0]);
    expect(rt.metrics.summary()).toContainEqual({ name: 'ReconcilerLagSeconds', unit: 'Seconds', total: 600, samples: 2 });
  });
});

describe('the in-memory Metrics adapter', () => {
  it('keeps every total and only the latest values, so a runtime left running for days stays small', () => {
    const metrics = new InMemoryMetrics();
    for (let run = 1; run <= 1_500; run++) metrics.seconds('ReconcilerLagSeconds', run);
    metrics.count('ActionsRun', 3);
    metrics.count('ActionsRun');

    expect(metrics.total('ActionsRun')).toBe(4);
    expect(metrics.total('SessionsPassed')).toBe(0);
    expect(metrics.values('ReconcilerLagSeconds')).toHaveLength(1_000);
    expect(metrics.values('ReconcilerLagSeconds').at(-1)).toBe(1_500);
    expect(metrics.summary()).toEqual([
      { name: 'ReconcilerLagSeconds', unit: 'Seconds', total: (1_500 * 1_501) / 2, samples: 1_500 },
      { name: 'ActionsRun', unit: 'Count', total: 4, samples: 2 },
    ]);
  });
});
