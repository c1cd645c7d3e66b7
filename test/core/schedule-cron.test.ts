import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cronOf,
  nextFireTimes,
  nextWallTime,
  parseCronExpression,
  parseEventBridgeExpression,
  toCronerPattern,
  toEventBridgeExpression,
  wallTimeIn,
  type CronFields,
} from '../../functions/core/schedules/cron.js';

const parsed = (expression: string): CronFields => {
  const result = parseCronExpression(expression);
  if (!result.ok) throw new Error(`expected ${expression} to parse: ${result.problem}`);
  return result.cron;
};
const problem = (expression: string): string => {
  const result = parseCronExpression(expression);
  if (result.ok) throw new Error(`expected ${expression} to be refused`);
  return result.problem;
};
const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

describe('schedule cron: at most daily, one conversion to each dialect', () => {
  it('turns 5-field cron into EventBridge form with ? in the unrestricted day field and day names, never numbers', () => {
    expect(toEventBridgeExpression(parsed('0 22 * * 2'))).toBe('cron(0 22 ? * TUE *)');
    expect(toEventBridgeExpression(parsed('30 14 * * 1-5'))).toBe('cron(30 14 ? * MON-FRI *)');
    expect(toEventBridgeExpression(parsed('0 3 1,15 * *'))).toBe('cron(0 3 1,15 * ? *)');
    expect(toEventBridgeExpression(parsed('0 3 L * *'))).toBe('cron(0 3 L * ? *)');
    expect(toEventBridgeExpression(parsed('0 3 * * *'))).toBe('cron(0 3 * * ? *)');
    expect(toEventBridgeExpression(parsed('0 3 * jan,jul 0'))).toBe('cron(0 3 ? 1,7 SUN *)');
    // 7 is Sunday too, and a range ending on Sunday is spelt out (SUN opens the week in both dialects)
    expect(toEventBridgeExpression(parsed('0 3 * * 5-7'))).toBe('cron(0 3 ? * FRI,SAT,SUN *)');
    expect(toEventBridgeExpression(parsed('15 4 * * TUE#2'))).toBe('cron(15 4 ? * TUE#2 *)');
    // 0-7 is every day (both ends are Sunday)
    expect(toEventBridgeExpression(parsed('0 3 * * 0-7'))).toBe('cron(0 3 ? * SUN,MON,TUE,WED,THU,FRI,SAT *)');
  });

  it('reads an EventBridge expression back into the same fields (what the local scheduler runs)', () => {
    for (const expression of ['0 22 * * 2', '30 14 * * 1-5', '0 3 1,15 * *', '0 3 L * *', '5 0 */2 * *', '15 4 * * TUE#2']) {
      const fields = parsed(expression);
      const back = parseEventBridgeExpression(toEventBridgeExpression(fields));
      expect(back).toEqual({ ok: true, cron: fields });
    }
    expect(parseEventBridgeExpression('cron(0 3 * * ? 2027)').ok).toBe(false);
    expect(parseEventBridgeExpression('rate(5 minutes)').ok).toBe(false);
  });

  it('refuses more often than daily, both day fields at once, and malformed fields, saying which', () => {
    expect(problem('*/5 * * * *')).toMatch(/^minute "\*\/5"/);
    expect(problem('0 1,13 * * *')).toMatch(/^hour "1,13" must be one number/);
    expect(problem('0 */2 * * *')).toMatch(/^hour/);
    expect(problem('0 3 1 * MON')).toBe('restrict the day of month or the day of week, not both');
    expect(problem('0 3 * * MON/2')).toMatch(/steps are not supported/);
    expect(problem('0 3 32 * *')).toMatch(/day of month "32" must be from 1 to 31/);
    expect(problem('0 3 * 13 *')).toMatch(/month "13"/);
    expect(problem('0 3 * * FRI-MON')).toMatch(/runs backwards/);
    expect(problem('0 3 * *')).toMatch(/must have 5 fields/);
    expect(problem('60 3 * * *')).toMatch(/^minute/);
  });

  it('never throws on any text, and whatever it accepts converts to both dialects and back unchanged (property)', () => {
    const token = fc.oneof(fc.constantFrom('*', '?', 'L', 'MON', 'sun', '1-5', '*/2', '7', '0', 'JAN', '5#2', '1,15', '31', 'x'), fc.integer({ min: -1, max: 61 }).map(String));
    fc.assert(
      fc.property(fc.array(token, { minLength: 0, maxLength: 7 }), fc.string({ maxLength: 30 }), (tokens, junk) => {
        for (const text of [tokens.join(' '), junk]) {
          const result = parseCronExpression(text);
          if (!result.ok) {
            expect(result.problem.length).toBeGreaterThan(0);
            continue;
          }
          expect(parseEventBridgeExpression(toEventBridgeExpression(result.cron))).toEqual(result);
          expect(toCronerPattern(result.cron).split(' ')).toHaveLength(5);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('fires only at its wall time, in its zone, on allowed days, for any zone and time (property)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.subarray(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'], { minLength: 1 }),
        fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2028-12-31T00:00:00Z'), noInvalidDate: true }),
        (zone, hour, minute, days, after) => {
          const time = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
          const cron = cronOf({ kind: 'Weekly', days }, time);
          if (!cron) throw new Error('a weekly recurrence has cron fields');
          const fires = nextFireTimes(cron, zone, after, 4);
          expect(fires.length).toBe(4);
          const weekday = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' });
          for (const [index, fire] of fires.entries()) {
            expect(fire.getTime()).toBeGreaterThan(index === 0 ? after.getTime() : (fires[index - 1]?.getTime() ?? 0));
            expect(wallTimeIn(fire, zone)).toBe(time);
            expect(days).toContain(weekday.format(fire).toUpperCase());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('schedule cron: daylight saving time as EventBridge Scheduler handles it', () => {
  // Scheduler: "When the time shifts forward in Spring, your schedule invocation gets skipped if the cron
  // expression falls on a non-existent date and time. When the time shifts back in the Fall, your schedule
  // runs only once" (AWS re:Post, eventbridge-scheduler-adjust-dst)

  it('Europe/Berlin, spring forward (29 March 2026, 02:00 -> 03:00): 02:30 does not exist that day and is skipped', () => {
    const fires = nextFireTimes(parsed('30 2 * * *'), 'Europe/Berlin', new Date('2026-03-27T00:00:00Z'), 3);
    expect(iso(fires)).toEqual(['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('Europe/Berlin, fall back (25 October 2026, 03:00 -> 02:00): 02:30 happens twice and fires once, at the first', () => {
    const fires = nextFireTimes(parsed('30 2 * * *'), 'Europe/Berlin', new Date('2026-10-24T00:00:00Z'), 3);
    expect(iso(fires)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('America/New_York, spring forward (8 March 2026, 02:00 -> 03:00): 02:30 is skipped', () => {
    const fires = nextFireTimes(parsed('30 2 * * *'), 'America/New_York', new Date('2026-03-07T00:00:00Z'), 2);
    expect(iso(fires)).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('America/New_York, fall back (1 November 2026, 02:00 -> 01:00): 01:30 fires once, in daylight time', () => {
    const fires = nextFireTimes(parsed('30 1 * * *'), 'America/New_York', new Date('2026-10-31T00:00:00Z'), 3);
    expect(iso(fires)).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('a time outside the shift is untouched by it (22:00 in Berlin across both changes)', () => {
    const spring = nextFireTimes(parsed('0 22 * * *'), 'Europe/Berlin', new Date('2026-03-28T00:00:00Z'), 2);
    expect(iso(spring)).toEqual(['2026-03-28T21:00:00.000Z', '2026-03-29T20:00:00.000Z']);
  });
});

describe('schedule cron: the rules of each field, one by one', () => {
  const dayOfMonth = (text: string): string => parsed(`0 3 ${text} * *`).dayOfMonth;
  const month = (text: string): string => parsed(`0 3 * ${text} *`).month;
  const dayOfWeek = (text: string): string => parsed(`0 3 * * ${text}`).dayOfWeek;

  it('takes minute and hour as one plain number each, up to 59 and 23 inclusive, and nothing Number() alone would take', () => {
    expect(parsed('59 23 * * *')).toMatchObject({ minute: 59, hour: 23, time: '23:59' });
    expect(parsed('05 7 * * *')).toMatchObject({ minute: 5, hour: 7, time: '07:05' });
    expect(problem('0 24 * * *')).toMatch(/^hour "24"/);
    for (const text of ['1e1', '1.5', '0x1', '-0']) {
      expect(parseCronExpression(`${text} 3 * * *`).ok, `minute ${text}`).toBe(false);
      expect(parseCronExpression(`0 ${text} * * *`).ok, `hour ${text}`).toBe(false);
    }
  });

  it('splits on any run of white space and ignores it at either end', () => {
    expect(parsed('  0\t 3  * *   MON ')).toMatchObject({ minute: 0, hour: 3, dayOfWeek: 'MON' });
  });

  it('takes days of the month 1 to 31 and months 1 to 12 (or their names) as values, ranges, steps and lists', () => {
    expect(dayOfMonth('31')).toBe('31');
    expect(dayOfMonth('1-15')).toBe('1-15');
    expect(dayOfMonth('5-5')).toBe('5-5');
    expect(dayOfMonth('1/2')).toBe('1/2');
    expect(dayOfMonth('1-10/3')).toBe('1-10/3');
    expect(dayOfMonth('*/10')).toBe('*/10');
    expect(dayOfMonth('*/31')).toBe('*/31');
    expect(dayOfMonth('*/1')).toBe('*/1');
    expect(dayOfMonth('1,15,28-31')).toBe('1,15,28-31');
    expect(dayOfMonth('?')).toBe('*');
    expect(month('12')).toBe('12');
    expect(month('jan-Mar/2')).toBe('1-3/2');
    expect(month('DEC')).toBe('12');
    expect(month('*/12')).toBe('*/12');
  });

  it('refuses a day of month or month out of range, a malformed item, a bad step or a backward range, saying which', () => {
    expect(problem('0 3 0 * *')).toBe('day of month "0" must be from 1 to 31');
    expect(problem('0 3 * 0 *')).toBe('month "0" must be from 1 to 12');
    expect(problem('0 3 1-32 * *')).toBe('day of month "32" must be from 1 to 31');
    expect(problem('0 3 1-x * *')).toBe('day of month "x" must be from 1 to 31');
    expect(problem('0 3 15-1 * *')).toBe('day of month range "15-1" runs backwards');
    expect(problem('0 3 * MAR-JAN *')).toBe('month range "MAR-JAN" runs backwards');
    expect(problem('0 3 1-2-3 * *')).toBe('day of month "1-2-3" is not a value, a range or a step');
    expect(problem('0 3 *-5 * *')).toBe('day of month "*-5" is not a value, a range or a step');
    expect(problem('0 3 *-5/2 * *')).toBe('day of month "*-5/2" is not a value, a range or a step');
    expect(problem('0 3 *,5 * *')).toBe('day of month "*" is not a value, a range or a step');
    expect(problem('0 3 */0 * *')).toBe('day of month step "0" must be from 1 to 31');
    expect(problem('0 3 */32 * *')).toBe('day of month step "32" must be from 1 to 31');
    expect(problem('0 3 1/0 * *')).toBe('day of month step "0" must be from 1 to 31');
    expect(problem('0 3 * */13 *')).toBe('month step "13" must be from 1 to 12');
    for (const text of ['5.', '.5', '1e1', '0x1', '1,', 'L,1']) expect(parseCronExpression(`0 3 ${text} * *`).ok, text).toBe(false);
  });

  it('takes days of the week by name or number (0 and 7 both Sunday), as lists and ranges, spelling out ranges that end on Sunday', () => {
    expect(dayOfWeek('SUN')).toBe('SUN');
    expect(dayOfWeek('sat')).toBe('SAT');
    expect(dayOfWeek('7')).toBe('SUN');
    expect(dayOfWeek('MON-MON')).toBe('MON');
    expect(dayOfWeek('1-3,WED,fri')).toBe('MON-WED,WED,FRI');
    expect(dayOfWeek('FRI-SUN')).toBe('FRI,SAT,SUN');
    expect(dayOfWeek('SUN,5-7')).toBe('SUN,FRI,SAT');
    expect(dayOfWeek('SUN-TUE')).toBe('SUN-TUE');
    expect(dayOfWeek('?')).toBe('*');
  });

  it('reads SUN-SUN, 0-0, 7-7 and 7-SUN as Sunday alone, in both dialects (croner read SUN-SUN as every day)', () => {
    for (const text of ['SUN-SUN', '0-0', '7-7', '7-SUN', '7-0', 'sun-0']) {
      const cron = parsed(`0 3 * * ${text}`);
      expect(toEventBridgeExpression(cron), text).toBe('cron(0 3 ? * SUN *)');
      // 4 January 2026 is a Sunday
      expect(iso(nextFireTimes(cron, 'UTC', new Date('2026-01-01T00:00:00Z'), 2)), text).toEqual(['2026-01-04T03:00:00.000Z', '2026-01-11T03:00:00.000Z']);
    }
    expect(problem('0 3 * * 7-MON')).toMatch(/runs backwards/);
  });

  it('takes an nth weekday alone, by name or number, and refuses it in a list', () => {
    expect(dayOfWeek('2#3')).toBe('TUE#3');
    expect(dayOfWeek('7#1')).toBe('SUN#1');
    expect(dayOfWeek('sun#5')).toBe('SUN#5');
    expect(problem('0 3 * * XYZ#2')).toBe('day of week "XYZ" is not a day (SUN-SAT or 0-7)');
    expect(problem('0 3 * * MON,TUE#2')).toBe('day of week "TUE#2": an nth weekday (e.g. TUE#2) stands alone, not in a list');
    for (const text of ['XMON#2', 'MON#23', 'MON#6', '8#1']) expect(parseCronExpression(`0 3 * * ${text}`).ok, text).toBe(false);
  });

  it('refuses a day of the week that is not a day, a range of three, and numbers Number() alone would take', () => {
    expect(problem('0 3 * * XYZ')).toBe('day of week "XYZ" is not a day (SUN-SAT or 0-7)');
    expect(problem('0 3 * * MON-XYZ')).toBe('day of week "XYZ" is not a day (SUN-SAT or 0-7)');
    expect(problem('0 3 * * MON-TUE-WED')).toBe('day of week "MON-TUE-WED" is not a day or a range');
    expect(problem('0 3 * * MON/2')).toBe('day of week "MON/2": steps are not supported; list the days');
    expect(problem('0 3 * * FRI-MON')).toBe('day of week range "FRI-MON" runs backwards; list the days instead');
    for (const text of ['8', '1e1', '1.5', '01', 'MONDAY']) expect(parseCronExpression(`0 3 * * ${text}`).ok, text).toBe(false);
  });
});

describe('schedule cron: recurrences as cron, and the instants they fire', () => {
  it('turns each recurrence form into cron at its time, and a Cron expression into its own fields whatever the time', () => {
    const at = { minute: 30, hour: 4, month: '*', time: '04:30' };
    expect(cronOf({ kind: 'Daily' }, '04:30')).toEqual({ ...at, dayOfMonth: '*', dayOfWeek: '*' });
    expect(cronOf({ kind: 'Weekly', days: ['MON', 'THU'] }, '04:30')).toEqual({ ...at, dayOfMonth: '*', dayOfWeek: 'MON,THU' });
    expect(cronOf({ kind: 'Monthly', days: [1, 15] }, '04:30')).toEqual({ ...at, dayOfMonth: '1,15', dayOfWeek: '*' });
    expect(cronOf({ kind: 'Monthly', days: ['Last'] }, '04:30')).toEqual({ ...at, dayOfMonth: 'L', dayOfWeek: '*' });
    expect(cronOf({ kind: 'Cron', expression: '5 22 * * TUE' }, undefined)).toEqual(parsed('5 22 * * TUE'));
    expect(cronOf({ kind: 'Cron', expression: '5 22 * * TUE' }, '04:30')).toEqual(parsed('5 22 * * TUE'));
  });

  it('has no cron for a form without a time or an expression that does not parse', () => {
    expect(cronOf({ kind: 'Daily' }, undefined)).toBeUndefined();
    expect(cronOf({ kind: 'Monthly', days: [1] }, undefined)).toBeUndefined();
    expect(cronOf({ kind: 'Cron', expression: '*/5 * * * *' }, '04:30')).toBeUndefined();
  });

  it('fires a step from a start day as EventBridge does (croner alone refuses 1/2)', () => {
    expect(iso(nextFireTimes(parsed('0 3 1/10 * *'), 'UTC', new Date('2026-01-01T00:00:00Z'), 4))).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-11T03:00:00.000Z',
      '2026-01-21T03:00:00.000Z',
      '2026-01-31T03:00:00.000Z',
    ]);
  });

  it('answers no instants, and no placeholder ones, for a schedule that never fires', () => {
    // 30 February: croner finds no next run at all
    expect(nextFireTimes(parsed('0 0 30 2 *'), 'UTC', new Date('2026-01-01T00:00:00Z'), 2)).toEqual([]);
    // the fifth Sunday of March is always Berlin's spring-forward day, when 02:30 does not exist: bounded looking, then nothing
    expect(nextFireTimes(parsed('30 2 * 3 SUN#5'), 'Europe/Berlin', new Date('2026-01-01T00:00:00Z'), 2)).toEqual([]);
  });

  it('reads the wall clock of a zone, with midnight as 00:00', () => {
    expect(wallTimeIn(new Date('2026-07-01T22:00:00Z'), 'Europe/Berlin')).toBe('00:00');
    expect(wallTimeIn(new Date('2026-07-01T22:00:00Z'), 'UTC')).toBe('22:00');
  });

  it('finds the next wall time at or after an instant, meeting a time the clock skips when it jumps', () => {
    expect(nextWallTime('01:30', 'UTC', new Date('2026-03-29T01:30:00Z')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(nextWallTime('01:30', 'UTC', new Date('2026-03-29T01:30:00.001Z')).toISOString()).toBe('2026-03-30T01:30:00.000Z');
    expect(nextWallTime('03:05', 'Europe/Berlin', new Date('2026-01-10T00:00:00Z')).toISOString()).toBe('2026-01-10T02:05:00.000Z');
    expect(nextWallTime('02:30', 'Europe/Berlin', new Date('2026-03-29T00:00:00Z')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('reads back only a whole cron(…) of six fields with every year, tolerating spaces inside and around', () => {
    expect(parseEventBridgeExpression('  cron(  0 3  ? * MON  * ) ')).toEqual({ ok: true, cron: parsed('0 3 * * MON') });
    for (const text of ['xcron(0 3 ? * MON *)', 'cron(0 3 ? * MON *)x', 'cron(0 3 ? * MON * *)', 'cron(0 3 ? * MON)', 'cron()']) {
      expect(parseEventBridgeExpression(text), text).toEqual({ ok: false, problem: `"${text}" is not an EventBridge cron(…) expression of six fields` });
    }
    expect(parseEventBridgeExpression('cron(0 3 ? * MON 2027)')).toEqual({ ok: false, problem: 'year "2027" must be *: schedules recur every year' });
  });
});
