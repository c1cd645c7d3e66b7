import { describe, expect, it } from 'vitest';
import { clean, counts, details, duration, instant, painted, status, table, truncate, viewFor, visibleLength, type View } from '../../cli/format.js';

const plain: View = { colour: false, timeZone: 'Europe/Berlin' };
const coloured: View = { colour: true, timeZone: 'Europe/Berlin' };

describe('viewFor', () => {
  it('colours only a terminal, and never with NO_COLOR, TERM=dumb or --no-color', () => {
    expect(viewFor({ isTTY: true, env: {} }).colour).toBe(true);
    expect(viewFor({ isTTY: false, env: {} }).colour).toBe(false);
    expect(viewFor({ env: {} }).colour).toBe(false);
    expect(viewFor({ isTTY: true, env: { NO_COLOR: '1' } }).colour).toBe(false);
    expect(viewFor({ isTTY: true, env: { TERM: 'dumb' } }).colour).toBe(false);
    expect(viewFor({ isTTY: true, env: {}, noColourFlag: true }).colour).toBe(false);
  });

  it('treats an empty NO_COLOR as unset, as no-color.org asks', () => {
    expect(viewFor({ isTTY: true, env: { NO_COLOR: '' } }).colour).toBe(true);
  });

  it("shows times in the viewer's zone from TZ, and ignores a TZ that is not an IANA zone", () => {
    expect(viewFor({ env: { TZ: 'Asia/Tokyo' } }).timeZone).toBe('Asia/Tokyo');
    const system = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(viewFor({ env: { TZ: 'Not/AZone' } }).timeZone).toBe(system);
    expect(viewFor({ env: {} }).timeZone).toBe(system);
  });
});

describe('table', () => {
  it('aligns every column to its widest cell with two spaces between and no trailing spaces', () => {
    const text = table(
      ['ID', 'STATUS', 'COMPUTER'],
      [
        ['ses_1', 'Passed', 'pc-1'],
        ['ses_0002', 'PartialPassed', 'a much longer name'],
      ],
      plain,
    );
    expect(text.split('\n')).toEqual([
      'ID        STATUS         COMPUTER',
      'ses_1     Passed         pc-1',
      'ses_0002  PartialPassed  a much longer name',
    ]);
  });

  it('shows a missing or empty cell as a dash, so columns never collapse', () => {
    expect(table(['A', 'B', 'C'], [[undefined, '', 'x']], plain).split('\n')[1]).toBe('—  —  x');
  });

  it('measures painted cells by their visible width, not their escape codes', () => {
    const text = table(['STATUS', 'N'], [[painted(status('Failed', coloured)), 1], [painted(status('Passed', coloured)), 22]], coloured);
    const [, first, second] = text.split('\n');
    expect(visibleLength(first!)).toBe(visibleLength(second!) - 1);
    expect(first).toContain('\u001b[31mFailed\u001b[39m  1');
  });

  it('neutralises escape codes and newlines in text from the API, so a hostile name cannot forge a line or repaint the screen', () => {
    const text = table(['NAME'], [['pc\u001b[2J\u001b[31mEVIL\nsession ses_9  Passed']], plain);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('pc\\x1b[2J\\x1b[31mEVIL session ses_9  Passed');
  });
});

describe('clean', () => {
  it('turns whitespace runs into one space and C0, DEL and C1 controls into visible escapes', () => {
    expect(clean('a\r\n\tb')).toBe('a b');
    expect(clean('bell\u0007 del\u007f csi\u009b')).toBe('bell\\x07 del\\x7f csi\\x9b');
    expect(clean('plain – text ✓')).toBe('plain – text ✓');
  });
});

describe('status', () => {
  it('colours outcomes by meaning on a terminal: green passed, red failed, yellow partial, cyan running', () => {
    expect(status('Passed', coloured)).toBe('\u001b[32mPassed\u001b[39m');
    expect(status('Failed', coloured)).toBe('\u001b[31mFailed\u001b[39m');
    expect(status('PartialPassed', coloured)).toBe('\u001b[33mPartialPassed\u001b[39m');
    expect(status('Running', coloured)).toBe('\u001b[36mRunning\u001b[39m');
    expect(status('SomethingNew', coloured)).toBe('SomethingNew');
  });

  it('prints plain words without colour', () => {
    expect(status('Failed', plain)).toBe('Failed');
  });
});

describe('instant', () => {
  it('shows an instant in the viewer zone as sortable 24-hour text', () => {
    expect(instant('2026-11-23T09:00:05Z', plain)).toBe('2026-11-23 10:00:05');
    expect(instant('2026-11-23T09:00:05Z', { ...plain, timeZone: 'America/New_York' })).toBe('2026-11-23 04:00:05');
    expect(instant('2026-07-01T23:30:00Z', { ...plain, timeZone: 'Asia/Kolkata' })).toBe('2026-07-02 05:00:00');
  });

  it('names the zone in detail views', () => {
    expect(instant('2026-11-23T09:00:05Z', { ...plain, timeZone: 'America/New_York' }, { withZone: true })).toBe('2026-11-23 04:00:05 EST');
  });

  it('passes text that is not an instant through, cleaned, and keeps undefined for a dash', () => {
    expect(instant('soon\u001b', plain)).toBe('soon\\x1b');
    expect(instant(undefined, plain)).toBeUndefined();
  });
});

describe('duration', () => {
  it.each([
    [850, '850 ms'],
    [4_240, '4.2 s'],
    [185_000, '3m 05s'],
    [7_800_000, '2h 10m'],
    [273_600_000, '3d 4h'],
  ])('says %i ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('has no words for a missing or negative duration', () => {
    expect(duration(undefined)).toBeUndefined();
    expect(duration(-5)).toBe('—');
  });
});

describe('details, counts, truncate', () => {
  it('aligns labels and leaves out missing values', () => {
    expect(details([['session', 'ses_1'], ['failure', undefined], ['computer', 'pc-1']], plain)).toBe('session   ses_1\ncomputer  pc-1');
  });

  it('lists only the non-zero counts', () => {
    expect(counts({ Passed: 3, Failed: 0, Running: 1 }, plain)).toBe('Passed 3 · Running 1');
    expect(counts({ Passed: 0 }, plain)).toBe('none');
  });

  it('cuts long text with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});
