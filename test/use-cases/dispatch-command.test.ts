import { describe, expect, it } from 'vitest';
import { AgentUnreachableError, ConflictError, DispatchInProgressError, NotFoundError } from '../../functions/core/errors.js';
import { commandComment } from '../../functions/core/model/agent.js';
import { taskItem } from '../support/domain.js';
import { DISPATCH_LEASE_SECONDS, decideRetry, dispatchCommand, dispatchKeyFor } from '../../functions/core/use-cases/dispatch-command.js';
import { useCaseHarness, type Harness } from './harness.js';

const LEASE_MS = DISPATCH_LEASE_SECONDS * 1000;

describe('a retry that finds a dispatch still Sending (pure rule)', () => {
  const now = new Date('2026-11-23T10:00:00.000Z');
  const leaseUntil = (offsetMs: number) => ({ leaseUntil: new Date(now.getTime() + offsetMs).toISOString() });

  it('waits for the command it finds out there, whatever the lease says', () => {
    expect(decideRetry(leaseUntil(60_000), { commandOut: true, sessionCancelled: false, now })).toBe('already-running');
    expect(decideRetry(leaseUntil(-60_000), { commandOut: true, sessionCancelled: true, now })).toBe('already-running');
  });

  it('waits while the claim\'s lease runs, to its last millisecond; the lease ends at its instant', () => {
    expect(decideRetry(leaseUntil(1), { commandOut: false, sessionCancelled: false, now })).toBe('wait');
    expect(decideRetry(leaseUntil(1), { commandOut: false, sessionCancelled: true, now })).toBe('wait');
    expect(decideRetry(leaseUntil(0), { commandOut: false, sessionCancelled: false, now })).toBe('take-over');
  });

  it('takes over a claim past its lease, or one without a lease; sends nothing for a cancelled session', () => {
    expect(decideRetry(leaseUntil(-1), { commandOut: false, sessionCancelled: false, now })).toBe('take-over');
    expect(decideRetry({}, { commandOut: false, sessionCancelled: false, now })).toBe('take-over');
    expect(decideRetry(leaseUntil(-1), { commandOut: false, sessionCancelled: true, now })).toBe('skip-cancelled');
  });

  it('keys a dispatch by purpose, an action by its id', () => {
    expect(dispatchKeyFor('Detect', undefined)).toBe('Detect');
    expect(dispatchKeyFor('Verify', '007')).toBe('Verify');
    expect(dispatchKeyFor('Action', '007')).toBe('Action#007');
    expect(() => dispatchKeyFor('Action', undefined)).toThrow(new NotFoundError('action', '(none given)'));
    expect(() => dispatchKeyFor('Action', '')).toThrow(new NotFoundError('action', '(none given)'));
  });
});

describe('dispatching a command (store on dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  const fresh = () => (h = harness());

  /** The first attempt claims the dispatch, then dies before its command goes out. */
  async function claimThenDie(sessionId: string, purpose: 'Detect' | 'Action' = 'Detect'): Promise<void> {
    h.agent.failSend = new Error('the Lambda died right here');
    await expect(dispatchCommand(h.deps, { sessionId, purpose, ...(purpose === 'Action' ? { actionId: '001' } : {}), taskToken: 't1' })).rejects.toThrow('died');
    h.agent.failSend = undefined;
  }

  it('an attempt that loses the claim to a concurrent one sends nothing', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    const claim = h.deps.sessions.claimDispatch.bind(h.deps.sessions);
    let raced = false;
    // the other attempt claims and sends between this attempt's read (no dispatch yet) and its claim
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        claimDispatch: async (dispatch: Parameters<typeof claim>[0]) => {
          if (!raced) {
            raced = true;
            expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 'other' })).toBe('sent');
          }
          return claim(dispatch);
        },
      }),
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 'mine' })).toBe('already-running');
    expect(h.agent.sent).toHaveLength(1);
    // the command that went out now answers the later attempt's token
    expect(await h.deps.sessions.getDispatch(sessionId, 'Detect')).toMatchObject({ status: 'Sending', taskToken: 'mine' });
  });

  it('an action step that loses the claim to a concurrent one sends nothing', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    const start = h.deps.sessions.startActionDispatch.bind(h.deps.sessions);
    let raced = false;
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        startActionDispatch: async (...args: Parameters<typeof start>) => {
          if (!raced) {
            raced = true;
            expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 'other' })).toBe('sent');
          }
          return start(...args);
        },
      }),
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 'mine' })).toBe('already-running');
    expect(h.agent.sent).toHaveLength(1);
  });

  it('records a takeover after the lease, so a third attempt that cannot see the resent command yet waits instead of sending again', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await claimThenDie(sessionId);
    h.clock.advance(LEASE_MS + 1);
    h.agent.listingLags = true;
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('resent');
    expect((await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.leaseUntil).toBe(new Date(h.clock.now().getTime() + LEASE_MS).toISOString());
    await expect(dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't3' })).rejects.toBeInstanceOf(DispatchInProgressError);
    expect(h.agent.sent).toHaveLength(1);
  });

  it('lets only one of two attempts that both found the lease over take the claim', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await claimThenDie(sessionId);
    h.clock.advance(LEASE_MS + 1);
    h.agent.listingLags = true;
    const takeOver = h.deps.sessions.takeOverDispatch.bind(h.deps.sessions);
    let raced = false;
    const racing = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        takeOverDispatch: async (...args: Parameters<typeof takeOver>) => {
          if (!raced) {
            raced = true;
            // the other attempt read the same stale claim and takes it over first
            expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 'other' })).toBe('resent');
          }
          return takeOver(...args);
        },
      }),
    };
    const lost = dispatchCommand(racing, { sessionId, purpose: 'Detect', taskToken: 'mine' });
    await expect(lost).rejects.toThrow(/another attempt took over Detect/);
    await expect(lost).rejects.toMatchObject({ name: 'DispatchInProgressError', cause: { name: 'ConflictError' } });
    expect(h.agent.sent).toHaveLength(1);
  });

  it('takes the claim over at the lease\'s last instant, not before', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await claimThenDie(sessionId);
    h.clock.advance(LEASE_MS - 1);
    await expect(dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).rejects.toThrow(/trying again after its lease/);
    h.clock.advance(1);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't3' })).toBe('resent');
  });

  it('resends an action with its own script after the lease, under the claim\'s nonce', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    await claimThenDie(sessionId, 'Action');
    h.clock.advance(LEASE_MS + 1);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't2' })).toBe('resent');
    const nonce = (await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.nonce ?? '?';
    expect(h.agent.sent.map((c) => c.comment)).toEqual([commandComment(sessionId, 'Action#001', nonce)]);
    expect(h.agent.sent[0]?.script).toContain('NIGHTSHIFT_ACTION');
  });

  it('points a running command at the new attempt\'s token, and answers a finished one from its stored outcome', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' })).toBe('sent');
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('already-running');
    expect(await h.deps.sessions.getDispatch(sessionId, 'Detect')).toMatchObject({ taskToken: 't2', status: 'Sending' });
    const nonce = (await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '';
    const outcome = { key: 'Detect' as const, commandId: 'cmd-1', status: 'Success' as const, summary: 'detected 1 of 1 item(s)' };
    await h.deps.sessions.completeDispatch(sessionId, 'Detect', nonce, outcome, h.clock.now().toISOString());
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't3' })).toBe('already-complete');
    expect(h.workflow.answers).toEqual([{ token: 't3', kind: 'complete', output: outcome }]);
    expect(h.agent.sent).toHaveLength(1);
  });

  it('tells a retried detection of a cancelled session that it was cancelled, even with an outcome recorded', async () => {
    fresh();
    const { id: sessionId, version } = await h.session();
    await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' });
    const nonce = (await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '';
    const outcome = { key: 'Detect' as const, commandId: 'cmd-1', status: 'DeliveryTimedOut' as const, summary: 'offline' };
    await h.deps.sessions.completeDispatch(sessionId, 'Detect', nonce, outcome, h.clock.now().toISOString());
    await h.deps.sessions.updateSession(sessionId, version, { status: 'Cancelled' }, h.clock.now().toISOString());
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('skipped-cancelled');
    expect(h.workflow.answers).toEqual([{ token: 't2', kind: 'complete', output: { key: 'Detect', skipped: 'cancelled' } }]);
  });

  it('answers a retried action step of a cancelled session from the outcome its command recorded', async () => {
    fresh();
    const { id: sessionId, version } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' });
    const nonce = (await h.deps.sessions.getDispatch(sessionId, 'Action#001'))?.nonce ?? '';
    const outcome = { key: 'Action#001' as const, commandId: 'cmd-1', status: 'Failed' as const, summary: 'the script exited 3' };
    await h.deps.sessions.completeDispatch(sessionId, 'Action#001', nonce, outcome, h.clock.now().toISOString());
    await h.deps.sessions.updateSession(sessionId, version, { status: 'Cancelled' }, h.clock.now().toISOString());
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't2' })).toBe('already-complete');
    expect(h.workflow.answers).toEqual([{ token: 't2', kind: 'complete', output: outcome }]);
  });

  it('tells a step whose claim was abandoned that nothing will answer it', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await claimThenDie(sessionId);
    await h.deps.sessions.abandonDispatch(sessionId, 'Detect');
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('skipped-cancelled');
    expect(h.workflow.answers).toEqual([{ token: 't2', kind: 'complete', output: { key: 'Detect', skipped: 'abandoned' } }]);
    expect(h.agent.sent).toHaveLength(0);
  });

  it('sends nothing for a cancelled session and answers its step', async () => {
    fresh();
    const { id: sessionId } = await h.session({ status: 'Cancelled' });
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Verify', taskToken: 't1' })).toBe('skipped-cancelled');
    expect(h.workflow.answers).toEqual([{ token: 't1', kind: 'complete', output: { key: 'Verify', skipped: 'cancelled' } }]);
    expect(h.agent.sent).toHaveLength(0);
    expect(await h.deps.sessions.getDispatch(sessionId, 'Verify')).toBeUndefined();
  });

  it('closes an action of a cancelled session as cancelled by whoever cancelled it', async () => {
    fresh();
    const { id: sessionId } = await h.session({ status: 'Cancelled', cancelled: { at: '2026-11-23T09:00:00.000Z', by: { kind: 'EndUser', name: 'ana' } } });
    await h.actions(sessionId, [{ actionId: '001' }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('skipped-cancelled');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({
      status: 'Cancelled',
      result: 'Cancelled',
      resultReason: 'cancelled by ana before it ran',
      endedAt: h.clock.now().toISOString(),
    });
    expect(h.workflow.answers).toEqual([{ token: 't1', kind: 'complete', output: { key: 'Action#001', skipped: 'cancelled' } }]);
  });

  it('starts verification once, when its command is claimed', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Verify', taskToken: 't1' })).toBe('sent');
    const session = await h.deps.sessions.getSession(sessionId);
    expect(session?.stages.Verification).toEqual({ status: 'Running', startedAt: h.clock.now().toISOString() });
    expect(session?.stages.Detection.status).toBe('Unstarted');
    const detect = await h.session();
    await dispatchCommand(h.deps, { sessionId: detect.id, purpose: 'Detect', taskToken: 't1' });
    expect((await h.deps.sessions.getSession(detect.id))?.stages.Verification.status).toBe('Unstarted');
  });

  it('ends a session that skips offline computers before recording anything', async () => {
    fresh();
    h.agent.online = false;
    const session = await h.session({ options: { ...(await h.session()).options, offline: 'Skip' } });
    await expect(dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Detect', taskToken: 't1' })).rejects.toThrow(
      new AgentUnreachableError('PC is offline, and this session skips offline computers'),
    );
    expect(await h.deps.sessions.getDispatch(session.id, 'Detect')).toBeUndefined();
    expect(h.agent.sent).toHaveLength(0);
  });

  it('sends to an offline computer that the session waits for, and says so once', async () => {
    fresh();
    h.agent.online = false;
    const { id: sessionId } = await h.session();
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' })).toBe('sent');
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('PendingConnectivity');
    expect(await h.deps.sessions.getDispatch(sessionId, 'Detect')).toMatchObject({ sentOffline: true });
    expect(h.lines.map((line) => [line.kind, line.message])).toEqual([['Agent', 'PC is offline; waiting for it to connect']]);
    // a second command while still waiting: no second line, no status change
    await h.actions(sessionId, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't2' });
    expect(h.lines.map((line) => line.message)).toEqual(['PC is offline; waiting for it to connect']);
    expect(h.agent.sent).toHaveLength(2);
  });

  it('marks nothing offline for a computer that is online', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' });
    expect(await h.deps.sessions.getDispatch(sessionId, 'Detect')).not.toHaveProperty('sentOffline');
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('Running');
  });

  it('asks whether the computer is online while it reads, when the workflow names the agent, and trusts that answer only for the session\'s own agent', async () => {
    fresh();
    const session = await h.session({ options: { ...(await h.session()).options, offline: 'Skip' } });
    await h.actions(session.id, [{ actionId: '001' }, { actionId: '002' }]);
    const events: string[] = [];
    const offlineAgents = new Set<string>();
    h.agent.isOnline = (agentId: string) => {
      events.push(`online? ${agentId}`);
      return Promise.resolve(!offlineAgents.has(agentId));
    };
    const read = h.deps.sessions.getActionContext.bind(h.deps.sessions);
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        getActionContext: async (...args: Parameters<typeof read>) => {
          events.push('read');
          const context = await read(...args);
          events.push('read done');
          return context;
        },
      }),
    };

    // asked before the read has answered (it used to wait for the read, for the session's agent id)
    expect(await dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Action', actionId: '001', taskToken: 't1', agentId: session.agentId })).toBe('sent');
    expect(events).toEqual([`online? ${session.agentId}`, 'read', 'read done']);

    // an agent that is not the session's: its answer is not the computer's, which is asked after the read
    events.length = 0;
    const otherAgent = 'i-0fedcba9876543210';
    offlineAgents.add(session.agentId);
    await expect(
      dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Action', actionId: '002', taskToken: 't2', agentId: otherAgent }),
    ).rejects.toThrow(new AgentUnreachableError('PC is offline, and this session skips offline computers'));
    expect(events).toEqual([`online? ${otherAgent}`, 'read', 'read done', `online? ${session.agentId}`]);
    expect(await h.deps.sessions.getAction(session.id, '002')).toMatchObject({ status: 'NotStarted' });
    expect(h.agent.sent).toHaveLength(1);
  });

  it('claims an action\'s command in the write that starts it, with a lease and the step\'s token', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1', dependsOn: [], itemKey: 'software:app' })).toBe('sent');
    const now = h.clock.now();
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'PerformingAction', startedAt: now.toISOString() });
    expect(await h.deps.sessions.getDispatch(sessionId, 'Action#001')).toMatchObject({
      status: 'Sending',
      taskToken: 't1',
      attempts: 1,
      createdAt: now.toISOString(),
      leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(),
    });
    expect(h.workflow.answers).toEqual([]);
  });

  it('skips an action whose prerequisite failed, naming it, and reads prerequisites the workflow did not pass', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [
      { actionId: '001', itemName: 'Runtime', status: 'Complete', result: 'Failed' },
      { actionId: '002', itemName: 'Lib', status: 'Complete', result: 'Success' },
      { actionId: '003', dependsOn: ['002', '001'] },
    ]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '003', taskToken: 't1', dependsOn: ['002'] })).toBe('settled');
    expect(await h.deps.sessions.getAction(sessionId, '003')).toMatchObject({ status: 'Skipped', result: 'Failed', resultReason: 'prerequisite Runtime (Install) did not succeed' });
    expect(h.workflow.answers).toEqual([{ token: 't1', kind: 'complete', output: { key: 'Action#003', settled: 'Skipped' } }]);
    expect(h.agent.sent).toHaveLength(0);
  });

  it('completes a monitoring action from detection without sending anything', async () => {
    fresh();
    const { id: sessionId } = await h.session({ items: [taskItem('audit', { mode: 'Monitor' })] });
    await h.actions(sessionId, [{ actionId: '001', type: 'TaskMonitor', itemKey: 'task:audit', itemId: 'audit' }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('settled');
    expect(await h.deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Complete', result: 'Success', resultReason: 'ReportedNotCompliant' });
    expect(h.agent.sent).toHaveLength(0);
  });

  it('answers a repeated step of an action that ended without a command where it stands', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001', status: 'Skipped', result: 'Failed' }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('settled');
    expect(h.workflow.answers).toEqual([{ token: 't1', kind: 'complete', output: { key: 'Action#001', settled: 'Skipped' } }]);
  });

  it('answers a step whose action was closed between its read and its claim, sending nothing', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    const start = h.deps.sessions.startActionDispatch.bind(h.deps.sessions);
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        startActionDispatch: async (...args: Parameters<typeof start>) => {
          await h.deps.sessions.updateAction(sessionId, '001', ['NotStarted'], { status: 'Cancelled', result: 'Cancelled' });
          return start(...args);
        },
      }),
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('settled');
    expect(h.workflow.answers).toEqual([{ token: 't1', kind: 'complete', output: { key: 'Action#001', settled: 'Cancelled' } }]);
    expect(h.agent.sent).toHaveLength(0);
  });

  it('names its nonce n_…, logs what it sent for the operator, and says nothing to the step until the command ends', async () => {
    fresh();
    const session = await h.session();
    expect(await dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Detect', taskToken: 't1' })).toBe('sent');
    expect((await h.deps.sessions.getDispatch(session.id, 'Detect'))?.nonce).toMatch(/^n_/);
    expect(h.logged).toEqual([{ level: 'info', message: 'command sent', fields: { sessionId: session.id, computerId: 'pc', key: 'Detect', commandId: 'cmd-1' } }]);
    await h.actions(session.id, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Action', actionId: '001', taskToken: 't2' });
    expect((await h.deps.sessions.getDispatch(session.id, 'Action#001'))?.nonce).toMatch(/^n_/);
    expect(h.workflow.answers).toEqual([]);
  });

  it('answers a retry from the dispatch it finds, without asking whether the computer is online', async () => {
    fresh();
    const session = await h.session({ options: { ...(await h.session()).options, offline: 'Skip' } });
    await dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Detect', taskToken: 't1' });
    h.agent.online = false;
    expect(await dispatchCommand(h.deps, { sessionId: session.id, purpose: 'Detect', taskToken: 't2' })).toBe('already-running');
  });

  it('leaves a verification stage that is running as it is', async () => {
    fresh();
    const startedAt = '2026-11-23T08:00:00.000Z';
    const { id: sessionId } = await h.session({ stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Succeeded' }, Verification: { status: 'Running', startedAt } } });
    await dispatchCommand(h.deps, { sessionId, purpose: 'Verify', taskToken: 't1' });
    expect((await h.deps.sessions.getSession(sessionId))?.stages.Verification).toEqual({ status: 'Running', startedAt });
  });

  it('skips an action whose failed prerequisite the workflow passed along, reading nothing more', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001', status: 'Complete', result: 'Failed' }, { actionId: '002', dependsOn: ['001'] }]);
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '002', taskToken: 't1', dependsOn: ['001'] })).toBe('settled');
    expect((await h.deps.sessions.getAction(sessionId, '002'))?.status).toBe('Skipped');
  });

  it('answers from the stored outcome when the command completed between this attempt\'s read and its write', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' });
    const nonce = (await h.deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '';
    const outcome = { key: 'Detect' as const, commandId: 'cmd-1', status: 'Success' as const, summary: 'detected 1 of 1 item(s)' };
    const replace = h.deps.sessions.replaceDispatchToken.bind(h.deps.sessions);
    h.deps = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        replaceDispatchToken: async (...args: Parameters<typeof replace>) => {
          await h.deps.sessions.completeDispatch(sessionId, 'Detect', nonce, outcome, h.clock.now().toISOString());
          return replace(...args);
        },
      }),
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('already-complete');
    expect(h.workflow.answers).toEqual([{ token: 't2', kind: 'complete', output: outcome }]);
  });

  it('lets a store failure other than a lost race through, at every conditional write of a retry', async () => {
    const broken = new Error('the table is throttled');
    const breaking = (method: 'replaceDispatchToken' | 'takeOverDispatch' | 'abandonDispatch' | 'updateAction') => ({
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, { [method]: () => Promise.reject(broken) }),
    });
    fresh();
    const first = await h.session();
    await claimThenDie(first.id);
    await expect(dispatchCommand(breaking('replaceDispatchToken'), { sessionId: first.id, purpose: 'Detect', taskToken: 't2' })).rejects.toBe(broken);
    h.clock.advance(LEASE_MS + 1);
    await expect(dispatchCommand(breaking('takeOverDispatch'), { sessionId: first.id, purpose: 'Detect', taskToken: 't3' })).rejects.toBe(broken);

    const second = await h.session();
    await h.actions(second.id, [{ actionId: '001' }]);
    await claimThenDie(second.id, 'Action');
    await h.deps.sessions.updateSession(second.id, second.version, { status: 'Cancelled' }, h.clock.now().toISOString());
    h.clock.advance(LEASE_MS + 1);
    await expect(dispatchCommand(breaking('abandonDispatch'), { sessionId: second.id, purpose: 'Action', actionId: '001', taskToken: 't2' })).rejects.toBe(broken);
    await expect(dispatchCommand(breaking('updateAction'), { sessionId: second.id, purpose: 'Action', actionId: '001', taskToken: 't3' })).rejects.toBe(broken);
    expect(h.agent.sent).toHaveLength(0);
  });

  it('still skips a cancelled session\'s action whose claim someone else abandoned, or whose action someone closed, first', async () => {
    fresh();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001' }]);
    await claimThenDie(session.id, 'Action');
    await h.deps.sessions.updateSession(session.id, session.version, { status: 'Cancelled' }, h.clock.now().toISOString());
    h.clock.advance(LEASE_MS + 1);
    // the report closed the action meanwhile, and the reconciler abandons the claim just before this step does
    await h.deps.sessions.updateAction(session.id, '001', ['PerformingAction'], { status: 'Complete', result: 'Indeterminable' });
    const racing = {
      ...h.deps,
      sessions: Object.assign(Object.create(h.deps.sessions) as typeof h.deps.sessions, {
        abandonDispatch: () => Promise.reject(new ConflictError('abandoned already')),
      }),
    };
    expect(await dispatchCommand(racing, { sessionId: session.id, purpose: 'Action', actionId: '001', taskToken: 't2' })).toBe('skipped-cancelled');
    expect((await h.deps.sessions.getAction(session.id, '001'))?.result).toBe('Indeterminable');
    expect(h.workflow.answers).toEqual([{ token: 't2', kind: 'complete', output: { key: 'Action#001', skipped: 'cancelled' } }]);
  });

  it('says a cancelled action was cancelled "by request" when nobody is named', async () => {
    fresh();
    const { id: sessionId } = await h.session({ status: 'Cancelled' });
    await h.actions(sessionId, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' });
    expect((await h.deps.sessions.getAction(sessionId, '001'))?.resultReason).toBe('cancelled by request before it ran');
  });

  it('refuses a step for a session or action that does not exist', async () => {
    fresh();
    await expect(dispatchCommand(h.deps, { sessionId: 'nope', purpose: 'Detect', taskToken: 't' })).rejects.toThrow(new NotFoundError('session', 'nope'));
    await expect(dispatchCommand(h.deps, { sessionId: 'nope', purpose: 'Action', actionId: '001', taskToken: 't' })).rejects.toThrow(new NotFoundError('session', 'nope'));
    const { id: sessionId } = await h.session();
    await expect(dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '009', taskToken: 't' })).rejects.toThrow(new NotFoundError('action', `${sessionId}/009`));
    await expect(dispatchCommand(h.deps, { sessionId, purpose: 'Action', taskToken: 't' })).rejects.toThrow(new NotFoundError('action', '(none given)'));
  });

  it('does not cancel an action\'s command when the session is still running after sending', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' });
    expect(h.agent.cancelled).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('stops an action\'s command that went out as its session was cancelled, and logs it', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    await h.actions(sessionId, [{ actionId: '001' }]);
    h.agent.duringSend = async () => {
      const current = await h.deps.sessions.getSession(sessionId);
      await h.deps.sessions.updateSession(sessionId, current?.version ?? 0, { status: 'Cancelled' }, h.clock.now().toISOString());
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('sent');
    expect(h.agent.cancelled).toEqual(['cmd-1']);
    expect(h.lines.map((line) => [line.kind, line.message])).toEqual([['Agent', 'cancelled the command that started as the session was cancelled (Action#001)']]);
  });

  it('does not look again after sending a detection: only actions are stopped that way', async () => {
    fresh();
    const { id: sessionId } = await h.session();
    h.agent.duringSend = async () => {
      const current = await h.deps.sessions.getSession(sessionId);
      await h.deps.sessions.updateSession(sessionId, current?.version ?? 0, { status: 'Cancelled' }, h.clock.now().toISOString());
    };
    expect(await dispatchCommand(h.deps, { sessionId, purpose: 'Detect', taskToken: 't1' })).toBe('sent');
    expect(h.agent.cancelled).toEqual([]);
  });
});
