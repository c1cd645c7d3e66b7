import { DEFAULT_ACTIVE_HOURS, type Computer, type Tenant } from '../model/catalog.js';
import type { WindowSpec } from '../model/schedule-run.js';
import { MIN_DETECTION_TO_EXECUTION_MINUTES, detectionTimeOf, type ScheduleInput } from '../model/schedule.js';
import { cronOf, nextFireTimes, nextWallTime, wallTimeIn, type CronFields } from './cron.js';

const MINUTE_MS = 60_000;

type ScheduleTimes = Pick<
  ScheduleInput,
  'recurrence' | 'detectionTime' | 'maintenanceTime' | 'executeImmediatelyAfterDetection' | 'timeZone' | 'useComputerTimeZone' | 'executeAfterActiveHours' | 'detectionOnly'
>;

/** The zone a schedule's times are read in: its own, else its tenant's default, else UTC. */
export function scheduleTimeZone(schedule: Pick<ScheduleInput, 'timeZone'>, tenant: Pick<Tenant, 'defaultTimeZone'> | undefined): string {
  return schedule.timeZone ?? tenant?.defaultTimeZone ?? 'UTC';
}

/** The schedule's recurrence as cron fields; `undefined` only for input validation has refused. */
export function scheduleCron(schedule: Pick<ScheduleInput, 'recurrence' | 'detectionTime'>): CronFields | undefined {
  return cronOf(schedule.recurrence, detectionTimeOf(schedule));
}

/** The next `count` fires of the schedule after `after`, as EventBridge Scheduler would fire them. */
export function upcomingFires(schedule: ScheduleTimes, timeZone: string, after: Date, count: number): Date[] {
  const cron = scheduleCron(schedule);
  return cron ? nextFireTimes(cron, timeZone, after, count) : [];
}

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** Whether `time` falls inside active hours; hours that wrap midnight (22:00–06:00) count across it. */
function insideActiveHours(time: string, hours: { start: string; end: string }): boolean {
  const [t, start, end] = [minutesOf(time), minutesOf(hours.start), minutesOf(hours.end)];
  const afterStart = t >= start;
  // Stryker disable next-line EqualityOperator: a window opening on the end minute would move to the end, where it already is
  const beforeEnd = t < end;
  return start <= end ? afterStart && beforeEnd : afterStart || beforeEnd;
}

/**
 * When a computer's maintenance window opens for a fire at `firedAt`:
 * - detection only, or execution right after detection: no window (`undefined`);
 * - otherwise the first time the wall clock of the execution zone (the
 *   computer's with `useComputerTimeZone`, else the schedule's) reads the
 *   maintenance time, at least an hour after the fire, so a computer on the
 *   other side of the date line is maintained at its own night, not at noon;
 * - with `executeAfterActiveHours`, a window inside the computer's active
 *   hours (Windows' 08:00–17:00 when it reports none) moves to their end.
 */
export function executionWindow(
  schedule: ScheduleTimes,
  computer: Pick<Computer, 'timeZone' | 'activeHours'>,
  scheduleZone: string,
  firedAt: Date,
): Date | undefined {
  const spec = windowSpec(schedule, computer, scheduleZone);
  return spec ? windowOpensAfter(spec, firedAt) : undefined;
}


/** The computer's window rule under the schedule; `undefined` when execution has no window. */
export function windowSpec(schedule: ScheduleTimes, computer: Pick<Computer, 'timeZone' | 'activeHours'>, scheduleZone: string): WindowSpec | undefined {
  if (schedule.detectionOnly || schedule.executeImmediatelyAfterDetection || schedule.maintenanceTime === undefined) return undefined;
  const zone = schedule.useComputerTimeZone ? computer.timeZone : scheduleZone;
  return {
    time: schedule.maintenanceTime,
    zone,
    // active hours are the user's, on the computer's own clock, whatever zone the schedule reads its times in
    ...(schedule.executeAfterActiveHours ? { avoid: computer.activeHours ?? DEFAULT_ACTIVE_HOURS, avoidZone: computer.timeZone } : {}),
  };
}

/** When the window opens for a session whose detection starts at `detectionAt` (a fire, or a later ring's start). */
export function windowOpensAfter(spec: WindowSpec, detectionAt: Date): Date {
  const earliest = new Date(detectionAt.getTime() + MIN_DETECTION_TO_EXECUTION_MINUTES * MINUTE_MS);
  const opens = nextWallTime(spec.time, spec.zone, earliest);
  if (!spec.avoid) return opens;
  const userZone = spec.avoidZone ?? spec.zone;
  return insideActiveHours(wallTimeIn(opens, userZone), spec.avoid) ? nextWallTime(spec.avoid.end, userZone, opens) : opens;
}
