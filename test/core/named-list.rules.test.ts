import { describe, expect, it } from 'vitest';
import { namedList } from '../../functions/core/named-list.js';

describe('namedList: names the first few of a list and counts the rest', () => {
  it('names every one, comma-separated, when there are no more than the maximum', () => {
    expect(namedList(['a', 'b'], 3)).toBe('a, b');
    // exactly the maximum is still named whole: the boundary is "more than max"
    expect(namedList(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(namedList([], 3)).toBe('');
  });

  it('names the first `max` and counts the ones left over once there are more', () => {
    expect(namedList(['a', 'b', 'c', 'd'], 3)).toBe('a, b, c and 1 more');
    expect(namedList(['a', 'b', 'c', 'd', 'e', 'f'], 2)).toBe('a, b and 4 more');
  });
});
