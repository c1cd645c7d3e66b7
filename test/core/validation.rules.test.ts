import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldProblem } from '../../functions/core/errors.js';
import { excerpt, parseInput, utf8Length } from '../../functions/core/validation.js';

const problemsOf = (schema: z.ZodType, input: unknown, options: { fromMachines?: boolean } = {}): readonly FieldProblem[] => {
  try {
    parseInput(schema, input, 'thing', options);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
};

describe('input checks, rule by rule (pure)', () => {
  it('counts text in UTF-8 bytes, as DynamoDB does', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('é€😀')).toBe(2 + 3 + 4);
  });

  it('quotes text whole up to the limit, and cuts it one character short of it, marked, past the limit', () => {
    expect(excerpt('abc', 3)).toBe('abc');
    expect(excerpt('abcd', 3)).toBe('ab…');
    expect(excerpt('x'.repeat(80))).toBe('x'.repeat(80));
    expect(excerpt('x'.repeat(81))).toBe(`${'x'.repeat(79)}…`);
  });

  it('never cuts between the two halves of a character', () => {
    // a, b, then an emoji's two halves: a cut after b keeps both halves out
    expect(excerpt('ab😀cd', 4)).toBe('ab…');
    expect(excerpt('abc😀d', 4)).toBe('abc…');
  });

  it('parses valid input into what the schema makes of it', () => {
    expect(parseInput(z.object({ n: z.coerce.number() }), { n: '4' }, 'thing')).toEqual({ n: 4 });
  });

  it('names each offending field by its dotted path, and the entity', () => {
    const schema = z.object({ a: z.object({ b: z.array(z.string()) }) });
    const error: unknown = (() => {
      try {
        return parseInput(schema, { a: { b: ['x', 3] } }, 'widget');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError && [error.entity, error.problems]).toEqual(['widget', [{ field: 'a.b.1', problem: 'Invalid input: expected string, received number' }]]);
  });

  it('cuts each segment of a field name at 40 characters and the whole at 200', () => {
    const key = 'k'.repeat(50);
    const [problem] = problemsOf(z.object({}).catchall(z.number()), { [key]: 'x' });
    expect(problem?.field).toBe(`${'k'.repeat(39)}…`);
    let nested: unknown = 'bad';
    for (let i = 0; i < 10; i++) nested = { [`level${String(i)}${'x'.repeat(30)}`]: nested };
    const deepNul = problemsOf(z.unknown(), JSON.parse(JSON.stringify(nested).replace('bad', 'b\\u0000ad')));
    expect(deepNul[0]?.field).toHaveLength(200);
    expect(deepNul[0]?.field.endsWith('…')).toBe(true);
  });

  it('cuts a long problem message at 300 characters', () => {
    const [problem] = problemsOf(z.string().refine(() => false, 'p'.repeat(400)), 'x');
    expect(problem?.problem).toBe(`${'p'.repeat(299)}…`);
  });

  it('lists 20 problems and sums up the rest; 20 exactly are listed whole', () => {
    const twenty = problemsOf(z.array(z.number()), Array.from({ length: 20 }, () => 'x'));
    expect(twenty).toHaveLength(20);
    expect(twenty.at(-1)?.field).toBe('19');
    const twentyOne = problemsOf(z.array(z.number()), Array.from({ length: 21 }, () => 'x'));
    expect(twentyOne).toHaveLength(21);
    expect(twentyOne.at(-1)).toEqual({ field: '', problem: 'and 1 more problem(s)' });
  });

  it('finds at most 20 hidden characters, and stops there', () => {
    const found = problemsOf(z.array(z.string()), Array.from({ length: 30 }, () => 'a\0b'));
    expect(found).toHaveLength(20);
    expect(found.every((p) => p.problem === 'must not contain NUL characters (\\0)')).toBe(true);
  });

  it('names a NUL in a key by the key, and walks each object once, however it is linked', () => {
    const shared: Record<string, unknown> = { 'k\0': 1 };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    expect(problemsOf(z.unknown(), cyclic)).toEqual([{ field: 'b.k\0', problem: 'must not contain NUL characters (\\0)' }]);
  });

  it('passes NUL characters and __proto__ keys from machines, where refusing would fail the step that records a failure', () => {
    const input: unknown = JSON.parse('{"note":"a\\u0000b","__proto__":"x"}');
    expect(parseInput(z.object({ note: z.string() }), input, 'event', { fromMachines: true })).toEqual({ note: 'a\0b' });
    expect(problemsOf(z.object({ note: z.string() }), input).map((p) => p.field).sort()).toEqual(['__proto__', 'note']);
  });

  it('names a symbol path segment by its description', () => {
    const [problem] = problemsOf(
      z.unknown().superRefine((_, ctx) => {
        ctx.addIssue({ code: 'custom', path: [Symbol('tag'), Symbol()], message: 'no' });
      }),
      1,
    );
    expect(problem?.field).toBe('tag.symbol');
  });
});
