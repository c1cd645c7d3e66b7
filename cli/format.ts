/**
 * How the CLI shows things to people: aligned tables, times in the viewer's
 * time zone, status colours on a terminal. Pure functions of their input and
 * a `View`, so they are tested without a terminal; `--json` bypasses all of it.
 */

export interface View {
  /** Colour only on a terminal and never with NO_COLOR (https://no-color.org). */
  readonly colour: boolean;
  /** IANA zone times are shown in: the viewer's own. */
  readonly timeZone: string;
}

export interface ViewSource {
  readonly isTTY?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly noColourFlag?: boolean;
}

/** The view for an output stream: colour on a TTY unless NO_COLOR is set (non-empty, as no-color.org says), TERM is dumb or `--no-color` is given; the zone from TZ, else the system's. */
export function viewFor({ isTTY, env, noColourFlag }: ViewSource): View {
  const colour = isTTY === true && (env.NO_COLOR ?? '') === '' && noColourFlag !== true && env.TERM !== 'dumb';
  return { colour, timeZone: validZone(env.TZ) ?? new Intl.DateTimeFormat().resolvedOptions().timeZone };
}

function validZone(zone: string | undefined): string | undefined {
  if (zone === undefined || zone === '') return undefined;
  // POSIX TZ strings such as ":/etc/localtime" are not IANA names; Node resolves those into its default zone already
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone.replace(/^:/, '') }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

// ---- colours ---------------------------------------------------------------

type Paint = (text: string) => string;
const sgr =
  (open: number, close: number) =>
  (view: View): Paint =>
  (text) =>
    view.colour ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const bold = sgr(1, 22);
export const dim = sgr(2, 22);
export const red = sgr(31, 39);
export const green = sgr(32, 39);
export const yellow = sgr(33, 39);
export const cyan = sgr(36, 39);

const STATUS_COLOURS: Readonly<Record<string, (view: View) => Paint>> = {
  // sessions
  Passed: green,
  PartialPassed: yellow,
  Failed: red,
  Cancelled: dim,
  Running: cyan,
  Postponed: yellow,
  PendingConnectivity: yellow,
  // runs
  Completed: green,
  Halted: red,
  Starting: cyan,
  // actions and stages
  Success: green,
  Succeeded: green,
  Skipped: yellow,
  Indeterminable: yellow,
  PerformingAction: cyan,
  DeterminingResult: cyan,
};

/** A status word, coloured by what it means: green ended well, red ended badly, yellow needs a look, cyan under way. */
export const status = (text: string, view: View): string => (STATUS_COLOURS[text]?.(view) ?? ((value: string) => value))(clean(text));

// ---- text ------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
const ESCAPES = /\u001b\[[0-9;]*m/g;
// user-perceived characters: an emoji or a letter with its accent is one column, as a terminal draws it (wide CJK aside)
const graphemes = new Intl.Segmenter();
const characters = (text: string): string[] => Array.from(graphemes.segment(text), (segment) => segment.segment);
export const visibleLength = (text: string): number => characters(text.replace(ESCAPES, '')).length;

const padEnd = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - visibleLength(text)));

/**
 * Text from the API made safe for a terminal line: whitespace runs become one
 * space, and every other control character is shown as a visible escape
 * (`\x1b`) rather than obeyed, so a hostile computer or item name cannot
 * move the cursor, recolour the screen or forge lines.
 */
export function clean(text: string): string {
  return (
    text
      .replace(/[\t\n\r\v\f]+/g, ' ')
      // eslint-disable-next-line no-control-regex -- C0, DEL and C1 controls are exactly what must not reach the terminal
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => `\\x${(char.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`)
  );
}

/** Cut to `max` visible characters with an ellipsis; for free text in a table cell. */
export function truncate(text: string, max: number): string {
  const all = characters(text);
  return all.length <= max ? text : `${all.slice(0, max - 1).join('')}…`;
}

/**
 * A table: header dimmed, columns as wide as their widest cell, two spaces
 * between them, no trailing spaces. Cells are cleaned before measuring unless
 * they were painted by this module (painted cells are built from cleaned text).
 */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[], view: View): string {
  const text = rows.map((row) => row.map(cellText));
  const widths = header.map((title, column) => Math.max(visibleLength(title), ...text.map((row) => visibleLength(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : padEnd(cell, widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [bold(view)(line(header)), ...text.map(line)].join('\n');
}

/** A cell: text from the API (cleaned when printed), or text this module painted (already safe). */
export type Cell = string | number | undefined | Painted;
export interface Painted {
  readonly painted: string;
}
export const painted = (text: string): Painted => ({ painted: text });

const cellText = (cell: Cell): string => {
  if (cell === undefined) return '—';
  if (typeof cell === 'number') return String(cell);
  if (typeof cell === 'string') return cell === '' ? '—' : clean(cell);
  return cell.painted;
};

/** `label  value` lines with the labels aligned; undefined values are left out. */
export function details(pairs: readonly (readonly [string, Cell])[], view: View): string {
  const shown = pairs.filter(([, value]) => value !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${dim(view)(label.padEnd(width))}  ${cellText(value)}`).join('\n');
}

// ---- time ------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * An instant as `2026-11-23 10:00:05` in the viewer's zone (ISO order, 24-hour
 * clock: sortable and read the same everywhere); `withZone` adds the zone's
 * short name for detail views. Text that is not an instant is shown as it is.
 */
export function instant(iso: string | undefined, view: View, options: { withZone?: boolean } = {}): string | undefined {
  if (iso === undefined) return undefined;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return clean(iso);
  const parts = Object.fromEntries(formatterFor(view.timeZone).formatToParts(time).map((part) => [part.type, part.value]));
  const text = `${parts.year ?? ''}-${parts.month ?? ''}-${parts.day ?? ''} ${parts.hour ?? ''}:${parts.minute ?? ''}:${parts.second ?? ''}`;
  return options.withZone === true ? `${text} ${parts.timeZoneName ?? view.timeZone}` : text;
}

/** A duration the way people say it: `850 ms`, `4.2 s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function duration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  if (ms < 0) return '—';
  if (ms < 1000) return `${String(Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const [days, hours, minutes, seconds] = [Math.floor(totalSeconds / 86_400), Math.floor(totalSeconds / 3600) % 24, Math.floor(totalSeconds / 60) % 60, totalSeconds % 60];
  if (days > 0) return `${String(days)}d ${String(hours)}h`;
  if (hours > 0) return `${String(hours)}h ${String(minutes).padStart(2, '0')}m`;
  return `${String(minutes)}m ${String(seconds).padStart(2, '0')}s`;
}

/** `Passed 3 · Failed 1`: the non-zero counts, statuses coloured. */
export function counts(values: Readonly<Record<string, number>>, view: View): string {
  const shown = Object.entries(values).filter(([, count]) => count > 0);
  return shown.length === 0 ? 'none' : shown.map(([name, count]) => `${status(name, view)} ${String(count)}`).join(' · ');
}
