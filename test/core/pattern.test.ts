import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, MATCH_WORK_BUDGET, type TextPattern } from '../../functions/core/catalog/pattern.js';

const compiled = (source: string): TextPattern => {
  const result = compilePattern(source);
  if (!result.ok) throw new Error(`${source}: ${result.problem}`);
  return result.pattern;
};

/**
 * Under Stryker (`npm run test:mutation`) the matcher is instrumented, every
 * branch counted, and runs many times slower: there wall-clock bounds say
 * nothing about the matcher, so they are not checked (the answers still are).
 */
const instrumented = '__stryker__' in globalThis;

/** The fastest of a few runs: the machine is shared, and one slow run says more about the neighbours than the matcher. */
function fastestMs(run: () => unknown, times = 20): number {
  if (instrumented) return 0;
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Patterns from the part of JavaScript's `u`-mode grammar the matcher takes, small enough for the native engine to check quickly. */
const patternArbitrary: fc.Arbitrary<string> = fc.letrec<{ pattern: string; term: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'group' },
    { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', '-', ' ', '😀', 'é', '\\.', '\\n', '\\t', '\\u0061', '\\x62', '\\u{1F600}', '\\uD83D\\uDE00', '\\0', '\\cJ', '\\/', '/') },
    { weight: 3, arbitrary: fc.constantFrom('.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S') },
    { weight: 3, arbitrary: fc.constantFrom('[ab]', '[^a]', '[a-c]', '[\\d\\s]', '[^\\w-]', '[^]', '[]', '[-a]', '[a-]', '[\\b]', '[😀-😂]', '[\\u0061-\\u{1F600}]') },
    { weight: 2, arbitrary: tie('pattern').map((inner) => `(${inner})`) },
    { weight: 2, arbitrary: tie('pattern').map((inner) => `(?:${inner})`) },
  ),
  term: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('^', '$', '\\b', '\\B') },
    {
      weight: 8,
      arbitrary: fc
        .tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{2}', '{0,2}', '{1,}', '*?', '+?', '??', '{1,3}?'))
        .map(([atom, quantifier]) => atom + quantifier),
    },
  ),
  pattern: fc.oneof(
    { weight: 4, arbitrary: fc.array(tie('term'), { minLength: 0, maxLength: 4 }).map((terms) => terms.join('')) },
    { weight: 1, arbitrary: fc.array(fc.array(tie('term'), { maxLength: 3 }).map((terms) => terms.join('')), { minLength: 2, maxLength: 3 }).map((options) => options.join('|')) },
  ),
})).pattern;

/**
 * `RegExp.prototype.test` as the specification runs it: a match tried at
 * every code-point boundary. (V8's own search loop also tries positions inside
 * a surrogate pair, where only `\B` can hold; sticky matching from each
 * boundary leaves that quirk out.)
 */
function specTest(source: string, value: string): boolean {
  const sticky = new RegExp(source, 'uy');
  for (let index = 0; ; ) {
    sticky.lastIndex = index;
    if (sticky.test(value)) return true;
    if (index >= value.length) return false;
    index += (value.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
}

const valueArbitrary = fc.array(fc.constantFrom('a', 'b', 'c', '1', ' ', '-', '_', '\n', '😀', '😁', 'é', '\0', '/', '.', '\uD83D'), { maxLength: 10 }).map((chars) => chars.join(''));

describe('task parameter patterns match in linear time, with JavaScript meaning', () => {
  it('agrees with RegExp(pattern, "u") on every pattern it accepts (proves the automaton means what the pattern says)', () => {
    fc.assert(
      fc.property(patternArbitrary, fc.array(valueArbitrary, { minLength: 1, maxLength: 8 }), (source, values) => {
        try {
          new RegExp(source, 'u');
        } catch {
          // not JavaScript: must be refused as such
          expect(compilePattern(source)).toEqual({ ok: false, problem: 'is not a valid regular expression' });
          return;
        }
        const pattern = compiled(source);
        for (const value of values) expect([source, value, pattern.test(value)]).toEqual([source, value, specTest(source, value)]);
      }),
      { numRuns: 3_000 },
    );
  });

  it.each([
    ['^(a+)+$', `${'a'.repeat(31)}!`],
    ['^(a|a)*$', `${'a'.repeat(31)}!`],
    ['^(a|aa)+$', `${'a'.repeat(31)}!`],
    ['^(\\w+\\s?)*$', `${'word '.repeat(6)}!`],
    ['(x+x+)+y', 'x'.repeat(31)],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', `${'a'.repeat(31)}!`],
  ])('decides the catastrophic %s against %j in under 10 ms (a backtracking engine takes seconds)', (source, value) => {
    const pattern = compiled(source);
    expect(pattern.test(value)).toBe(false);
    expect(fastestMs(() => pattern.test(value))).toBeLessThan(10);
  });

  it('bounds the worst case: hundreds of live states over 16 KB answer "too costly" within 10 ms instead of running on (proves no match is slow)', () => {
    const heavy = compiled('[\\s\\S]{0,480}!');
    const value = 'a'.repeat(16_384);
    expect(heavy.test(value)).toBeUndefined();
    expect(fastestMs(() => heavy.test(value))).toBeLessThan(10);
    // the budget is generous for ordinary patterns on the longest value a parameter may hold
    expect(compiled('^[a-z0-9.-]+$').test('a'.repeat(16_384))).toBe(true);
    expect(compiled('^[a-zA-Z0-9.-]{1,253}$').test('host.example')).toBe(true);
    expect(MATCH_WORK_BUDGET).toBeLessThanOrEqual(250_000);
  });

  it.each([
    ['(a)\\1', 'backreferences'],
    ['(?<x>a)\\k<x>', 'named backreferences'],
    ['a(?=b)', 'lookahead and lookbehind'],
    ['(?<!a)b', 'lookahead and lookbehind'],
    ['\\p{Letter}', 'Unicode property escapes'],
    ['(?:a{0,400}){0,400}', 'too complex'],
    ['((((((){1000}){1000}){1000}){1000}){1000})', 'too complex'],
    ['x'.repeat(501), 'at most 500 characters'],
    ['(', 'not a valid regular expression'],
    ['a{2,1}', 'not a valid regular expression'],
  ])('refuses %s, saying why (%s)', (source, reason) => {
    const result = compilePattern(source);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toContain(reason);
  });
});
