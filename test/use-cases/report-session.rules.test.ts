import { describe, expect, it, vi } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { notifyOptionsSchema, sessionOptionsSchema, type DetectedItem, type Session, type Stage } from '../../functions/core/model/session.js';
import type { Metrics } from '../../functions/core/ports/metrics.port.js';
import type { ActionChanges } from '../../functions/core/ports/session-store.port.js';
import { reportSession } from '../../functions/core/use-cases/report-session.js';
import { computer, softwareItem } from '../support/domain.js';
import { RecordingMailer } from '../support/mail.js';
import { useCaseHarness, type Harness } from './harness.js';

const memory = (metrics: Metrics): InMemoryMetrics => {
  if (!(metrics instanceof InMemoryMetrics)) throw new Error('the harness records metrics in memory');
  return metrics;
};

const EARLIER = '2026-11-23T08:00:00.000Z';
/** A session past execution, verification running: what Report usually finds. */
const verifying = (): Partial<Session> => ({
  stages: {
    Detection: { status: 'Succeeded', startedAt: EARLIER, endedAt: EARLIER },
    Execution: { status: 'Running', startedAt: EARLIER },
    Verification: { status: 'Running', startedAt: EARLIER },
  },
});

describe('the report: verification decides each executed action (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  const verified = async (sessionId: string, items: Record<string, DetectedItem>) => {
    await h.deps.sessions.saveDetection({ sessionId, phase: 'Verification', items, completedAt: h.clock.now().toISOString() });
  };

  it('passes an action whose item verification found compliant, recording the version now there, and ends the session Passed', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [{ actionId: '001', status: 'DeterminingResult', startedAt: EARLIER }]);
    await verified(session.id, { 'software:app': { state: 'Present', version: '2.0' } });
    h.clock.advance(60_000);
    const now = h.clock.now().toISOString();

    expect(await reportSession(h.deps, session.id)).toEqual({ sessionId: session.id, status: 'Passed', actions: 1, failed: 0 });
    expect(await h.deps.sessions.getAction(session.id, '001')).toMatchObject({
      status: 'Complete',
      result: 'Success',
      resultStage: 'Verification',
      resultReason: 'Compliant',
      versionAfter: '2.0',
      endedAt: now,
    });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored).toMatchObject({ status: 'Passed', endedAt: now });
    expect(stored?.stages).toEqual({
      Detection: { status: 'Succeeded', startedAt: EARLIER, endedAt: EARLIER },
      Execution: { status: 'Succeeded', startedAt: EARLIER, endedAt: now },
      Verification: { status: 'Succeeded', startedAt: EARLIER, endedAt: now },
    });
    expect(memory(h.deps.metrics).total('SessionsPassed')).toBe(1);
    expect(memory(h.deps.metrics).total('ActionsRun')).toBe(1);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'session ended Passed: 1 action(s), 0 failed']]);
    expect(h.logged).toEqual([{ level: 'info', message: 'session reported', fields: { sessionId: session.id, computerId: 'pc', status: 'Passed', failed: 0 } }]);
  });

  it.each([
    ['an older version still there', { state: 'Present', version: '1.0' }, 'StillNotCompliant', '1.0'],
    ['the software absent', { state: 'Absent' }, 'StillNotCompliant', undefined],
    ['an item it could not tell about', { state: 'Undetermined', reason: 'detection script crashed' }, 'verification could not tell: detection script crashed', undefined],
  ] as const)('fails an action when verification finds %s', async (_what, detected, reason, versionAfter) => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [{ actionId: '001', status: 'DeterminingResult', startedAt: EARLIER }]);
    await verified(session.id, { 'software:app': detected });
    await reportSession(h.deps, session.id);
    const action = await h.deps.sessions.getAction(session.id, '001');
    expect(action).toMatchObject({ status: 'Complete', result: 'Failed', resultStage: 'Verification', resultReason: reason });
    expect(action?.versionAfter).toBe(versionAfter);
  });

  it('fails an action whose item verification did not report, or that the session does not hold', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [
      { actionId: '001', status: 'DeterminingResult' },
      { actionId: '002', status: 'DeterminingResult', itemKey: 'software:ghost', itemId: 'ghost' },
    ]);
    await verified(session.id, { 'software:ghost': { state: 'Present', version: '2.0' } });
    await reportSession(h.deps, session.id);
    expect((await h.deps.sessions.getActions(session.id)).map((a) => [a.result, a.resultReason])).toEqual([
      ['Failed', 'StillNotCompliant'],
      ['Failed', 'StillNotCompliant'],
    ]);
  });

  it('calls an executed action Indeterminable when no verification ran', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [{ actionId: '001', status: 'DeterminingResult' }]);
    expect((await reportSession(h.deps, session.id)).status).toBe('Passed');
    expect(await h.deps.sessions.getAction(session.id, '001')).toMatchObject({
      status: 'Complete',
      result: 'Indeterminable',
      resultStage: 'Verification',
      resultReason: 'not verified: the session ended before verification',
      endedAt: h.clock.now().toISOString(),
    });
  });

  it('writes each of many actions, more than one group of writes', async () => {
    h = harness();
    const session = await h.session(verifying());
    const ids = Array.from({ length: 23 }, (_, i) => String(i + 1).padStart(3, '0'));
    await h.actions(session.id, ids.map((actionId) => ({ actionId, status: 'DeterminingResult' as const })));
    await verified(session.id, { 'software:app': { state: 'Present', version: '2.0' } });
    expect(await reportSession(h.deps, session.id)).toMatchObject({ status: 'Passed', actions: 23, failed: 0 });
    expect((await h.deps.sessions.getActions(session.id)).map((a) => a.result)).toEqual(ids.map(() => 'Success'));
  });
});

describe("the report: the session's final status and stages (dynalite)", () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('fails the session for a failed critical action, failing the stage where it failed', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Failed', resultStage: 'Execution', critical: true },
      { actionId: '002', status: 'Complete', result: 'Success', critical: true },
    ]);
    expect(await reportSession(h.deps, session.id)).toEqual({ sessionId: session.id, status: 'Failed', actions: 2, failed: 1 });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored?.stages.Execution.status).toBe('Failed');
    expect(stored?.stages.Verification.status).toBe('Succeeded');
    expect(memory(h.deps.metrics).total('SessionsFailed')).toBe(1);
    expect(h.lines.map((l) => l.message)).toEqual(['session ended Failed: 2 action(s), 1 failed']);
  });

  it('partly passes the session when only non-critical actions failed, failing the verification stage for a verification failure', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Failed', resultStage: 'Verification', critical: false },
      { actionId: '002', status: 'Complete', result: 'Success' },
    ]);
    expect((await reportSession(h.deps, session.id)).status).toBe('PartialPassed');
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored?.stages.Execution.status).toBe('Succeeded');
    expect(stored?.stages.Verification.status).toBe('Failed');
    expect(memory(h.deps.metrics).total('SessionsPartiallyPassed')).toBe(1);
    expect(memory(h.deps.metrics).total('SessionsPassed')).toBe(0);
  });

  describe('an item detection could not read was not brought into compliance: it counts as its deployment\'s failure', () => {
    const planWith = async (sessionId: string, items: { key: `software:${string}`; itemName: string; reason: 'Undetermined' | 'UpToDate'; action?: 'Install' }[]) => {
      await h.deps.sessions.savePlan({
        sessionId,
        plannedAt: EARLIER,
        items: items.map((item) => ({ ...item, detected: item.reason === 'Undetermined' ? { state: 'Undetermined', reason: 'denied' } : { state: 'Present', version: '2.0' } })),
      });
    };

    it.each([
      ['a critical deployment fails the session', true, 'Failed', 'SessionsFailed'],
      ['a non-critical one partly passes it', false, 'PartialPassed', 'SessionsPartiallyPassed'],
    ] as const)('%s, and the end line names the item', async (_what, critical, status, metric) => {
      h = harness();
      const session = await h.session({ ...verifying(), items: [softwareItem('app', { itemName: 'App', critical }), softwareItem('git', { itemName: 'Git' })] });
      await planWith(session.id, [
        { key: 'software:app', itemName: 'App', reason: 'Undetermined' },
        { key: 'software:git', itemName: 'Git', reason: 'UpToDate' },
      ]);
      expect(await reportSession(h.deps, session.id)).toEqual({ sessionId: session.id, status, actions: 0, failed: 0 });
      expect((await h.deps.sessions.getSession(session.id))?.status).toBe(status);
      expect(memory(h.deps.metrics).total(metric)).toBe(1);
      expect(memory(h.deps.metrics).total('SessionsPassed')).toBe(0);
      expect(h.lines.map((l) => l.message)).toEqual([`session ended ${status}: 0 action(s), 0 failed; could not determine App`]);
    });

    it('passes a session whose items were all read, and ignores an undetermined item the session does not hold', async () => {
      h = harness();
      const session = await h.session({ ...verifying(), items: [softwareItem('git', { itemName: 'Git' })] });
      await planWith(session.id, [
        { key: 'software:git', itemName: 'Git', reason: 'UpToDate' },
        { key: 'software:gone', itemName: 'Gone', reason: 'Undetermined' },
      ]);
      expect((await reportSession(h.deps, session.id)).status).toBe('Passed');
      expect(h.lines.map((l) => l.message)).toEqual(['session ended Passed: 0 action(s), 0 failed']);
    });

    it('does not count an undetermined item the plan gave an action: that action\'s result decides', async () => {
      h = harness();
      const session = await h.session({ ...verifying(), items: [softwareItem('app', { itemName: 'App', critical: true })] });
      await planWith(session.id, [{ key: 'software:app', itemName: 'App', reason: 'Undetermined', action: 'Install' }]);
      expect((await reportSession(h.deps, session.id)).status).toBe('Passed');
      expect(h.lines.map((l) => l.message)).toEqual(['session ended Passed: 0 action(s), 0 failed']);
    });
  });

  it('marks stages that never started Skipped, and leaves finished stages as they ended', async () => {
    h = harness();
    const failed: Stage = { status: 'Failed', startedAt: EARLIER, endedAt: EARLIER };
    const session = await h.session({ stages: { Detection: { status: 'Running', startedAt: EARLIER }, Execution: failed, Verification: { status: 'Unstarted' } } });
    h.clock.advance(1_000);
    const now = h.clock.now().toISOString();
    await reportSession(h.deps, session.id);
    expect((await h.deps.sessions.getSession(session.id))?.stages).toEqual({
      Detection: { status: 'Succeeded', startedAt: EARLIER, endedAt: now },
      Execution: failed,
      Verification: { status: 'Skipped', startedAt: now, endedAt: now },
    });
  });

  it('says when a restart is pending', async () => {
    h = harness();
    const session = await h.session({ ...verifying(), rebootPending: true });
    await reportSession(h.deps, session.id);
    expect(h.lines.map((l) => l.message)).toEqual(['session ended Passed: 0 action(s), 0 failed; a restart is pending']);
  });

  it('counts as run only the actions whose command went to the computer', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Success', startedAt: EARLIER },
      { actionId: '002', status: 'Complete', result: 'Success', startedAt: EARLIER, type: 'TaskMonitor' },
      { actionId: '003', status: 'Skipped', result: 'Failed', critical: false },
      { actionId: '004', status: 'Complete', result: 'Success', startedAt: EARLIER, type: 'Update' },
    ]);
    await reportSession(h.deps, session.id);
    expect(memory(h.deps.metrics).total('ActionsRun')).toBe(2);
  });

  it('keeps a cancelled session Cancelled, closing the actions it did not run, counting no end', async () => {
    h = harness();
    const session = await h.session({ ...verifying(), status: 'Cancelled', cancelled: { at: EARLIER, by: { kind: 'EndUser', name: 'ana' } } });
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Success' },
      { actionId: '002', status: 'PerformingAction' },
      { actionId: '003' },
    ]);
    expect(await reportSession(h.deps, session.id)).toEqual({ sessionId: session.id, status: 'Cancelled', actions: 3, failed: 0 });
    expect((await h.deps.sessions.getActions(session.id)).map((a) => [a.status, a.result, a.resultReason])).toEqual([
      ['Complete', 'Success', undefined],
      ['Complete', 'Indeterminable', 'the session was cancelled by ana; its effect is unknown'],
      ['Cancelled', 'Cancelled', 'the session was cancelled by ana'],
    ]);
    expect(await h.deps.sessions.getSession(session.id)).toMatchObject({ status: 'Cancelled', endedAt: h.clock.now().toISOString() });
    expect(memory(h.deps.metrics).summary().filter((m) => m.name.startsWith('Sessions'))).toEqual([]);
    expect(h.lines.map((l) => l.message)).toEqual(['session ended Cancelled: 3 action(s), 0 failed']);
  });

  it("leaves a detection-only session's planned actions as planned: what would have changed", async () => {
    h = harness();
    const session = await h.session({ stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Skipped' }, Verification: { status: 'Unstarted' } } });
    await h.actions(session.id, [{ actionId: '001' }]);
    expect(await reportSession(h.deps, session.id)).toMatchObject({ status: 'Passed', actions: 1, failed: 0 });
    expect(await h.deps.sessions.getAction(session.id, '001')).toMatchObject({ status: 'NotStarted', result: 'Pending' });
  });

  it('names no one for a cancel that did not say who asked', async () => {
    h = harness();
    const session = await h.session({ status: 'Cancelled' });
    await h.actions(session.id, [{ actionId: '001' }]);
    await reportSession(h.deps, session.id);
    expect((await h.deps.sessions.getAction(session.id, '001'))?.resultReason).toBe('the session was cancelled by request');
  });

  it('sends the follow-up email once the session has ended, a repeated report sending no second one, and none for a session whose end is not written', async () => {
    h = harness();
    const mailer = new RecordingMailer();
    const deps = { ...h.deps, mailer };
    await h.catalog.putComputer(computer('ana-pc', { primaryUser: { name: 'Ana', email: 'ana@example.com' } }));
    const options = sessionOptionsSchema.parse({ notify: notifyOptionsSchema.parse({}) });
    const ended = await h.session({ ...verifying(), computerId: 'ana-pc', options });
    await h.actions(ended.id, [{ actionId: '001', status: 'Complete', result: 'Success', type: 'Update', startedAt: EARLIER }]);
    await reportSession(deps, ended.id);
    await reportSession(deps, ended.id);
    expect(mailer.sent.map((email) => email.to)).toEqual([['ana@example.com']]);
    expect((await deps.notifications.listEmails(ended.id)).map((record) => [record.key, record.status])).toEqual([['FollowUp', 'Sent']]);

    // a final status whose end was not written: the report leaves it alone and sends nothing
    const unended = await h.session({ ...verifying(), computerId: 'ana-pc', options, status: 'Failed' });
    await h.actions(unended.id, [{ actionId: '001', status: 'Complete', result: 'Failed', resultStage: 'Execution', type: 'Update', startedAt: EARLIER }]);
    await reportSession(deps, unended.id);
    expect(mailer.sent).toHaveLength(1);
  });

  it.each([
    ['a session reported already', { status: 'Passed', endedAt: EARLIER }],
    ['a failed session whose end was not written yet', { status: 'Failed' }],
    ['a cancelled session closed already', { status: 'Cancelled', endedAt: EARLIER }],
  ] as const)('writes, counts and logs nothing for %s, answering with its status', async (_what, overrides) => {
    h = harness();
    const session = await h.session({ ...verifying(), ...overrides });
    await h.actions(session.id, [{ actionId: '001', status: 'Complete', result: 'Failed', resultStage: 'Execution' }]);
    expect(await reportSession(h.deps, session.id)).toEqual({ sessionId: session.id, status: overrides.status, actions: 1, failed: 1 });
    expect((await h.deps.sessions.getSession(session.id))?.version).toBe(session.version);
    expect(memory(h.deps.metrics).summary()).toEqual([]);
    expect(h.lines).toEqual([]);
    expect(h.logged.map((l) => l.message)).toEqual(['session reported']);
  });
});

describe("the report: executed actions' dispatches leave the worklist (dynalite)", () => {
  const harness = useCaseHarness();
  let h: Harness;

  /** An action whose command ran and was answered: its dispatch waits on the reconciler's worklist. */
  const answered = async (sessionId: string, actionId: string, changes: ActionChanges, type: 'Install' | 'TaskMonitor' = 'Install') => {
    const now = h.clock.now().toISOString();
    await h.actions(sessionId, [{ actionId, type }]);
    await h.deps.sessions.startActionDispatch(
      { sessionId, key: `Action#${actionId}`, taskToken: 'step', status: 'Sending', attempts: 1, nonce: `n${actionId}`, createdAt: now },
      { status: 'PerformingAction', startedAt: now },
    );
    await h.deps.sessions.completeActionDispatch({
      sessionId,
      actionId,
      nonce: `n${actionId}`,
      types: [type],
      changes,
      outcome: { key: `Action#${actionId}`, commandId: `cmd-${actionId}`, status: 'Success', summary: 'done' },
      now,
      checkAfterSeconds: 600,
    });
  };
  const waiting = async (sessionId: string): Promise<string[]> =>
    (await h.deps.sessions.listWaitingDispatches('9999-01-01T00:00:00.000Z', 1_000)).filter((d) => d.sessionId === sessionId).map((d) => d.key);

  it("settles the dispatch of each action that ran, in its result's write or on its own", async () => {
    h = harness();
    const session = await h.session(verifying());
    await answered(session.id, '001', { status: 'DeterminingResult' });
    await answered(session.id, '002', { status: 'Complete', result: 'Failed', resultStage: 'Execution' });
    await verified(session.id);
    expect(await waiting(session.id)).toEqual(['Action#001', 'Action#002']);
    await reportSession(h.deps, session.id);
    expect(await waiting(session.id)).toEqual([]);
    expect((await h.deps.sessions.getActions(session.id)).map((a) => a.result)).toEqual(['Success', 'Failed']);
  });

  it('leaves an action that ran nothing unwritten', async () => {
    h = harness();
    const session = await h.session(verifying());
    await h.actions(session.id, [
      { actionId: '001', status: 'Complete', result: 'Success' },
      { actionId: '002', status: 'Skipped', result: 'Failed', startedAt: EARLIER, critical: false },
      { actionId: '003', status: 'Complete', result: 'Success', startedAt: EARLIER, type: 'TaskMonitor' },
      { actionId: '004', status: 'Cancelled', result: 'Cancelled' },
    ]);
    const update = vi.spyOn(h.deps.sessions, 'updateAction');
    await reportSession(h.deps, session.id);
    expect(update).not.toHaveBeenCalled();
  });

  it('settles the dispatch of an action left unverified', async () => {
    h = harness();
    const session = await h.session({ ...verifying(), status: 'Cancelled' });
    await answered(session.id, '001', { status: 'DeterminingResult' });
    await reportSession(h.deps, session.id);
    expect((await h.deps.sessions.getAction(session.id, '001'))?.result).toBe('Indeterminable');
    expect(await waiting(session.id)).toEqual([]);
  });

  it('settles a cancelled action that ran', async () => {
    h = harness();
    const session = await h.session({ ...verifying(), status: 'Cancelled' });
    await answered(session.id, '001', { status: 'Cancelled', result: 'Cancelled' });
    await reportSession(h.deps, session.id);
    expect(await waiting(session.id)).toEqual([]);
  });

  it('keeps an action whose command is still being sent as it is, and reports on', async () => {
    h = harness();
    const session = await h.session(verifying());
    const now = h.clock.now().toISOString();
    await h.actions(session.id, [{ actionId: '001' }]);
    await h.deps.sessions.startActionDispatch(
      { sessionId: session.id, key: 'Action#001', taskToken: 'step', status: 'Sending', attempts: 1, nonce: 'n1', createdAt: now },
      { status: 'PerformingAction', startedAt: now },
    );
    await h.deps.sessions.updateAction(session.id, '001', ['PerformingAction'], { status: 'Complete', result: 'Failed', resultStage: 'Execution' });
    expect(await reportSession(h.deps, session.id)).toMatchObject({ status: 'Failed', failed: 1 });
    expect((await h.deps.sessions.getAction(session.id, '001'))?.status).toBe('Complete');
  });

  it('lets an error other than a lost race through', async () => {
    h = harness();
    const session = await h.session(verifying());
    await answered(session.id, '001', { status: 'Complete', result: 'Success' });
    vi.spyOn(h.deps.sessions, 'updateAction').mockRejectedValueOnce(new Error('table gone'));
    await expect(reportSession(h.deps, session.id)).rejects.toThrow('table gone');
  });

  async function verified(sessionId: string) {
    await h.deps.sessions.saveDetection({ sessionId, phase: 'Verification', items: { 'software:app': { state: 'Present', version: '2.0' } }, completedAt: h.clock.now().toISOString() });
  }
});
