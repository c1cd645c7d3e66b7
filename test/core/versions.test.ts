import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion } from '../../functions/core/versions.js';

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
