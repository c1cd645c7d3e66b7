/** Small terminal helpers: colour only on a TTY and without NO_COLOR, widths that ignore escape codes. */

const colourEnabled = (): boolean => process.stdout.isTTY && !process.env.NO_COLOR;

const paint =
  (open: number, close: number) =>
  (text: string): string =>
    colourEnabled() ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const bold = paint(1, 22);
export const dim = paint(2, 22);
export const red = paint(31, 39);
export const green = paint(32, 39);
export const yellow = paint(33, 39);
export const cyan = paint(36, 39);

// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
const ESCAPES = /\u001b\[[0-9;]*m/g;
export const visibleLength = (text: string): number => text.replace(ESCAPES, '').length;

export const padEnd = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - visibleLength(text)));

/** A plain-text table: the header dimmed, columns as wide as their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = header.map((title, column) => Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    indent + cells.map((cell, column) => (column === cells.length - 1 ? cell : padEnd(cell, widths[column] ?? 0))).join('  ');
  return [dim(line(header)), ...rows.map(line)].join('\n');
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export const clockTime = (date: Date): string => date.toISOString().slice(11, 23);
