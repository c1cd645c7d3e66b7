import { NotFoundError } from '../errors.js';
import type { ScheduleInput } from '../model/schedule.js';
import type { SkipReason } from '../model/schedule-run.js';
import { indexDeployments } from '../planning/resolution.js';
import { decideTarget, selectTargets } from '../schedules/targets.js';
import { scheduleTimeZone, upcomingFires, windowOpensAfter } from '../schedules/windows.js';
import type { Dependencies } from './dependencies.js';
import { loadCatalogFor } from './prepare-session.js';

export interface SchedulePreview {
  /** The zone the schedule's times are read in. */
  readonly timeZone: string;
  /** The next fires (detection starts), as Scheduler will fire them. */
  readonly nextFires: readonly string[];
  /** Each targeted computer at the next fire: when its window opens, or why it would be skipped. */
  readonly targets: readonly {
    readonly computerId: string;
    readonly computerName: string;
    readonly tenantId: string;
    readonly timeZone: string;
    readonly windowOpensAt?: string;
    readonly skipped?: SkipReason;
    readonly detail?: string;
  }[];
  readonly unknownComputerIds: readonly string[];
}

/**
 * "Which computers would this target, and when would each one's window
 * open?" for a stored schedule or one being edited, against the catalog as
 * it is now. Reads only. A computer busy with another session at the time is
 * found only by the fire itself.
 */
export async function previewSchedule(
  deps: Pick<Dependencies, 'schedules' | 'catalog' | 'clock'>,
  request: { readonly scheduleId: string; readonly fires?: number } | { readonly input: ScheduleInput; readonly fires?: number },
): Promise<SchedulePreview> {
  let schedule: ScheduleInput;
  if ('scheduleId' in request) {
    const stored = await deps.schedules.getSchedule(request.scheduleId);
    if (!stored) throw new NotFoundError('schedule', request.scheduleId);
    schedule = stored;
  } else {
    schedule = request.input;
  }
  const { catalog, deployments } = await loadCatalogFor(deps);
  // Stryker disable next-line ConditionalExpression: the tenants map has no entry under undefined, so looking one up gives the same undefined
  const timeZone = scheduleTimeZone(schedule, schedule.tenantId === undefined ? undefined : catalog.tenants.get(schedule.tenantId));
  const fires = upcomingFires(schedule, timeZone, deps.clock.now(), request.fires ?? 5);
  const firedAt = fires[0];
  const { computers, unknownComputerIds } = selectTargets(schedule, await deps.catalog.listComputers(), catalog.tenants);
  const index = indexDeployments(deployments);
  return {
    timeZone,
    nextFires: fires.map((fire) => fire.toISOString()),
    targets: computers.map((computer) => {
      const base = { computerId: computer.id, computerName: computer.name, tenantId: computer.tenantId, timeZone: computer.timeZone };
      if (!firedAt) return base;
      const decision = decideTarget(schedule, computer, { catalog, index, scheduleZone: timeZone });
      if (!decision.start) return { ...base, skipped: decision.skipped, detail: decision.detail };
      // for the first ring; a later ring's computers open their window after that ring starts
      return decision.window ? { ...base, windowOpensAt: windowOpensAfter(decision.window, firedAt).toISOString() } : base;
    }),
    unknownComputerIds,
  };
}
