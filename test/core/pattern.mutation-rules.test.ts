import { describe, expect, it } from 'vitest';
import { compilePattern, MATCH_WORK_BUDGET, MAX_PATTERN_LENGTH, MAX_PATTERN_STATES, type TextPattern } from '../../functions/core/catalog/pattern.js';

/*
 * The rules of the pattern compiler one by one, next to the property test in
 * pattern.test.ts (which draws from a grammar): every character class against
 * the code points where its tables change, every escape form, and the limits
 * at their edges.
 */

const compiled = (source: string): TextPattern => {
  const result = compilePattern(source);
  if (!result.ok) throw new Error(`${source}: ${result.problem}`);
  return result.pattern;
};

const problem = (source: string): string => {
  const result = compilePattern(source);
  return result.ok ? 'accepted' : result.problem;
};

/** Every code point where a table of `\s`, `\w`, `\d` or `.` begins or ends, with its neighbours, and the ends of Unicode. */
const EDGES = [
  ...Array.from({ length: 0x100 }, (_, i) => i),
  0x167f, 0x1680, 0x1681, 0x1fff, 0x2000, 0x2005, 0x200a, 0x200b, 0x2027, 0x2028, 0x2029, 0x202a, 0x202e, 0x202f, 0x2030, 0x205e, 0x205f, 0x2060,
  0x2fff, 0x3000, 0x3001, 0xd7ff, 0xe000, 0xfefe, 0xfeff, 0xff00, 0xffff, 0x10000, 0x1f600, 0x10fffe, 0x10ffff,
];

describe('character classes mean what JavaScript means, at every edge of their tables', () => {
  it.each([
    '\\s', '\\S', '\\w', '\\W', '\\d', '\\D', '.', '[^]', '[\\s]', '[^\\s]', '[\\S\\d]', '[^\\w\\s]', '[\\D]', '[^\\D]', '[a-c\\d]', '[^a-c]', '[\\W]',
    '[ -/]', '[\\t-\\r]', '[^\\n]', '[\\u2028\\u2029]', '[\\0-\\x1f]', '[😀-\\u{10FFFF}]', '[^😀-😂]',
  ])('%s', (source) => {
    const pattern = compiled(`^${source}$`);
    const native = new RegExp(`^${source}$`, 'u');
    const disagreements = EDGES.map((codePoint) => String.fromCodePoint(codePoint)).filter((value) => pattern.test(value) !== native.test(value));
    expect(disagreements.map((value) => value.codePointAt(0)?.toString(16))).toEqual([]);
  });
});

describe('classes built of several parts', () => {
  it.each([
    ['[x-za-c]', ['a', 'b', 'c', 'x', 'z'], ['d', 'w', '{']],
    ['[a-db-c]', ['a', 'c', 'd'], ['e', '`']],
    ['[^a-db-c]', ['e', '`', '😀'], ['a', 'c', 'd']],
    ['[b-ca-d]', ['a', 'd'], ['e']],
    ['[^\\0-a]', ['b', '😀'], ['\0', 'a', 'A']],
    ['[^\\0-\\u{10FFFE}]', ['\u{10FFFF}'], ['a', '\0', '\u{10FFFE}']],
    ['[^\\0-\\u{10FFFF}]', [], ['a', '\0', '\u{10FFFF}']],
    ['[^\\u{10FFFF}]', ['a', '\u{10FFFE}'], ['\u{10FFFF}']],
    ['[ac-eg]', ['a', 'c', 'e', 'g'], ['b', 'f', 'h']],
    ['[a-bc-d]', ['a', 'b', 'c', 'd'], ['e']],
  ])('%s', (source, yes, no) => {
    const pattern = compiled(`^${source}$`);
    for (const value of yes) expect([value, pattern.test(value)]).toEqual([value, true]);
    for (const value of no) expect([value, pattern.test(value)]).toEqual([value, false]);
  });
});

describe('escapes', () => {
  it.each([
    ['\\t', '\t'], ['\\n', '\n'], ['\\v', '\v'], ['\\f', '\f'], ['\\r', '\r'], ['\\0', '\0'],
    ['\\cA', '\u0001'], ['\\cj', '\n'], ['\\cZ', '\u001a'],
    ['\\x41', 'A'], ['\\x7e', '~'], ['\\xFF', '\u00ff'],
    ['\\u0041', 'A'], ['\\u00e9', 'é'], ['\\uFFFF', '\uffff'],
    ['\\u{41}', 'A'], ['\\u{1F600}', '😀'], ['\\u{10FFFF}', '\u{10ffff}'],
    ['\\uD83D\\uDE00', '😀'], ['\\ud83d\\ude00', '😀'], ['\\uD83D\\uDFFF', '\u{1f7ff}'], ['\\uDBFF\\uDC00', '\u{10fc00}'],
    ['\\^', '^'], ['\\$', '$'], ['\\\\', '\\'], ['\\.', '.'], ['\\*', '*'], ['\\+', '+'], ['\\?', '?'], ['\\(', '('], ['\\)', ')'],
    ['\\[', '['], ['\\]', ']'], ['\\{', '{'], ['\\}', '}'], ['\\|', '|'], ['\\/', '/'], ['/', '/'],
    ['[\\b]', '\b'], ['[\\-]', '-'], ['[a\\-z]', '-'], ['[\\cJ]', '\n'], ['[\\x41-\\x43]', 'B'], ['[\\u{1F600}]', '😀'], ['[\\uD83D\\uDE00]', '😀'],
    ['[\\]]', ']'], ['[\\\\]', '\\'], ['[\\^]', '^'], ['[.]', '.'], ['[$]', '$'],
  ])('%s matches %j exactly, and nothing near it', (source, value) => {
    const pattern = compiled(`^${source}$`);
    const native = new RegExp(`^${source}$`, 'u');
    expect(pattern.test(value)).toBe(true);
    const codePoint = value.codePointAt(0) ?? 0;
    for (const near of [codePoint - 1, codePoint + 1, codePoint + 0x20, codePoint - 0x20, 0x41, 0x2d, 0x5c])
      if (near >= 0 && near <= 0x10ffff) expect([near, pattern.test(String.fromCodePoint(near))]).toEqual([near, native.test(String.fromCodePoint(near))]);
  });

  it('joins only a high surrogate escape and the low surrogate escape right after it into one code point', () => {
    expect(compiled('^\\uD800\\uDC00$').test('\u{10000}')).toBe(true);
    expect(compiled('^\\u0041\\uDC00$').test('A\uDC00')).toBe(true);
    expect(compiled('^\\uE000\\uDC00$').test('\uE000\uDC00')).toBe(true);
    expect(compiled('^\\uD83Da\\uDE00$').test('\uD83Da\uDE00')).toBe(true);
    expect(compiled('^\\uDC00\\uDC00$').test('\uDC00\uDC00')).toBe(true);
  });

  it('reads the character U+FFFF as one code unit, in the pattern and in the value', () => {
    expect(compiled('^\uFFFFb$').test('\uFFFFb')).toBe(true);
    expect(compiled('^.b$').test('\uFFFFb')).toBe(true);
    expect(compiled('^..$').test('\uFFFF😀')).toBe(true);
  });

  it('reads a lone surrogate escape, and a high surrogate before another escape, as separate code units', () => {
    expect(compiled('^\\uD83D$').test('\uD83D')).toBe(true);
    expect(compiled('^\\uD83D\\u0041$').test('\uD83DA')).toBe(true);
    expect(compiled('^\\uD83D\\uD83D$').test('\uD83D\uD83D')).toBe(true);
    expect(compiled('^\\uDE00$').test('\uDE00')).toBe(true);
    expect(compiled('^\\uD83D\\uDE00$').test('\uD83D')).toBe(false);
  });
});

describe('quantifiers', () => {
  it.each([
    ['^a{3}$', ['aaa'], ['aa', 'aaaa']],
    ['^a{2,}$', ['aa', 'aaaaaaa'], ['a', '']],
    ['^a{1,3}$', ['a', 'aaa'], ['', 'aaaa']],
    ['^a{0,1}$', ['', 'a'], ['aa']],
    ['^a{0}$', [''], ['a']],
    ['^(?:ab){2}$', ['abab'], ['ab', 'ababab']],
    ['^a{2,3}?b$', ['aab', 'aaab'], ['ab']],
    ['^a+?$', ['a', 'aa'], ['']],
    ['^a*?$', ['', 'aaa'], ['b']],
    ['^a??$', ['', 'a'], ['aa']],
    ['^a{10,12}$', ['a'.repeat(10), 'a'.repeat(12)], ['a'.repeat(9), 'a'.repeat(13)]],
  ])('%s', (source, yes, no) => {
    const pattern = compiled(source);
    for (const value of yes) expect([value, pattern.test(value)]).toEqual([value, true]);
    for (const value of no) expect([value, pattern.test(value)]).toEqual([value, false]);
  });
});

describe('searching', () => {
  it.each([
    ['a', 'xxa', true],
    ['^a', 'ba', false],
    ['^a', 'ab', true],
    ['^a|^b', 'cb', false],
    ['^a|b', 'cb', true],
    ['(?:^a)b', 'cab', false],
    ['(?:^a|^c)b', 'cb', true],
    ['a$', 'ab', false],
    ['a$', 'ba', true],
    ['\\bfoo\\b', 'a foo.', true],
    ['\\bfoo\\b', 'afoo', false],
    ['\\Boo', 'foo', true],
    ['\\Bfoo', 'foo', false],
    ['^\\b', '', false],
    ['^\\B$', '', true],
    ['x\\b', 'x😀', true],
    ['😀$', 'a😀', true],
    ['^.$', '😀', true],
    ['^..$', '😀', false],
    ['^$', '', true],
    ['', 'anything', true],
    ['a|', 'b', true],
    ['(?:)+b', 'b', true],
    ['(?:a|)*b', 'aab', true],
    ['^(?:a*)*$', 'aaab', false],
    ['^(?:a?)+b', 'b', true],
    ['^(?<year>\\d{4})-(?<m_1$>\\d{2})$', '2024-01', true],
    ['^(a)(b)(?:c)$', 'abc', true],
    ['ab', 'aab', true],
    ['aab', 'aaab', true],
    ['^[a-c]+d', 'abcabcd', true],
    ['b+$', 'abbbc', false],
  ])('%s in %j: %s', (source, value, expected) => {
    expect(compiled(source).test(value)).toBe(expected);
    expect(new RegExp(source, 'u').test(value)).toBe(expected);
  });
});

describe('what is refused, and why', () => {
  it('takes a pattern of the longest length and refuses one character more', () => {
    expect(problem('a'.repeat(MAX_PATTERN_LENGTH))).toBe('accepted');
    expect(problem('x'.repeat(MAX_PATTERN_LENGTH + 1))).toBe(`must be at most ${MAX_PATTERN_LENGTH} characters`);
  });

  it('takes as many states as allowed and refuses one more', () => {
    // the match state is one of them
    expect(problem(`a{${MAX_PATTERN_STATES - 1}}`)).toBe('accepted');
    expect(problem(`a{${MAX_PATTERN_STATES}}`)).toBe('cannot be used: the pattern is too complex (more than 1000 steps once repetitions are spelled out)');
    // anchored, so a match is tried from the start only: the last state is reached, without running out of work
    expect(compiled(`^a{${MAX_PATTERN_STATES - 2}}`).test('a'.repeat(MAX_PATTERN_STATES - 2))).toBe(true);
    expect(compiled(`^a{${MAX_PATTERN_STATES - 2}}`).test('a'.repeat(MAX_PATTERN_STATES - 3))).toBe(false);
  });

  it('refuses counted repetitions above the state limit, by their lower or upper bound', () => {
    expect(problem(`(?:){${MAX_PATTERN_STATES}}`)).toBe('accepted');
    // within the bound, but each optional repetition is a state of its own
    expect(problem(`(?:){0,${MAX_PATTERN_STATES}}`)).toBe('cannot be used: the pattern is too complex (more than 1000 steps once repetitions are spelled out)');
    expect(problem(`(?:){${MAX_PATTERN_STATES + 1}}`)).toBe('cannot be used: counted repetitions above 1000 are not supported');
    expect(problem(`(?:){0,${MAX_PATTERN_STATES + 1}}`)).toBe('cannot be used: counted repetitions above 1000 are not supported');
    expect(problem(`(?:){${MAX_PATTERN_STATES + 1},}`)).toBe('cannot be used: counted repetitions above 1000 are not supported');
    expect(problem('a{5,}')).toBe('accepted');
  });

  it('bounds the work of compiling repetitions of empty groups at 20 steps per state', () => {
    // 1 (the sequence) + 1 + 19 × (1 + 999) (the outer repetition) + 1 + j (the last one): 20,000 at j = 997
    expect(problem('(?:(?:){999}){19}(?:){997}')).toBe('accepted');
    expect(problem('(?:(?:){999}){19}(?:){998}')).toBe('cannot be used: the pattern is too complex (more than 1000 steps once repetitions are spelled out)');
  });

  it('says which group name it cannot take, wherever a plain name follows', () => {
    expect(problem('(?<éa>x)')).toBe('cannot be used: group names other than plain letters, digits, "_" and "$" are not supported');
  });

  it.each([
    ['(a)\\1', 'cannot be used: backreferences (\\1, \\2, …) are not supported'],
    ['(a)(b)(c)(d)(e)(f)(g)(h)(i)\\9', 'cannot be used: backreferences (\\1, \\2, …) are not supported'],
    ['(?<x>a)\\k<x>', 'cannot be used: named backreferences (\\k<name>) are not supported'],
    ['a(?=b)', 'cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported'],
    ['a(?!b)', 'cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported'],
    ['(?<=a)b', 'cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported'],
    ['(?<!a)b', 'cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported'],
    ['\\p{L}', 'cannot be used: Unicode property escapes (\\p{…}) are not supported'],
    ['\\P{L}', 'cannot be used: Unicode property escapes (\\p{…}) are not supported'],
    ['[\\p{L}]', 'cannot be used: Unicode property escapes (\\p{…}) are not supported'],
    ['(?<é>a)', 'cannot be used: group names other than plain letters, digits, "_" and "$" are not supported'],
    ['(', 'is not a valid regular expression'],
    ['a**', 'is not a valid regular expression'],
  ])('%s: %s', (source, reason) => {
    expect(problem(source)).toBe(reason);
  });

  it('takes group names of letters, digits, "_" and "$"', () => {
    expect(problem('(?<$a_1>x)(?<B>y)')).toBe('accepted');
  });
});

describe('a pattern anchored at the start', () => {
  // longer than any parameter value: one step per position is enough to run out of work
  const long = 'a'.repeat(MATCH_WORK_BUDGET + 50_000);

  it.each(['^b', '(?:^b)', '^(?:b)', '^b|^c', '(?:^|^)b', '(?:^b|^c)d'])('%s is tried from the start only, so even a very long value is decided', (source) => {
    expect(compiled(source).test(long)).toBe(false);
  });

  it.each(['b', '^b|c', '(?:^)?b'])('%s is tried from every position, and answers "too costly" on the same value', (source) => {
    expect(compiled(source).test(long)).toBeUndefined();
  });
});
