import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cronOf,
  nextFireTimes,
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
