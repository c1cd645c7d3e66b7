/**
 * Times, durations, numbers and prices in the viewer's locale and time zone
 * (the browser's), through Intl. The API speaks UTC instants; nothing here
 * assumes a format.
 */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const usd = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });
const unit = (name: 'hour' | 'minute' | 'second') => new Intl.NumberFormat(undefined, { style: 'unit', unit: name, unitDisplay: 'narrow', maximumFractionDigits: 0 });
const hours = unit('hour');
const minutes = unit('minute');
const seconds = unit('second');

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
/** For a `title`: the date in words and the time zone, so "when" is never ambiguous. */
export const formatFullDateTime = (iso: string): string => fullDateTime.format(new Date(iso));
export const formatTime = (iso: string): string => timeOnly.format(new Date(iso));
export const formatCount = (count: number): string => integer.format(count);
export const formatDecimal = (value: number): string => decimal.format(value);
export const formatUsd = (amount: number): string => usd.format(amount);

/** "3 h 5 min", "4 min 10 s", "12 s": the two largest units that matter. */
export function formatDuration(durationMs: number): string {
  const totalSeconds = Math.max(0, Math.round(durationMs / 1000));
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return m > 0 ? `${hours.format(h)} ${minutes.format(m)}` : hours.format(h);
  if (m > 0) return s > 0 ? `${minutes.format(m)} ${seconds.format(s)}` : minutes.format(m);
  return seconds.format(s);
}

/** `yyyy-mm-dd` of an instant in the viewer's time zone (what a date input shows). */
export function localDay(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** `yyyy-mm-ddThh:mm` of an instant in the viewer's time zone (what a `datetime-local` input holds). */
export function localMinute(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${localDay(at)}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** The instant a local calendar day (`yyyy-mm-dd`) starts in the viewer's time zone, `days` later; undefined for anything else. */
export function startOfLocalDay(day: string, days = 0): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const at = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
