import { Cron } from 'croner';

/**
 * Schedule recurrences as cron, and the one place they are turned into the
 * two dialects that run them: EventBridge Scheduler's `cron(…)` (six fields,
 * `?` in one day field, Sunday = 1) and croner's five fields (Sunday = 0)
 * for the local runtime and for previews. Both receive day names, never
 * day numbers, so the two numbering schemes never meet.
 *
 * Schedules are at most daily: one minute and one hour. Days of the month,
 * months and days of the week may be lists, ranges and (except days of the
 * week) steps.
 */
export interface CronFields {
  readonly minute: number;
  readonly hour: number;
  /** `*`, or a list of days of the month (`1,15`, `1-7`, `*\/2`, `L`). */
  readonly dayOfMonth: string;
  /** `*`, or a list of months (`1-6`, `JAN,JUL`). */
  readonly month: string;
  /** `*`, or a list of day names (`MON-FRI`, `TUE#2`). */
  readonly dayOfWeek: string;
  /** `HH:MM`: when the schedule fires, on the wall clock of its time zone. */
  readonly time: string;
}

export type ParsedCron = { readonly ok: true; readonly cron: CronFields } | { readonly ok: false; readonly problem: string };

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;

// Stryker disable next-line StringLiteral: a day number is 0 to 7, so it always has a name; the fallback is for the types
const dayName = (day: number): string => DAY_NAMES[day % 7] ?? 'SUN';

const pad = (value: number): string => String(value).padStart(2, '0');

const fail = (problem: string): ParsedCron => ({ ok: false, problem });

function singleNumber(text: string, max: number): number | undefined {
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

/** One value of a list field: a number in range or a name; answers the number. */
// Stryker disable next-line ArrayDeclaration: every caller passes its names (listField's own default is the empty list), so this default is never taken
function fieldValue(text: string, min: number, max: number, names: readonly string[] = []): number | undefined {
  const named = names.indexOf(text.toUpperCase());
  if (named >= 0) return named + min;
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** `*` or a list of `a`, `a-b`, `a/s`, `a-b/s`, `*\/s`; answers the normalised text or a problem. */
function listField(
  text: string,
  label: string,
  min: number,
  max: number,
  render: (value: number) => string,
  // Stryker disable next-line ArrayDeclaration: no item holds a space (the fields are split on white space), so no name in place of none is ever met
  names: readonly string[] = [],
): { readonly text: string } | { readonly problem: string } {
  if (text === '*' || text === '?') return { text: '*' };
  const items = text.split(',');
  const rendered: string[] = [];
  for (const item of items) {
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d{1,2}))?$/.exec(item);
    if (!match) return { problem: `${label} "${item}" is not a value, a range or a step` };
    // Stryker disable next-line StringLiteral: the pattern always captures its first group; the default is for the types
    const [, fromText = '', toText, stepText] = match;
    const step = stepText === undefined ? undefined : Number(stepText);
    if (step !== undefined && (step < 1 || step > max)) return { problem: `${label} step "${stepText}" must be from 1 to ${max}` };
    if (fromText === '*') {
      if (toText !== undefined || step === undefined) return { problem: `${label} "${item}" is not a value, a range or a step` };
      rendered.push(`*/${step}`);
      continue;
    }
    const from = fieldValue(fromText, min, max, names);
    if (from === undefined) return { problem: `${label} "${fromText}" must be from ${min} to ${max}` };
    const to = toText === undefined ? undefined : fieldValue(toText, min, max, names);
    if (toText !== undefined && to === undefined) return { problem: `${label} "${toText}" must be from ${min} to ${max}` };
    if (to !== undefined && to < from) return { problem: `${label} range "${item}" runs backwards` };
    rendered.push(`${render(from)}${to === undefined ? '' : `-${render(to)}`}${step === undefined ? '' : `/${step}`}`);
  }
  return { text: rendered.join(',') };
}

/** Days of the week as names; 0 and 7 are both Sunday. Ranges may not wrap (`SAT-MON`): write `SAT,SUN,MON`. */
function dayOfWeekField(text: string): { readonly text: string } | { readonly problem: string } {
  if (text === '*' || text === '?') return { text: '*' };
  const nth = /^([A-Za-z]{3}|[0-7])#([1-5])$/.exec(text);
  if (nth) {
    // Stryker disable next-line StringLiteral: the pattern always captures both groups; the defaults are for the types
    const [, dayText = '', occurrence = ''] = nth;
    const day = dayNumber(dayText);
    if (day === undefined) return { problem: `day of week "${dayText}" is not a day (SUN-SAT or 0-7)` };
    return { text: `${dayName(day)}#${occurrence}` };
  }
  const rendered: string[] = [];
  for (const item of text.split(',')) {
    if (item.includes('/')) return { problem: `day of week "${item}": steps are not supported; list the days` };
    if (item.includes('#')) return { problem: `day of week "${item}": an nth weekday (e.g. TUE#2) stands alone, not in a list` };
    const [fromText = '', toText, extra] = item.split('-');
    if (extra !== undefined) return { problem: `day of week "${item}" is not a day or a range` };
    const from = dayNumber(fromText);
    if (from === undefined) return { problem: `day of week "${fromText}" is not a day (SUN-SAT or 0-7)` };
    if (toText === undefined) {
      rendered.push(dayName(from));
      continue;
    }
    const rawTo = dayNumber(toText);
    if (rawTo === undefined) return { problem: `day of week "${toText}" is not a day (SUN-SAT or 0-7)` };
    // a `7` written as such is Sunday at the end of the week, wherever it stands: `7-7` is Sunday alone, `7-MON` runs backwards
    const start = fromText === '7' ? 7 : from;
    // `5-7`, `0-7` and `FRI-SUN` end on Sunday: Sunday closes a range as 7 (a `7` written as such always does)
    const to = rawTo === 0 && (start > 0 || toText === '7') ? 7 : rawTo;
    if (to < start) return { problem: `day of week range "${item}" runs backwards; list the days instead` };
    if (to === 7) {
      // EventBridge and croner both know SUN only as the start of the week: spell the days out
      for (let day = start; day <= 7; day++) rendered.push(dayName(day));
    } else if (to === start) {
      // one day, not `SUN-SUN`: croner reads a range ending in SUN as ending on 7, which makes `SUN-SUN` every day
      rendered.push(dayName(start));
    } else {
      rendered.push(`${dayName(start)}-${dayName(to)}`);
    }
  }
  return { text: [...new Set(rendered)].join(',') };
}

function dayNumber(text: string): number | undefined {
  const named = DAY_NAMES.indexOf(text.toUpperCase() as (typeof DAY_NAMES)[number]);
  if (named >= 0) return named;
  if (!/^[0-7]$/.test(text)) return undefined;
  return Number(text) % 7;
}

/**
 * Parses a 5-field cron expression (minute hour day-of-month month
 * day-of-week), refusing what a maintenance schedule cannot be: more often
 * than daily, or restricted by day of month and day of week at once
 * (EventBridge allows only one of the two).
 */
export function parseCronExpression(expression: string): ParsedCron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    return fail(`must have 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`);
  }
  // Stryker disable next-line StringLiteral: there are exactly five fields here; the defaults are for the types
  const [minuteText = '', hourText = '', domText = '', monthText = '', dowText = ''] = fields;
  const minute = singleNumber(minuteText, 59);
  if (minute === undefined) return fail(`minute "${minuteText}" must be one number from 0 to 59: a schedule runs at most daily`);
  const hour = singleNumber(hourText, 23);
  if (hour === undefined) return fail(`hour "${hourText}" must be one number from 0 to 23: a schedule runs at most daily`);

  const dayOfMonth = domText === 'L' ? { text: 'L' } : listField(domText, 'day of month', 1, 31, String);
  if ('problem' in dayOfMonth) return fail(dayOfMonth.problem);
  const month = listField(monthText, 'month', 1, 12, String, MONTH_NAMES);
  if ('problem' in month) return fail(month.problem);
  const dayOfWeek = dayOfWeekField(dowText);
  if ('problem' in dayOfWeek) return fail(dayOfWeek.problem);
  if (dayOfMonth.text !== '*' && dayOfWeek.text !== '*') {
    return fail('restrict the day of month or the day of week, not both');
  }
  return {
    ok: true,
    cron: { minute, hour, dayOfMonth: dayOfMonth.text, month: month.text, dayOfWeek: dayOfWeek.text, time: `${pad(hour)}:${pad(minute)}` },
  };
}

/** The recurrence forms a schedule offers, as cron. `time` is `HH:MM`. */
export type RecurrenceSpec =
  | { readonly kind: 'Daily' }
  | { readonly kind: 'Weekly'; readonly days: readonly string[] }
  | { readonly kind: 'Monthly'; readonly days: readonly (number | 'Last')[] }
  | { readonly kind: 'Cron'; readonly expression: string };

/** The cron of a recurrence firing at `time`; `undefined` for an expression that does not parse (refused by validation). */
export function cronOf(recurrence: RecurrenceSpec, time: string | undefined): CronFields | undefined {
  if (recurrence.kind === 'Cron') {
    const parsed = parseCronExpression(recurrence.expression);
    return parsed.ok ? parsed.cron : undefined;
  }
  if (time === undefined) return undefined;
  const [hour, minute] = [Number(time.slice(0, 2)), Number(time.slice(3, 5))];
  const base = { minute, hour, month: '*', time };
  if (recurrence.kind === 'Daily') return { ...base, dayOfMonth: '*', dayOfWeek: '*' };
  if (recurrence.kind === 'Weekly') return { ...base, dayOfMonth: '*', dayOfWeek: recurrence.days.join(',') };
  // validation keeps `Last` alone: EventBridge takes `L` only as the whole day-of-month field
  return { ...base, dayOfMonth: recurrence.days.map((d) => (d === 'Last' ? 'L' : String(d))).join(','), dayOfWeek: '*' };
}

/** EventBridge Scheduler's form: six fields, the unrestricted day field as `?`, every year. */
export function toEventBridgeExpression(cron: CronFields): string {
  const dayOfMonth = cron.dayOfWeek === '*' ? cron.dayOfMonth : '?';
  const dayOfWeek = cron.dayOfWeek === '*' ? '?' : cron.dayOfWeek;
  return `cron(${cron.minute} ${cron.hour} ${dayOfMonth} ${cron.month} ${dayOfWeek} *)`;
}

/** croner's form: five fields, as parsed (day names, `L`, `#` are croner syntax too). */
export function toCronerPattern(cron: CronFields): string {
  return `${cron.minute} ${cron.hour} ${cron.dayOfMonth} ${cron.month} ${cron.dayOfWeek}`;
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** `HH:MM` of an instant on the wall clock of `timeZone`. */
export function wallTimeIn(instant: Date, timeZone: string): string {
  let format = wallClockFormats.get(timeZone);
  // Stryker disable next-line ConditionalExpression: a cache; a new format reads the same
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    wallClockFormats.set(timeZone, format);
  }
  return format.format(instant);
}

/**
 * The next `count` instants after `after` at which the schedule fires, as
 * EventBridge Scheduler fires them: a wall time that does not exist on a
 * spring-forward day is skipped (croner would fire at the shifted time, so
 * such instants are dropped here), and a wall time that repeats on a
 * fall-back day fires once, at its first occurrence.
 */
export function nextFireTimes(cron: CronFields, timeZone: string, after: Date, count: number): Date[] {
  const job = new Cron(toCronerPattern(cron), {
    timezone: timeZone,
    // Stryker disable next-line BooleanLiteral: croner starts a timer only for a job given a function; this one is only asked for its runs
    paused: true,
    // lets croner take a step from a start (`1/2`), which EventBridge takes and croner 11 otherwise refuses
    sloppyRanges: true,
  });
  const found: Date[] = [];
  let from = after;
  // a spring-forward skip costs one extra look; a year of skips is far below this bound
  for (let looks = 0; found.length < count && looks < count + 32; looks++) {
    const next = job.nextRun(from);
    if (!next) break;
    if (wallTimeIn(next, timeZone) === cron.time) found.push(next);
    from = next;
  }
  return found;
}

/**
 * The first instant at or after `earliest` whose wall clock in `timeZone`
 * reads `time`. On a spring-forward day a time that does not exist is met
 * when the clock jumps past it (a window opens late rather than a day late).
 */
export function nextWallTime(time: string, timeZone: string, earliest: Date): Date {
  // Stryker disable next-line BooleanLiteral: as in nextFireTimes, no function, no timer
  const job = new Cron(`${Number(time.slice(3, 5))} ${Number(time.slice(0, 2))} * * *`, { timezone: timeZone, paused: true });
  // nextRun answers strictly after its argument
  // a daily pattern always has a next run; the fallback only satisfies the type
  return job.nextRun(new Date(earliest.getTime() - 1)) ?? earliest;
}

/**
 * The inverse of `toEventBridgeExpression`, for the local runtime: it holds
 * triggers in EventBridge's form, exactly as Scheduler would, and reads them
 * back into fields here rather than keeping a dialect of its own.
 */
export function parseEventBridgeExpression(expression: string): ParsedCron {
  const match = /^cron\((.+)\)$/.exec(expression.trim());
  // Stryker disable next-line OptionalChaining: a match always has its one group; the `?.` is for the types
  const fields = match?.[1]?.trim().split(/\s+/);
  if (!fields || fields.length !== 6) return fail(`"${expression}" is not an EventBridge cron(…) expression of six fields`);
  // Stryker disable next-line StringLiteral: there are exactly six fields here; the defaults are for the types
  const [minute = '', hour = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  if (year !== '*') return fail(`year "${year}" must be *: schedules recur every year`);
  return parseCronExpression([minute, hour, dayOfMonth, month, dayOfWeek].join(' '));
}
