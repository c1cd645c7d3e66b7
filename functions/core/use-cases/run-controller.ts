import type { Dependencies } from './dependencies.js';
import { advanceRun } from './advance-run.js';
import { fireSchedule } from './fire-schedule.js';

/**
 * The controller's sweep (every minute): each run still starting or running
 * takes one step. A run left `Starting` by a fire whose every delivery
 * stopped (its lease lapsed, its retries spent) is fanned out again from
 * here, with its own fire time, so it is never stuck; one whose schedule was
 * deleted meanwhile is cancelled. Answers how many runs changed status.
 */
export async function advanceActiveRuns(deps: Dependencies, limit: number): Promise<{ looked: number; changed: number }> {
  const runs = await deps.schedules.listActiveRuns(limit);
  let changed = 0;
  for (const run of runs) {
    try {
      if (run.status === 'Starting') {
        const leaseLapsed = run.fanOutLeaseUntil === undefined || Date.parse(run.fanOutLeaseUntil) <= deps.clock.now().getTime();
        if (!leaseLapsed) continue;
        const fired = await fireSchedule(deps, { scheduleId: run.scheduleId, scheduledTime: run.scheduledTime, trigger: 'RunNow', by: run.by });
        if (!fired.fired) {
          const { fanOutLeaseUntil: _lease, ...rest } = run;
          await deps.schedules.updateRun(
            { ...rest, status: 'Cancelled', haltReason: 'its schedule was deleted before its fan-out finished', haltCause: 'ScheduleDeleted', version: run.version + 1, updatedAt: deps.clock.now().toISOString() },
            run.version,
          );
        }
        changed++;
        continue;
      }
      const advanced = await advanceRun(deps, run.id);
      if (advanced.status !== run.status) changed++;
    } catch (error) {
      // one broken run must not stop the others
      deps.logger.error('schedule run could not be advanced', { runId: run.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { looked: runs.length, changed };
}
