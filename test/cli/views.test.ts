import { describe, expect, it } from 'vitest';
import type { View } from '../../cli/format.js';
import {
  auditList,
  computerList,
  deploymentList,
  logLines,
  preview,
  record,
  recurrenceWords,
  run,
  runList,
  runTargets,
  schedule,
  scheduleList,
  sessionList,
  sessionProgress,
  sessionReport,
  type RunView,
  type ScheduleView,
  type SessionReportView,
} from '../../cli/views.js';

const view: View = { colour: false, timeZone: 'Europe/Berlin' };
const lines = (text: string): string[] => text.split('\n');

const report: SessionReportView = {
  sessionId: 'ses_1',
  computerId: 'pc-1',
  computerName: 'Front desk',
  status: 'PartialPassed',
  durationMs: 84_000,
  rows: [
    { actionId: '001', type: 'Install', itemName: 'Zoom', before: 'absent', after: '6.1.0', result: 'Success', durationMs: 12_300, why: 'missing' },
    { actionId: '002', type: 'Update', itemName: 'Chrome', before: '119.0', after: '119.0', result: 'Failed', durationMs: 900, why: 'the script exited 3' },
  ],
  leftAlone: ['Firefox (up to date 120.0)'],
  observed: [],
  why: ['Chrome: LatestVersion from deployment deploy-chrome'],
};

describe('sessions', () => {
  it('lists sessions with times in the viewer zone, durations, and the counts below', () => {
    const text = sessionList(
      {
        items: [
          { id: 'ses_1', computerId: 'pc-1', tenantId: 'acme', status: 'Passed', stage: 'Verification', createdAt: '2026-11-23T09:00:00.000Z', updatedAt: '2026-11-23T09:01:00.000Z', endedAt: '2026-11-23T09:01:05.000Z', trigger: 'Manual', actionCount: 2 },
          { id: 'ses_2', computerId: 'pc-2', tenantId: 'acme', status: 'Running', createdAt: '2026-11-23T08:00:00.000Z', updatedAt: '2026-11-23T08:00:04.200Z', trigger: 'Scheduled' },
          { id: 'ses_3', computerId: 'pc-3', tenantId: 'acme', status: 'Running', stage: 'Detection', createdAt: '2026-11-23T08:00:00.000Z', updatedAt: '2026-11-23T08:00:04.200Z', trigger: 'Scheduled', awaitingExecution: true, executeAt: '2026-11-23T21:00:00.000Z' },
        ],
        counts: { Passed: 1, Running: 2, Failed: 0 },
      },
      view,
    );
    expect(lines(text)).toEqual([
      'SESSION  STATUS   STAGE                       COMPUTER  TENANT  TRIGGER    CREATED              DURATION  ACTIONS',
      'ses_1    Passed   Verification                pc-1      acme    Manual     2026-11-23 10:00:00  1m 05s    2',
      'ses_2    Running  —                           pc-2      acme    Scheduled  2026-11-23 09:00:00  —         —',
      'ses_3    Running  window 2026-11-23 22:00:00  pc-3      acme    Scheduled  2026-11-23 09:00:00  —         —',
      '',
      'counts  Passed 1 · Running 2',
    ]);
  });

  it('says so when no session matches', () => {
    expect(sessionList({ items: [], counts: { Passed: 0 } }, view)).toBe('No sessions match.\n\ncounts  none');
  });

  it('reports a session: who and how it ended, one row per action, then what was left alone and why', () => {
    expect(lines(sessionReport(report, view))).toEqual([
      'session   ses_1',
      'computer  Front desk (pc-1)',
      'status    PartialPassed',
      'duration  1m 24s',
      '',
      'actions',
      '#    ACTION   ITEM    BEFORE  AFTER  RESULT   TIME    WHY',
      '001  Install  Zoom    absent  6.1.0  Success  12.3 s  missing',
      '002  Update   Chrome  119.0   119.0  Failed   900 ms  the script exited 3',
      '',
      'left alone',
      '  Firefox (up to date 120.0)',
      '',
      'why',
      '  Chrome: LatestVersion from deployment deploy-chrome',
    ]);
  });

  it('names the schedule run a session belongs to, under its status, and no run for a session started by hand', () => {
    expect(lines(sessionReport({ ...report, origin: { scheduleId: 'sch_nightly', runId: 'run_7' } }, view)).slice(2, 5)).toEqual([
      'status    PartialPassed',
      'run       run_7 (schedule sch_nightly)',
      'duration  1m 24s',
    ]);
    expect(sessionReport(report, view)).not.toMatch(/^run /m);
  });

  it('names the failure of a session that broke', () => {
    const text = sessionReport({ ...report, status: 'Failed', failure: { code: 'AGENT_UNREACHABLE', message: 'offline' }, rows: [], leftAlone: [], why: [] }, view);
    expect(text).toContain('failure   AGENT_UNREACHABLE: offline');
    expect(text).toContain('No actions ran.');
  });

  it('says why there are no actions: compliant when it passed, not yet while it runs', () => {
    expect(sessionReport({ ...report, status: 'Passed', rows: [] }, view)).toContain('No actions: the computer was compliant.');
    expect(sessionReport({ ...report, status: 'Running', rows: [] }, view)).toContain('No actions planned yet.');
  });

  it('shows progress as actions done of all and the one under way, without the clock so unchanged progress reads the same', () => {
    const running: SessionReportView = {
      ...report,
      status: 'Running',
      rows: [report.rows[0]!, { ...report.rows[1]!, result: 'PerformingAction' }, { ...report.rows[1]!, actionId: '003', result: 'NotStarted' }],
    };
    expect(sessionProgress(running, view)).toBe('ses_1 Running · 1/3 actions done · Update Chrome…');
    expect(sessionProgress({ ...running, durationMs: 99_000 }, view)).toBe(sessionProgress(running, view));
    expect(sessionProgress({ ...running, rows: [] }, view)).toBe('ses_1 Running · no actions planned yet');
  });

  it('prints log lines with who asked, and script output indented under its line', () => {
    expect(
      logLines(
        [
          { at: '2026-11-23T21:00:00.000Z', kind: 'Request', message: 'postponed to 23:00', by: { kind: 'EndUser', name: 'ann@acme.example' } },
          { at: '2026-11-23T22:00:01.000Z', kind: 'Action', actionId: '001', message: 'Install Zoom finished', output: 'step 1\n\ninstalled 6.1.0\n' },
        ],
        view,
      ),
    ).toEqual([
      '2026-11-23 22:00:00  Request  postponed to 23:00 (EndUser ann@acme.example)',
      '2026-11-23 23:00:01  Action   [001] Install Zoom finished',
      '    │ step 1',
      '    │ installed 6.1.0',
    ]);
  });
});

const stored: ScheduleView = {
  id: 'nightly',
  name: 'Nightly DMS',
  enabled: true,
  tenantId: 'legal',
  target: { kind: 'Tag', tag: 'office' },
  recurrence: { kind: 'Weekly', days: ['MON', 'WED'] },
  detectionTime: '14:00',
  maintenanceTime: '22:00',
  timeZone: 'Europe/Berlin',
  version: 3,
  rollout: { rings: [{ name: 'canary', percent: 10, successThresholdPercent: 100, soakMinutes: 60 }, { name: 'office', percent: 100 }] },
  createdAt: '2026-11-01T10:00:00.000Z',
  createdBy: { name: 'ann' },
  updatedAt: '2026-11-02T10:00:00.000Z',
  updatedBy: { name: 'bob' },
};

describe('schedules and runs', () => {
  it('lists schedules with their target, recurrence and times in words', () => {
    expect(lines(scheduleList([stored, { ...stored, id: 'cron', enabled: false, tenantId: undefined, target: { kind: 'AllComputers' }, recurrence: { kind: 'Cron', expression: '0 3 * * *' }, detectionTime: undefined, maintenanceTime: undefined, executeImmediatelyAfterDetection: true }], view))).toEqual([
      'SCHEDULE  NAME         ENABLED  TENANT  TARGET         RECURS          DETECT  EXECUTE          ZONE',
      'nightly   Nightly DMS  yes      legal   tag office     weekly MON,WED  14:00   22:00            Europe/Berlin',
      'cron      Nightly DMS  no       all     all computers  cron 0 3 * * *  cron    after detection  Europe/Berlin',
    ]);
  });

  it('words every kind of recurrence', () => {
    expect(recurrenceWords({ kind: 'Daily' })).toBe('daily');
    expect(recurrenceWords({ kind: 'Monthly', days: [1, 'Last'] })).toBe('monthly 1,Last');
  });

  it('shows one schedule with its rings and who changed it when', () => {
    const text = schedule(stored, view);
    expect(text).toMatch(/^schedule\s+nightly$/m);
    expect(text).toMatch(/^recurs\s+weekly MON,WED$/m);
    expect(text).toMatch(/^updated\s+2026-11-02 11:00:00 GMT\+1 by bob$/m);
    expect(text).toContain('RING    REACHES  MUST PASS  SOAK');
    expect(text).toMatch(/^canary\s+10 %\s+100 %\s+60 min$/m);
    expect(text).toMatch(/^office\s+100 %\s+—\s+—$/m);
  });

  it('previews the next fires in the viewer zone and each computer: window or skip reason', () => {
    const text = preview(
      {
        timeZone: 'Europe/Berlin',
        nextFires: ['2026-11-23T13:00:00.000Z', '2026-11-25T13:00:00.000Z'],
        targets: [
          { computerId: 'pc-1', computerName: 'Front desk', tenantId: 'legal', timeZone: 'Europe/Berlin', windowOpensAt: '2026-11-23T21:00:00.000Z' },
          { computerId: 'pc-2', computerName: 'Laptop', tenantId: 'legal', timeZone: 'Europe/Berlin', skipped: 'Offline', detail: 'last seen 3 days ago' },
        ],
        unknownComputerIds: ['pc-gone'],
      },
      view,
    );
    expect(text).toContain('next fires\n  2026-11-23 14:00:00 GMT+1\n  2026-11-25 14:00:00 GMT+1');
    expect(text).toMatch(/^pc-1\s+Front desk\s+legal\s+Europe\/Berlin\s+2026-11-23 22:00:00\s+—$/m);
    expect(text).toMatch(/^pc-2\s+Laptop\s+legal\s+Europe\/Berlin\s+—\s+Offline: last seen 3 days ago$/m);
    expect(text).toContain('unknown computers\n  pc-gone');
  });

  const halted: RunView = {
    id: 'run_1',
    scheduleId: 'nightly',
    scheduleName: 'Nightly DMS',
    scheduleVersion: 3,
    scheduledTime: '2026-11-23T13:00:00.000Z',
    trigger: 'Schedule',
    by: { kind: 'Schedule', name: 'schedule nightly' },
    status: 'Halted',
    currentRing: 0,
    haltReason: 'ring canary: 0 of 1 session(s) passed (0%)',
    outcome: { queued: 3, running: 0, passed: 0, partiallyPassed: 0, failed: 1, cancelled: 0 },
    createdAt: '2026-11-23T13:00:00.000Z',
    updatedAt: '2026-11-23T13:05:00.000Z',
    targeted: 5,
    started: 1,
    skipped: { Offline: 1 },
    rollout: { rings: [{ name: 'canary' }, { name: 'office' }] },
  };

  it('shows a run: why it halted, which ring, and what became of its computers', () => {
    const text = run(halted, view);
    expect(text).toMatch(/^status\s+Halted$/m);
    expect(text).toMatch(/^halted\s+ring canary: 0 of 1 session\(s\) passed \(0%\)$/m);
    expect(text).toMatch(/^ring\s+1 of 2 \(canary\)$/m);
    expect(text).toMatch(/^skipped\s+1 Offline$/m);
    expect(text).toMatch(/^sessions\s+Failed 1 · Queued 3$/m);
  });

  it('lists runs with their counts in columns', () => {
    expect(lines(runList([halted], view))[1]).toMatch(/^run_1\s+Halted\s+Schedule\s+2026-11-23 14:00:00\s+5\s+1\s+1\s+0\s+0\s+1\s+0\s+0\s+3$/);
  });

  it('counts sessions parked until their window apart from those at work, in the list and the detail (a run counted before the split: all at work)', () => {
    const waiting: RunView = { ...halted, status: 'Running', outcome: { ...halted.outcome, running: 5, awaitingExecution: 4 } };
    expect(lines(runList([waiting], view))[1]).toMatch(/\s1\s+4\s+3$/);
    expect(run(waiting, view)).toMatch(/^sessions\s+Failed 1 · Running 1 · Waiting for window 4 · Queued 3$/m);
    const older: RunView = { ...halted, outcome: { queued: 0, running: 2, passed: 0, partiallyPassed: 0, failed: 0, cancelled: 0 } };
    expect(run(older, view)).toMatch(/^sessions\s+Running 2$/m);
  });

  it("lists a run's targets with rings counted from 1 and skip reasons in words", () => {
    const text = runTargets(
      [
        { computerId: 'pc-1', computerName: 'Front desk', tenantId: 'legal', sessionId: 'ses_1', ring: 0, executeAt: '2026-11-23T21:00:00.000Z' },
        { computerId: 'pc-2', computerName: 'Laptop', tenantId: 'legal', skipped: 'Offline', ring: 1 },
      ],
      view,
    );
    expect(lines(text)[1]).toMatch(/^pc-1\s+Front desk\s+legal\s+1\s+ses_1\s+—\s+2026-11-23 22:00:00\s+—$/);
    expect(lines(text)[2]).toMatch(/^pc-2\s+Laptop\s+legal\s+2\s+—\s+—\s+—\s+Offline$/);
  });
});

describe('fleet, catalog and audit', () => {
  it('lists computers with their user and tags', () => {
    const text = computerList([{ id: 'pc-1', name: 'Front desk', tenantId: 'acme', platform: 'windows', deviceClass: 'Workstation', online: false, agentId: 'i-1', primaryUser: { name: 'Ann', email: 'ann@acme.example' }, tags: ['office', 'kiosk'], timeZone: 'Europe/Berlin' }], view);
    expect(lines(text)[1]).toBe('pc-1      Front desk  acme    windows   Workstation  no      ann@acme.example  Europe/Berlin  office, kiosk');
  });

  it('words deployment targets and what each wants', () => {
    const text = deploymentList(
      [
        { id: 'd-1', itemKind: 'Software', softwareId: 'zoom', desiredState: 'ThisVersion', version: '6.1.0', target: { kind: 'Tag', tag: 'office', tenantId: 'acme' }, deviceClasses: ['Portable'], enabled: true, critical: false },
        { id: 'd-2', itemKind: 'Task', taskId: 'firewall', mode: 'Enforce', target: { kind: 'Tenant', tenantId: 'acme', includeChildTenants: true } },
      ],
      view,
    );
    expect(lines(text)[1]).toMatch(/^d-1\s+software:zoom\s+ThisVersion 6\.1\.0\s+tag office in acme\s+Portable\s+yes\s+no$/);
    expect(lines(text)[2]).toMatch(/^d-2\s+task:firewall\s+Enforce\s+tenant acme and children\s+all\s+yes\s+—$/);
  });

  it('lists audit entries with who, what and which fields', () => {
    const text = auditList([{ resource: 'Schedule', resourceId: 'nightly', tenantId: 'legal', version: 2, at: '2026-11-02T10:00:00.000Z', by: { kind: 'Operator', name: 'bob' }, action: 'Updated', changes: [{ field: 'maintenanceTime' }, { field: 'name' }] }], view);
    expect(lines(text)[1]).toMatch(/^2026-11-02 11:00:00\s+bob\s+Updated\s+Schedule\s+nightly\s+legal\s+2\s+maintenanceTime, name$/);
  });

  it('shows any other record field by field: scripts by their length, nested values as one line of JSON', () => {
    expect(lines(record({ id: 'app', installScript: 'set -eu\ninstall\n', detection: { method: 'Script' }, versions: [], latestVersion: '2.0.0', enabled: false }, view))).toEqual([
      'id             app',
      'installScript  (2 lines: add --json to read)',
      'detection      {"method":"Script"}',
      'versions       (none)',
      'latestVersion  2.0.0',
      'enabled        false',
    ]);
  });
});
