import { afterEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, readVersion, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * Prepare, HasItems, Detect, Plan, Notify, ShouldExecute, Gate, GateDecision, Execute,
 * FinishExecution, NeedsRestart, NeedsVerification, Verify, Report: entered
 * once by every session that changes something and needs no restart.
 */
const FIXED_TRANSITIONS_WITH_ACTIONS = 14;
/** RunAction (which starts the action and sends its command): entered once per action. */
const TRANSITIONS_PER_ACTION = 1;

describe('a maintenance session end to end on the embedded runtime', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('installs what is missing, updates what is outdated, leaves the compliant alone, and verifies', async () => {
    const computer = testComputer('pc-1', 'i-0000000000000a001');
    runtime = await runtimeWithFleet({
      software: [testSoftware('missing', '2.0.0'), testSoftware('outdated', '124.0.6367.91'), testSoftware('current', '23.01')],
      deployments: [everywhere('missing'), everywhere('outdated'), everywhere('current')],
      machines: [{ computer, image: { outdated: '123.0.6312.58', current: '23.01' } }],
    });
    const root = runtime.agent.rootOf(computer.agentId);

    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.executionStatus).toBe('SUCCEEDED');
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.session.stages).toMatchObject({
      Detection: { status: 'Succeeded' },
      Execution: { status: 'Succeeded' },
      Verification: { status: 'Succeeded' },
    });
    const byItem = Object.fromEntries(outcome.actions.map((a) => [a.itemId, a]));
    expect(Object.keys(byItem).sort()).toEqual(['missing', 'outdated']);
    expect(byItem.missing).toMatchObject({ type: 'Install', status: 'Complete', result: 'Success', versionAfter: '2.0.0' });
    expect(byItem.outdated).toMatchObject({
      type: 'Update',
      fromVersion: '123.0.6312.58',
      toVersion: '124.0.6367.91',
      result: 'Success',
      versionAfter: '124.0.6367.91',
      exitCode: 0,
    });
    // the files the scripts wrote, not just what the session believes
    expect(await readVersion(root, 'missing')).toBe('2.0.0');
    expect(await readVersion(root, 'outdated')).toBe('124.0.6367.91');
    expect(await readVersion(root, 'current')).toBe('23.01');

    // one detection for every item, one command per action, one verification
    expect(outcome.agentRoundTrips).toBe(2 + outcome.actions.length);
    expect(runtime.agent.history(computer.agentId)).toHaveLength(2 + outcome.actions.length);
    expect(outcome.stateTransitions).toBe(FIXED_TRANSITIONS_WITH_ACTIONS + TRANSITIONS_PER_ACTION * outcome.actions.length);
  });

  it('records a failing install as Failed, still runs the other action, and fails the session', async () => {
    const computer = testComputer('pc-2', 'i-0000000000000a002');
    runtime = await runtimeWithFleet({
      software: [testSoftware('broken', '1.0.0', { failInstall: true }), testSoftware('fine', '5.1')],
      deployments: [everywhere('broken'), everywhere('fine')],
      machines: [{ computer }],
    });
    const root = runtime.agent.rootOf(computer.agentId);

    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.session.status).toBe('Failed');
    expect(outcome.session.failure).toBeUndefined(); // the workflow itself did not break; an action failed
    const byItem = Object.fromEntries(outcome.actions.map((a) => [a.itemId, a]));
    expect(byItem.broken).toMatchObject({
      type: 'Install',
      status: 'Complete',
      result: 'Failed',
      resultStage: 'Execution',
      exitCode: 3,
      resultReason: 'the script exited 3',
    });
    expect(byItem.broken?.outputTail).toContain('disk quota exceeded');
    expect(byItem.fine).toMatchObject({ type: 'Install', result: 'Success', versionAfter: '5.1' });
    expect(await readVersion(root, 'fine')).toBe('5.1');
    expect(await readVersion(root, 'broken')).toBeUndefined();
    expect(outcome.session.stages.Execution.status).toBe('Failed');
    expect(outcome.agentRoundTrips).toBe(2 + outcome.actions.length);
    expect(outcome.stateTransitions).toBe(FIXED_TRANSITIONS_WITH_ACTIONS + TRANSITIONS_PER_ACTION * outcome.actions.length);
  });

  it('takes 19 state transitions for a five-action session (the cost figure for Standard workflows; at most 12 + 2 per action)', async () => {
    const computer = testComputer('pc-5', 'i-0000000000000a005');
    const software = ['a', 'b', 'c', 'd', 'e'].map((id) => testSoftware(id, '1.0'));
    runtime = await runtimeWithFleet({ software, deployments: software.map((s) => everywhere(s.id)), machines: [{ computer }] });
    const outcome = await runtime.waitForSession((await runtime.startSession(computer.id)).sessionId);
    expect(outcome.actions).toHaveLength(5);
    expect(outcome.stateTransitions).toBe(19);
    expect(outcome.agentRoundTrips).toBe(7);
  });

  it('ends Passed with one detection and no actions when the computer is already compliant', async () => {
    const computer = testComputer('pc-3', 'i-0000000000000a003');
    runtime = await runtimeWithFleet({
      software: [testSoftware('current', '1.2.3')],
      deployments: [everywhere('current')],
      machines: [{ computer, image: { current: '1.2.3' } }],
    });

    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions).toEqual([]);
    expect(outcome.agentRoundTrips).toBe(1);
    expect(outcome.session.stages).toMatchObject({
      Detection: { status: 'Succeeded' },
      Execution: { status: 'Skipped' },
      Verification: { status: 'Skipped' },
    });
    // Prepare, HasItems, Detect, Plan, Notify, ShouldExecute, Report
    expect(outcome.stateTransitions).toBe(7);
  });

  it('fails the session with a readable reason when verification finds the item still not compliant', async () => {
    const computer = testComputer('pc-4', 'i-0000000000000a004');
    // an installer that exits 0 but installs the wrong version
    const liar = { ...testSoftware('liar', '3.0.0'), installScript: 'mkdir -p "$NIGHTSHIFT_ROOT/opt/liar"\necho 2.9.9 > "$NIGHTSHIFT_ROOT/opt/liar/VERSION"\n' };
    runtime = await runtimeWithFleet({ software: [liar], deployments: [everywhere('liar')], machines: [{ computer }] });

    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.session.status).toBe('Failed');
    expect(outcome.actions[0]).toMatchObject({
      type: 'Install',
      result: 'Failed',
      resultStage: 'Verification',
      resultReason: 'StillNotCompliant',
      exitCode: 0,
      versionAfter: '2.9.9',
    });
    expect(outcome.session.stages).toMatchObject({ Execution: { status: 'Succeeded' }, Verification: { status: 'Failed' } });
  });
});
