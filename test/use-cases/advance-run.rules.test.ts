import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, RequestRefusedError, TransientError } from '../../functions/core/errors.js';
import { EMPTY_OUTCOME, type RunTarget, type ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { sessionOptionsSchema, type Requester, type SessionStatus } from '../../functions/core/model/session.js';
import { windowOpensAfter } from '../../functions/core/schedules/windows.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { advanceRun, operateRun, RUN_LEASE_SECONDS, skippedCounts, WRITES_AT_ONCE } from '../../functions/core/use-cases/advance-run.js';
import { startSession } from '../../functions/core/use-cases/start-session.js';
import { computer } from '../support/domain.js';
import { RecordingEvents, RecordingRunWork, runRecord } from '../support/schedules.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The rollout controller's step and an operator's hand on a run, rule by
 * rule (dynalite): which targets start and how, what the run records, which
 * events and audit entries each change stands for, and what is refused.
 */

const BOB: Requester = { kind: 'Operator', name: 'bob@msp.example' };
const RINGS = [
  { name: 'canary', percent: 50, successThresholdPercent: 100, soakMinutes: 0 },
  { name: 'rest', percent: 100, successThresholdPercent: 95, soakMinutes: 0 },
];

describe('a run’s skip counts', () => {
  it('counts skipped targets per reason and leaves out reasons with none', () => {
    const target = (computerId: string, skipped?: RunTarget['skipped']): RunTarget => ({ runId: 'r', computerId, computerName: computerId, tenantId: 't1', ring: 0, ...(skipped ? { skipped } : {}) });
    expect(skippedCounts([target('a', 'Offline'), target('b', 'Offline'), target('c', 'StartFailed'), target('d')])).toStrictEqual({ Offline: 2, StartFailed: 1 });
    expect(skippedCounts([target('a')])).toStrictEqual({});
  });
});

describe('stepping and operating a run (dynalite)', () => {
  const harness = useCaseHarness();

  interface Setup {
    h: Harness;
    deps: Dependencies;
    events: RecordingEvents;
    runWork: RecordingRunWork;
    run: ScheduleRun;
    /** The computers' ids, in the order given. */
    computers: string[];
  }

  /**
   * A run of `count` computers (rings by `ringOf`), stored with its targets
   * queued; `sessions` gives a computer a session already, in that status.
   */
  async function setup(options: { count?: number; run?: Partial<ScheduleRun>; ringOf?: (index: number) => number; sessions?: Record<number, SessionStatus>; target?: (index: number) => Partial<RunTarget>; notInCatalog?: number[] } = {}): Promise<Setup> {
    const h = harness();
    const events = new RecordingEvents();
    const runWork = new RecordingRunWork();
    const deps: Dependencies = { ...h.deps, events, runWork };
    const tag = h.nextId();
    const at = h.clock.now().toISOString();
    const run = runRecord(`run-${tag}`, at, { scheduleId: `sch-${tag}`, by: { kind: 'Schedule', name: 'Weeknights' }, targeted: options.count ?? 2, ...options.run });
    await deps.schedules.createRun(run);
    const computers: string[] = [];
    for (let index = 0; index < (options.count ?? 2); index++) {
      const computerId = `pc-${tag}-${String(index)}`;
      computers.push(computerId);
      if (!options.notInCatalog?.includes(index)) await h.catalog.putComputer(computer(computerId, { name: `PC-${String(index)}`, tenantId: 't1' }));
      const status = options.sessions?.[index];
      let sessionId: string | undefined;
      if (status !== undefined) {
        sessionId = `ses-${tag}-${String(index)}`;
        await h.session({ id: sessionId, computerId, status, origin: { scheduleId: run.scheduleId, runId: run.id } });
      }
      await deps.schedules.putRunTarget({ runId: run.id, computerId, computerName: `PC-${String(index)}`, tenantId: 't1', ring: options.ringOf?.(index) ?? 0, ...(sessionId ? { sessionId } : {}), ...options.target?.(index) });
    }
    return { h, deps, events, runWork, run, computers };
  }
  const sessionIdOf = (s: Setup, computerId: string) => s.deps.ids.derive('ses', [s.run.id, computerId]);

  describe('the controller’s step', () => {
    it('refuses a run that does not exist as not found', async () => {
      const s = await setup({ count: 0 });
      await expect(advanceRun(s.deps, 'run-nowhere')).rejects.toThrow(new NotFoundError('run', 'run-nowhere'));
    });

    it('counts, of the run’s running sessions, those detected and parked until their window (or postponed) apart from those at work', async () => {
      const s = await setup({ count: 3, sessions: { 0: 'Running', 1: 'Running', 2: 'Postponed' } });
      const [waiting] = (await s.deps.schedules.listRunTargets(s.run.id)).filter((t) => t.computerId === s.computers[0]);
      const stored = await s.deps.sessions.getSession(waiting?.sessionId ?? '');
      if (!stored) throw new Error('the waiting session was not stored');
      const detected = { ...stored.stages, Detection: { status: 'Succeeded' as const }, Execution: { status: 'Unstarted' as const } };
      await s.deps.sessions.updateSession(stored.id, stored.version, { stages: detected }, s.h.clock.now().toISOString());
      // pc 1 is still detecting: running, and not waiting
      expect((await advanceRun(s.deps, s.run.id)).outcome).toMatchObject({ running: 3, awaitingExecution: 2 });
    });

    it('leaves a run that is still fanning out, or finished, as it is', async () => {
      for (const status of ['Starting', 'Completed', 'Cancelled'] as const) {
        const s = await setup({ run: { status } });
        expect(await advanceRun(s.deps, s.run.id)).toEqual(s.run);
        expect((await s.deps.schedules.getRun(s.run.id))?.version).toBe(1);
        expect(await s.deps.sessions.getSession(sessionIdOf(s, s.computers[0] ?? ''))).toBeUndefined();
      }
    });

    it('starts each queued target’s session with the run’s options, origin and author, tells the bus, and records the run at the next version with its lease given back', async () => {
      const s = await setup({ run: { sessionBasis: sessionOptionsSchema.parse({ reboot: 'Suppress' }) } });
      s.h.clock.advance(1_000);
      const advanced = await advanceRun(s.deps, s.run.id);
      const now = s.h.clock.now().toISOString();
      const [first, second] = s.computers.map((id) => sessionIdOf(s, id));
      const session = await s.deps.sessions.getSession(first ?? '');
      expect(session).toMatchObject({ status: 'Created', origin: { scheduleId: s.run.scheduleId, runId: s.run.id }, trigger: 'Scheduled', requestedBy: { kind: 'Schedule', name: `Weeknights (${s.run.scheduledTime})` }, options: { reboot: 'Suppress' } });
      expect(session?.origin).not.toHaveProperty('maxExecuting');
      expect(session).not.toHaveProperty('executeAt');
      expect((await s.deps.schedules.listRunTargets(s.run.id)).map((t) => t.sessionId).sort()).toEqual([first, second].sort());
      expect(s.events.published.filter((e) => e.detailType === 'nightshift.session').map((e) => e.detail)).toEqual(
        s.computers.map((computerId, index) => ({ event: 'SessionStarted', sessionId: sessionIdOf(s, computerId), computerId, computerName: `PC-${String(index)}`, tenantId: 't1', runId: s.run.id, scheduleId: s.run.scheduleId, status: 'Created', at: now })),
      );
      // version 2 was the lease's write; the record is the next
      expect(advanced).toMatchObject({ status: 'Running', version: 3, updatedAt: now, started: 2, skipped: {}, outcome: { ...EMPTY_OUTCOME, running: 2 } });
      expect(advanced).not.toHaveProperty('fanOutLeaseUntil');
      expect(await s.deps.schedules.getRun(s.run.id)).toEqual(advanced);
      expect(s.events.published.filter((e) => e.detailType === 'nightshift.run')).toEqual([]);

      // the next look starts nothing again and writes nothing
      s.h.clock.advance(1_000);
      expect(await advanceRun(s.deps, s.run.id)).toEqual(advanced);
    });

    it('starts a run-now run’s sessions as run now, with the run’s execution slots', async () => {
      const s = await setup({ count: 3, run: { trigger: 'RunNow', rollout: { rings: [], maxConcurrent: { kind: 'Percent', value: 50 } } } });
      await advanceRun(s.deps, s.run.id);
      const session = await s.deps.sessions.getSession(sessionIdOf(s, s.computers[0] ?? ''));
      expect(session).toMatchObject({ trigger: 'RunNow', origin: { maxExecuting: 2 } });
      const small = await setup({ count: 1, run: { rollout: { rings: [], maxConcurrent: { kind: 'Percent', value: 1 } } } });
      await advanceRun(small.deps, small.run.id);
      expect((await small.deps.sessions.getSession(sessionIdOf(small, small.computers[0] ?? '')))?.origin?.maxExecuting).toBe(1);
    });

    it('fixes a target’s window before its session starts, from the fire’s time when that is still ahead, and keeps it on the target', async () => {
      const window = { time: '22:00', zone: 'UTC' };
      const later = new Date(Date.parse('2026-11-23T09:00:00Z') + 20 * 3_600_000).toISOString();
      const s = await setup({ count: 1, run: { scheduledTime: later }, target: () => ({ window }) });
      await advanceRun(s.deps, s.run.id);
      const opens = windowOpensAfter(window, new Date(later)).toISOString();
      expect(opens).not.toBe(windowOpensAfter(window, s.h.clock.now()).toISOString());
      const [target] = await s.deps.schedules.listRunTargets(s.run.id);
      expect(target?.executeAt).toBe(opens);
      expect((await s.deps.sessions.getSession(sessionIdOf(s, s.computers[0] ?? '')))?.executeAt).toBe(opens);
      expect(s.events.published[0]?.detail).toMatchObject({ event: 'SessionStarted', executeAt: opens });
    });

    it('keeps a window fixed earlier rather than fixing it again', async () => {
      const s = await setup({ count: 1, target: () => ({ window: { time: '22:00', zone: 'UTC' }, executeAt: '2026-11-24T22:00:00.000Z' }) });
      await advanceRun(s.deps, s.run.id);
      expect((await s.deps.sessions.getSession(sessionIdOf(s, s.computers[0] ?? '')))?.executeAt).toBe('2026-11-24T22:00:00.000Z');
    });

    it('skips a computer still busy with another session, naming it, and one whose start is refused, with why', async () => {
      const s = await setup({ count: 2, notInCatalog: [1] });
      const busy = await startSession(s.deps, { computerId: s.computers[0] ?? '', options: sessionOptionsSchema.parse({}), by: BOB });
      const advanced = await advanceRun(s.deps, s.run.id);
      const targets = new Map((await s.deps.schedules.listRunTargets(s.run.id)).map((t) => [t.computerId, t]));
      expect(targets.get(s.computers[0] ?? '')).toMatchObject({ skipped: 'ActiveSession', detail: `session ${busy.sessionId} is still running on PC-0` });
      expect(targets.get(s.computers[1] ?? '')).toMatchObject({ skipped: 'StartFailed', detail: new NotFoundError('computer', s.computers[1] ?? '').message });
      expect(advanced).toMatchObject({ status: 'Completed', started: 0, skipped: { ActiveSession: 1, StartFailed: 1 } });
      expect(s.events.published.filter((e) => e.detailType === 'nightshift.session')).toEqual([]);
      expect(s.events.published.map((e) => e.detail.event)).toEqual(['RunCompleted']);
      expect(s.h.logged).toContainEqual({ level: 'info', message: 'schedule run status changed', fields: { runId: s.run.id, scheduleId: s.run.scheduleId, from: 'Running', to: 'Completed' } });
    });

    it('leaves a target queued and gives the lease back when a start fails for a reason a retry can fix, or an unknown one', async () => {
      for (const failure of [new TransientError('throttled'), new Error('socket hang up')]) {
        const s = await setup({ count: 1 });
        const deps: Dependencies = { ...s.deps, workflow: { startSession: () => Promise.reject(failure), completeTask: () => Promise.resolve(true), failTask: () => Promise.resolve(true) } };
        await expect(advanceRun(deps, s.run.id)).rejects.toBe(failure);
        const stored = await s.deps.schedules.getRun(s.run.id);
        expect(stored?.fanOutLeaseUntil).toBeUndefined();
        expect(stored?.started).toBe(0);
        expect((await s.deps.schedules.listRunTargets(s.run.id))[0]).not.toHaveProperty('skipped');
      }
    });

    it('starts nothing while another step holds the run, keeps that step’s lease, and still records the counts', async () => {
      const held = new Date(Date.parse('2026-11-23T09:00:00Z') + 60_000).toISOString();
      const s = await setup({ count: 2, sessions: { 0: 'Passed' } });
      const leased = await s.deps.schedules.takeRunLease(s.run.id, undefined, held);
      const advanced = await advanceRun(s.deps, s.run.id);
      expect(advanced).toMatchObject({ fanOutLeaseUntil: held, version: (leased?.version ?? 0) + 1, outcome: { passed: 1, queued: 1 } });
      expect(await s.deps.sessions.getSession(sessionIdOf(s, s.computers[1] ?? ''))).toBeUndefined();

      // once the lease has lapsed, the next look takes over
      s.h.clock.advance(60_000);
      const taken = await advanceRun(s.deps, s.run.id);
      expect(taken.started).toBe(2);
      expect(taken).not.toHaveProperty('fanOutLeaseUntil');
    });

    it('returns the run as read when another step takes the lease first', async () => {
      const s = await setup({ count: 1 });
      const deps: Dependencies = { ...s.deps, schedules: Object.assign(Object.create(s.deps.schedules) as Dependencies['schedules'], { takeRunLease: () => Promise.resolve(undefined) }) };
      expect(await advanceRun(deps, s.run.id)).toEqual(s.run);
      expect(await s.deps.sessions.getSession(sessionIdOf(s, s.computers[0] ?? ''))).toBeUndefined();
    });

    it('holds the run for longer than a function may run while it starts sessions', async () => {
      const s = await setup({ count: 1 });
      const leases: (string | undefined)[] = [];
      const schedules = s.deps.schedules;
      const deps: Dependencies = {
        ...s.deps,
        schedules: Object.assign(Object.create(schedules) as Dependencies['schedules'], {
          takeRunLease: (runId: string, expected: string | undefined, until: string) => {
            leases.push(expected, until);
            return schedules.takeRunLease(runId, expected, until);
          },
        }),
      };
      await advanceRun(deps, s.run.id);
      expect(leases).toEqual([undefined, new Date(s.h.clock.now().getTime() + RUN_LEASE_SECONDS * 1000).toISOString()]);
      expect(RUN_LEASE_SECONDS).toBeGreaterThan(900);
    });

    it('stops starting when an operator halts the run between batches', async () => {
      const s = await setup({ count: WRITES_AT_ONCE + 1 });
      let reads = 0;
      const schedules = s.deps.schedules;
      const deps: Dependencies = {
        ...s.deps,
        schedules: Object.assign(Object.create(schedules) as Dependencies['schedules'], {
          getRun: async (runId: string) => {
            const run = await schedules.getRun(runId);
            // the first read is the step's own; the look between batches sees the halt
            return ++reads === 1 || !run ? run : { ...run, status: 'Halted' as const };
          },
        }),
      };
      const advanced = await advanceRun(deps, s.run.id);
      expect(advanced.started).toBe(WRITES_AT_ONCE);
      expect(advanced.outcome).toMatchObject({ running: WRITES_AT_ONCE, queued: 1 });
    });

    it('completes a run whose sessions all ended, and says so once', async () => {
      const s = await setup({ count: 2, sessions: { 0: 'Passed', 1: 'Failed' } });
      const advanced = await advanceRun(s.deps, s.run.id);
      expect(advanced).toMatchObject({ status: 'Completed', started: 2, outcome: { ...EMPTY_OUTCOME, passed: 1, failed: 1 } });
      expect(s.events.published.map((e) => [e.detail.event, e.detail.status])).toEqual([['RunCompleted', 'Completed']]);
      expect(await advanceRun(s.deps, s.run.id)).toEqual(advanced);
      expect(s.events.published).toHaveLength(1);
    });

    it('halts a run whose error budget is spent, with the reason logged and published', async () => {
      const s = await setup({ count: 3, sessions: { 0: 'Failed', 1: 'Failed' }, run: { rollout: { rings: [], errorBudget: { kind: 'Count', value: 1 } } } });
      const advanced = await advanceRun(s.deps, s.run.id);
      expect(advanced).toMatchObject({ status: 'Halted', haltCause: 'ErrorBudget', started: 2 });
      const reason = advanced.haltReason;
      expect(reason).toMatch(/error budget spent/);
      expect(s.events.published.map((e) => e.detail)).toEqual([expect.objectContaining({ event: 'RunHalted', reason })]);
      expect(s.h.logged).toContainEqual({ level: 'info', message: 'schedule run status changed', fields: { runId: s.run.id, scheduleId: s.run.scheduleId, from: 'Running', to: 'Halted', reason } });
    });

    it('moves to the next ring once the ring before passed, and says the ring started', async () => {
      const s = await setup({ count: 2, ringOf: (index) => index, sessions: { 0: 'Passed' }, run: { rollout: { rings: RINGS } } });
      const advanced = await advanceRun(s.deps, s.run.id);
      expect(advanced).toMatchObject({ currentRing: 1, started: 2, status: 'Running' });
      expect(advanced).not.toHaveProperty('ringEndedAt');
      expect(s.events.published.filter((e) => e.detailType === 'nightshift.run').map((e) => [e.detail.event, e.detail.currentRing])).toEqual([['RingStarted', 1]]);
    });

    it('records when a ring ended while it soaks, without starting the next', async () => {
      const soaking = [{ ...RINGS[0], soakMinutes: 60 }, RINGS[1]] as typeof RINGS;
      const s = await setup({ count: 2, ringOf: (index) => index, sessions: { 0: 'Passed' }, run: { rollout: { rings: soaking } } });
      const advanced = await advanceRun(s.deps, s.run.id);
      expect(advanced).toMatchObject({ currentRing: 0, started: 1, ringEndedAt: s.h.clock.now().toISOString() });
      expect(s.events.published).toEqual([]);
    });

    it('answers the record that won when another step wrote the run meanwhile, and gives back the lease it took', async () => {
      const s = await setup({ count: 1 });
      const schedules = s.deps.schedules;
      let released = 0;
      const deps: Dependencies = {
        ...s.deps,
        schedules: Object.assign(Object.create(schedules) as Dependencies['schedules'], {
          updateRun: () => Promise.reject(new ConflictError('run changed')),
          releaseRunLease: (runId: string, lease: string) => {
            released += 1;
            return schedules.releaseRunLease(runId, lease);
          },
        }),
      };
      const answered = await advanceRun(deps, s.run.id);
      expect(released).toBe(1);
      expect(answered).toEqual(await s.deps.schedules.getRun(s.run.id));
      expect(answered.fanOutLeaseUntil).toBeUndefined();
      expect(s.events.published.filter((e) => e.detailType === 'nightshift.run')).toEqual([]);

      // a conflict without a lease (nothing to start) gives nothing back
      const idle = await setup({ count: 1, sessions: { 0: 'Passed' } });
      const idleDeps: Dependencies = {
        ...idle.deps,
        schedules: Object.assign(Object.create(idle.deps.schedules) as Dependencies['schedules'], {
          updateRun: () => Promise.reject(new ConflictError('run changed')),
          releaseRunLease: () => Promise.reject(new Error('no lease was taken')),
        }),
      };
      expect(await advanceRun(idleDeps, idle.run.id)).toEqual(idle.run);
    });

    it('passes on a failed write that is not a conflict', async () => {
      const s = await setup({ count: 1, sessions: { 0: 'Passed' } });
      const deps: Dependencies = { ...s.deps, schedules: Object.assign(Object.create(s.deps.schedules) as Dependencies['schedules'], { updateRun: () => Promise.reject(new Error('table unavailable')) }) };
      await expect(advanceRun(deps, s.run.id)).rejects.toThrow('table unavailable');
    });
  });

  describe('an operator’s hand on a run', () => {
    it('refuses a run that does not exist, one that ended, and steering one still fanning out (which may only be cancelled)', async () => {
      const s = await setup({ count: 0 });
      await expect(operateRun(s.deps, { runId: 'run-nowhere', operation: 'halt', by: BOB })).rejects.toThrow(new NotFoundError('run', 'run-nowhere'));
      const done = await setup({ count: 0, run: { status: 'Completed' } });
      await expect(operateRun(done.deps, { runId: done.run.id, operation: 'halt', by: BOB })).rejects.toThrow(new RequestRefusedError(`cannot halt run ${done.run.id}: it is Completed`));
      const starting = await setup({ count: 0, run: { status: 'Starting' } });
      await expect(operateRun(starting.deps, { runId: starting.run.id, operation: 'halt', by: BOB })).rejects.toThrow(`cannot halt run ${starting.run.id}: its fan-out is still starting; try again in a moment`);
      expect(await operateRun(starting.deps, { runId: starting.run.id, operation: 'cancel', by: BOB })).toMatchObject({ status: 'Cancelled' });
    });

    it('halts a run with who and why, audits it, publishes it and asks the worker for nothing', async () => {
      const s = await setup({ count: 1, run: { owner: { tenantId: 't1' } } });
      s.h.clock.advance(5_000);
      const halted = await operateRun(s.deps, { runId: s.run.id, operation: 'halt', by: BOB, reason: 'change freeze' });
      const at = s.h.clock.now().toISOString();
      expect(halted).toEqual({ ...s.run, status: 'Halted', haltReason: 'halted by bob@msp.example: change freeze', haltCause: 'Operator', version: 2, updatedAt: at });
      expect(await s.deps.schedules.getRun(s.run.id)).toEqual(halted);
      expect(await s.deps.audit.list('Run', s.run.id)).toEqual([
        {
          resource: 'Run',
          resourceId: s.run.id,
          tenantId: 't1',
          version: 2,
          at,
          by: BOB,
          action: 'Halted',
          changes: [
            { field: 'haltCause', after: 'Operator' },
            { field: 'haltReason', after: 'halted by bob@msp.example: change freeze' },
            { field: 'status', before: 'Running', after: 'Halted' },
          ],
        },
      ]);
      expect(s.events.published.map((e) => e.detail.event)).toEqual(['RunHalted']);
      expect(s.h.logged).toContainEqual({ level: 'info', message: 'schedule run operated', fields: { runId: s.run.id, operation: 'halt', by: 'bob@msp.example' } });
      expect(s.runWork.requested).toEqual([]);

      // halting it again changes nothing
      expect(await operateRun(s.deps, { runId: s.run.id, operation: 'halt', by: BOB })).toEqual(halted);
      expect(await s.deps.audit.list('Run', s.run.id)).toHaveLength(1);
    });

    it('resumes a halted run accepting the failures so far, forgets why it halted, keeps when its ring ended, and asks the worker to go on', async () => {
      const s = await setup({ count: 3, sessions: { 0: 'Failed', 1: 'Failed' }, run: { status: 'Halted', haltReason: 'error budget spent', haltCause: 'ErrorBudget', ringEndedAt: '2026-11-23T08:00:00.000Z' } });
      const resumed = await operateRun(s.deps, { runId: s.run.id, operation: 'resume', by: BOB });
      expect(resumed).toMatchObject({ status: 'Running', failuresAccepted: 2, ringEndedAt: '2026-11-23T08:00:00.000Z' });
      expect(resumed).not.toHaveProperty('haltReason');
      expect(resumed).not.toHaveProperty('haltCause');
      expect(resumed).not.toHaveProperty('thresholdWaivedForRing');
      expect(s.events.published.map((e) => e.detail.event)).toEqual(['RunResumed']);
      expect(s.runWork.requested).toEqual([s.run.id]);
      expect((await s.deps.audit.list('Run', s.run.id))[0]).toMatchObject({ action: 'Resumed' });
      expect((await s.deps.audit.list('Run', s.run.id))[0]).not.toHaveProperty('tenantId');
      await expect(operateRun(s.deps, { runId: s.run.id, operation: 'resume', by: BOB })).rejects.toThrow(`cannot resume run ${s.run.id}: it is not halted`);
    });

    it('resuming a run its ring’s success rate halted waives that ring’s threshold', async () => {
      const s = await setup({ count: 0, run: { status: 'Halted', haltCause: 'RingThreshold', haltReason: 'ring canary', currentRing: 0, rollout: { rings: RINGS } } });
      const resumed = await operateRun(s.deps, { runId: s.run.id, operation: 'resume', by: BOB });
      expect(resumed).toMatchObject({ status: 'Running', thresholdWaivedForRing: 0 });
      expect(resumed).not.toHaveProperty('ringEndedAt');
    });

    it('promotes a run to its next ring now, accepting the failures so far, and refuses one in its last ring', async () => {
      const s = await setup({ count: 2, sessions: { 0: 'Failed' }, run: { status: 'Halted', haltCause: 'RingThreshold', haltReason: 'ring canary', rollout: { rings: RINGS } } });
      const promoted = await operateRun(s.deps, { runId: s.run.id, operation: 'promote', by: BOB, reason: 'known flaky driver' });
      expect(promoted).toMatchObject({ status: 'Running', currentRing: 1, failuresAccepted: 1 });
      expect(promoted).not.toHaveProperty('haltReason');
      expect(s.events.published.map((e) => e.detail.event)).toEqual(['RingStarted', 'RunResumed']);
      expect((await s.deps.audit.list('Run', s.run.id))[0]).toMatchObject({ action: 'Promoted' });
      expect(s.runWork.requested).toEqual([s.run.id]);
      await expect(operateRun(s.deps, { runId: s.run.id, operation: 'promote', by: BOB })).rejects.toThrow(`cannot promote run ${s.run.id}: it is in its last ring`);
      const flat = await setup({ count: 0 });
      await expect(operateRun(flat.deps, { runId: flat.run.id, operation: 'promote', by: BOB })).rejects.toBeInstanceOf(RequestRefusedError);
    });

    it('cancels a run with who cancelled it, audited and published', async () => {
      const s = await setup({ count: 0 });
      const cancelled = await operateRun(s.deps, { runId: s.run.id, operation: 'cancel', by: BOB });
      expect(cancelled).toMatchObject({ status: 'Cancelled', haltReason: 'cancelled by bob@msp.example', haltCause: 'Operator' });
      expect(s.events.published.map((e) => e.detail.event)).toEqual(['RunCancelled']);
      expect((await s.deps.audit.list('Run', s.run.id))[0]).toMatchObject({ action: 'Cancelled' });
      expect(s.runWork.requested).toEqual([]);
    });

    it('does not merge with a step that wrote the run meanwhile: the conflict is the operator’s to see', async () => {
      const s = await setup({ count: 0 });
      await s.deps.schedules.updateRun({ ...s.run, version: 2 }, 1);
      const deps: Dependencies = { ...s.deps, schedules: Object.assign(Object.create(s.deps.schedules) as Dependencies['schedules'], { getRun: () => Promise.resolve(s.run) }) };
      await expect(operateRun(deps, { runId: s.run.id, operation: 'halt', by: BOB })).rejects.toBeInstanceOf(ConflictError);
      expect(await s.deps.audit.list('Run', s.run.id)).toEqual([]);
    });
  });
});
