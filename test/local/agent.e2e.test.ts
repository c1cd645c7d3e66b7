import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/** Waits for the runtime to reach a point (a command sent, a status recorded): progress, not a clock. */
describe('the sandbox agent behaves like SSM, through the local runtime', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('detects 20 items in exactly one round-trip; a broken detection is Undetermined while the other 19 are detected', async () => {
    const computer = testComputer('pc-20', 'i-0000000000000f001');
    const software = Array.from({ length: 20 }, (_, i) =>
      i === 7 ? testSoftware(`app${i}`, '1.0', { detection: 'echo "registry hive corrupt" >&2\nexit 3\n' }) : testSoftware(`app${i}`, '1.0'),
    );
    const image = Object.fromEntries(software.filter((_, i) => i % 2 === 0).map((s) => [s.id, '1.0']));
    runtime = await runtimeWithFleet({ software, deployments: software.map((s) => everywhere(s.id)), machines: [{ computer, image }] });

    const { sessionId } = await runtime.startSession(computer.id);
    await until(async () => (await runtime?.deps.sessions.getDetection(sessionId, 'Initial')) !== undefined);
    const detection = await runtime.deps.sessions.getDetection(sessionId, 'Initial');
    expect(runtime.agent.history(computer.agentId)).toHaveLength(1);
    const states = Object.entries(detection?.items ?? {});
    expect(states).toHaveLength(20);
    expect(detection?.items['software:app7']).toEqual({ state: 'Undetermined', reason: 'the detection script exited 3: registry hive corrupt' });
    expect(states.filter(([, s]) => s.state === 'Present')).toHaveLength(10);
    expect(states.filter(([, s]) => s.state === 'Absent')).toHaveLength(9);

    const outcome = await runtime.waitForSession(sessionId);
    // nine installs, nothing for the undetermined one
    expect(outcome.actions).toHaveLength(9);
    expect(outcome.actions.some((a) => a.itemId === 'app7')).toBe(false);
    // the nine installs worked, but app7 was never read: the session cannot say the computer is compliant
    expect(outcome.session.status).toBe('Failed');
    expect((await runtime.deps.sessionLog.read(sessionId, { limit: 500 })).entries.map((line) => line.message)).toContain('session ended Failed: 9 action(s), 0 failed; could not determine App app7');
  });

  it('holds a command for an offline computer and runs it when the computer comes back', async () => {
    const computer = testComputer('pc-off', 'i-0000000000000f002');
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer, online: false }] },
      { agentPollMs: 10 },
    );
    const { sessionId } = await runtime.startSession(computer.id);
    await until(() => runtime?.agent.history(computer.agentId).length === 1);
    expect(runtime.agent.history(computer.agentId)[0]?.invocation.status).toBe('Pending');

    await runtime.agent.setOnline(computer.agentId, true);
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions[0]).toMatchObject({ type: 'Install', result: 'Success' });
  });

  it('ends an action DeliveryTimedOut when the computer stays offline past the delivery timeout, on the clock, not the wall', async () => {
    const clock = manualClock();
    const computer = testComputer('pc-gone', 'i-0000000000000f003');
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0'), testSoftware('other', '1.0')], deployments: [everywhere('app'), everywhere('other')], machines: [{ computer }] },
      {
        clock,
        agentPollMs: 10,
        agentSettings: { deliveryTimeoutSeconds: 3_600 },
        // the computer drops off the network as soon as detection is done
        onAgentActivity: (record, phase) => {
          if (phase === 'finished' && record.comment.includes('/Detect/')) void runtime?.agent.setOnline(record.agentId, false);
        },
      },
    );
    const { sessionId } = await runtime.startSession(computer.id);
    await until(() => runtime?.agent.history(computer.agentId).length === 2);
    clock.advance(3_601_000);
    await until(async () => (await runtime?.deps.sessions.getActions(sessionId))?.[0]?.status === 'Complete');
    // back online for the rest: the second action runs, then verification
    await runtime.agent.setOnline(computer.agentId, true);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.actions.map((a) => [a.itemId, a.result, a.resultReason])).toEqual([
      ['app', 'Failed', 'the computer did not come online before the delivery timeout'],
      ['other', 'Success', 'Compliant'],
    ]);
    expect(runtime.agent.history(computer.agentId)[1]?.invocation.status).toBe('DeliveryTimedOut');
    expect(outcome.session.status).toBe('Failed');
  });

  it('kills a hung script at the execution timeout and fails the action, leaving the session to finish', async () => {
    const clock = manualClock();
    const computer = testComputer('pc-hung', 'i-0000000000000f004');
    const hung = { ...testSoftware('hung', '1.0'), installScript: 'echo "waiting for a lock"\ntouch "$NIGHTSHIFT_ROOT/hanging"\nsleep 600\n' };
    runtime = await runtimeWithFleet(
      { software: [hung], deployments: [everywhere('hung')], machines: [{ computer }] },
      { clock, agentPollMs: 10, agentSettings: { actionTimeoutSeconds: 60 } },
    );
    const { sessionId } = await runtime.startSession(computer.id);
    const root = runtime.agent.rootOf(computer.agentId);
    await until(() => existsSync(path.join(root, 'hanging')));
    clock.advance(61_000);
    const outcome = await runtime.waitForSession(sessionId);

    expect(runtime.agent.history(computer.agentId)[1]?.invocation.status).toBe('ExecutionTimedOut');
    expect(outcome.actions[0]).toMatchObject({ result: 'Failed', resultStage: 'Execution', resultReason: 'the script ran past its time limit' });
    expect(outcome.actions[0]?.outputTail).toContain('waiting for a lock');
    expect(outcome.session.status).toBe('Failed');
  });

  it('reports a reboot request, and survives a restart-and-run-again (exit 194) without repeating finished steps', async () => {
    const computer = testComputer('pc-reboot', 'i-0000000000000f005');
    const asksForReboot = {
      ...testSoftware('driver', '2.0'),
      installScript: 'mkdir -p "$NIGHTSHIFT_ROOT/opt/driver"\necho "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/opt/driver/VERSION"\necho NIGHTSHIFT-REBOOT-REQUIRED\n',
    };
    const kernel = {
      ...testSoftware('kernel', '6.1'),
      // a downgrade is two steps: the uninstall runs once, the install restarts the machine half-way
      installScript: [
        'echo install >> "$NIGHTSHIFT_ROOT/runs"',
        'if [ ! -f "$NIGHTSHIFT_ROOT/staged" ]; then touch "$NIGHTSHIFT_ROOT/staged"; exit 194; fi',
        'mkdir -p "$NIGHTSHIFT_ROOT/opt/kernel" && echo "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/opt/kernel/VERSION"',
        '',
      ].join('\n'),
      uninstallScript: 'echo uninstall >> "$NIGHTSHIFT_ROOT/runs"\nrm -rf "$NIGHTSHIFT_ROOT/opt/kernel"\n',
    };
    runtime = await runtimeWithFleet({
      software: [asksForReboot, kernel],
      deployments: [everywhere('driver'), everywhere('kernel', { desiredState: 'ThisVersion', version: '6.1' })],
      machines: [{ computer, image: { kernel: '6.5' } }],
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);
    const root = runtime.agent.rootOf(computer.agentId);

    expect(outcome.session.status).toBe('Passed');
    const byItem = Object.fromEntries(outcome.actions.map((a) => [a.itemId, a]));
    expect(byItem.driver).toMatchObject({ result: 'Success', rebootRequired: true });
    expect(byItem.kernel).toMatchObject({ type: 'Downgrade', result: 'Success', versionAfter: '6.1', rebootRequired: false });
    // the driver's request is honoured once at the end (IfNecessary), as an action of its own
    expect(byItem.restart).toMatchObject({ type: 'Reboot', reason: 'RebootRequested', result: 'Success' });
    expect(await readFile(path.join(root, 'runs'), 'utf8')).toBe('uninstall\ninstall\ninstall\n');
    // one restart inside the kernel's command (exit 194), one for the session's restart
    expect(await readFile(path.join(root, '.sandbox/boots'), 'utf8')).toBe('2\n');
    expect(runtime.agent.history(computer.agentId).find((r) => r.comment.includes('/Action#002/'))?.restarts).toBe(1);
  });

  it('completes a session whose completion event was lost, through the reconciler', async () => {
    const computer = testComputer('pc-lost', 'i-0000000000000f006');
    let lost = 0;
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer }] },
      { loseAgentEvent: (record) => record.comment.includes('/Detect/') && lost++ === 0 },
    );
    const { sessionId } = await runtime.startSession(computer.id);
    await until(() => runtime?.agent.history(computer.agentId)[0]?.finishedAtMs !== undefined);
    expect((await runtime.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Sending');

    expect(await runtime.invoke('reconcile-commands', { overdueAfterSeconds: 0 })).toEqual({ checked: 1, completed: 1, stillRunning: 0, abandoned: 0, failed: 0 });
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    // nothing left waiting, so the next run finds nothing
    expect(await runtime.invoke('reconcile-commands', { overdueAfterSeconds: 0 })).toEqual({ checked: 0, completed: 0, stillRunning: 0, abandoned: 0, failed: 0 });
  });

  it('keeps every file a session writes inside the machine folder', async () => {
    const computer = testComputer('pc-tidy', 'i-0000000000000f007');
    const nightshiftTemp = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('nightshift.'));
    const before = await nightshiftTemp();
    runtime = await runtimeWithFleet({ software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer }] });
    const { sessionId } = await runtime.startSession(computer.id);
    expect((await runtime.waitForSession(sessionId)).session.status).toBe('Passed');
    expect(await nightshiftTemp()).toEqual(before);
    const machines = path.dirname(runtime.agent.rootOf(computer.agentId));
    // `.bin` holds the sandbox's `aws` (local/secret-store.local.ts), put there when the runtime starts, not by a session
    expect((await readdir(machines)).filter((name) => name !== '.bin')).toEqual(['pc-tidy']);
    expect(await readdir(path.join(machines, 'pc-tidy', 'tmp'))).toEqual([]);
  });
});
