import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionSchema } from '../../functions/core/model/catalog.js';
import { MAX_VERSION_LENGTH, compareVersions, parseVersion } from '../../functions/core/versions.js';

describe('version comparison across vendor formats', () => {
  it.each([
    ['1.2.3.4', '1.2.3.5', -1],
    ['1.2.10', '1.2.9', 1],
    ['1.2', '1.2.0.0', 0],
    ['124.0.6367.91', '124.0.6367.207', -1],
    ['23.01', '24.08', -1],
    ['23.01', '23.1', 0],
    ['v6.6.10', '6.6.9', 1],
    ['2.0.0-rc.1', '2.0.0', -1],
    ['2.0.0-alpha', '2.0.0-alpha.1', -1],
    ['2.0.0-alpha.1', '2.0.0-alpha.beta', -1],
    ['2.0.0-beta.11', '2.0.0-beta.2', 1],
    ['1.0.0+build.5', '1.0.0+build.9', 0],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it.each(['', 'latest', 'not installed', 'x1.2', '1..2', '1.2.3 beta extra'])('refuses to guess about %j', (text) => {
    expect(parseVersion(text)).toBeUndefined();
    expect(compareVersions(text, '1.0')).toBeUndefined();
  });
});

describe('version ordering rules, one case each (what each branch of the comparison is for)', () => {
  it.each([
    // identical pre-releases are the same version, not one older than the other
    ['2.0.0-rc.1', '2.0.0-rc.1', 0],
    ['1.0-beta', '1.0-beta', 0],
    // pre-release words order alphabetically: alpha < beta < rc
    ['2.0.0-alpha', '2.0.0-beta', -1],
    ['2.0.0-beta', '2.0.0-rc', -1],
    ['2.0.0-rc.1', '2.0.0-rc.2', -1],
    // numeric identifiers sort before words, and by value, not by text
    ['2.0.0-1', '2.0.0-alpha', -1],
    ['2.0.0-rc.2', '2.0.0-rc.10', -1],
    ['2.0.0-rc.1', '2.0.0-rc.1.1', -1],
    // a pre-release of a higher version is still higher than any lower release
    ['2.0.1-alpha', '2.0.0', 1],
    ['1.10-rc1', '1.9', 1],
    // a longer version is newer only when the extra parts are not zero
    ['1.2.0.1', '1.2', 1],
    ['1.2.0.0', '1.2', 0],
    ['1', '0.99', 1],
    // separators: `-` and `~`, a word right after the numbers, `.` or `-` inside the tag
    ['1.0~rc1', '1.0-rc1', 0],
    ['1.0rc1', '1.0-rc1', 0],
    ['1.0-rc-1', '1.0-rc.1', 0],
    ['1.0-rc.1', '1.0-rc.2', -1],
    ['1.0-RC.1', '1.0-rc.1', -1],
    // a leading v in either case, build metadata ignored, surrounding blanks ignored
    ['V2.1', 'v2.1', 0],
    ['2.1+build-7.x', '2.1', 0],
    ['2.1-rc.1+build.9', '2.1-rc.1', 0],
    [' 2.1\n', '2.1', 0],
  ] as const)('%j vs %j → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it('reads numbers and words out of a version as written', () => {
    expect(parseVersion('v10.20.3-rc.11.b2-x+meta.1')).toEqual({ numbers: [10, 20, 3], preRelease: ['rc', 11, 'b2', 'x'] });
    expect(parseVersion('7.0a1')).toEqual({ numbers: [7, 0], preRelease: ['a1'] });
    expect(parseVersion('7.0-1a')).toEqual({ numbers: [7, 0], preRelease: ['1a'] });
    expect(parseVersion('7.0-a1')).toEqual({ numbers: [7, 0], preRelease: ['a1'] });
    expect(parseVersion('123')).toEqual({ numbers: [123], preRelease: [] });
  });

  it.each([
    'a1.0',
    '1.0-',
    '1.0-.rc',
    '1.0+',
    '1.0+.b',
    '.1.0',
    '1.0.',
    'vv1.0',
    '1.0-rc_1',
    '1.0 rc1',
    'x 1.0',
    '1.0 x',
    '1.0#',
    `1.${'9'.repeat(16)}`,
    `1.0-${'9'.repeat(16)}`,
  ])('refuses %j', (text) => {
    expect(parseVersion(text)).toBeUndefined();
  });

  it('accepts a version of exactly the maximum length and refuses one a character longer, padding aside', () => {
    const longest = `1.${'0'.repeat(MAX_VERSION_LENGTH - 2)}`;
    expect(longest).toHaveLength(MAX_VERSION_LENGTH);
    expect(parseVersion(longest)).toBeDefined();
    expect(parseVersion(`${longest}0`)).toBeUndefined();
    expect(parseVersion(`  ${longest}  `)).toBeDefined();
    // past twice the maximum the cache is skipped, but the answer is the same
    expect(parseVersion(`${' '.repeat(2 * MAX_VERSION_LENGTH)}1.2`)).toEqual({ numbers: [1, 2], preRelease: [] });
  });

  it('answers the same for a version asked about again (the cache returns what the parser said)', () => {
    expect(parseVersion('3.1-beta')).toEqual({ numbers: [3, 1], preRelease: ['beta'] });
    expect(parseVersion('3.1-beta')).toEqual({ numbers: [3, 1], preRelease: ['beta'] });
    expect(parseVersion('not a version')).toBeUndefined();
    expect(parseVersion('not a version')).toBeUndefined();
  });
});

describe('one version grammar: the catalog accepts exactly what the comparison can order', () => {
  const accepts = (text: string) => versionSchema.safeParse(text).success;

  it.each(['1.0 beta', '1.2.3 beta extra', 'latest', '12-', '1..2', '1.0-', 'v', '1.0+', `1.${'9'.repeat(17)}`, '1.0-99999999999999999999', `${'1.'.repeat(40)}1`, '1.0\u0000', '<script>'])(
    'refuses %j in the catalog, which the comparison cannot order',
    (text) => {
      expect(accepts(text)).toBe(false);
      expect(compareVersions(text, '1.0')).toBeUndefined();
    },
  );

  it('decides a hostile version string fast (proves the version pattern does not backtrack)', () => {
    for (const hostile of [`${'1'.repeat(60)}-`, '1.'.repeat(31), `1${'-a'.repeat(31)}+`, ' '.repeat(100_000) + '1'.repeat(100_000)]) {
      expect(parseVersion(hostile)).toBeUndefined();
      // padded differently each time, so the parse cache never answers instead of the parser
      const runs = Array.from({ length: 5 }, (_, i) => {
        const padded = `${hostile}${' '.repeat(i + 1)}`;
        const start = performance.now();
        parseVersion(padded);
        return performance.now() - start;
      });
      // the fastest run: a shared machine makes any single one noisy
      expect(Math.min(...runs)).toBeLessThan(10);
    }
  });

  /** Version-shaped text, most of it valid, some of it almost. */
  const versionish = fc
    .tuple(
      fc.constantFrom('', '', 'v', 'V', ' '),
      fc.array(fc.oneof(fc.nat({ max: 20 }), fc.constantFrom(0, 1, 10, 9_007_199_254_740_991)), { minLength: 1, maxLength: 5 }),
      fc.constantFrom('-', '-', '~', '', '.'),
      fc.array(fc.oneof(fc.constantFrom('rc', 'alpha', 'beta', 'b', '0', '1', '11', '2', 'A', 'z'), fc.stringMatching(/^[0-9A-Za-z]{0,3}$/)), { maxLength: 4 }),
      fc.constantFrom('.', '-'),
      fc.constantFrom('', '', '+build.5', '+x-y', '+', ' '),
    )
    .map(([prefix, numbers, separator, tag, joiner, build]) => `${prefix}${numbers.join('.')}${tag.length ? separator + tag.join(joiner) : ''}${build}`);
  const anyText = fc.oneof(versionish, fc.string({ maxLength: 20 }), fc.stringMatching(/^[0-9v.+~ -]{0,12}[A-Za-z]{0,3}$/));

  it('accepts in the catalog exactly the text the comparison can parse (proves the schema and the comparison draw one line)', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(accepts(text)).toBe(text.trim().length > 0 && parseVersion(text) !== undefined);
        if (accepts(text)) expect(compareVersions(text, '0')).toBeDefined();
      }),
      { numRuns: 5_000 },
    );
  });

  it('orders every pair of versions the catalog accepts, consistently (a total preorder: proves no accepted version is "undetermined")', () => {
    const accepted = versionish.filter(accepts);
    fc.assert(
      fc.property(accepted, accepted, accepted, (a, b, c) => {
        const ab = compareVersions(a, b);
        const bc = compareVersions(b, c);
        const ac = compareVersions(a, c);
        expect(ab).toBeDefined();
        expect(compareVersions(a, a)).toBe(0);
        // antisymmetric
        expect(compareVersions(b, a)).toBe(ab === 0 ? 0 : -(ab ?? 0));
        // transitive, and equal versions are interchangeable
        if ((ab ?? 0) <= 0 && (bc ?? 0) <= 0) expect(ac ?? 1).toBeLessThanOrEqual(0);
        if (ab === 0) expect(ac).toBe(bc);
      }),
      { numRuns: 4_000 },
    );
  });
});
