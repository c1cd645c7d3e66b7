import { describe, expect, it } from 'vitest';
import type { DetectedItem, PlanReason, SessionItem, SoftwareSessionItem } from '../../../functions/core/model/session.js';
import { decide, isCompliant, plan } from '../../../functions/core/planning/planner.js';
import { softwareItem, taskItem } from '../../support/domain.js';

const present = (version: string, test?: 'Passed' | 'Failed'): DetectedItem => ({ state: 'Present', version, ...(test ? { test } : {}) });
const absent: DetectedItem = { state: 'Absent' };
const compliant: DetectedItem = { state: 'Compliant' };
const notCompliant: DetectedItem = { state: 'NotCompliant' };
const undetermined: DetectedItem = { state: 'Undetermined', reason: 'timed out' };

/** A prerequisite as resolution adds it: installed (any version) because `requiredBy` needs it. */
const prerequisite = (id: string, requiredBy: string[], overrides: Partial<SoftwareSessionItem> = {}): SoftwareSessionItem =>
  softwareItem(id, {
    origin: 'Prerequisite',
    desiredState: 'AnyVersion',
    explanation: { rule: 'OnlyCandidate', candidates: [], requiredBy: requiredBy.map((key) => `software:${key}` as const), summary: '' },
    ...overrides,
  });
const needs = (...ids: string[]) => ids.map((id) => ({ key: `software:${id}` as const, requires: 'Installed' as const }));
const detectedAs = (entries: Record<string, DetectedItem>) => Object.fromEntries(Object.entries(entries).map(([id, state]) => [`software:${id}`, state]));
const summary = (decisions: ReturnType<typeof plan>) => decisions.map((d) => [d.key.slice('software:'.length), d.action ?? '-', d.reason]);

describe('a failed health check repairs to the version the deployment wants', () => {
  it.each([
    // desired state, target, installed, repaired to
    ['ThisVersion', '1.5', '1.5.0', '1.5'],
    ['LatestVersion', '2.0', '2.0.0', '2.0'],
    ['AnyVersion', '2.0', '1.1', '1.1'],
    ['NewerOrEqualVersion', '2.0', '2.3', '2.3'],
    ['UpdateIfFound', '2.0', '2.0.0.0', '2.0.0.0'],
  ] as const)('%s (target %s) with %s installed reinstalls %s', (desiredState, targetVersion, installed, toVersion) => {
    // pinned and latest name the catalog's spelling of the version (what the installer is given), not the detected one
    const item = softwareItem('app', { desiredState, targetVersion, requiredVersion: '1.0', hasTest: true });
    expect(decide(item, present(installed, 'Failed'))).toEqual({ action: 'Reinstall', reason: 'TestFailed', toVersion });
  });

  it('does not repair what has no health check, passed it, or is to be removed', () => {
    expect(decide(softwareItem('app', { hasTest: false }), present('2.0', 'Failed'))).toEqual({ reason: 'UpToDate' });
    expect(decide(softwareItem('app', { hasTest: true }), present('2.0', 'Passed'))).toEqual({ reason: 'UpToDate' });
    expect(decide(softwareItem('app', { hasTest: true }), present('2.0'))).toEqual({ reason: 'UpToDate' });
    expect(decide(softwareItem('app', { hasTest: true, desiredState: 'NotPresent' }), present('2.0', 'Failed'))).toEqual({ action: 'Uninstall', reason: 'SoftwareDetected' });
    expect(decide(softwareItem('app', { hasTest: true, desiredState: 'Ignored' }), present('2.0', 'Failed'))).toEqual({ reason: 'Ignored' });
  });

  it('lets a downgrade or update stand in for the repair', () => {
    const pinned = softwareItem('app', { desiredState: 'ThisVersion', targetVersion: '1.5', hasTest: true });
    expect(decide(pinned, present('1.6', 'Failed'))).toEqual({ action: 'Downgrade', reason: 'OlderVersionRequired', toVersion: '1.5' });
    expect(decide(pinned, present('1.4', 'Failed'))).toEqual({ action: 'Update', reason: 'UpdateAvailable', toVersion: '1.5' });
  });
});

describe('software decisions, the guards before the desired state', () => {
  it('leaves unassigned, conflicting and ignored items alone, whatever is installed', () => {
    for (const detected of [present('1.0', 'Failed'), absent, undetermined]) {
      expect(decide(softwareItem('app', { origin: 'Unassigned', desiredState: 'NotPresent' }), detected)).toEqual({ reason: 'NotAssigned' });
      expect(decide(softwareItem('app', { conflict: 'x needs it absent' }), detected)).toEqual({ reason: 'DependencyConflict' });
      expect(decide(softwareItem('app', { desiredState: 'Ignored' }), detected)).toEqual({ reason: 'Ignored' });
    }
  });

  it('acts on nothing but Present or Absent (a task-shaped answer for software is undetermined)', () => {
    for (const detected of [compliant, notCompliant, undetermined]) {
      expect(decide(softwareItem('app', { desiredState: 'NotPresent' }), detected)).toEqual({ reason: 'Undetermined' });
      expect(decide(softwareItem('app'), detected)).toEqual({ reason: 'Undetermined' });
    }
  });

  it('says why software is removed: deployed as not present, or in the way of something that needs it gone', () => {
    expect(decide(softwareItem('app', { desiredState: 'NotPresent' }), present('1.0'))).toEqual({ action: 'Uninstall', reason: 'SoftwareDetected' });
    expect(decide(softwareItem('app', { desiredState: 'NotPresent', origin: 'Prerequisite' }), present('1.0'))).toEqual({ action: 'Uninstall', reason: 'ConflictingSoftware' });
    expect(decide(softwareItem('app', { desiredState: 'NotPresent', origin: 'Prerequisite' }), absent)).toEqual({ reason: 'SoftwareAbsent' });
  });

  it('says why software is installed: deployed, or needed by something else', () => {
    expect(decide(softwareItem('app', { targetVersion: '3.1' }), absent)).toEqual({ action: 'Install', reason: 'SoftwareMissing', toVersion: '3.1' });
    expect(decide(prerequisite('lib', ['app'], { targetVersion: '3.1' }), absent)).toEqual({ action: 'Install', reason: 'PrerequisiteMissing', toVersion: '3.1' });
  });

  it('measures a minimum against the required version, or the target when none is given', () => {
    const minimum = softwareItem('app', { desiredState: 'NewerOrEqualVersion', targetVersion: '3.0', requiredVersion: '2.0' });
    expect(decide(minimum, present('2.0'))).toEqual({ reason: 'UpToDate' });
    expect(decide(minimum, present('1.9'))).toEqual({ action: 'Update', reason: 'UpdateAvailable', toVersion: '3.0' });
    const noMinimum = softwareItem('app', { desiredState: 'NewerOrEqualVersion', targetVersion: '3.0' });
    expect(decide(noMinimum, present('2.5'))).toEqual({ action: 'Update', reason: 'UpdateAvailable', toVersion: '3.0' });
    expect(decide(noMinimum, present('3.0'))).toEqual({ reason: 'UpToDate' });
  });

  it.each(['NewerOrEqualVersion', 'ThisVersion', 'LatestVersion', 'UpdateIfFound'] as const)('%s never guesses about an unparsable installed version', (desiredState) => {
    expect(decide(softwareItem('app', { desiredState, requiredVersion: '1.0', hasTest: true }), present('build 7', 'Failed'))).toEqual({ reason: 'Undetermined' });
  });

  it('keeps a newer installed version for latest and update-if-found, but not for a pin', () => {
    expect(decide(softwareItem('app', { desiredState: 'UpdateIfFound' }), present('2.1'))).toEqual({ reason: 'NewerVersionInstalled' });
    expect(decide(softwareItem('app', { desiredState: 'LatestVersion' }), present('2.1'))).toEqual({ reason: 'NewerVersionInstalled' });
    expect(decide(softwareItem('app', { desiredState: 'ThisVersion' }), present('2.1'))).toEqual({ action: 'Downgrade', reason: 'OlderVersionRequired', toVersion: '2.0' });
  });
});

describe('task decisions', () => {
  it('leaves unassigned tasks alone and audits whatever the test said', () => {
    expect(decide(taskItem('fw', { origin: 'Unassigned' }), notCompliant)).toEqual({ reason: 'NotAssigned' });
    expect(decide(taskItem('fw', { mode: 'Ignore' }), undetermined)).toEqual({ reason: 'Ignored' });
    expect(decide(taskItem('fw', { mode: 'Audit' }), undetermined)).toEqual({ action: 'TaskAudit', reason: 'AuditRequested' });
    expect(decide(taskItem('fw', { mode: 'Monitor' }), undetermined)).toEqual({ reason: 'Undetermined' });
    expect(decide(taskItem('fw', { mode: 'Enforce' }), present('1.0'))).toEqual({ reason: 'Undetermined' });
  });
});

describe('verification: compliant means no action and a reason that says "as wanted"', () => {
  const cases: [SessionItem, DetectedItem, boolean, PlanReason][] = [
    [softwareItem('app'), present('2.0'), true, 'UpToDate'],
    [softwareItem('app'), present('2.1'), true, 'NewerVersionInstalled'],
    [softwareItem('app', { desiredState: 'AnyVersion' }), present('0.1'), true, 'AnyVersionInstalled'],
    [softwareItem('app', { desiredState: 'UpdateIfFound' }), absent, true, 'NotInstalledUpdateIfFound'],
    [softwareItem('app', { desiredState: 'NotPresent' }), absent, true, 'SoftwareAbsent'],
    [taskItem('fw'), compliant, true, 'TaskCompliant'],
    [softwareItem('app'), present('1.0'), false, 'UpdateAvailable'],
    [softwareItem('app', { hasTest: true }), present('2.0', 'Failed'), false, 'TestFailed'],
    [softwareItem('app', { desiredState: 'Ignored' }), present('2.0'), false, 'Ignored'],
    [softwareItem('app', { origin: 'Unassigned' }), absent, false, 'NotAssigned'],
    [softwareItem('app', { conflict: 'x' }), present('2.0'), false, 'DependencyConflict'],
    [softwareItem('app'), undetermined, false, 'Undetermined'],
    [taskItem('fw', { mode: 'Audit' }), compliant, false, 'AuditRequested'],
    [taskItem('fw', { mode: 'Ignore' }), compliant, false, 'Ignored'],
  ];
  it.each(cases)('%#: %j with %j → compliant %s (%s)', (item, detected, expected, reason) => {
    expect(decide(item, detected).reason).toBe(reason);
    expect(isCompliant(item, detected)).toBe(expected);
  });
});

describe('the plan', () => {
  it('treats an item missing from the detection output as undetermined, and an unassigned one as absent', () => {
    const decisions = plan([softwareItem('app'), softwareItem('old', { origin: 'Unassigned' })], {});
    expect(decisions.map((d) => [d.key, d.reason, d.detected])).toEqual([
      ['software:app', 'Undetermined', { state: 'Undetermined', reason: 'missing from the detection output' }],
      ['software:old', 'NotAssigned', { state: 'Absent' }],
    ]);
  });

  it('records the version it changes from only for an action on something installed', () => {
    const [update, upToDate, install] = plan([softwareItem('a'), softwareItem('b'), softwareItem('c')], detectedAs({ a: present('1.0'), b: present('2.0'), c: absent }));
    expect(update).toMatchObject({ action: 'Update', fromVersion: '1.0', toVersion: '2.0' });
    expect(upToDate).not.toHaveProperty('fromVersion');
    expect(install).not.toHaveProperty('fromVersion');
    expect(install).toMatchObject({ action: 'Install', toVersion: '2.0' });
  });

  it('links an action to the prerequisites that act, and only to those (no link to an item outside the plan)', () => {
    const app = softwareItem('app', { dependencies: [...needs('lib', 'tool', 'ghost')] });
    const decisions = plan([app, prerequisite('lib', ['app']), prerequisite('tool', ['app'])], detectedAs({ app: absent, lib: absent, tool: present('1.0') }));
    expect(summary(decisions)).toEqual([
      ['lib', 'Install', 'PrerequisiteMissing'],
      ['tool', '-', 'AnyVersionInstalled'],
      ['app', 'Install', 'SoftwareMissing'],
    ]);
    expect(decisions.find((d) => d.key === 'software:app')?.dependsOn).toEqual(['software:lib']);
    expect(decisions.find((d) => d.key === 'software:lib')?.dependsOn).toEqual([]);
  });

  it('keeps a prerequisite whose dependent is installed and stays, or is being installed', () => {
    const stays = plan([softwareItem('app', { dependencies: needs('lib') }), prerequisite('lib', ['app'])], detectedAs({ app: present('2.0'), lib: absent }));
    expect(summary(stays)).toContainEqual(['lib', 'Install', 'PrerequisiteMissing']);
    const updated = plan([softwareItem('app', { dependencies: needs('lib') }), prerequisite('lib', ['app'])], detectedAs({ app: present('1.0'), lib: absent }));
    expect(summary(updated)).toContainEqual(['lib', 'Install', 'PrerequisiteMissing']);
  });

  it('drops a prerequisite whose only dependent is being removed', () => {
    const dependent = softwareItem('app', { desiredState: 'NotPresent', dependencies: needs('lib') });
    const decisions = plan([dependent, prerequisite('lib', ['app'])], detectedAs({ app: present('1.0'), lib: absent }));
    expect(decisions.find((d) => d.key === 'software:lib')).toMatchObject({ action: undefined, reason: 'PrerequisiteNotNeeded', toVersion: undefined });
  });

  it('keeps a prerequisite of software that is installed and left alone (ignored here)', () => {
    const dependent = softwareItem('app', { desiredState: 'Ignored', dependencies: needs('lib') });
    const decisions = plan([dependent, prerequisite('lib', ['app'])], detectedAs({ app: present('1.0'), lib: absent }));
    expect(decisions.find((d) => d.key === 'software:lib')).toMatchObject({ action: 'Install', reason: 'PrerequisiteMissing' });
  });

  it('keeps a prerequisite that any one of its dependents needs', () => {
    const decisions = plan(
      [softwareItem('optional', { desiredState: 'UpdateIfFound', dependencies: needs('lib') }), softwareItem('app', { dependencies: needs('lib') }), prerequisite('lib', ['optional', 'app'])],
      detectedAs({ optional: absent, app: absent, lib: absent }),
    );
    expect(summary(decisions)).toContainEqual(['lib', 'Install', 'PrerequisiteMissing']);
  });

  it('prunes a whole chain of unneeded prerequisites, however deep and in whatever order they come', () => {
    // app (not installed, update-if-found) → runtime → lib → base: none of them is needed
    const items = [
      prerequisite('base', ['lib']),
      prerequisite('lib', ['runtime'], { dependencies: needs('base') }),
      prerequisite('runtime', ['app'], { dependencies: needs('lib') }),
      softwareItem('app', { desiredState: 'UpdateIfFound', dependencies: needs('runtime') }),
    ];
    const decisions = plan(items, detectedAs({ base: absent, lib: absent, runtime: absent, app: absent }));
    expect(summary(decisions).filter(([, action]) => action !== '-')).toEqual([]);
    expect(decisions.filter((d) => d.reason === 'PrerequisiteNotNeeded').map((d) => d.key).sort()).toEqual(['software:base', 'software:lib', 'software:runtime']);
  });

  it('never drops a deployed item or the removal of software in the way, even with nobody needing it', () => {
    const items = [
      softwareItem('deployed', { origin: 'Deployed', explanation: { rule: 'OnlyCandidate', candidates: [], requiredBy: [], summary: '' } }),
      prerequisite('legacy', [], { desiredState: 'NotPresent' }),
    ];
    const decisions = plan(items, detectedAs({ deployed: absent, legacy: present('1.0') }));
    expect(summary(decisions)).toEqual([
      ['deployed', 'Install', 'SoftwareMissing'],
      ['legacy', 'Uninstall', 'ConflictingSoftware'],
    ]);
  });

  it('drops a prerequisite whose dependents are all outside the plan', () => {
    const decisions = plan([prerequisite('lib', ['gone'])], detectedAs({ lib: absent }));
    expect(summary(decisions)).toEqual([['lib', '-', 'PrerequisiteNotNeeded']]);
  });

  it.each([
    ['a downgrade', softwareItem('app', { desiredState: 'ThisVersion', targetVersion: '1.0', dependencies: needs('lib') }), present('2.0')],
    ['a repair', softwareItem('app', { hasTest: true, dependencies: needs('lib') }), present('2.0', 'Failed')],
    ['an install', softwareItem('app', { dependencies: needs('lib') }), absent],
    ['an update', softwareItem('app', { dependencies: needs('lib') }), present('1.0')],
  ])('keeps a prerequisite of software that %s leaves installed', (_, dependent, state) => {
    const decisions = plan([dependent, prerequisite('lib', ['app'])], detectedAs({ app: state, lib: absent }));
    expect(summary(decisions)[0]).toEqual(['lib', 'Install', 'PrerequisiteMissing']);
  });

  it('plans tasks alongside software, in input order when no hint or dependency says otherwise', () => {
    const decisions = plan([taskItem('fw'), softwareItem('app')], { 'task:fw': notCompliant, 'software:app': absent });
    expect(decisions.map((d) => [d.key, d.action])).toEqual([
      ['task:fw', 'TaskEnforce'],
      ['software:app', 'Install'],
    ]);
  });

  it('counts a dependent as staying only when it is known to be installed', () => {
    // a dependent that is present and compliant keeps needing its prerequisite; one whose state is unknown does not count as staying
    const compliantApp = plan([softwareItem('app', { dependencies: needs('lib') }), prerequisite('lib', ['app'])], detectedAs({ app: present('2.0'), lib: absent }));
    expect(compliantApp.find((d) => d.key === 'software:lib')?.action).toBe('Install');
    const unknownApp = plan([softwareItem('app', { dependencies: needs('lib') }), prerequisite('lib', ['app'])], detectedAs({ app: undetermined, lib: absent }));
    expect(unknownApp.find((d) => d.key === 'software:lib')?.reason).toBe('PrerequisiteNotNeeded');
  });

  it('follows ordering hints in a plan without any dependency', () => {
    const items = [softwareItem('m'), softwareItem('z', { orderingHint: 'End' }), softwareItem('a', { orderingHint: 'Beginning' })];
    expect(plan(items, detectedAs({ m: absent, z: absent, a: absent })).map((d) => d.key)).toEqual(['software:a', 'software:m', 'software:z']);
  });
});
