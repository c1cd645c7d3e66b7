import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../functions/core/errors.js';
import type { DetectedItem, SessionItem } from '../../../functions/core/model/session.js';
import { decide, isCompliant, plan } from '../../../functions/core/planning/planner.js';
import { softwareItem, taskItem } from '../../support/domain.js';

const present = (version: string, test?: 'Passed' | 'Failed'): DetectedItem => ({ state: 'Present', version, ...(test ? { test } : {}) });
const absent: DetectedItem = { state: 'Absent' };
const undetermined: DetectedItem = { state: 'Undetermined', reason: 'timed out' };

describe('the planner: one decision per software desired state', () => {
  it.each([
    // desired state, pinned/minimum version, detected, action, reason, target
    ['LatestVersion', undefined, absent, 'Install', 'SoftwareMissing', '2.0'],
    ['LatestVersion', undefined, present('1.9'), 'Update', 'UpdateAvailable', '2.0'],
    ['LatestVersion', undefined, present('2.0'), undefined, 'UpToDate', undefined],
    ['LatestVersion', undefined, present('2.0.0.1'), undefined, 'NewerVersionInstalled', undefined],
    ['ThisVersion', '1.5', absent, 'Install', 'SoftwareMissing', '1.5'],
    ['ThisVersion', '1.5', present('1.4'), 'Update', 'UpdateAvailable', '1.5'],
    ['ThisVersion', '1.5', present('1.5'), undefined, 'UpToDate', undefined],
    ['ThisVersion', '1.5', present('2.0'), 'Downgrade', 'OlderVersionRequired', '1.5'],
    ['AnyVersion', undefined, absent, 'Install', 'SoftwareMissing', '2.0'],
    ['AnyVersion', undefined, present('0.1'), undefined, 'AnyVersionInstalled', undefined],
    ['NewerOrEqualVersion', '1.5', absent, 'Install', 'SoftwareMissing', '2.0'],
    ['NewerOrEqualVersion', '1.5', present('1.4.9'), 'Update', 'UpdateAvailable', '2.0'],
    ['NewerOrEqualVersion', '1.5', present('1.5'), undefined, 'UpToDate', undefined],
    ['NewerOrEqualVersion', '1.5', present('1.7'), undefined, 'UpToDate', undefined],
    ['UpdateIfFound', undefined, absent, undefined, 'NotInstalledUpdateIfFound', undefined],
    ['UpdateIfFound', undefined, present('1.0'), 'Update', 'UpdateAvailable', '2.0'],
    ['UpdateIfFound', undefined, present('2.0'), undefined, 'UpToDate', undefined],
    ['NotPresent', undefined, present('1.0'), 'Uninstall', 'SoftwareDetected', undefined],
    ['NotPresent', undefined, absent, undefined, 'SoftwareAbsent', undefined],
    ['Ignored', undefined, present('0.1'), undefined, 'Ignored', undefined],
    ['Ignored', undefined, absent, undefined, 'Ignored', undefined],
  ] as const)('%s %s with %j → %s (%s)', (desiredState, version, detected, action, reason, toVersion) => {
    const pinned = desiredState === 'ThisVersion' ? version : undefined;
    const item = softwareItem('app', { desiredState, targetVersion: pinned ?? '2.0', ...(version ? { requiredVersion: version } : {}) });
    const decision = decide(item, detected);
    expect(decision.action).toBe(action);
    expect(decision.reason).toBe(reason);
    expect(decision.toVersion).toBe(toVersion);
  });

  it('repairs software at the right version whose health check fails', () => {
    const item = softwareItem('app', { hasTest: true });
    expect(decide(item, present('2.0', 'Failed'))).toMatchObject({ action: 'Reinstall', reason: 'TestFailed', toVersion: '2.0' });
    expect(decide(item, present('2.0', 'Passed')).action).toBeUndefined();
    // an update already replaces the installation, so it is not also a repair
    expect(decide(item, present('1.0', 'Failed')).action).toBe('Update');
  });

  it('never acts on what it could not determine: no silent upgrade of an unparsable version', () => {
    for (const state of ['LatestVersion', 'ThisVersion', 'NewerOrEqualVersion', 'UpdateIfFound', 'NotPresent', 'AnyVersion'] as const) {
      const item = softwareItem('app', { desiredState: state, requiredVersion: '1.0' });
      expect(decide(item, undetermined)).toEqual({ reason: 'Undetermined' });
    }
    expect(decide(softwareItem('app'), present('garbage'))).toEqual({ reason: 'Undetermined' });
    expect(isCompliant(softwareItem('app'), undetermined)).toBe(false);
  });

  it('leaves unassigned and conflicting items alone, saying why', () => {
    expect(decide(softwareItem('app', { origin: 'Unassigned' }), absent)).toEqual({ reason: 'NotAssigned' });
    expect(decide(softwareItem('app', { conflict: 'x needs y absent' }), absent)).toEqual({ reason: 'DependencyConflict' });
  });
});

describe('the planner: task modes', () => {
  const compliant: DetectedItem = { state: 'Compliant' };
  const drifted: DetectedItem = { state: 'NotCompliant' };
  it.each([
    ['Enforce', drifted, 'TaskEnforce', 'TaskNotCompliant'],
    ['Enforce', compliant, undefined, 'TaskCompliant'],
    ['Enforce', undetermined, undefined, 'Undetermined'],
    ['Monitor', drifted, 'TaskMonitor', 'TaskNotCompliant'],
    ['Monitor', compliant, undefined, 'TaskCompliant'],
    ['Audit', compliant, 'TaskAudit', 'AuditRequested'],
    ['Audit', drifted, 'TaskAudit', 'AuditRequested'],
    ['Ignore', drifted, undefined, 'Ignored'],
  ] as const)('%s with %j → %s (%s)', (mode, detected, action, reason) => {
    const decision = decide(taskItem('fw', { mode }), detected);
    expect(decision.action).toBe(action);
    expect(decision.reason).toBe(reason);
  });
});

describe('the planner: dependencies and order', () => {
  const runtime = softwareItem('runtime', { origin: 'Prerequisite', desiredState: 'AnyVersion', explanation: { rule: 'OnlyCandidate', candidates: [], requiredBy: ['software:app'], summary: '' } });
  const legacy = softwareItem('legacy', { origin: 'Prerequisite', desiredState: 'NotPresent' });
  const app = softwareItem('app', {
    dependencies: [
      { key: 'software:runtime', requires: 'Installed' },
      { key: 'software:legacy', requires: 'Absent' },
    ],
  });

  it('plans prerequisites (installs and removals) before the item that needs them, and links the actions', () => {
    const decisions = plan([app, legacy, runtime], { 'software:app': absent, 'software:runtime': absent, 'software:legacy': present('1.0') });
    expect(decisions.map((d) => [d.key, d.action, d.reason])).toEqual([
      ['software:legacy', 'Uninstall', 'ConflictingSoftware'],
      ['software:runtime', 'Install', 'PrerequisiteMissing'],
      ['software:app', 'Install', 'SoftwareMissing'],
    ]);
    expect(decisions[2]?.dependsOn).toEqual(['software:runtime', 'software:legacy']);
  });

  it('does not link to a prerequisite that needs no action', () => {
    const decisions = plan([app, runtime, legacy], { 'software:app': absent, 'software:runtime': present('8.0'), 'software:legacy': absent });
    expect(decisions.find((d) => d.key === 'software:app')?.dependsOn).toEqual([]);
  });

  it('leaves a prerequisite alone when nothing that needs it will be installed', () => {
    const optional = softwareItem('app', { desiredState: 'UpdateIfFound', dependencies: [{ key: 'software:runtime', requires: 'Installed' }] });
    const decisions = plan([optional, runtime], { 'software:app': absent, 'software:runtime': absent });
    expect(decisions.find((d) => d.key === 'software:runtime')).toMatchObject({ action: undefined, reason: 'PrerequisiteNotNeeded' });
  });

  it('honours ordering hints within dependency order', () => {
    const first = softwareItem('first', { orderingHint: 'Beginning' });
    const last = softwareItem('last', { orderingHint: 'End' });
    // a Beginning item that needs an End item still waits for it
    const needsLast = softwareItem('needs-last', { orderingHint: 'Beginning', dependencies: [{ key: 'software:last', requires: 'Installed' }] });
    const middle = softwareItem('middle');
    const items: SessionItem[] = [middle, last, needsLast, first];
    const decisions = plan(items, Object.fromEntries(items.map((i) => [i.key, absent])));
    expect(decisions.map((d) => d.key)).toEqual(['software:first', 'software:middle', 'software:last', 'software:needs-last']);
  });

  it('refuses a dependency cycle, naming every item in it', () => {
    const a = softwareItem('a', { itemName: 'Alpha', dependencies: [{ key: 'software:b', requires: 'Installed' }] });
    const b = softwareItem('b', { itemName: 'Bravo', dependencies: [{ key: 'software:c', requires: 'Installed' }] });
    const c = softwareItem('c', { itemName: 'Charlie', dependencies: [{ key: 'software:a', requires: 'Installed' }] });
    const free = softwareItem('d', { itemName: 'Delta' });
    const attempt = () => plan([a, b, c, free], {});
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/dependency cycle: .*Alpha.*Bravo.*Charlie/);
    expect(attempt).not.toThrow(/Delta/);
  });
});
