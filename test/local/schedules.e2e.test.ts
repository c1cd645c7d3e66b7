import { afterEach, describe, expect, it } from 'vitest';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { isFinalSessionStatus } from '../../functions/core/model/session.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;

describe('schedules on the local runtime: croner on the runtime clock fires the same handler Scheduler targets', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  async function fleet(start: string) {
    const clock = manualClock(new Date(start));
    const software = [testSoftware('editor', '2.0')];
    const computers = [testComputer('pc-s1', 'i-00000000000050001'), testComputer('pc-s2', 'i-00000000000050002')];
    runtime = await runtimeWithFleet(
      { software, deployments: software.map((s) => everywhere(s.id)), machines: computers.map((computer) => ({ computer })) },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    return { rt: runtime, clock, computers };
  }

  it('a schedule created through its handler fires at its time: one run, a session per computer, each ends Passed', async () => {
    const { rt, clock, computers } = await fleet('2026-12-01T13:58:00Z');
    const created = (await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'daily-detect',
      schedule: { name: 'Daily', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '14:00', executeImmediatelyAfterDetection: true, timeZone: 'Europe/Lisbon' },
      by: operator,
    })) as { schedule: { id: string }; triggerInSync: boolean };
    expect(created.triggerInSync).toBe(true);
    expect(rt.scheduleTriggers.upcoming()).toEqual([{ scheduleId: 'daily-detect', dueAt: '2026-12-01T14:00:00.000Z' }]);

    // a minute early: nothing fires (the poller has looked meanwhile: wait for a look, then assert)
    clock.advance(60_000);
    await rt.scheduleTriggers.fireDue();
    expect(await rt.deps.schedules.listRuns('daily-detect', 10)).toEqual([]);

    clock.advance(60_000);
    await rt.scheduleTriggers.fireDue();
    const [run] = await rt.deps.schedules.listRuns('daily-detect', 10);
    expect(run).toMatchObject({ scheduledTime: '2026-12-01T14:00:00.000Z', status: 'Running', targeted: 2, started: 2 } satisfies Partial<ScheduleRun>);
    const targets = await rt.deps.schedules.listRunTargets(run?.id ?? '');
    expect(targets.map((t) => t.computerId).sort()).toEqual(computers.map((c) => c.id).sort());
    for (const target of targets) {
      const outcome = await rt.waitForSession(target.sessionId ?? '');
      expect(outcome.session.status).toBe('Passed');
      expect(outcome.session.origin).toEqual({ scheduleId: 'daily-detect', runId: run?.id });
      // what session lists show: a scheduled session, started by the schedule, with the actions it planned counted at its end
      expect(outcome.session).toMatchObject({ trigger: 'Scheduled', requestedBy: { kind: 'Schedule' }, actionCount: outcome.actions.length });
    }
    // the run's listeners heard each session start and end, through the same handlers' event port
    const told = rt.events.published.flatMap((e) => (e.detailType === 'nightshift.session' ? [`${e.detail.event} ${e.detail.computerId} ${e.detail.status}`] : []));
    expect(told.sort()).toEqual([...computers.flatMap((c) => [`SessionEnded ${c.id} Passed`, `SessionStarted ${c.id} Created`])].sort());
    // the next occurrence is tomorrow's
    expect(rt.scheduleTriggers.upcoming()).toEqual([{ scheduleId: 'daily-detect', dueAt: '2026-12-02T14:00:00.000Z' }]);
  });

  it('with maxConcurrent 1, both computers detect at the fire and their executions follow one another through the real workflow', async () => {
    const { rt, clock, computers } = await fleet('2026-12-01T13:59:30Z');
    await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'one-at-a-time',
      schedule: {
        name: 'One at a time',
        target: { kind: 'AllComputers' },
        recurrence: { kind: 'Daily' },
        detectionTime: '14:00',
        executeImmediatelyAfterDetection: true,
        rollout: { maxConcurrent: { kind: 'Count', value: 1 } },
      },
      by: operator,
    });
    clock.advance(30_000);
    await rt.scheduleTriggers.fireDue();
    const [run] = await rt.deps.schedules.listRuns('one-at-a-time', 10);
    expect(run).toMatchObject({ started: 2 });
    const sessionIds = (await rt.deps.schedules.listRunTargets(run?.id ?? '')).flatMap((t) => (t.sessionId ? [t.sessionId] : []));
    expect(sessionIds).toHaveLength(computers.length);
    // the one waiting for the slot looks again a minute on, by its window timer: once the slot's holder has ended, the
    // runtime clock moves to that timer's time and no further (advancing it on every look would run the session through
    // hours of runtime clock on a loaded machine, and every minute also wakes the runtime's minute jobs)
    await until(async () => {
      const sessions = await Promise.all(sessionIds.map((id) => rt.deps.sessions.getSession(id)));
      const endedCount = sessions.filter((x) => x !== undefined && isFinalSessionStatus(x.status)).length;
      if (endedCount === sessions.length) return true;
      const parked = endedCount > 0 ? rt.timers.armed().find((timer) => sessionIds.includes(timer.sessionId)) : undefined;
      const aheadMs = parked ? Date.parse(parked.at) - clock.now().getTime() : 0;
      if (aheadMs > 0) {
        clock.advance(aheadMs);
        await rt.timers.fireDue();
      }
      return false;
    }, 45_000);
    const sessions = await Promise.all(sessionIds.map((id) => rt.deps.sessions.getSession(id)));
    expect(sessions.map((x) => x?.status)).toEqual(['Passed', 'Passed']);
    const executions = sessions.map((x) => ({ start: Date.parse(x?.stages.Execution.startedAt ?? ''), end: Date.parse(x?.stages.Execution.endedAt ?? '') })).sort((p, q) => p.start - q.start);
    const [earlier, later] = executions;
    expect(later?.start).toBeGreaterThanOrEqual(earlier?.end ?? Infinity);
  });

  it('a disabled schedule does not fire, and run-now starts it anyway, keyed by the time asked', async () => {
    const { rt, clock } = await fleet('2026-12-01T13:58:00Z');
    await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'paused',
      schedule: { name: 'Paused', enabled: false, target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '14:00', detectionOnly: true },
      by: operator,
    });
    expect(rt.scheduleTriggers.upcoming()).toEqual([]);
    clock.advance(5 * 60_000);
    await rt.scheduleTriggers.fireDue();
    expect(await rt.deps.schedules.listRuns('paused', 10)).toEqual([]);

    const runNow = { scheduleId: 'paused', runNow: true, by: operator, requestedAt: clock.now().toISOString() };
    await rt.invoke('fire-schedule', runNow);
    await rt.invoke('fire-schedule', runNow);
    const runs = await rt.deps.schedules.listRuns('paused', 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'RunNow', started: 2 });
    const targets = await rt.deps.schedules.listRunTargets(runs[0]?.id ?? '');
    await until(async () => (await Promise.all(targets.map((t) => rt.deps.sessions.getSession(t.sessionId ?? '')))).every((s) => s?.status === 'Passed'));
    for (const target of targets) expect(await rt.deps.sessions.getSession(target.sessionId ?? '')).toMatchObject({ trigger: 'RunNow', requestedBy: { kind: 'Schedule' } });
  });

  it('skips a wall time that does not exist on the spring-forward day, as EventBridge Scheduler does (Europe/Berlin)', async () => {
    const { rt, clock } = await fleet('2026-03-28T12:00:00Z');
    await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'night',
      schedule: { name: 'Night', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '02:30', detectionOnly: true, timeZone: 'Europe/Berlin' },
      by: operator,
    });
    // 29 March has no 02:30 in Berlin: the next fire is 30 March, 02:30 CEST
    expect(rt.scheduleTriggers.upcoming()).toEqual([{ scheduleId: 'night', dueAt: '2026-03-30T00:30:00.000Z' }]);
    clock.advance(Date.parse('2026-03-29T12:00:00Z') - clock.now().getTime());
    await rt.scheduleTriggers.fireDue();
    expect(await rt.deps.schedules.listRuns('night', 10)).toEqual([]);
  });

  it('an invalid schedule is answered with the field named, and nothing is stored or armed', async () => {
    const { rt } = await fleet('2026-12-01T13:58:00Z');
    const answer = await rt.invoke('manage-schedule', {
      operation: 'create',
      scheduleId: 'bad',
      schedule: { name: 'Bad', target: { kind: 'AllComputers' }, recurrence: { kind: 'Cron', expression: '*/5 * * * *' }, maintenanceTime: '22:00' },
      by: operator,
    });
    expect(answer).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'schedule.recurrence.expression' } });
    expect(await rt.deps.schedules.getSchedule('bad')).toBeUndefined();
    expect(rt.scheduleTriggers.upcoming()).toEqual([]);
  });
});
