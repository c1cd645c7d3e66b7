import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MaintenanceTask } from '../../functions/core/model/catalog.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, readVersion, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

const settingTask: MaintenanceTask = {
  id: 'setting',
  name: 'Setting',
  platform: 'linux',
  scripts: {
    style: 'Combined',
    script: [
      'file="$NIGHTSHIFT_ROOT/etc/setting"',
      'case "$NIGHTSHIFT_TASK_METHOD" in',
      '  test) [ -f "$file" ] && [ "$(cat "$file")" = "$NIGHTSHIFT_PARAM_value" ] ;;',
      '  get) cat "$file" 2>/dev/null || echo unset ;;',
      '  set) mkdir -p "$(dirname "$file")" && printf %s "$NIGHTSHIFT_PARAM_value" > "$file" ;;',
      'esac',
      '',
    ].join('\n'),
  },
  parameters: [{ name: 'value', type: 'string', required: true }],
};

const taskDeployment = (id: string, mode: 'Enforce' | 'Audit' | 'Monitor', value: string) => ({
  id,
  itemKind: 'Task' as const,
  taskId: 'setting',
  target: { kind: 'AllTenants' as const },
  mode,
  parameters: { value },
  enabled: true,
  critical: true,
  orderingHint: 'Unordered' as const,
});

describe('resolution and planning inside a real session', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('installs an undeployed prerequisite first, and skips the dependent (naming why) when it fails, while unrelated work runs', async () => {
    const computer = testComputer('pc-1', 'i-0000000000000d001');
    runtime = await runtimeWithFleet({
      software: [
        testSoftware('runtime', '8.0', { failInstall: true }),
        testSoftware('app', '2.0', { dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] }),
        testSoftware('other', '1.0'),
      ],
      deployments: [everywhere('app'), everywhere('other')],
      machines: [{ computer }],
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);

    expect(outcome.actions.map((a) => [a.itemId, a.type, a.reason, a.status, a.result])).toEqual([
      ['other', 'Install', 'SoftwareMissing', 'Complete', 'Success'],
      ['runtime', 'Install', 'PrerequisiteMissing', 'Complete', 'Failed'],
      ['app', 'Install', 'SoftwareMissing', 'Skipped', 'Failed'],
    ]);
    expect(outcome.actions[2]?.resultReason).toBe('prerequisite App runtime (Install) did not succeed');
    expect(outcome.session.status).toBe('Failed');
    // the skipped action never reached the computer: detection, two actions, verification
    expect(outcome.agentRoundTrips).toBe(4);
    const runtimeItem = outcome.session.items.find((i) => i.key === 'software:runtime');
    expect(runtimeItem).toMatchObject({ origin: 'Prerequisite', explanation: { requiredBy: ['software:app'] } });
  });

  it('enforces a task with its parameter passed verbatim, monitors without touching, audits by reading', async () => {
    const hostile = `it's "a" $(touch pwned) \`id\`; && % ü\nline two`;
    const computer = testComputer('pc-2', 'i-0000000000000d002');
    const monitorTask = { ...settingTask, id: 'monitored', name: 'Monitored' };
    const auditTask = { ...settingTask, id: 'audited', name: 'Audited' };
    runtime = await runtimeWithFleet({
      software: [],
      tasks: [settingTask, monitorTask, auditTask],
      deployments: [
        taskDeployment('enforce', 'Enforce', hostile),
        { ...taskDeployment('monitor', 'Monitor', 'other'), taskId: 'monitored' },
        { ...taskDeployment('audit', 'Audit', 'x'), taskId: 'audited' },
      ],
      machines: [{ computer }],
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);
    const root = runtime.agent.rootOf(computer.agentId);

    expect(await readFile(path.join(root, 'etc/setting'), 'utf8')).toBe(hostile);
    const byItem = Object.fromEntries(outcome.actions.map((a) => [a.itemId, a]));
    expect(byItem.setting).toMatchObject({ type: 'TaskEnforce', result: 'Success', resultReason: 'Compliant' });
    expect(byItem.monitored).toMatchObject({ type: 'TaskMonitor', status: 'Complete', result: 'Success', resultReason: 'ReportedNotCompliant' });
    expect(byItem.audited).toMatchObject({ type: 'TaskAudit', status: 'Complete', result: 'Success', resultReason: 'Audited' });
    // items run in name order (Audited, Monitored, Setting): the audit read the file before the enforce wrote it
    expect(byItem.audited?.outputTail).toContain('unset');
    expect(outcome.session.status).toBe('Passed');
    // detection, enforce, audit, verification: monitoring sends nothing
    expect(outcome.agentRoundTrips).toBe(4);
  });

  it('downgrades a pinned version and repairs software whose health check fails, each as uninstall-then-install', async () => {
    const computer = testComputer('pc-3', 'i-0000000000000d003');
    const healthy = 'test -f "$NIGHTSHIFT_ROOT/opt/fragile/VERSION" && ! test -f "$NIGHTSHIFT_ROOT/opt/fragile/BROKEN"\n';
    runtime = await runtimeWithFleet({
      software: [testSoftware('pinned', '3.0'), testSoftware('fragile', '1.0', { testScript: healthy })],
      deployments: [everywhere('pinned', { desiredState: 'ThisVersion', version: '2.0' }), everywhere('fragile')],
      machines: [{ computer, image: { pinned: '3.0', fragile: '1.0' } }],
    });
    const root = runtime.agent.rootOf(computer.agentId);
    await writeFile(path.join(root, 'opt/fragile/BROKEN'), '');

    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.actions.map((a) => [a.itemId, a.type, a.reason, a.result])).toEqual([
      ['fragile', 'Reinstall', 'TestFailed', 'Success'],
      ['pinned', 'Downgrade', 'OlderVersionRequired', 'Success'],
    ]);
    expect(await readVersion(root, 'pinned')).toBe('2.0');
    expect(outcome.session.status).toBe('Passed');
  });

  it('leaves software with an unparsable version alone and says so in the plan', async () => {
    const computer = testComputer('pc-4', 'i-0000000000000d004');
    runtime = await runtimeWithFleet({
      software: [testSoftware('weird', '2.0')],
      deployments: [everywhere('weird')],
      machines: [{ computer, image: { weird: 'build-of-tuesday' } }],
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.actions).toEqual([]);
    const planned = await runtime.deps.sessions.getPlan(sessionId);
    expect(planned?.items).toEqual([
      expect.objectContaining({
        key: 'software:weird',
        reason: 'Undetermined',
        detected: { state: 'Undetermined', reason: 'the detection script printed "build-of-tuesday", which is not a version' },
      }),
    ]);
    expect(await readVersion(runtime.agent.rootOf(computer.agentId), 'weird')).toBe('build-of-tuesday');
    expect(outcome.session.status).toBe('Failed');
  });
});
