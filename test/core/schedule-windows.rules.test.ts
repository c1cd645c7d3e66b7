import { describe, expect, it } from 'vitest';
import { scheduleInputSchema, type ScheduleInput } from '../../functions/core/model/schedule.js';
import { executionWindow, scheduleTimeZone, upcomingFires, windowOpensAfter, windowSpec } from '../../functions/core/schedules/windows.js';
import { computer, tenant } from '../support/domain.js';

const base = { name: 'nightly', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '12:00', maintenanceTime: '22:00' };
const valid = (overrides: Record<string, unknown> = {}): ScheduleInput => scheduleInputSchema.parse({ ...base, ...overrides });
const FIRE = new Date('2026-12-01T12:00:00Z');
const iso = (date: Date | undefined): string | undefined => date?.toISOString();

describe('schedule windows: the zone a schedule reads its times in', () => {
  it('is its own zone, else its tenant default, else UTC', () => {
    expect(scheduleTimeZone({ timeZone: 'Asia/Tokyo' }, tenant('t', { defaultTimeZone: 'Europe/Paris' }))).toBe('Asia/Tokyo');
    expect(scheduleTimeZone({}, tenant('t', { defaultTimeZone: 'Europe/Paris' }))).toBe('Europe/Paris');
    expect(scheduleTimeZone({}, tenant('t'))).toBe('UTC');
    expect(scheduleTimeZone({}, undefined)).toBe('UTC');
  });
});

describe('schedule windows: upcoming fires', () => {
  it('lists none for a recurrence without cron (no time, or an expression validation refuses)', () => {
    const after = new Date('2026-12-01T00:00:00Z');
    expect(upcomingFires({ ...valid(), detectionTime: undefined }, 'UTC', after, 3)).toEqual([]);
    expect(upcomingFires({ ...valid(), recurrence: { kind: 'Cron', expression: '*/5 * * * *' }, detectionTime: undefined }, 'UTC', after, 3)).toEqual([]);
    expect(upcomingFires(valid(), 'UTC', after, 2).map((d) => d.toISOString())).toEqual(['2026-12-01T12:00:00.000Z', '2026-12-02T12:00:00.000Z']);
  });
});

describe('schedule windows: which schedules give a window, and its rule', () => {
  it('gives none to detection only or execution right after detection, even with a maintenance time stored beside them', () => {
    const pc = computer('pc');
    expect(windowSpec({ ...valid(), detectionOnly: true }, pc, 'UTC')).toBeUndefined();
    expect(windowSpec({ ...valid(), executeImmediatelyAfterDetection: true }, pc, 'UTC')).toBeUndefined();
    expect(windowSpec({ ...valid(), maintenanceTime: undefined }, pc, 'UTC')).toBeUndefined();
  });

  it('reads the maintenance time in the schedule zone, or the computer zone when asked; active hours only when asked, on the computer clock', () => {
    const pc = computer('pc', { timeZone: 'Asia/Tokyo', activeHours: { start: '07:00', end: '19:00' } });
    expect(windowSpec(valid(), pc, 'Europe/Paris')).toEqual({ time: '22:00', zone: 'Europe/Paris' });
    expect(windowSpec(valid({ useComputerTimeZone: true }), pc, 'Europe/Paris')).toEqual({ time: '22:00', zone: 'Asia/Tokyo' });
    expect(windowSpec(valid({ executeAfterActiveHours: true }), pc, 'Europe/Paris')).toEqual({
      time: '22:00',
      zone: 'Europe/Paris',
      avoid: { start: '07:00', end: '19:00' },
      avoidZone: 'Asia/Tokyo',
    });
    expect(windowSpec(valid({ executeAfterActiveHours: true }), computer('plain', { timeZone: 'UTC' }), 'UTC')?.avoid).toEqual({ start: '08:00', end: '17:00' });
  });
});

describe('schedule windows: when a window opens', () => {
  it('opens at least an hour after detection starts: a maintenance time sooner than that waits for the next day', () => {
    // the computer's 12:30 is half an hour after the fire: too soon, so tomorrow's
    expect(iso(windowOpensAfter({ time: '12:30', zone: 'UTC' }, FIRE))).toBe('2026-12-02T12:30:00.000Z');
    expect(iso(windowOpensAfter({ time: '13:00', zone: 'UTC' }, FIRE))).toBe('2026-12-01T13:00:00.000Z');
    expect(iso(windowOpensAfter({ time: '12:59', zone: 'UTC' }, FIRE))).toBe('2026-12-02T12:59:00.000Z');
  });

  it('moves a window inside active hours to their end, counting the start minute in and the end minute out', () => {
    const hours = { start: '08:30', end: '19:30' };
    const opens = (time: string): string | undefined => iso(windowOpensAfter({ time, zone: 'UTC', avoid: hours, avoidZone: 'UTC' }, new Date('2026-12-01T00:00:00Z')));
    expect(opens('08:30')).toBe('2026-12-01T19:30:00.000Z');
    expect(opens('09:10')).toBe('2026-12-01T19:30:00.000Z');
    expect(opens('19:15')).toBe('2026-12-01T19:30:00.000Z');
    expect(opens('19:29')).toBe('2026-12-01T19:30:00.000Z');
    expect(opens('08:29')).toBe('2026-12-01T08:29:00.000Z');
    expect(opens('19:30')).toBe('2026-12-01T19:30:00.000Z');
    expect(opens('19:45')).toBe('2026-12-01T19:45:00.000Z');
  });

  it('counts active hours that wrap midnight (22:00-06:00) across it', () => {
    const hours = { start: '22:00', end: '06:00' };
    const opens = (time: string): string | undefined => iso(windowOpensAfter({ time, zone: 'UTC', avoid: hours }, new Date('2026-12-01T00:00:00Z')));
    expect(opens('23:00')).toBe('2026-12-02T06:00:00.000Z');
    expect(opens('22:00')).toBe('2026-12-02T06:00:00.000Z');
    expect(opens('05:59')).toBe('2026-12-01T06:00:00.000Z');
    expect(opens('06:00')).toBe('2026-12-01T06:00:00.000Z');
    expect(opens('21:59')).toBe('2026-12-01T21:59:00.000Z');
    expect(opens('12:00')).toBe('2026-12-01T12:00:00.000Z');
  });

  it('avoids nothing when active hours start and end at the same minute', () => {
    const spec = { time: '10:00', zone: 'UTC', avoid: { start: '08:00', end: '08:00' }, avoidZone: 'UTC' };
    expect(iso(windowOpensAfter(spec, new Date('2026-12-01T00:00:00Z')))).toBe('2026-12-01T10:00:00.000Z');
  });

  it('reads active hours on the computer clock while the window is read in the schedule zone', () => {
    // 22:00 Paris is 06:00 Tokyo, inside Tokyo's 05:00-09:00: the window waits for 09:00 Tokyo (00:00Z)
    const schedule = valid({ executeAfterActiveHours: true });
    const pc = computer('pc', { timeZone: 'Asia/Tokyo', activeHours: { start: '05:00', end: '09:00' } });
    expect(iso(executionWindow(schedule, pc, 'Europe/Paris', FIRE))).toBe('2026-12-02T00:00:00.000Z');
    expect(iso(executionWindow(valid(), pc, 'Europe/Paris', FIRE))).toBe('2026-12-01T21:00:00.000Z');
  });
});
