import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/aws-clients.js';
import { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { USAGE_SK_PREFIX } from '../../functions/adapters/usage-store.dynamodb.js';
import { TransientError } from '../../functions/core/errors.js';
import { addUsage, NO_USAGE, type CountedUsage } from '../../functions/core/model/usage.js';
import { getRunCost, getSessionCost } from '../../functions/core/use-cases/session-usage.js';
import { getSessionReport } from '../../functions/core/use-cases/session-report.js';
import type { LambdaHandler } from '../../functions/handlers/handler-kit.js';
import { handlerEntry, type PortAccess } from '../../functions/handlers/registry.js';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * execution-ended reads the execution's history through `workflow:read`,
 * which the registry's vocabulary does not list yet (see PendingLevel in
 * functions/adapters/dependencies.ts); until it does, the test declares it.
 */
const EXECUTION_ENDED_PORTS = [...handlerEntry('execution-ended').ports, 'workflow:read' as unknown as PortAccess];

/** A write to a usage item: an update whose key's sort key, marshalled or not, starts so. */
function isUsageWrite(commandName: string | undefined, input: unknown): boolean {
  if (commandName !== 'UpdateItemCommand') return false;
  const key: unknown = (input as { Key?: { SK?: unknown } } | undefined)?.Key?.SK;
  const sortKey = typeof key === 'string' ? key : (key as { S?: unknown } | undefined)?.S;
  return typeof sortKey === 'string' && sortKey.startsWith(USAGE_SK_PREFIX);
}

/** What the test saw, independently of the meter: handler invocations, and what DynamoDB said each of their calls consumed. */
interface Observed {
  invocations: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  inFlight: number;
}

const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;

describe("what a session cost, counted on the local runtime: the recorded usage is what was observed", () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  /**
   * A runtime whose handlers are counted as they are invoked and whose table
   * calls made inside a handler are summed from the SDK's own responses
   * (`ConsumedCapacity`; a refused conditional write as the one unit the
   * meter counts for it). `failOnce` makes that handler's first invocation
   * fail after it ran, as a lost response would: the workflow retries it.
   */
  async function observedRuntime(options: { failOnce?: string; clock?: LocalRuntimeOptions['clock'] } = {}) {
    const observed: Observed = { invocations: new Map(), readUnits: 0, writeUnits: 0, inFlight: 0 };
    const inHandler = new AsyncLocalStorage<string>();
    let failed = false;
    const wrapHandler =
      (name: string, handler: LambdaHandler<unknown, unknown>): LambdaHandler<unknown, unknown> =>
      async (event, context) => {
        observed.invocations.set(name, (observed.invocations.get(name) ?? 0) + 1);
        observed.inFlight++;
        try {
          const result = await inHandler.run(name, () => handler(event, context));
          if (name === options.failOnce && !failed) {
            failed = true;
            throw new TransientError('the response was lost on its way back');
          }
          return result;
        } finally {
          observed.inFlight--;
        }
      };
    const software = [testSoftware('editor', '2.0.0'), testSoftware('browser', '9.0'), testSoftware('zip', '1.1')];
    const computers = [testComputer('pc-c1', 'i-0000000000000c001'), testComputer('pc-c2', 'i-0000000000000c002')];
    const rt = await runtimeWithFleet(
      { software, deployments: software.map((s) => everywhere(s.id)), machines: computers.map((computer) => ({ computer, image: { browser: '8.0' } })) },
      { wrapHandler, handlerPorts: { 'execution-ended': EXECUTION_ENDED_PORTS }, ...(options.clock ? { clock: options.clock } : {}) },
    );
    rt.dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        // the meter's own writes count too, though the runtime makes them a moment after their invocation, outside it
        const inside = inHandler.getStore() !== undefined || isUsageWrite(context.commandName, args.input);
        try {
          const result = await next(args);
          const consumed: unknown = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const units = (Array.isArray(consumed) ? consumed : [consumed]).reduce((sum: number, entry: unknown) => sum + ((entry as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0), 0);
          if (inside && /^(GetItem|BatchGetItem|Query|Scan)Command$/.test(context.commandName ?? '')) observed.readUnits += units;
          else if (inside) observed.writeUnits += units;
          return result;
        } catch (error) {
          if (inside && error instanceof Error && error.name === 'ConditionalCheckFailedException') observed.writeUnits += 1;
          throw error;
        }
      },
      { step: 'initialize', name: 'observeConsumedCapacity' },
    );
    runtime = rt;
    return { rt, observed, computers };
  }

  /** The runtime tells execution-ended of a failed execution; a succeeded one is told here, as the Execution Status Change rule does in AWS. */
  const executionEnded = (rt: LocalRuntime, sessionId: string) => rt.invoke('execution-ended', { detail: { name: sessionId, status: 'SUCCEEDED' } });

  const total = (invocations: Map<string, number>): number => [...invocations.values()].reduce((sum, n) => sum + n, 0);

  it('records the invocations, state transitions and table units a session used, as the runtime and DynamoDB counted them', async () => {
    const { rt, observed, computers } = await observedRuntime();
    const computer = computers[0];
    if (!computer) throw new Error('no computer');
    const { sessionId } = await rt.startSession(computer.id);
    const outcome = await rt.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    // the session's end is a reader's cue: every invocation so far is in its usage, none still held back
    expect((await getSessionCost(rt.deps, sessionId)).counted.lambdaInvocations).toBe(total(observed.invocations));
    await executionEnded(rt, sessionId);
    await until(() => observed.inFlight === 0);
    // each invocation's usage is written a moment after it (local/deferred-usage-sink.ts): what is still queued, now
    await rt.flushUsage();

    const cost = await getSessionCost(rt.deps, sessionId);
    expect(cost.final).toBe(true);
    expect(cost.counted.lambdaInvocations).toBe(total(observed.invocations));
    expect(observed.invocations.get('dispatch-command')).toBe(2 + outcome.actions.length);
    expect(cost.counted.stateTransitions).toBe(outcome.stateTransitions);
    expect(cost.counted.tableReadUnits).toBe(observed.readUnits);
    expect(cost.counted.tableWriteUnits).toBe(observed.writeUnits);
    expect(cost.counted.commandsSent).toBe(outcome.agentRoundTrips);
    // every invocation ran at the stack's 512 MB and took at least a millisecond
    expect(cost.counted.lambdaMemoryMbMs).toBe(cost.counted.lambdaDurationMs * 512);
    expect(cost.counted.lambdaDurationMs).toBeGreaterThanOrEqual(cost.counted.lambdaInvocations);
    expect(cost.priceUsd.total).toBeGreaterThan(0);
    expect(cost.priceUsd.total).toBeCloseTo(cost.priceUsd.stepFunctions + cost.priceUsd.lambda + cost.priceUsd.dynamodb + cost.priceUsd.events + cost.priceUsd.scheduler + cost.priceUsd.email, 9);
    expect(cost.pricing).toMatchObject({ region: 'us-east-1', architecture: 'arm64' });

    // the report every front door reads carries the same cost
    expect((await getSessionReport(rt.deps, sessionId)).cost).toEqual(cost);
  });

  it('counts a retried step twice, as Lambda and Step Functions bill it: two invocations and one more transition', async () => {
    const { rt, observed, computers } = await observedRuntime({ failOnce: 'plan-session' });
    const [retried, clean] = computers;
    if (!retried || !clean) throw new Error('no computers');
    const first = await rt.startSession(retried.id);
    const retriedOutcome = await rt.waitForSession(first.sessionId);
    await executionEnded(rt, first.sessionId);
    await until(() => observed.inFlight === 0);
    await rt.flushUsage();
    const retriedCost = await getSessionCost(rt.deps, first.sessionId);
    const retriedInvocations = total(observed.invocations);
    expect(observed.invocations.get('plan-session')).toBe(2);

    observed.invocations.clear();
    const second = await rt.startSession(clean.id);
    const cleanOutcome = await rt.waitForSession(second.sessionId);
    await executionEnded(rt, second.sessionId);
    await until(() => observed.inFlight === 0);
    await rt.flushUsage();
    const cleanCost = await getSessionCost(rt.deps, second.sessionId);

    expect(retriedOutcome.session.status).toBe('Passed');
    expect(retriedCost.counted.lambdaInvocations).toBe(retriedInvocations);
    expect(retriedCost.counted.lambdaInvocations).toBe(cleanCost.counted.lambdaInvocations + 1);
    expect(retriedCost.counted.stateTransitions).toBe(retriedOutcome.stateTransitions);
    expect(retriedCost.counted.stateTransitions).toBe(cleanOutcome.stateTransitions + 1);
  });

  it("sums a run's sessions into the run exactly once, though execution-ended is delivered again, on top of the run's own fan-out", async () => {
    const clock = manualClock(new Date('2026-12-01T13:59:00Z'));
    const { rt, observed } = await observedRuntime({ clock });
    await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'nightly',
      schedule: { name: 'Nightly', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '14:00', executeImmediatelyAfterDetection: true, timeZone: 'UTC' },
      by: operator,
    });
    // the Scheduler target's event, as EventBridge Scheduler delivers it
    await rt.invoke('fire-schedule', { scheduleId: 'nightly', scheduledTime: '2026-12-01T14:00:00Z' });
    const [run] = await rt.deps.schedules.listRuns('nightly', 10);
    if (!run) throw new Error('no run');
    const sessionIds = (await rt.deps.schedules.listRunTargets(run.id)).flatMap((target) => (target.sessionId ? [target.sessionId] : []));
    expect(sessionIds).toHaveLength(2);
    for (const sessionId of sessionIds) {
      expect((await rt.waitForSession(sessionId)).session.status).toBe('Passed');
      await executionEnded(rt, sessionId);
    }
    // delivered again: the session's usage grows by this delivery, and so does the run's, by the same
    const [redelivered] = sessionIds;
    await executionEnded(rt, redelivered ?? '');
    await until(() => observed.inFlight === 0);
    await rt.flushUsage();

    const sessionUsages = await Promise.all(sessionIds.map(async (id) => (await rt.deps.sessions.getUsage(id))?.counted ?? NO_USAGE));
    // the run's own usage: the fan-out, one Scheduler delivery
    const runTable = new DynamoTable(createDocumentClient(rt.dynamoClient), 'nightshift-local');
    const ownItem = await runTable.get(`RUN#${run.id}`, 'USAGE#RUN');
    const own = { ...NO_USAGE, ...Object.fromEntries(Object.entries(ownItem ?? {}).filter(([, value]) => typeof value === 'number')) } as CountedUsage;
    expect(own).toMatchObject({ lambdaInvocations: 1, schedulerInvocations: 1 });

    const runCost = await getRunCost(rt.deps, run.id);
    expect(runCost.sessionsCounted).toBe(2);
    expect(runCost.counted).toEqual({ ...sessionUsages.reduce(addUsage, own), lambdaGbSeconds: runCost.counted.lambdaGbSeconds });
    // every invocation the test saw belongs to the run or one of its sessions (manage-schedule aside: it belongs to neither)
    expect(runCost.counted.lambdaInvocations).toBe(total(observed.invocations) - (observed.invocations.get('manage-schedule') ?? 0));
  });
});
