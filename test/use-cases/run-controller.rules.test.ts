import { describe, expect, it, vi } from 'vitest';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { scheduleInputSchema } from '../../functions/core/model/schedule.js';
import { createSchedule } from '../../functions/core/use-cases/manage-schedules.js';
import { advanceActiveRuns, stepRun } from '../../functions/core/use-cases/run-controller.js';
import { useCaseHarness, type Harness } from './harness.js';
import { runRecord } from '../support/schedules.js';

/**
 * The controller's minute sweep and the run worker's step (dynalite): a run
 * still starting is fanned out (or cancelled when its schedule is gone, or
 * left to a live holder), any other run takes a rollout step; the sweep
 * counts only runs whose status moved, and one broken run is logged and
 * does not stop the others.
 */

const AT = '2026-11-23T09:00:00.000Z';

const runOf = (id: string, scheduleId: string, overrides: Partial<ScheduleRun> = {}): ScheduleRun => runRecord(id, AT, { scheduleId, ...overrides });

describe('the run controller', () => {
  const harness = useCaseHarness();
  let n = 0;

  /** A stored schedule (it targets computers no other test has) and a prefix for this test's run ids. */
  async function setup(): Promise<{ h: Harness; scheduleId: string; id: string }> {
    const h = harness();
    const id = `rc${String(++n)}${Date.now().toString(36)}`;
    const input = scheduleInputSchema.parse({
      name: 'Weeknights',
      target: { kind: 'Tag', tag: `none-${id}` },
      recurrence: { kind: 'Weekly', days: ['TUE'] },
      detectionTime: '14:00',
      maintenanceTime: '22:00',
    });
    const { schedule } = await createSchedule(h.deps, { input, scheduleId: `${id}-sch`, by: { kind: 'Operator', name: 'alice' } });
    return { h, scheduleId: schedule.id, id };
  }

  it('steps every active run it is given, counts those whose status moved, and logs the one that breaks without stopping the rest', async () => {
    const { h, scheduleId, id } = await setup();
    const orphan = runOf(`${id}-orphan`, `${id}-deleted`, { status: 'Starting' });
    const held = runOf(`${id}-held`, scheduleId, { status: 'Starting', fanOutLeaseUntil: '2026-11-23T09:05:00.000Z' });
    const lost = runOf(`${id}-lost`, scheduleId);
    const empty = runOf(`${id}-empty`, scheduleId);
    for (const run of [orphan, held, empty]) await h.deps.schedules.createRun(run);
    const listed = vi.spyOn(h.deps.schedules, 'listActiveRuns').mockResolvedValue([orphan, held, lost, empty]);

    expect(await advanceActiveRuns(h.deps, 7)).toEqual({ looked: 4, changed: 2 });
    expect(listed).toHaveBeenCalledWith(7);
    expect((await h.deps.schedules.getRun(orphan.id))?.status).toBe('Cancelled');
    expect((await h.deps.schedules.getRun(held.id))?.status).toBe('Starting');
    expect((await h.deps.schedules.getRun(empty.id))?.status).toBe('Completed');
    expect(h.logged.filter((line) => line.level === 'error')).toEqual([
      { level: 'error', message: 'schedule run could not be advanced', fields: { runId: lost.id, error: `run ${lost.id} does not exist` } },
    ]);
  });

  it('logs a failure that is not an Error as its text', async () => {
    const { h, scheduleId, id } = await setup();
    const run = runOf(`${id}-run`, scheduleId);
    vi.spyOn(h.deps.schedules, 'listActiveRuns').mockResolvedValue([run]);
    vi.spyOn(h.deps.schedules, 'getRun').mockRejectedValue('table gone');
    expect(await advanceActiveRuns(h.deps, 10)).toEqual({ looked: 1, changed: 0 });
    expect(h.logged).toContainEqual({ level: 'error', message: 'schedule run could not be advanced', fields: { runId: run.id, error: 'table gone' } });
  });

  it('the worker’s step: nothing for a run that is gone, a fan-out for one starting, a rollout step for one running', async () => {
    const { h, scheduleId, id } = await setup();
    expect(await stepRun(h.deps, `${id}-gone`)).toBeUndefined();
    expect(h.logged).toContainEqual({ level: 'warn', message: 'run worker asked to step a run that does not exist', fields: { runId: `${id}-gone` } });

    const starting = runOf(`${id}-starting`, scheduleId, { status: 'Starting' });
    await h.deps.schedules.createRun(starting);
    // its schedule targets no computer: the fan-out writes none and the run goes on past Starting
    expect(await stepRun(h.deps, starting.id)).toMatchObject({ status: 'Completed', targeted: 0 });
    expect((await h.deps.schedules.getRun(starting.id))?.status).toBe('Completed');

    const orphan = runOf(`${id}-orphan`, `${id}-deleted`, { status: 'Starting' });
    await h.deps.schedules.createRun(orphan);
    expect(await stepRun(h.deps, orphan.id)).toMatchObject({ status: 'Cancelled', haltCause: 'ScheduleDeleted' });

    const running = runOf(`${id}-running`, scheduleId);
    await h.deps.schedules.createRun(running);
    const stepped = await stepRun(h.deps, running.id);
    expect(stepped?.status).toBe('Completed');
    expect(await h.deps.schedules.getRun(running.id)).toEqual(stepped);
  });
});
