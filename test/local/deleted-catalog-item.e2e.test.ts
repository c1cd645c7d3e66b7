import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment, MaintenanceTask } from '../../functions/core/model/catalog.js';
import { RETIRED_SECRETS_KEPT_DAYS } from '../../functions/core/ports/catalog-store.port.js';
import { deleteCatalogEntity, saveCatalogEntity } from '../../functions/core/use-cases/save-catalog.js';
import { LocalSecretStore } from '../../local/secret-store.local.js';
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

  it("runs the waiting session's task with the secret of its deployment deleted meanwhile, and the secret goes when its retirement is due", async () => {
    const computer = testComputer('pc-keyed', 'i-00000000000d0e1e8');
    const keyed: MaintenanceTask = {
      id: 'keyed',
      name: 'Licence the app',
      platform: 'linux',
      scripts: { style: 'Separate', test: '[ -f "$NIGHTSHIFT_ROOT/licence" ]\n', set: 'printf %s "$NIGHTSHIFT_PARAM_licenceKey" > "$NIGHTSHIFT_ROOT/licence"\n' },
      parameters: [{ name: 'licenceKey', type: 'secret', required: true }],
    };
    const rt = await runtimeWithFleet({ software: [], tasks: [keyed], deployments: [], machines: [{ computer }] }, { clock, timerPollMs: 10, agentPollMs: 10 });
    runtime = rt;
    const secrets = rt.deps.secrets;
    if (!(secrets instanceof LocalSecretStore)) throw new Error('the local runtime has another secret store');
    const reference = '/nightshift/secrets/shared/deploy-keyed/licenceKey';
    await saveCatalogEntity(rt.deps, { kind: 'Deployment', entity: { id: 'deploy-keyed', itemKind: 'Task', taskId: 'keyed', target: { kind: 'AllTenants' }, mode: 'Enforce', parameters: { licenceKey: 'KEY-4711' } }, expectedRevision: 0 }, operator);
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const { sessionId } = await rt.startSession(computer.id, undefined, { executeAt });
    await until(async () => (await rt.deps.sessions.getSession(sessionId))?.windowWait !== undefined && rt.timers.armed().some((t) => t.sessionId === sessionId));

    await deleteCatalogEntity(rt.deps, { kind: 'Deployment', id: 'deploy-keyed', expectedRevision: 1 }, operator);
    // retired, not deleted: the session was told its task runs tonight
    expect(await secrets.get(reference)).toBe('KEY-4711');

    clock.advance(HOUR);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.actions.map((a) => [a.itemId, a.result])).toEqual([['keyed', 'Success']]);
    expect(outcome.session.status).toBe('Passed');
    expect(await readFile(path.join(rt.agent.rootOf(computer.agentId), 'licence'), 'utf8')).toBe('KEY-4711');

    // the scheduled retirement leaves it until it is due, then deletes it
    expect(await rt.invoke('retire-secrets', {})).toEqual({ retirements: 0, deleted: 0, kept: 0 });
    expect(await secrets.get(reference)).toBe('KEY-4711');
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * 24 * HOUR);
    expect(await rt.invoke('retire-secrets', {})).toMatchObject({ retirements: 1, kept: 0 });
    expect(await secrets.get(reference)).toBeUndefined();
  });
});
