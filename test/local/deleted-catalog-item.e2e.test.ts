import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment, MaintenanceTask } from '../../functions/core/model/catalog.js';
import { deleteCatalogEntity } from '../../functions/core/use-cases/save-catalog.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, readVersion, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const HOUR = 3_600_000;
const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;

/** A task whose test fails until its set script has run once on the machine. */
const rotate: MaintenanceTask = {
  id: 'rotate',
  name: 'Rotate logs',
  platform: 'linux',
  scripts: { style: 'Separate', test: '[ -f "$NIGHTSHIFT_ROOT/rotated" ]\n', set: 'touch "$NIGHTSHIFT_ROOT/rotated"\n' },
  parameters: [],
};
const enforceRotate: Deployment = { id: 'deploy-rotate', itemKind: 'Task', taskId: 'rotate', target: { kind: 'AllTenants' }, mode: 'Enforce', parameters: {}, enabled: true, critical: false, orderingHint: 'Unordered' };

/**
 * A session waiting for its window holds its items, but reads each one's
 * scripts when it sends a step. Deleting the items' deployments and then the
 * items themselves while it waits must not break it: the deleted items are
 * tombstones its steps still read. A new session no longer gets them.
 */
describe('deleting catalog items a waiting session holds (local runtime)', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('runs the waiting session to the end with its deleted software and task (install, set, verification of the batch), and a new session has neither', async () => {
    const computer = testComputer('pc-del', 'i-00000000000d0e1e7');
    const rt = await runtimeWithFleet(
      {
        software: [testSoftware('doomed', '2.0'), testSoftware('stays', '2.0')],
        tasks: [rotate],
        deployments: [everywhere('doomed'), everywhere('stays'), enforceRotate],
        machines: [{ computer, image: { doomed: '1.0', stays: '1.0' } }],
      },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    runtime = rt;
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const { sessionId } = await rt.startSession(computer.id, undefined, { executeAt });
    await until(async () => (await rt.deps.sessions.getSession(sessionId))?.windowWait !== undefined && rt.timers.armed().some((t) => t.sessionId === sessionId));

    // while it waits: the deployments go (as a deletion must come first), then the items themselves
    for (const deploymentId of ['deploy-doomed', 'deploy-rotate']) await deleteCatalogEntity(rt.deps, { kind: 'Deployment', id: deploymentId, expectedRevision: 1 }, operator);
    await deleteCatalogEntity(rt.deps, { kind: 'Software', id: 'doomed', expectedRevision: 1 }, operator);
    await deleteCatalogEntity(rt.deps, { kind: 'Task', id: 'rotate', expectedRevision: 1 }, operator);
    expect(await rt.deps.catalog.getSoftware(['doomed'])).toEqual([]);
    expect(await rt.deps.catalog.getTasks(['rotate'])).toEqual([]);

    clock.advance(HOUR);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.session.failure).toBeUndefined();
    expect(outcome.actions.map((a) => [a.itemId, a.result]).sort()).toEqual([
      ['doomed', 'Success'],
      ['rotate', 'Success'],
      ['stays', 'Success'],
    ]);
    expect(outcome.session.status).toBe('Passed');
    const root = rt.agent.rootOf(computer.agentId);
    expect(await readVersion(root, 'doomed')).toBe('2.0');
    expect(await readVersion(root, 'stays')).toBe('2.0');

    // a new session for the same computer resolves without them
    const next = await rt.waitForSession((await rt.startSession(computer.id)).sessionId);
    expect(next.session.items.map((item) => item.itemId)).toEqual(['stays']);
  });
});
