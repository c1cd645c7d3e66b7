import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULED_RULES } from '../../functions/handlers/registry.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const MINUTE_MS = 60_000;

describe("the stack's rate rules on the local runtime clock", () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  /** Resolves after the rules' next look at the clock, so a look is known to have seen the clock as it is now. */
  const nextLook = (rt: LocalRuntime): Promise<unknown> => once(rt.scheduledRules.events, 'looked');

  it('runs the reconciler 5 minutes (runtime clock) after the start, with the rule\'s input, and so completes a session whose completion event was lost', async () => {
    const clock = manualClock();
    const computer = testComputer('pc-rules', 'i-0000000000000f101');
    let lost = 0;
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer }] },
      { clock, scheduledRules: true, timerPollMs: 10, loseAgentEvent: (record) => record.comment.includes('/Detect/') && lost++ === 0 },
    );
    const rt = runtime;
    const ran: { handler: string; result?: unknown; error?: string }[] = [];
    rt.scheduledRules.events.on('ran', (rule, outcome) => ran.push({ handler: rule.handler, ...outcome }));
    const { sessionId } = await rt.startSession(computer.id);
    await until(() => rt.agent.history(computer.agentId)[0]?.finishedAtMs !== undefined);
    expect((await rt.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Sending');

    // a second short of the rule's period: the run controller has had its minutes, the reconciler not yet
    clock.advance(5 * MINUTE_MS - 1_000);
    await nextLook(rt);
    await until(() => ran.some((run) => run.handler === 'advance-runs'));
    expect(ran.map((run) => run.handler)).not.toContain('reconcile-commands');
    expect((await rt.deps.sessions.getDispatch(sessionId, 'Detect'))?.status).toBe('Sending');

    // the command was sent at the start: at 5 minutes and a second it is overdue by the reconciler's default 300 s
    clock.advance(2_000);
    await until(() => ran.some((run) => run.handler === 'reconcile-commands'));
    expect(ran.find((run) => run.handler === 'reconcile-commands')).toMatchObject({ result: { checked: 1, completed: 1 } });
    expect((await rt.waitForSession(sessionId)).session.status).toBe('Passed');
    expect(ran.filter((run) => run.error !== undefined)).toEqual([]);
  }, 60_000);

  it('runs each rule once when the clock jumps past many of its periods, and sets its next run after the jump on its own beat', async () => {
    const clock = manualClock(new Date('2026-11-23T09:00:00Z'));
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [] }, { clock, scheduledRules: true });
    const rt = runtime;
    const ran: string[] = [];
    rt.scheduledRules.events.on('ran', (rule) => ran.push(rule.handler));

    clock.advance(3 * 60 * MINUTE_MS + 30_000);
    await until(() => ran.length === SCHEDULED_RULES.length);
    // looks after every run ended: a rule that owed a catch-up would have started again by now
    await nextLook(rt);
    await nextLook(rt);
    expect(ran.sort()).toEqual(SCHEDULED_RULES.map((rule) => rule.handler).sort());
    expect(rt.scheduledRules.due()).toEqual({
      ReconcileCommandsSchedule: '2026-11-23T12:05:00.000Z',
      SweepSessionsSchedule: '2026-11-23T12:05:00.000Z',
      RetireSecretsSchedule: '2026-11-23T13:00:00.000Z',
      ReconcileSchedulesSchedule: '2026-11-23T12:15:00.000Z',
      AdvanceRunsSchedule: '2026-11-23T12:01:00.000Z',
    });
  }, 60_000);

  it('hands a rule without input of its own the "Scheduled Event" EventBridge sends, which each such handler accepts', async () => {
    const clock = manualClock();
    const events: { handler: string; event: unknown }[] = [];
    runtime = await runtimeWithFleet(
      { software: [], deployments: [], machines: [] },
      {
        clock,
        scheduledRules: true,
        wrapHandler: (name, handler) => (event, context) => {
          events.push({ handler: name, event });
          return handler(event, context);
        },
      },
    );
    const rt = runtime;
    const outcomes: { handler: string; error?: string }[] = [];
    rt.scheduledRules.events.on('ran', (rule, outcome) => outcomes.push({ handler: rule.handler, ...outcome }));
    clock.advance(60 * MINUTE_MS);
    await until(() => outcomes.length === SCHEDULED_RULES.length);
    expect(outcomes.filter((outcome) => outcome.error !== undefined)).toEqual([]);
    for (const rule of SCHEDULED_RULES) {
      const sent = events.find((seen) => seen.handler === rule.handler)?.event;
      expect(sent, rule.handler).toEqual(rule.input ?? expect.objectContaining({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }));
    }
  }, 60_000);
});
