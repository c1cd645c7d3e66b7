import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailParts } from '../support/mail.js';
import { scheduleParts } from '../support/schedules.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { commandComment, parseCommandComment, type AgentCommand, type AgentInvocation, type DispatchKey } from '../../functions/core/model/agent.js';
import type { AgentPort } from '../../functions/core/ports/agent.port.js';
import type { WorkflowPort } from '../../functions/core/ports/workflow.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { RECONCILE_DEFAULTS, RELOOK_FIRST_SECONDS, reconcileCommands } from '../../functions/core/use-cases/reconcile-commands.js';
import { sessionRecord, softwareItem, noInventory } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock, sequentialIds } from '../support/fleet.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';

/**
 * The reconciler's worklist at scale, on the real store (dynalite). Time is the
 * injected clock only: each look at a command costs the agent `lookMs` of it,
 * standing in for GetCommandInvocation and its writes, so budgets are exact.
 */
class PollingAgent implements AgentPort {
  /** Command ids in the order they were looked at. */
  readonly polled: string[] = [];
  /** Commands that finished, but whose completion event never came. */
  readonly finished = new Set<string>();
  constructor(
    private readonly clock: ReturnType<typeof manualClock>,
    private readonly lookMs: number,
  ) {}
  getInvocation(commandId: string, agentId: string): Promise<AgentInvocation> {
    this.clock.advance(this.lookMs);
    this.polled.push(commandId);
    const [, sessionId = '', key = 'Detect'] = commandId.split('/') as [string, string?, DispatchKey?];
    const status = this.finished.has(commandId) ? 'Success' : 'InProgress';
    return Promise.resolve({ commandId, agentId, status, responseCode: status === 'Success' ? 0 : -1, stdout: '', stderr: '', stdoutTruncated: false, comment: commandComment(sessionId, key, 'n1') });
  }
  send(_command: AgentCommand): Promise<{ commandId: string }> {
    return Promise.reject(new Error('the reconciler never sends'));
  }
  /** Every seeded command went out: the comment names it. */
  findCommand(_agentId: string, comment: string): Promise<string | undefined> {
    const reference = parseCommandComment(comment);
    return Promise.resolve(reference ? `cmd/${reference.sessionId}/${reference.key}` : undefined);
  }
  isOnline(): Promise<boolean> {
    return Promise.resolve(true);
  }
  cancel(): Promise<void> {
    return Promise.resolve();
  }
}

class RecordingWorkflow implements WorkflowPort {
  readonly completed: string[] = [];
  startSession(): Promise<{ alreadyRunning: boolean }> {
    return Promise.resolve({ alreadyRunning: false });
  }
  completeTask(token: string): Promise<boolean> {
    this.completed.push(token);
    return Promise.resolve(true);
  }
  failTask(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

interface Waiting {
  readonly sessionId: string;
  readonly key: DispatchKey;
  readonly commandId: string;
  readonly createdAt: string;
}
const KEYS: readonly DispatchKey[] = ['Detect', 'Verify', 'Action#001', 'Action#002', 'Action#003'];

async function inBatches<T>(items: readonly T[], write: (item: T) => Promise<void>): Promise<void> {
  for (let from = 0; from < items.length; from += 50) await Promise.all(items.slice(from, from + 50).map(write));
}

async function world(lookMs: number) {
  const dynamo = await dynamoTable();
  const clock = manualClock();
  const agent = new PollingAgent(clock, lookMs);
  const workflow = new RecordingWorkflow();
  const deps: Dependencies = {
    sessions: new DynamoSessionStore(dynamo.table),
    sessionLog: { append: () => Promise.resolve(), read: () => Promise.resolve({ entries: [] }) },
    catalog: new DynamoCatalogStore(dynamo.table),
    secrets: { put: () => Promise.resolve(), delete: () => Promise.resolve() },
    ...scheduleParts(dynamo.table),
      ...mailParts(dynamo.table),
    agent,
    inventory: noInventory,
    workflow,
    windowTimers: { set: () => Promise.resolve(), clear: () => Promise.resolve() },
    clock,
    ids: sequentialIds(),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: new InMemoryMetrics(),
    agentSettings: { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 30, actionTimeoutSeconds: 300, skipOfflineAfterSeconds: 60 },
  };
  const start = clock.now().getTime();
  /**
   * `count` commands out on their computers, written straight through the
   * store, one second apart (the first is the oldest); five per running
   * session (detection, verification, three actions on the session's actions)
   * keeps the seeding to 1.4 writes a command.
   */
  async function seed(count: number): Promise<Waiting[]> {
    const waiting = Array.from({ length: count }, (_, i): Waiting => {
      const sessionId = `s${String(Math.floor(i / KEYS.length)).padStart(4, '0')}`;
      const key = KEYS[i % KEYS.length] ?? 'Detect';
      return { sessionId, key, commandId: `cmd/${sessionId}/${key}`, createdAt: new Date(start + i * 1000).toISOString() };
    });
    const sessionIds = [...new Set(waiting.map((w) => w.sessionId))];
    await inBatches(sessionIds, async (sessionId) => {
      await deps.sessions.createSession(sessionRecord(sessionId, { items: [softwareItem('app')] }));
      await deps.sessions.createPlannedActions(
        sessionId,
        ['001', '002', '003'].map((actionId) => ({ sessionId, actionId, itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Install', reason: 'SoftwareMissing', dependsOn: [], critical: true, status: 'PerformingAction', result: 'Pending' })),
      );
    });
    await inBatches(waiting, ({ sessionId, key, createdAt }) =>
      deps.sessions.claimDispatch({ sessionId, key, taskToken: `token/${sessionId}/${key}`, status: 'Sending', attempts: 1, nonce: 'n1', createdAt }).then(() => undefined),
    );
    return waiting;
  }
  return { deps, clock, agent, workflow, seed, close: dynamo.close };
}

describe('the reconciler works through a large worklist, earliest due first, within its budget', () => {
  let w: Awaited<ReturnType<typeof world>>;
  // ~50 ms per look in AWS (GetCommandInvocation plus two table calls); 30 ms here keeps the arithmetic round
  const LOOK_MS = 30;
  beforeAll(async () => {
    w = await world(LOOK_MS);
  }, 60_000);
  afterAll(() => w.close());

  it('reaches a lost completion among the newest of 1,000 waiting commands within two runs', async () => {
    const waiting = await w.seed(1_000);
    // the fifth newest command finished long ago, but its completion event never came
    const lost = waiting[995];
    if (lost?.key !== 'Detect') throw new Error('the seed changed: the lost command should be a detection');
    w.agent.finished.add(lost.commandId);
    // every command is overdue: the newest was sent 1,000 s after the oldest, the run comes 30 min after the oldest
    w.clock.advance(30 * 60_000);

    const first = await reconcileCommands(w.deps, RECONCILE_DEFAULTS);
    const lookedAtFirst = [...w.agent.polled];
    w.clock.advance(5 * 60_000);
    const second = await reconcileCommands(w.deps, RECONCILE_DEFAULTS);

    expect(w.workflow.completed).toEqual([`token/${lost.sessionId}/Detect`]);
    expect(await w.deps.sessions.getDispatch(lost.sessionId, 'Detect')).toMatchObject({ status: 'Completed', tokenDelivered: true });
    // a 20 s budget at 30 ms a look: the first run looked at the earliest due two thirds, in due order, and stopped
    expect(first).toMatchObject({ checked: 667, stillRunning: 667, completed: 0, stoppedBy: 'budget' });
    expect(lookedAtFirst).toEqual(waiting.slice(0, 667).map((c) => c.commandId));
    // the second went on where the first stopped and ended on an empty worklist: every command looked at once
    // (the lost one is read twice: by its look, then by the completion the look hands it to)
    expect(second).toMatchObject({ checked: 333, completed: 1, stillRunning: 332 });
    expect(second.stoppedBy).toBeUndefined();
    expect(new Set(w.agent.polled).size).toBe(1_000);
    expect(w.agent.polled.filter((commandId) => commandId !== lost.commandId)).toHaveLength(999);
  }, 60_000);
});

describe('a run stopped by its budget is continued by the next, and a command still running is looked at less and less often', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world(1_000);
  });
  afterAll(() => w.close());

  it('looks at 10 per 10 s budget, each run the next 10 in due order, then none until they are due again', async () => {
    const waiting = await w.seed(25);
    const commandIds = waiting.map((c) => c.commandId);
    const oldest = waiting[0] ?? { sessionId: '', key: 'Detect' };
    w.clock.advance(10 * 60_000);
    const options = { ...RECONCILE_DEFAULTS, budgetSeconds: 10 };

    expect(await reconcileCommands(w.deps, options)).toMatchObject({ checked: 10, stillRunning: 10, stoppedBy: 'budget' });
    expect(w.agent.polled).toEqual(commandIds.slice(0, 10));
    w.clock.advance(60_000);
    expect(await reconcileCommands(w.deps, options)).toMatchObject({ checked: 10, stoppedBy: 'budget' });
    expect(w.agent.polled.slice(10)).toEqual(commandIds.slice(10, 20));
    w.clock.advance(60_000);
    // five left: the run ends on an empty worklist, not on its budget
    const third = await reconcileCommands(w.deps, options);
    expect(third).toMatchObject({ checked: 5 });
    expect(third.stoppedBy).toBeUndefined();
    expect(w.agent.polled.slice(20)).toEqual(commandIds.slice(20));

    // each look moved its command's answer 5 min out (and the grace adds 5 more); nothing is due a minute later
    const looked = await w.deps.sessions.getDispatch(oldest.sessionId, oldest.key);
    expect(looked).toMatchObject({ looks: 1 });
    expect(Date.parse(looked?.dueAt ?? '') - Date.parse('2026-11-23T09:10:00.000Z')).toBe(1_000 + RELOOK_FIRST_SECONDS * 1000);
    w.clock.advance(60_000);
    expect(await reconcileCommands(w.deps, options)).toMatchObject({ checked: 0 });

    // 10 min on, all 25 are due again; the oldest is looked at first and its next answer is expected twice as far out
    w.clock.advance(10 * 60_000);
    const secondLookAt = w.clock.now().getTime() + 1_000;
    expect(await reconcileCommands(w.deps, { ...options, budgetSeconds: 60 })).toMatchObject({ checked: 25 });
    const twice = await w.deps.sessions.getDispatch(oldest.sessionId, oldest.key);
    expect(twice).toMatchObject({ looks: 2 });
    expect(Date.parse(twice?.dueAt ?? '') - secondLookAt).toBe(2 * RELOOK_FIRST_SECONDS * 1000);
  });
});
