import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/core/errors.js';
import { commandComment, type AgentInvocation, type InvocationStatus } from '../../functions/core/model/agent.js';
import type { Action } from '../../functions/core/model/session.js';
import { ITEM_RECORD_TAG, RESULT_RECORD_TAG } from '../../functions/core/scripts/contract.js';
import { encodeBase64 } from '../../functions/core/scripts/encoding.js';
import type { ActionOutput } from '../../functions/core/scripts/output.js';
import { ACTION_ANSWER_CHECK_AFTER_SECONDS, actionChanges, completeCommand } from '../../functions/core/use-cases/complete-command.js';
import { dispatchCommand } from '../../functions/core/use-cases/dispatch-command.js';
import { softwareItem, taskItem } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const NOW = '2026-11-23T09:00:00.000Z';
const invocation = (status: InvocationStatus): AgentInvocation => ({
  commandId: 'cmd-1',
  agentId: 'i-0123456789abcdef0',
  status,
  responseCode: 0,
  stdout: '',
  stderr: '',
  stdoutTruncated: false,
  comment: '',
});
const ran = (exitCode: number, extra: Partial<ActionOutput> = {}): ActionOutput => ({ exitCode, rebootRequired: false, outputTail: 'done', ...extra });

describe('what a finished command says about its action (pure)', () => {
  it('leaves a script that succeeded to verification, keeping what it reported', () => {
    expect(actionChanges(invocation('Success'), ran(0, { durationMs: 1200, rebootRequired: true }), undefined, NOW)).toEqual({
      status: 'DeterminingResult',
      resultReason: 'ScriptSucceeded',
      exitCode: 0,
      rebootRequired: true,
      outputTail: 'done',
      durationMs: 1200,
    });
  });

  it.each(['TimedOut', 'ExecutionTimedOut'] as const)('fails a command that %s, even though its script had recorded exit 0', (status) => {
    expect(actionChanges(invocation(status), ran(0), undefined, NOW)).toMatchObject({
      status: 'Complete',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: 'the script ran past its time limit',
      endedAt: NOW,
      exitCode: 0,
    });
    expect(actionChanges(invocation(status), ran(0), 'TaskAudit', NOW)).toMatchObject({ result: 'Failed' });
  });

  it('fails a script that exited non-zero, saying which half of a two-step action failed', () => {
    expect(actionChanges(invocation('Failed'), ran(3), undefined, NOW)).toEqual({
      status: 'Complete',
      result: 'Failed',
      resultStage: 'Execution',
      resultReason: 'the script exited 3',
      endedAt: NOW,
      exitCode: 3,
      rebootRequired: false,
      outputTail: 'done',
    });
    expect(actionChanges(invocation('Failed'), ran(3, { failedStep: 1 }), 'Downgrade', NOW).resultReason).toBe('the script exited 3 while uninstalling');
    expect(actionChanges(invocation('Failed'), ran(3, { failedStep: 2 }), 'Reinstall', NOW).resultReason).toBe('the script exited 3 while installing');
    expect(actionChanges(invocation('Failed'), ran(3, { failedStep: 1 }), 'Install', NOW).resultReason).toBe('the script exited 3');
    expect(actionChanges(invocation('Failed'), ran(3), 'Downgrade', NOW).resultReason).toBe('the script exited 3');
  });

  it('fails an action whose command never ran, saying why, with no script facts', () => {
    const words: [InvocationStatus, string][] = [
      ['DeliveryTimedOut', 'the computer did not come online before the delivery timeout'],
      ['Undeliverable', 'the computer is not reachable by the agent'],
      ['Terminated', 'the computer was terminated'],
      ['InvalidPlatform', 'the command does not fit the computer platform'],
      ['AccessDenied', 'the agent was denied access to the computer'],
    ];
    for (const [status, reason] of words) {
      expect(actionChanges(invocation(status), undefined, undefined, NOW), status).toEqual({ status: 'Complete', result: 'Failed', resultStage: 'Execution', resultReason: reason, endedAt: NOW });
    }
    expect(actionChanges(invocation('Success'), undefined, undefined, NOW).resultReason).toBe('the command ended Success');
  });

  it('records a cancelled command as a cancelled action', () => {
    expect(actionChanges(invocation('Cancelled'), undefined, undefined, NOW)).toEqual({ status: 'Cancelled', result: 'Cancelled', resultReason: 'the running command was cancelled', endedAt: NOW });
  });

  it('leaves an interrupted script to verification, except where nothing is left to verify', () => {
    const interrupted = 'interrupted: the script stopped without an exit code';
    expect(actionChanges(invocation('Failed'), ran(-1), undefined, NOW)).toMatchObject({ status: 'DeterminingResult', resultReason: interrupted });
    expect(actionChanges(invocation('Failed'), ran(-1), 'Install', NOW)).toMatchObject({ status: 'DeterminingResult', resultReason: interrupted });
    for (const type of ['TaskAudit', 'Reboot'] as const) {
      expect(actionChanges(invocation('Failed'), ran(-1), type, NOW), type).toMatchObject({ status: 'Complete', result: 'Indeterminable', resultStage: 'Execution', resultReason: interrupted, endedAt: NOW });
    }
    // exit -1 from an agent that says Success is a script that said so itself: a failure, not an interruption
    expect(actionChanges(invocation('Success'), ran(-1), undefined, NOW)).toMatchObject({ result: 'Failed', resultReason: 'the script exited -1' });
  });

  it('lets an audit and a restart decide their own result', () => {
    expect(actionChanges(invocation('Success'), ran(0), 'TaskAudit', NOW)).toMatchObject({ status: 'Complete', result: 'Success', resultStage: 'Execution', resultReason: 'Audited', endedAt: NOW });
    expect(actionChanges(invocation('Success'), ran(0), 'Reboot', NOW)).toMatchObject({ status: 'Complete', result: 'Success', resultReason: 'Restarted' });
    expect(actionChanges(invocation('Success'), ran(0), 'Install', NOW)).toMatchObject({ status: 'DeterminingResult' });
  });
});

/** The stdout of an action script: its result record under the nonce. */
const resultRecord = (nonce: string, exitCode: number, failedStep?: number) =>
  `installing...\n${RESULT_RECORD_TAG} ${nonce} ${exitCode} 1500${failedStep === undefined ? '' : ` ${String(failedStep)}`}\n`;
/** The stdout of a detection: one record for the app, found at `version`. */
const detectionRecord = (nonce: string, version: string) => `${ITEM_RECORD_TAG} ${nonce} ${encodeBase64('software:app')} 0 ${encodeBase64(`${version}\n`)} ${encodeBase64('')} - ${encodeBase64('')}\n`;

describe('completing a command (store on dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  /** A running session with one action of `type` whose command went out; returns the comment to finish it by. */
  async function actionSent(overrides: Partial<Action> = {}, sessionOverrides = {}): Promise<{ sessionId: string; comment: string; nonce: string }> {
    h = harness();
    const { id: sessionId } = await h.session(sessionOverrides);
    await h.actions(sessionId, [{ actionId: '001', ...overrides }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 'step' })).toBe('sent');
    const comment = h.agent.sent[0]?.comment ?? '';
    return { sessionId, comment, nonce: comment.split('/')[3] ?? '' };
  }

  const complete = (commandId: string) => completeCommand(h.deps, { commandId, agentId: 'i-0123456789abcdef0' });

  /** Counts the action completion writes from here on (the design: one per finished command). */
  function countWrites(): { writes: number } {
    const counter = { writes: 0 };
    const write = h.deps.sessions.completeActionDispatch.bind(h.deps.sessions);
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        completeActionDispatch: (input: Parameters<typeof write>[0]) => {
          counter.writes++;
          return write(input);
        },
      }),
    };
    return counter;
  }

  /** The store, with one of its methods replaced. */
  const withStore = (method: string, replacement: (...args: never[]) => Promise<unknown>) => ({
    ...h.deps,
    sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, { [method]: replacement }),
  });

  it.each([
    ['Install', 'Success', 0, undefined],
    ['Update', 'Success', 0, undefined],
    ['Downgrade', 'Success', 0, undefined],
    ['Uninstall', 'Success', 0, undefined],
    ['Reinstall', 'Success', 0, undefined],
    ['TaskEnforce', 'Success', 0, undefined],
    ['Install', 'Failed', 3, 1],
    ['Downgrade', 'Failed', 3, undefined],
  ] as const)('records a finished %s (%s) in one write', async (type, status, exitCode, failedStep) => {
    const { comment, nonce } = await actionSent(type === 'TaskEnforce' ? { type, itemKey: 'task:audit', itemId: 'audit' } : { type }, { items: [softwareItem('app', { itemName: 'App' }), taskItem('audit')] });
    const counter = countWrites();
    expect(await complete(h.agent.finish(comment, status, { stdout: resultRecord(nonce, exitCode, failedStep) }))).toBe('completed');
    expect(counter.writes).toBe(1);
  });

  it('says which half of a reinstall failed', async () => {
    const { sessionId, comment, nonce } = await actionSent({ type: 'Reinstall' });
    expect(await complete(h.agent.finish(comment, 'Failed', { stdout: resultRecord(nonce, 3, 2) }))).toBe('completed');
    expect((await h.deps.sessions.getAction(sessionId, '001'))?.resultReason).toBe('the script exited 3 while installing');
  });

  it('keeps what a timed-out script printed', async () => {
    for (const status of ['TimedOut', 'ExecutionTimedOut'] as const) {
      const { sessionId, comment, nonce } = await actionSent();
      await complete(h.agent.finish(comment, status, { stdout: resultRecord(nonce, 0) }));
      expect(await h.deps.sessions.getAction(sessionId, '001'), status).toMatchObject({ result: 'Failed', outputTail: 'installing...', exitCode: 0 });
    }
  });

  it('logs a completion for the operator with the command and its status', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    const commandId = h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) });
    await complete(commandId);
    expect(h.logged.filter((l) => l.message === 'command completed')).toEqual([
      { level: 'info', message: 'command completed', fields: { sessionId, key: 'Action#001', commandId, status: 'Success' } },
    ]);
  });

  it('answers the step of an action whose command never reached the computer, without failing it', async () => {
    const { comment } = await actionSent();
    await complete(h.agent.finish(comment, 'Undeliverable'));
    expect(h.workflow.answers.map((a) => a.kind)).toEqual(['complete']);
  });

  it('lets a store failure other than a lost race through', async () => {
    const { comment, nonce } = await actionSent();
    const broken = new Error('the table is throttled');
    h.deps = withStore('completeActionDispatch', () => Promise.reject(broken));
    await expect(complete(h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) }))).rejects.toBe(broken);
  });

  it('calls an event for an action that was never dispatched not ours', async () => {
    h = harness();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    expect(await complete(h.agent.finish(commandComment(sessionId, 'Action#001', 'n_1'), 'Success'))).toBe('not-ours');
    expect(await complete(h.agent.finish(commandComment(sessionId, 'Detect', 'n_1'), 'Success'))).toBe('not-ours');
  });

  it('counts a second completion of a closed action that loses the race as a duplicate, and passes other failures on', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    await h.deps.sessions.updateAction(sessionId, '001', ['PerformingAction'], { status: 'Cancelled', result: 'Cancelled' });
    const commandId = h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) });
    const plain = h.deps;
    h.deps = withStore('completeDispatch', () => Promise.reject(new ConflictError('completed by the other event')));
    expect(await complete(commandId)).toBe('duplicate');
    expect(h.workflow.answers).toEqual([]);
    const broken = new Error('the table is throttled');
    h.deps = { ...plain, sessions: Object.assign(Object.create(plain.sessions) as typeof plain.sessions, { completeDispatch: () => Promise.reject(broken) }) };
    await expect(complete(commandId)).rejects.toBe(broken);
  });

  it('takes a redelivered completion off the worklist and brings its session back online, if the first telling died before', async () => {
    h = harness();
    h.agent.online = false;
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 'step' });
    const comment = h.agent.sent[0]?.comment ?? '';
    const commandId = h.agent.finish(comment, 'Success', { stdout: resultRecord(comment.split('/')[3] ?? '', 0) });
    await complete(commandId);
    expect((await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.tokenDelivered).toBeFalsy();
    // as if the first completion had died after recording, before the session was back online
    const session = await h.deps.sessions.getSession(sessionId);
    await h.deps.sessions.updateSession(sessionId, session?.version ?? 0, { status: 'PendingConnectivity' }, h.clock.now().toISOString());
    expect(await complete(commandId)).toBe('redelivered');
    expect((await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.tokenDelivered).toBe(true);
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('Running');
    expect(h.lines.filter((l) => l.message === 'PC is back online').map((l) => l.kind)).toEqual(['Agent', 'Agent']);
  });

  it('ignores a command that has not finished, and one that is not ours', async () => {
    h = harness();
    h.agent.finish('nightshift/x/Detect/n_1', 'InProgress');
    expect(await complete('cmd-foreign-0')).toBe('not-final');
    h.agent.finish('someone else', 'Success');
    expect(await complete('cmd-foreign-1')).toBe('not-ours');
    h.agent.finish(commandComment('nosuchsession', 'Detect', 'n_1'), 'Success');
    expect(await complete('cmd-foreign-2')).toBe('not-ours');
    h.agent.finish(commandComment('nosuchsession', 'Action#001', 'n_1'), 'Success');
    expect(await complete('cmd-foreign-3')).toBe('not-ours');
    expect(h.workflow.answers).toEqual([]);
  });

  it('records an action\'s result and then tells its step, once; a redelivered event only tells again', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    const commandId = h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) });
    expect(await complete(commandId)).toBe('completed');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'DeterminingResult', resultReason: 'ScriptSucceeded', exitCode: 0, durationMs: 1500, outputTail: 'installing...' });
    const outcome = { key: 'Action#001', commandId, status: 'Success', summary: 'ScriptSucceeded' };
    expect(await h.deps.sessions.getDispatch(sessionId, 'Action#001')).toMatchObject({ status: 'Completed', outcome });
    expect(h.workflow.answers).toEqual([{ token: 'step', kind: 'complete', output: outcome }]);
    expect(h.lines.map((line) => [line.kind, line.message, line.actionId, line.output])).toEqual([['Action', 'Install App finished', '001', 'installing...']]);

    expect(await complete(commandId)).toBe('redelivered');
    h.workflow.gone.add('step');
    expect(await complete(commandId)).toBe('duplicate');
    expect(h.lines).toHaveLength(1);
    expect(h.workflow.answers).toHaveLength(3);
  });

  it('keeps the action on the reconciler\'s worklist until the report settles it', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    await complete(h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) }));
    const dueBefore = new Date(h.clock.now().getTime() + (ACTION_ANSWER_CHECK_AFTER_SECONDS + 1) * 1000).toISOString();
    const justBefore = new Date(h.clock.now().getTime() + (ACTION_ANSWER_CHECK_AFTER_SECONDS - 1) * 1000).toISOString();
    expect((await h.deps.sessions.listWaitingDispatches(dueBefore, 100)).some((d) => d.sessionId === sessionId)).toBe(true);
    expect((await h.deps.sessions.listWaitingDispatches(justBefore, 100)).some((d) => d.sessionId === sessionId)).toBe(false);
  });

  it('fails an action whose command timed out, though its script recorded exit 0', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    expect(await complete(h.agent.finish(comment, 'ExecutionTimedOut', { stdout: resultRecord(nonce, 0) }))).toBe('completed');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Failed', resultReason: 'the script ran past its time limit' });
    expect(h.lines.map((line) => line.message)).toEqual(['Install App failed: the script ran past its time limit']);
  });

  it('applies nothing from a completion whose nonce is not the dispatch\'s (a superseded command)', async () => {
    const { sessionId, comment } = await actionSent();
    const stale = comment.replace(/\/[^/]+$/, '/n_stale');
    const [sent] = h.agent.sent;
    if (!sent) throw new Error('nothing was sent');
    h.agent.sent.push({ ...sent, comment: stale });
    expect(await complete(h.agent.finish(stale, 'Failed', { stdout: resultRecord('n_stale', 5) }))).toBe('superseded');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'PerformingAction', result: 'Pending' });
    expect((await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.status).toBe('Sending');
    expect(h.workflow.answers).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('does not apply a late completion of another command over the result already recorded', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    const first = h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) });
    expect(await complete(first)).toBe('completed');
    // a second command under the same claim (a resend whose first copy did go out after all) ends later, failed
    const [sent] = h.agent.sent;
    if (!sent) throw new Error('nothing was sent');
    h.agent.sent.push({ ...sent });
    const lateId = 'cmd-2';
    h.agent.invocations.set(lateId, { ...(await h.agent.getInvocation(first)), commandId: lateId, status: 'Failed', stdout: resultRecord(nonce, 9) });
    expect(await complete(lateId)).toBe('redelivered');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'DeterminingResult', exitCode: 0 });
    expect((await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.outcome?.commandId).toBe(first);
  });

  it.each([
    ['TaskAudit', { type: 'TaskAudit', itemKey: 'task:audit', itemId: 'audit', itemName: 'Audit' }, 'Audited', 'TaskAudit Audit finished'],
    ['Reboot', { type: 'Reboot', itemKey: 'reboot', itemId: 'reboot', itemName: 'Restart' }, 'Restarted', 'Reboot Restart finished'],
  ] as const)('lets a %s decide its own result in a second write', async (_, overrides, reason, line) => {
    const { sessionId, comment, nonce } = await actionSent(overrides as Partial<Action>, { items: [taskItem('audit', { mode: 'Audit' })] });
    expect(await complete(h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) }))).toBe('completed');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Success', resultReason: reason });
    expect(h.lines.map((l) => l.message)).toEqual([line]);
    expect(h.workflow.answers).toHaveLength(1);
  });

  it('says which half of a downgrade failed', async () => {
    const { sessionId, comment, nonce } = await actionSent({ type: 'Downgrade', fromVersion: '3.0', toVersion: '2.0' });
    expect(await complete(h.agent.finish(comment, 'Failed', { stdout: resultRecord(nonce, 4, 1), responseCode: 4 }))).toBe('completed');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Failed', resultReason: 'the script exited 4 while uninstalling' });
    expect(h.lines.map((l) => l.message)).toEqual(['Downgrade App failed: the script exited 4 while uninstalling']);
  });

  it('logs a cancelled command and an interrupted script in words', async () => {
    const { comment } = await actionSent();
    await complete(h.agent.finish(comment, 'Cancelled'));
    expect(h.lines.map((l) => l.message)).toEqual(['Install App cancelled']);
    const second = await actionSent();
    await complete(h.agent.finish(second.comment, 'Failed', { stdout: 'half way\n', responseCode: -1 }));
    expect(h.lines.map((l) => l.message)).toEqual(['Install App was interrupted (verification decides)']);
    const audit = await actionSent({ type: 'TaskAudit', itemKey: 'task:audit', itemId: 'audit', itemName: 'Audit' }, { items: [taskItem('audit', { mode: 'Audit' })] });
    await complete(h.agent.finish(audit.comment, 'Failed', { stdout: 'half way\n', responseCode: -1 }));
    expect(h.lines.map((l) => l.message)).toEqual(['TaskAudit Audit was interrupted (its effect is unknown)']);
    const unreachable = await actionSent();
    await complete(h.agent.finish(unreachable.comment, 'DeliveryTimedOut'));
    expect(h.lines.map((l) => [l.message, l.output])).toEqual([['Install App failed: the computer did not come online before the delivery timeout', undefined]]);
  });

  it('answers the step of an action closed meanwhile (the session failed), without touching the action again', async () => {
    const { sessionId, comment, nonce } = await actionSent();
    await h.deps.sessions.updateAction(sessionId, '001', ['PerformingAction'], { status: 'Complete', result: 'Indeterminable', resultReason: 'session failed' });
    const commandId = h.agent.finish(comment, 'Success', { stdout: resultRecord(nonce, 0) });
    expect(await complete(commandId)).toBe('completed');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Indeterminable' });
    expect(await h.deps.sessions.getDispatch(sessionId, 'Action#001')).toMatchObject({ status: 'Completed', tokenDelivered: true });
    expect(h.workflow.answers).toEqual([{ token: 'step', kind: 'complete', output: { key: 'Action#001', commandId, status: 'Success', summary: 'ScriptSucceeded' } }]);
    expect(await complete(commandId)).toBe('redelivered');
  });

  it('brings a session that waited for its offline computer back once a command ran there, not when it never arrived', async () => {
    h = harness();
    h.agent.online = false;
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }, { actionId: '002' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 'a' });
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '002', taskToken: 'b' });
    const [first, second] = h.agent.sent.map((c) => c.comment);
    await complete(h.agent.finish(first ?? '', 'DeliveryTimedOut'));
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('PendingConnectivity');
    await complete(h.agent.finish(second ?? '', 'Success', { stdout: resultRecord((second ?? '').split('/')[3] ?? '', 0) }));
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('Running');
    expect(h.lines.map((l) => l.message)).toContain('PC is back online');
    expect(h.lines.filter((l) => l.message === 'PC is back online')).toHaveLength(1);
  });

  describe('detections', () => {
    async function detectionSent(purpose: 'Detect' | 'Verify' = 'Detect', sessionOverrides = {}): Promise<{ sessionId: string; comment: string; nonce: string }> {
      h = harness();
      const { id: sessionId } = await h.session(sessionOverrides);
      await dispatchCommand(h.deps, { sessionId, purpose, taskToken: 'step' });
      const comment = h.agent.sent[0]?.comment ?? '';
      return { sessionId, comment, nonce: comment.split('/')[3] ?? '' };
    }

    it('saves what detection found, closes the Detection stage it opened, logs it and tells the step', async () => {
      const { sessionId, comment, nonce } = await detectionSent('Detect', { stages: { Detection: { status: 'Running', startedAt: NOW }, Execution: { status: 'Unstarted' }, Verification: { status: 'Unstarted' } } });
      const commandId = h.agent.finish(comment, 'Success', { stdout: detectionRecord(nonce, '1.5') });
      expect(await complete(commandId)).toBe('completed');
      expect(await h.deps.sessions.getDetection(sessionId, 'Initial')).toMatchObject({ phase: 'Initial', items: { 'software:app': { state: 'Present', version: '1.5' } } });
      expect((await h.deps.sessions.getSession(sessionId))?.stages.Detection).toEqual({ status: 'Succeeded', startedAt: NOW, endedAt: h.clock.now().toISOString() });
      expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', 'detection: detected 1 of 1 item(s)']]);
      const outcome = { key: 'Detect', commandId, status: 'Success', summary: 'detected 1 of 1 item(s)' };
      expect(h.workflow.answers).toEqual([{ token: 'step', kind: 'complete', output: outcome }]);
      expect(await h.deps.sessions.getDispatch(sessionId, 'Detect')).toMatchObject({ status: 'Completed', tokenDelivered: true, outcome });
      expect(await complete(commandId)).toBe('redelivered');
    });

    it('counts what it could not determine, and leaves a stage it did not open alone', async () => {
      const { sessionId, comment } = await detectionSent('Detect');
      await complete(h.agent.finish(comment, 'Success', { stdout: 'nothing useful\n' }));
      expect(h.lines.map((l) => l.message)).toEqual(['detection: detected 0 of 1 item(s)']);
      expect((await h.deps.sessions.getSession(sessionId))?.stages.Detection.status).toBe('Unstarted');
    });

    it('looks only for the items the session manages, and says when the output was cut off', async () => {
      const { sessionId, comment } = await detectionSent('Detect', { items: [softwareItem('app', { itemName: 'App' }), softwareItem('old', { origin: 'Unassigned' })] });
      const commandId = h.agent.finish(comment, 'Success', { stdout: 'cut here' });
      const invocation = await h.agent.getInvocation(commandId);
      h.agent.invocations.set(commandId, { ...invocation, stdoutTruncated: true });
      await complete(commandId);
      expect((await h.deps.sessions.getDetection(sessionId, 'Initial'))?.items).toEqual({
        'software:app': { state: 'Undetermined', reason: 'the detection output was cut off before this item reported' },
      });
      expect(h.logged.filter((l) => l.message === 'command completed')).toEqual([
        { level: 'info', message: 'command completed', fields: { sessionId, computerId: 'pc', key: 'Detect', commandId, status: 'Success' } },
      ]);
    });

    it('counts a detection completed by a racing event as a duplicate, and passes other failures on', async () => {
      const { comment } = await detectionSent();
      const commandId = h.agent.finish(comment, 'Success');
      const plain = h.deps;
      h.deps = withStore('completeDispatch', () => Promise.reject(new ConflictError('completed by the other event')));
      expect(await complete(commandId)).toBe('duplicate');
      expect(h.workflow.answers).toEqual([]);
      // the completion that won logs the detection's line, once: the loser adds none
      expect(h.lines).toEqual([]);
      const broken = new Error('the table is throttled');
      h.deps = { ...plain, sessions: Object.assign(Object.create(plain.sessions) as typeof plain.sessions, { completeDispatch: () => Promise.reject(broken) }) };
      await expect(complete(commandId)).rejects.toBe(broken);
    });

    it('records verification under its own phase', async () => {
      const { sessionId, comment, nonce } = await detectionSent('Verify');
      await complete(h.agent.finish(comment, 'Success', { stdout: detectionRecord(nonce, '2.0') }));
      expect(await h.deps.sessions.getDetection(sessionId, 'Verification')).toMatchObject({ items: { 'software:app': { state: 'Present', version: '2.0' } } });
      expect(await h.deps.sessions.getDetection(sessionId, 'Initial')).toBeUndefined();
      expect(h.lines.map((l) => l.message)).toEqual(['verification: detected 1 of 1 item(s)']);
    });

    it.each([
      ['DeliveryTimedOut', 'AgentUnreachableError', 'the computer did not come online before the delivery timeout'],
      ['Undeliverable', 'AgentUnreachableError', 'the computer is not reachable by the agent'],
      ['Terminated', 'AgentUnreachableError', 'the computer was terminated'],
      ['InvalidPlatform', 'AgentFailedError', 'the command does not fit the computer platform'],
      ['AccessDenied', 'AgentFailedError', 'the agent was denied access to the computer'],
      ['Cancelled', 'AgentFailedError', 'the command was cancelled'],
    ] as const)('fails the step of a detection that %s (%s), recording why', async (status, error, summary) => {
      const { sessionId, comment } = await detectionSent();
      const commandId = h.agent.finish(comment, status);
      expect(await complete(commandId)).toBe('completed');
      expect(h.workflow.answers).toEqual([{ token: 'step', kind: 'fail', error }]);
      expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.outcome).toEqual({ key: 'Detect', commandId, status, summary });
      expect(await h.deps.sessions.getDetection(sessionId, 'Initial')).toBeUndefined();
    });

    it('finishes a cancelled session\'s detection quietly, whatever became of the command', async () => {
      const { sessionId, comment } = await detectionSent();
      const session = await h.deps.sessions.getSession(sessionId);
      await h.deps.sessions.updateSession(sessionId, session?.version ?? 0, { status: 'Cancelled' }, h.clock.now().toISOString());
      const commandId = h.agent.finish(comment, 'DeliveryTimedOut');
      expect(await complete(commandId)).toBe('completed');
      expect(h.workflow.answers.map((a) => a.kind)).toEqual(['complete']);
      expect(await complete(commandId)).toBe('redelivered');
      expect(h.workflow.answers.map((a) => a.kind)).toEqual(['complete', 'complete']);
    });

    it('applies nothing from a detection whose nonce is not the dispatch\'s', async () => {
      const { sessionId, comment } = await detectionSent();
      const stale = comment.replace(/\/[^/]+$/, '/n_stale');
      expect(await complete(h.agent.finish(stale, 'Success'))).toBe('superseded');
      expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Sending');
      expect(h.workflow.answers).toEqual([]);
    });

    it('tells nobody about a dispatch that was abandoned', async () => {
      const { sessionId, comment } = await detectionSent();
      await h.deps.sessions.abandonDispatch(sessionId, 'Detect');
      expect(await complete(h.agent.finish(comment, 'Success'))).toBe('superseded');
      expect(h.workflow.answers).toEqual([]);
    });

    it('brings a session back from waiting for its offline computer when the detection ran', async () => {
      h = harness();
      h.agent.online = false;
      const { id: sessionId } = await h.session();
      await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 'step' });
      const comment = h.agent.sent[0]?.comment ?? '';
      await complete(h.agent.finish(comment, 'Success', { stdout: detectionRecord(comment.split('/')[3] ?? '', '1.0') }));
      expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('Running');
      // in the order it happened: back online, and then what the detection it ran found (logged as the step is told)
      expect(h.lines.map((l) => l.message)).toEqual(['PC is offline; waiting for it to connect', 'PC is back online', 'detection: detected 1 of 1 item(s)']);
    });
  });
});
