import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mailParts } from '../support/mail.js';
import { scheduleParts } from '../support/schedules.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { DispatchInProgressError } from '../../functions/core/errors.js';
import { commandComment, type AgentCommand, type AgentInvocation } from '../../functions/core/model/agent.js';
import type { Session } from '../../functions/core/model/session.js';
import type { AgentPort } from '../../functions/core/ports/agent.port.js';
import type { WorkflowPort } from '../../functions/core/ports/workflow.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { DISPATCH_LEASE_SECONDS, dispatchCommand } from '../../functions/core/use-cases/dispatch-command.js';
import { recordFailure } from '../../functions/core/use-cases/record-failure.js';
import { RECONCILE_DEFAULTS, reconcileCommands } from '../../functions/core/use-cases/reconcile-commands.js';
import { sessionRecord, software, softwareItem, noInventory } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock, sequentialIds } from '../support/fleet.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';

/** An agent that records what it was asked, and whose "did a command go out?" answer the test sets. */
class RecordingAgent implements AgentPort {
  sent: AgentCommand[] = [];
  cancelled: string[] = [];
  earlier: string | undefined;
  failSend = false;
  /** Runs while the command is on its way: what else happens in that moment. */
  duringSend: () => Promise<unknown> = () => Promise.resolve();
  async send(command: AgentCommand): Promise<{ commandId: string }> {
    if (this.failSend) throw new Error('the Lambda died right here');
    this.sent.push(command);
    await this.duringSend();
    return { commandId: `cmd-${this.sent.length}` };
  }
  getInvocation(commandId: string, agentId: string): Promise<AgentInvocation> {
    return Promise.resolve({ commandId, agentId, status: 'InProgress', responseCode: -1, stdout: '', stderr: '', stdoutTruncated: false, comment: '' });
  }
  /** The comments asked about. */
  readonly found: string[] = [];
  findCommand(_agentId: string, comment: string): Promise<string | undefined> {
    this.found.push(comment);
    return Promise.resolve(this.earlier);
  }
  isOnline(): Promise<boolean> {
    return Promise.resolve(true);
  }
  cancel(commandId: string): Promise<void> {
    this.cancelled.push(commandId);
    return Promise.resolve();
  }
}

const silentWorkflow: WorkflowPort = {
  startSession: () => Promise.resolve({ alreadyRunning: false }),
  completeTask: () => Promise.resolve(true),
  failTask: () => Promise.resolve(true),
};

describe('dispatch and reconciliation under crashes and retries (store on dynalite)', () => {
  let deps: Dependencies;
  let agent: RecordingAgent;
  let close: () => Promise<void>;
  const clock = manualClock();
  let n = 0;

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    close = dynamo.close;
    const catalog = new DynamoCatalogStore(dynamo.table);
    await catalog.putSoftware(software('app'));
    deps = {
      sessions: new DynamoSessionStore(dynamo.table),
      sessionLog: { append: () => Promise.resolve(), read: () => Promise.resolve({ entries: [] }) },
      catalog,
      secrets: { put: () => Promise.resolve(), delete: () => Promise.resolve() },
      ...scheduleParts(dynamo.table),
      ...mailParts(dynamo.table),
      agent: new RecordingAgent(),
      inventory: noInventory,
      workflow: silentWorkflow,
      clock,
      ids: sequentialIds(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: new InMemoryMetrics(),
      agentSettings: { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 30, actionTimeoutSeconds: 300, skipOfflineAfterSeconds: 60 },
      windowTimers: { set: () => Promise.resolve(), clear: () => Promise.resolve() },
    };
  });
  afterAll(() => close());
  beforeEach(() => {
    agent = new RecordingAgent();
    deps = { ...deps, agent };
  });

  async function runningSession(status: Session['status'] = 'Running'): Promise<string> {
    const id = `s${++n}`;
    await deps.sessions.createSession(
      sessionRecord(id, {
        status,
        createdAt: clock.now().toISOString(),
        updatedAt: clock.now().toISOString(),
        items: [softwareItem('app', { itemName: 'App' })],
      }),
    );
    return id;
  }

  it('never sends twice: a retry during the lease waits, one after it asks SSM first, and sends only if nothing went out', async () => {
    const sessionId = await runningSession();
    // the first attempt claims the dispatch, then dies before its command is recorded
    agent.failSend = true;
    await expect(dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't1' })).rejects.toThrow('the Lambda died right here');
    agent.failSend = false;

    await expect(dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).rejects.toBeInstanceOf(DispatchInProgressError);
    expect(agent.sent).toHaveLength(0);

    clock.advance((DISPATCH_LEASE_SECONDS + 1) * 1000);
    agent.earlier = 'cmd-that-did-go-out';
    expect(await dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't3' })).toBe('already-running');
    expect(agent.sent).toHaveLength(0);
    // asked (during the lease and after it) by the comment naming the claim's nonce; no write was needed to know it
    expect(new Set(agent.found)).toEqual(new Set([commandComment(sessionId, 'Detect', (await deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '?')]));
    expect(await deps.sessions.getDispatch(sessionId, 'Detect')).toMatchObject({ status: 'Sending', taskToken: 't3' });
  });

  it('a retried or resumed detection step whose command could not reach the computer is failed the same way, not answered as a success', async () => {
    const sessionId = await runningSession();
    await dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't1' });
    const nonce = (await deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '';
    await deps.sessions.completeDispatch(sessionId, 'Detect', nonce, { key: 'Detect', commandId: 'cmd-1', status: 'DeliveryTimedOut', summary: 'the computer did not come online' }, clock.now().toISOString());
    const answers: string[] = [];
    const watching: Dependencies = {
      ...deps,
      workflow: {
        ...silentWorkflow,
        completeTask: (token) => {
          answers.push(`success ${token}`);
          return Promise.resolve(true);
        },
        failTask: (token, name) => {
          answers.push(`${name} ${token}`);
          return Promise.resolve(true);
        },
      },
    };
    expect(await dispatchCommand(watching, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('already-complete');
    expect(answers).toEqual(['AgentUnreachableError t2']);
    expect(agent.sent).toHaveLength(1);
  });

  it('an action whose command goes out just as its session is cancelled is stopped at once, not left to run', async () => {
    const sessionId = await runningSession();
    await deps.sessions.createActions(sessionId, [
      { sessionId, actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', toVersion: '1.0', dependsOn: [], critical: true, status: 'NotStarted', result: 'Pending' },
    ]);
    // the cancel lands after this step read the session, before its command id is recorded: cancel finds nothing to stop
    agent.duringSend = async () => {
      const current = await deps.sessions.getSession(sessionId);
      await deps.sessions.updateSession(sessionId, current?.version ?? 0, { status: 'Cancelled' }, clock.now().toISOString());
    };
    expect(await dispatchCommand(deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).toBe('sent');
    expect(agent.cancelled).toEqual(['cmd-1']);
  });

  it('sends nothing on a retry after the lease when the session was cancelled since the claim, and closes the action', async () => {
    const sessionId = await runningSession();
    await deps.sessions.createActions(sessionId, [
      { sessionId, actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', toVersion: '1.0', dependsOn: [], critical: true, status: 'NotStarted', result: 'Pending' },
    ]);
    // the first attempt claims the action's command, then dies before sending it
    agent.failSend = true;
    await expect(dispatchCommand(deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't1' })).rejects.toThrow('the Lambda died right here');
    agent.failSend = false;
    const current = await deps.sessions.getSession(sessionId);
    await deps.sessions.updateSession(sessionId, current?.version ?? 0, { status: 'Cancelled' }, clock.now().toISOString());
    clock.advance((DISPATCH_LEASE_SECONDS + 1) * 1000);

    expect(await dispatchCommand(deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't2' })).toBe('skipped-cancelled');
    expect(agent.sent).toHaveLength(0);
    expect(await deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Cancelled', result: 'Cancelled' });
    expect((await deps.sessions.getDispatch(sessionId, 'Action#001'))?.status).toBe('Abandoned');
  });

  it('resends after the lease when SSM has no record of a command', async () => {
    const sessionId = await runningSession();
    agent.failSend = true;
    await dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't1' }).catch(() => undefined);
    agent.failSend = false;
    clock.advance((DISPATCH_LEASE_SECONDS + 1) * 1000);
    expect(await dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't2' })).toBe('resent');
    expect(agent.sent).toHaveLength(1);
    // the same nonce as the claim: the records it prints are the ones completion will look for
    expect(agent.sent[0]?.script).toContain(`__ns_nonce='${(await deps.sessions.getDispatch(sessionId, 'Detect'))?.nonce ?? '?'}'`);
  });

  it('records nothing for a computer whose catalog item is gone: the refusal comes before the claim', async () => {
    const sessionId = await runningSession();
    await deps.sessions.updateSession(sessionId, 1, { items: [softwareItem('vanished')] }, clock.now().toISOString());
    await expect(dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't1' })).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await deps.sessions.getDispatch(sessionId, 'Detect')).toBeUndefined();
  });

  it('drops from the worklist a claim whose session ended without sending, so the worklist cannot silt up', async () => {
    const sessionId = await runningSession();
    agent.failSend = true;
    await dispatchCommand(deps, { sessionId, purpose: 'Detect', taskToken: 't1' }).catch(() => undefined);
    agent.failSend = false;
    await recordFailure(deps, sessionId, { Error: 'Lambda.Unknown', Cause: 'gone' });
    clock.advance(600_000);
    const result = await reconcileCommands(deps, { ...RECONCILE_DEFAULTS, overdueAfterSeconds: 60, limit: 100 });
    expect(result.abandoned).toBeGreaterThanOrEqual(1);
    expect((await deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Abandoned');
    expect((await deps.sessions.listWaitingDispatches(clock.now().toISOString(), 100)).some((d) => d.sessionId === sessionId)).toBe(false);
  });

  it('drops from the worklist a dispatch whose session is gone, instead of looking at it on every run', async () => {
    await deps.sessions.claimDispatch({ sessionId: 'gone', key: 'Detect', taskToken: 't', status: 'Sending', attempts: 1, nonce: 'n_gone', createdAt: clock.now().toISOString() });
    clock.advance(600_000);
    const result = await reconcileCommands(deps, { ...RECONCILE_DEFAULTS, overdueAfterSeconds: 60, limit: 100 });
    expect(result.abandoned).toBeGreaterThanOrEqual(1);
    expect((await deps.sessions.listWaitingDispatches('9999-01-01T00:00:00.000Z', 100)).some((d) => d.sessionId === 'gone')).toBe(false);
  });

  it('a failed session leaves no action hanging: not started becomes Cancelled, started becomes Indeterminable', async () => {
    const sessionId = await runningSession();
    await deps.sessions.createActions(sessionId, [
      { sessionId, actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', dependsOn: [], critical: true, status: 'PerformingAction', result: 'Pending' },
      { sessionId, actionId: '002', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Update', reason: 'UpdateAvailable', dependsOn: [], critical: true, status: 'NotStarted', result: 'Pending' },
    ]);
    await recordFailure(deps, sessionId, { Error: 'States.Timeout' });
    expect((await deps.sessions.getActions(sessionId)).map((a) => [a.status, a.result])).toEqual([
      ['Complete', 'Indeterminable'],
      ['Cancelled', 'Cancelled'],
    ]);
  });

  it('cancels an action that was about to run when the session is cancelled before its command goes out', async () => {
    const sessionId = await runningSession('Cancelled');
    await deps.sessions.createActions(sessionId, [
      { sessionId, actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', dependsOn: [], critical: true, status: 'PerformingAction', result: 'Pending' },
    ]);
    expect(await dispatchCommand(deps, { sessionId, purpose: 'Action', actionId: '001', taskToken: 't' })).toBe('skipped-cancelled');
    expect(await deps.sessions.getAction(sessionId, '001')).toMatchObject({ status: 'Cancelled', result: 'Cancelled' });
    expect(agent.sent).toHaveLength(0);
  });
});
