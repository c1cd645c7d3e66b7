import { describe, expect, it } from 'vitest';
import { REASON_WORDS, buildSessionReport, describeDetected } from '../../functions/core/model/session-report.js';
import type { Action, DetectedItem, PlanSnapshot } from '../../functions/core/model/session.js';
import { actionRecord, sessionRecord, softwareItem } from '../support/domain.js';

const action = (actionId: string, overrides: Partial<Action> = {}): Action =>
  actionRecord('s1', actionId, { toVersion: undefined, status: 'Complete', result: 'Success', ...overrides });
const session = sessionRecord('s1', {
  computerId: 'pc-7',
  computerName: 'Front desk',
  agentId: 'mi-0123456789abcdef0',
  status: 'Passed',
  createdAt: '2026-11-23T09:00:00.000Z',
  updatedAt: '2026-11-23T09:00:45.000Z',
  endedAt: '2026-11-23T09:01:00.000Z',
});
const rowOf = (a: Action, input: { plan?: PlanSnapshot; verification?: Record<string, DetectedItem> } = {}) => {
  const report = buildSessionReport({
    session,
    actions: [a],
    ...(input.plan ? { plan: input.plan } : {}),
    ...(input.verification ? { verification: { sessionId: 's1', phase: 'Verification', completedAt: session.createdAt, items: input.verification } } : {}),
  });
  const [row] = report.rows;
  if (!row) throw new Error('no row');
  return row;
};

describe('the words of the report (pure)', () => {
  it("puts every planner reason in a non-technical reader's words", () => {
    expect(REASON_WORDS).toEqual({
      SoftwareMissing: 'missing',
      UpdateAvailable: 'update available',
      OlderVersionRequired: 'older version pinned',
      SoftwareDetected: 'installed, must not be',
      TestFailed: 'health check failed',
      TaskNotCompliant: 'not compliant',
      AuditRequested: 'audit',
      PrerequisiteMissing: 'prerequisite',
      ConflictingSoftware: 'conflicts with a deployed item',
      RebootRequested: 'asked for by an installer',
      RebootForced: 'the session restarts every time',
      UpToDate: 'up to date',
      NewerVersionInstalled: 'newer than the catalog',
      AnyVersionInstalled: 'installed',
      SoftwareAbsent: 'absent, as deployed',
      NotInstalledUpdateIfFound: 'not installed (update if found)',
      TaskCompliant: 'compliant',
      Ignored: 'ignored by deployment',
      NotAssigned: 'no enabled deployment',
      Undetermined: 'could not be determined',
      PrerequisiteNotNeeded: 'prerequisite not needed',
      DependencyConflict: 'conflicting deployments',
    });
  });

  it('describes what detection found in one short word or the version', () => {
    expect(describeDetected({ state: 'Present', version: '1.2.3' })).toBe('1.2.3');
    expect(describeDetected({ state: 'Absent' })).toBe('absent');
    expect(describeDetected({ state: 'Compliant' })).toBe('compliant');
    expect(describeDetected({ state: 'NotCompliant', detail: 'x' })).toBe('not compliant');
    expect(describeDetected({ state: 'Undetermined', reason: 'crashed' })).toBe('?');
    expect(describeDetected(undefined)).toBe('—');
  });
});

describe('one row per action (pure)', () => {
  it("shows an audit's result: the last line it printed that is not the agent's bookkeeping, cut to 40 characters", () => {
    const long = 'x'.repeat(45);
    expect(rowOf(action('001', { type: 'TaskAudit', outputTail: `first\n${long}\n  \nnightshift: exit 0\n` })).after).toBe('x'.repeat(40));
    expect(rowOf(action('001', { type: 'TaskAudit', outputTail: 'only\nnightshift: done' })).after).toBe('only');
    expect(rowOf(action('001', { type: 'TaskAudit', outputTail: 'nightshift: exit 0\n\n' })).after).toBe('—');
    expect(rowOf(action('001', { type: 'TaskAudit' })).after).toBe('—');
    // a line that only mentions the prefix later on is the audit's own
    expect(rowOf(action('001', { type: 'TaskAudit', outputTail: 'seen nightshift: here' })).after).toBe('seen nightshift: here');
  });

  it('shows a monitoring action as reported, whatever verification says', () => {
    expect(rowOf(action('001', { type: 'TaskMonitor' }), { verification: { 'software:app': { state: 'Absent' } } }).after).toBe('reported');
  });

  it('shows a successful removal as removed, and an unsuccessful one by what verification found', () => {
    expect(rowOf(action('001', { type: 'Uninstall', versionAfter: '1.0' })).after).toBe('removed');
    expect(rowOf(action('001', { type: 'Uninstall', result: 'Failed' }), { verification: { 'software:app': { state: 'Present', version: '0.9' } } }).after).toBe('0.9');
  });

  it('shows what an installer left: the version it recorded, else what verification found, else a dash', () => {
    expect(rowOf(action('001', { versionAfter: '2.0' }), { verification: { 'software:app': { state: 'Present', version: '1.0' } } }).after).toBe('2.0');
    expect(rowOf(action('001'), { verification: { 'software:app': { state: 'Absent' } } }).after).toBe('absent');
    expect(rowOf(action('001'), { verification: { 'software:other': { state: 'Absent' } } }).after).toBe('—');
    expect(rowOf(action('001')).after).toBe('—');
  });

  it("shows what was there before from the plan item of the same action, a dash without one", () => {
    const plan: PlanSnapshot = {
      sessionId: 's1',
      plannedAt: session.createdAt,
      items: [
        { key: 'software:app', itemName: 'App', reason: 'UpdateAvailable', detected: { state: 'Present', version: '1.0' }, action: 'Update', actionId: '002' },
        { key: 'software:app', itemName: 'App', reason: 'SoftwareMissing', detected: { state: 'Absent' }, action: 'Install', actionId: '001' },
      ],
    };
    expect(rowOf(action('001'), { plan }).before).toBe('absent');
    expect(rowOf(action('003'), { plan }).before).toBe('—');
    expect(rowOf(action('001')).before).toBe('—');
  });

  it.each([
    ['Complete', 'Success', 'Success'],
    ['Complete', 'Failed', 'Failed'],
    ['Skipped', 'Failed', 'Skipped'],
    ['Complete', 'Indeterminable', 'Complete'],
    ['Cancelled', 'Cancelled', 'Cancelled'],
    ['PerformingAction', 'Pending', 'PerformingAction'],
  ] as const)('shows an action %s with result %s as %s', (status, result, shown) => {
    expect(rowOf(action('001', { status, result })).result).toBe(shown);
  });

  it('says why: the reason it ran when it succeeded, its own reason otherwise (empty when it has none)', () => {
    expect(rowOf(action('001', { reason: 'UpdateAvailable', resultReason: 'Compliant' })).why).toBe('update available');
    expect(rowOf(action('001', { result: 'Failed', reason: 'UpdateAvailable', resultReason: 'StillNotCompliant' })).why).toBe('StillNotCompliant');
    expect(rowOf(action('001', { result: 'Failed', reason: 'UpdateAvailable' })).why).toBe('');
  });

  it('carries the duration only when the action has one', () => {
    expect(rowOf(action('001', { durationMs: 0 })).durationMs).toBe(0);
    expect(Object.keys(rowOf(action('001')))).not.toContain('durationMs');
    expect(rowOf(action('001', { actionId: '001', type: 'Update', itemName: 'Chrome' }))).toMatchObject({ actionId: '001', type: 'Update', itemName: 'Chrome' });
  });
});

describe('the whole session (pure)', () => {
  it('names the session and computer, and how long it took from creation to its end', () => {
    const report = buildSessionReport({ session, actions: [] });
    expect(report).toEqual({
      sessionId: 's1',
      computerId: 'pc-7',
      computerName: 'Front desk',
      agentId: 'mi-0123456789abcdef0',
      tenantId: session.tenantId,
      status: 'Passed',
      steps: expect.any(Array) as unknown,
      createdAt: session.createdAt,
      endedAt: session.endedAt,
      durationMs: 60_000,
      changedNothing: true,
      rows: [],
      leftAlone: [],
      observed: [],
      why: [],
    });
  });

  it('measures a session still running up to its last update', () => {
    const { endedAt: _ended, ...running } = session;
    expect(buildSessionReport({ session: { ...running, status: 'Running' }, actions: [] }).durationMs).toBe(45_000);
  });

  it('lists the items the plan left alone, with the version found when there is one', () => {
    const report = buildSessionReport({
      session,
      actions: [],
      plan: {
        sessionId: 's1',
        plannedAt: session.createdAt,
        items: [
          { key: 'software:git', itemName: 'Git', reason: 'NewerVersionInstalled', detected: { state: 'Present', version: '2.44' } },
          { key: 'software:zip', itemName: 'Zip', reason: 'SoftwareAbsent', detected: { state: 'Absent' } },
          { key: 'software:app', itemName: 'App', reason: 'SoftwareMissing', detected: { state: 'Absent' }, action: 'Install', actionId: '001' },
        ],
      },
    });
    expect(report.leftAlone).toEqual(['Git (newer than the catalog 2.44)', 'Zip (absent, as deployed)']);
  });

  it('says what observations saw when they were all that ran, and nothing about them when something changed', () => {
    const observations = [
      action('001', { type: 'TaskAudit', itemName: 'Disk', outputTail: '42 % free\n' }),
      action('002', { type: 'TaskMonitor', itemName: 'Backup' }),
    ];
    const quiet = buildSessionReport({ session, actions: observations });
    expect(quiet.changedNothing).toBe(true);
    expect(quiet.observed).toEqual(['Disk: 42 % free', 'Backup: reported']);
    const busy = buildSessionReport({ session, actions: [...observations, action('003', { type: 'Install' })] });
    expect(busy.changedNothing).toBe(false);
    expect(busy.observed).toEqual([]);
  });

  it('explains removals and downgrades with their item’s explanation, and nothing else', () => {
    const explained = (key: string, summary: string) => softwareItem(key, { key: `software:${key}`, explanation: { rule: 'OnlyCandidate', candidates: [], summary } });
    const report = buildSessionReport({
      session: { ...session, items: [explained('old', 'Old is deployed as absent'), explained('pin', 'Pin is pinned to 1.0'), explained('app', 'App is missing')] },
      actions: [
        action('001', { type: 'Uninstall', itemKey: 'software:old' }),
        action('002', { type: 'Downgrade', itemKey: 'software:pin' }),
        action('003', { type: 'Install', itemKey: 'software:app' }),
        action('004', { type: 'Uninstall', itemKey: 'software:gone' }),
      ],
    });
    expect(report.why).toEqual(['Old is deployed as absent', 'Pin is pinned to 1.0']);
  });

  it('carries no failure for a session that has none', () => {
    expect(Object.keys(buildSessionReport({ session, actions: [] }))).not.toContain('failure');
  });
});
