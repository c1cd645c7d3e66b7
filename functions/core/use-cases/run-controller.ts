import type { ScheduleRun } from '../model/schedule-run.js';
import type { Dependencies } from './dependencies.js';
import { advanceRun } from './advance-run.js';
import { fanOutStartingRun } from './fire-schedule.js';

/**
 * The controller's sweep (every minute): each run still starting or running
 * takes one step. A run left `Starting` (a run-now whose request to the
 * worker was lost, a fire whose every delivery stopped) is fanned out from
 * here once no live holder has it, so it is never stuck. Answers how many
 * runs changed status.
 */
export async function advanceActiveRuns(deps: Dependencies, limit: number): Promise<{ looked: number; changed: number }> {
  const runs = await deps.schedules.listActiveRuns(limit);
  let changed = 0;
  for (const run of runs) {
    try {
      const stepped = await stepKnownRun(deps, run);
      if (stepped.status !== run.status) changed++;
    } catch (error) {
      // one broken run must not stop the others
      deps.logger.error('schedule run could not be advanced', { runId: run.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { looked: runs.length, changed };
}

/**
 * The run worker's step on one run, asked for by a caller that could not
 * wait for it (an operator's run-now, resume or promote): the fan-out of a
 * run still starting, or the rollout's next starts. Idempotent, so a
 * redelivered request does nothing the first did not leave to do. A run
 * that is gone is nothing to do (its request outlived it).
 */
export async function stepRun(deps: Dependencies, runId: string): Promise<ScheduleRun | undefined> {
  const run = await deps.schedules.getRun(runId);
  if (!run) {
    deps.logger.warn('run worker asked to step a run that does not exist', { runId });
    return undefined;
  }
  return stepKnownRun(deps, run);
}

function stepKnownRun(deps: Dependencies, run: ScheduleRun): Promise<ScheduleRun> {
  return run.status === 'Starting' ? fanOutStartingRun(deps, run) : advanceRun(deps, run.id);
}
