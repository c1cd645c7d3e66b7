import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { durationMs, futureInstant, integerWithin, pastInstant, secondsAsMs } from '../../cli/arguments.js';

const now = () => new Date('2026-11-23T09:00:00.000Z');

describe('instants', () => {
  it('reads a duration as that long ago for --since and --until', () => {
    expect(pastInstant(now)('24h')).toBe('2026-11-22T09:00:00.000Z');
    expect(pastInstant(now)('7d')).toBe('2026-11-16T09:00:00.000Z');
    expect(pastInstant(now)('now')).toBe('2026-11-23T09:00:00.000Z');
  });

  it('reads a duration as that long from now for --execute-at', () => {
    expect(futureInstant(now)('2h')).toBe('2026-11-23T11:00:00.000Z');
  });

  it('takes an instant with its offset and sends it in UTC, as the API compares instants', () => {
    expect(pastInstant(now)('2026-11-23T22:00:00+01:00')).toBe('2026-11-23T21:00:00.000Z');
    expect(futureInstant(now)('2026-11-23T22:00Z')).toBe('2026-11-23T22:00:00.000Z');
  });

  it("refuses a time without an offset rather than guess the viewer's zone, and words that are not times", () => {
    expect(() => pastInstant(now)('2026-11-23T22:00:00')).toThrow(InvalidArgumentError);
    expect(() => pastInstant(now)('yesterday')).toThrow(/duration ago such as 30m, 24h or 7d/);
    expect(() => futureInstant(now)('2026-02-30T10:00:00Z')).toThrow(InvalidArgumentError);
  });

  it('knows seconds, minutes, hours, days and weeks', () => {
    expect([durationMs('30s'), durationMs('90m'), durationMs('2w'), durationMs('5y')]).toEqual([30_000, 5_400_000, 1_209_600_000, undefined]);
  });
});

describe('numbers', () => {
  it('takes whole numbers within bounds only', () => {
    expect(integerWithin(1, 200)('50')).toBe(50);
    for (const bad of ['0', '201', '1.5', 'ten', '', '1e2']) expect(() => integerWithin(1, 200)(bad), bad).toThrow(InvalidArgumentError);
  });

  it('reads --interval seconds into milliseconds, fractions allowed', () => {
    expect(secondsAsMs('0.5')).toBe(500);
    expect(secondsAsMs('2')).toBe(2000);
    for (const bad of ['0', '-1', 'x', '', '3601']) expect(() => secondsAsMs(bad), bad).toThrow(InvalidArgumentError);
  });
});
