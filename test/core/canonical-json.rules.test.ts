import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../functions/core/canonical-json.js';

describe('canonicalJson: the same text for equal values whatever their key order', () => {
  it('sorts the keys of an object, so two key orders give one text', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({ c: 3, a: 2, b: 1 })).toBe(canonicalJson({ a: 2, b: 1, c: 3 }));
  });

  it('sorts at every depth, inside arrays too, and keeps the order of array elements', () => {
    expect(canonicalJson({ z: { y: 1, x: [{ q: 1, p: 2 }, 'b', 'a'] }, a: null })).toBe('{"a":null,"z":{"x":[{"p":2,"q":1},"b","a"],"y":1}}');
  });

  it('leaves strings, numbers, booleans and null as JSON writes them (a string is not taken apart as an object)', () => {
    expect(canonicalJson('ba')).toBe('"ba"');
    expect(canonicalJson([2, 1, true, null])).toBe('[2,1,true,null]');
    expect(canonicalJson(null)).toBe('null');
  });

  it('sorts an object with many keys (beyond the sort\'s small-array path) as it sorts a small one', () => {
    const keys = Array.from({ length: 200 }, (_, index) => `k${String((index * 7919) % 1000).padStart(4, '0')}`);
    const shuffled = Object.fromEntries(keys.map((key) => [key, key]));
    const written = Object.keys(JSON.parse(canonicalJson(shuffled)) as Record<string, unknown>);
    expect(written).toEqual([...keys].sort());
  });
});
