import { describe, expect, it } from 'vitest';
import { buildSessionReport } from '../../functions/core/model/session-report.js';
import type { Action, SoftwareSessionItem } from '../../functions/core/model/session.js';
import { actionRecord, sessionRecord } from '../support/domain.js';

const action = (actionId: string, overrides: Partial<Action>): Action =>
  actionRecord('s1', actionId, { toVersion: undefined, status: 'Complete', result: 'Success', ...overrides });

describe('the session report read-model: one account of a session for the demo, API, console and emails', () => {
  const session = sessionRecord('s1', { status: 'PartialPassed', createdAt: '2026-11-23T09:00:00.000Z', endedAt: '2026-11-23T09:02:30.000Z' });

  it('says per action what was there before, what is there after, the result and why, and lists what was left alone', () => {
    const report = buildSessionReport({
      session,
      actions: [
        action('001', { itemKey: 'software:chrome', itemName: 'Chrome', type: 'Update', reason: 'UpdateAvailable', versionAfter: '2.0.0', durationMs: 1200 }),
        action('002', { itemKey: 'software:zip', itemName: 'Zip', status: 'Skipped', result: 'Failed', resultReason: 'prerequisite Chrome failed' }),
        action('003', { itemKey: 'software:old', itemName: 'Old', type: 'Uninstall', reason: 'SoftwareDetected' }),
      ],
      plan: {
        sessionId: 's1',
        plannedAt: '2026-11-23T09:01:00.000Z',
        items: [
          { key: 'software:chrome', itemName: 'Chrome', action: 'Update', reason: 'UpdateAvailable', detected: { state: 'Present', version: '1.0.0' }, actionId: '001' },
          { key: 'software:zip', itemName: 'Zip', action: 'Install', reason: 'SoftwareMissing', detected: { state: 'Absent' }, actionId: '002' },
          { key: 'software:old', itemName: 'Old', action: 'Uninstall', reason: 'SoftwareDetected', detected: { state: 'Present', version: '0.9' }, actionId: '003' },
          { key: 'software:git', itemName: 'Git', reason: 'UpToDate', detected: { state: 'Present', version: '2.44' } },
        ],
      },
      verification: { sessionId: 's1', phase: 'Verification', completedAt: '2026-11-23T09:02:00.000Z', items: { 'software:zip': { state: 'Absent' } } },
    });
    expect(report).toMatchObject({ status: 'PartialPassed', durationMs: 150_000, changedNothing: false, observed: [], leftAlone: ['Git (up to date 2.44)'] });
    expect(report.rows).toEqual([
      { actionId: '001', type: 'Update', itemName: 'Chrome', before: '1.0.0', after: '2.0.0', result: 'Success', durationMs: 1200, why: 'update available' },
      { actionId: '002', type: 'Install', itemName: 'Zip', before: 'absent', after: 'absent', result: 'Skipped', why: 'prerequisite Chrome failed' },
      { actionId: '003', type: 'Uninstall', itemName: 'Old', before: '0.9', after: 'removed', result: 'Success', why: 'installed, must not be' },
    ]);
  });

  it('a session of observations only changed nothing, and says what the audits saw (not the agent bookkeeping lines)', () => {
    const report = buildSessionReport({
      session: { ...session, status: 'Passed' },
      actions: [action('001', { itemKey: 'task:disk', itemName: 'Disk space', type: 'TaskAudit', reason: 'AuditRequested', outputTail: '42 % free\nnightshift: exit 0\n' })],
    });
    expect(report.changedNothing).toBe(true);
    expect(report.observed).toEqual(['Disk space: 42 % free']);
  });

  it("says per action which deployment won and how, from the item frozen into the session (none for an item without one)", () => {
    const item = (key: 'software:chrome' | 'software:zip', overrides: Partial<SoftwareSessionItem>): SoftwareSessionItem => ({
      key,
      itemId: key.slice('software:'.length),
      itemName: key,
      origin: 'Deployed',
      critical: true,
      orderingHint: 'Unordered',
      explanation: { rule: 'OnlyCandidate', candidates: [], summary: `${key}: one deployment applies` },
      kind: 'Software',
      desiredState: 'UpdateIfFound',
      targetVersion: '2.0.0',
      dependencies: [],
      hasTest: false,
      ...overrides,
    });
    const report = buildSessionReport({
      session: {
        ...session,
        items: [
          item('software:chrome', { deploymentId: 'dep-chrome', explanation: { winner: 'dep-chrome', rule: 'TargetLevel', candidates: [], summary: 'dep-chrome (this computer) wins over dep-all (every computer)' } }),
          item('software:zip', { origin: 'Prerequisite', explanation: { rule: 'OnlyCandidate', candidates: [], requiredBy: ['software:chrome'], summary: 'needed by Chrome' } }),
        ],
      },
      actions: [action('001', { itemKey: 'software:chrome', itemName: 'Chrome', type: 'Update' }), action('002', { itemKey: 'software:zip', itemName: 'Zip' }), action('003', { itemKey: 'computer:restart', itemName: 'Restart', type: 'Reboot' })],
    });
    expect(report.rows.map((row) => [row.deploymentId, row.decidedBy])).toEqual([
      ['dep-chrome', 'dep-chrome (this computer) wins over dep-all (every computer)'],
      [undefined, 'needed by Chrome'],
      [undefined, undefined],
    ]);
  });

  it('a failed session carries its failure', () => {
    const report = buildSessionReport({ session: { ...session, status: 'Failed', failure: { code: 'AGENT_UNREACHABLE', message: 'offline' } }, actions: [] });
    expect(report.failure).toEqual({ code: 'AGENT_UNREACHABLE', message: 'offline' });
  });

  it('names the schedule run that started it, so a reader can go from the session to its run; a session started by hand names none', () => {
    const origin = { scheduleId: 'sch_1', runId: 'run_1', maxExecuting: 5 };
    expect(buildSessionReport({ session: { ...session, origin }, actions: [] }).origin).toEqual(origin);
    expect(buildSessionReport({ session, actions: [] })).not.toHaveProperty('origin');
  });
});
