import { InvalidArgumentError } from 'commander';

/**
 * Parsers for option values. Each throws commander's InvalidArgumentError,
 * so a bad value is a usage mistake (exit 2) with commander's message naming
 * the option.
 */

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `90m`, `24h`, `7d`, `2w` in milliseconds; undefined for anything else. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, count, unit] = match;
  return Number(count) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

// an instant the API takes: a date and time with its offset (or Z), so nobody's local zone is guessed
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Date.parse rolls 2026-02-30 over into March; a person who typed it made a mistake. */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * A point in time for `--since` and `--until`: an ISO instant with its
 * offset, `now`, or a duration meaning that long ago (`24h`, `7d`).
 */
export const pastInstant =
  (now: () => Date) =>
  (text: string): string =>
    instantFrom(text, now, -1);

/** A point in time for `--until` of a postpone: an ISO instant, or a duration meaning that long from now (`2h`). */
export const futureInstant =
  (now: () => Date) =>
  (text: string): string =>
    instantFrom(text, now, 1);

function instantFrom(text: string, now: () => Date, direction: 1 | -1): string {
  const trimmed = text.trim();
  if (trimmed === 'now') return now().toISOString();
  const ms = durationMs(trimmed);
  if (ms !== undefined) return new Date(now().getTime() + direction * ms).toISOString();
  if (INSTANT.test(trimmed) && !Number.isNaN(Date.parse(trimmed)) && isCalendarDate(trimmed)) return new Date(trimmed).toISOString();
  throw new InvalidArgumentError(
    `give an instant with its offset (2026-11-23T22:00:00+01:00 or …Z), "now", or a duration ${direction < 0 ? 'ago' : 'from now'} such as 30m, 24h or 7d.`,
  );
}

/** A whole number within bounds, for `--limit` and friends. */
export const integerWithin =
  (min: number, max: number) =>
  (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`give a whole number from ${String(min)} to ${String(max)}.`);
    }
    return value;
  };

/** Seconds as a positive number (fractions allowed), returned in milliseconds: `--interval 2`, `--interval 0.5`. */
export function secondsAsMs(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 3600) throw new InvalidArgumentError('give a number of seconds above 0, at most 3600.');
  return Math.round(value * 1000);
}
