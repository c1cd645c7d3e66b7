import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { excerpt, parseInput } from '../../functions/core/validation.js';

const refusal = (schema: z.ZodType, input: unknown): ValidationError => {
  try {
    parseInput(schema, input, 'thing');
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('parseInput: every handler input is parsed here, once', () => {
  const schema = z.object({ name: z.string(), tags: z.array(z.string()), labels: z.record(z.string(), z.string()), note: z.unknown() });
  const valid = { name: 'pc', tags: ['a'], labels: { room: '1' }, note: null };

  it('refuses NUL characters in any string, key or nested value, naming the field (proves NUL is never silently dropped)', () => {
    expect(refusal(schema, { ...valid, name: 'p\0c' }).problems).toEqual([{ field: 'name', problem: 'must not contain NUL characters (\\0)' }]);
    expect(refusal(schema, { ...valid, tags: ['a', 'b\0'] }).problems.map((p) => p.field)).toEqual(['tags.1']);
    expect(refusal(schema, { ...valid, labels: { 'ro\0om': 'x' } }).problems.map((p) => p.field)).toEqual(['labels.ro\0om']);
    expect(refusal(schema, { ...valid, note: { deep: [{ deeper: '\0' }] } }).problems.map((p) => p.field)).toEqual(['note.deep.0.deeper']);
    // even where the schema would have dropped it: nothing the caller sent disappears without a word
    expect(refusal(schema, { ...valid, ignored: '\0' }).problems.map((p) => p.field)).toEqual(['ignored']);
  });

  it('refuses a __proto__ key, which the schema would drop without a word (proves no input is silently lost)', () => {
    const input: unknown = JSON.parse('{"name":"pc","tags":[],"labels":{"__proto__":"x"},"note":null}');
    expect(refusal(schema, input).problems).toEqual([{ field: 'labels.__proto__', problem: 'is not allowed as a field name' }]);
  });

  it('walks hostile nesting without exhausting the stack (proves a deep input is refused, not a RangeError)', () => {
    let deep: unknown = 'bottom\0';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = refusal(schema, { ...valid, note: deep });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.field.length).toBeLessThanOrEqual(200);
  });

  it('quotes the input only in excerpts: a huge record key or value does not come back whole (proves refusals stay short)', () => {
    const keyed = z.object({ labels: z.record(z.string().regex(/^[a-z]+$/), z.string()) });
    const error = refusal(keyed, { labels: { ['K'.repeat(100_000)]: 'x' } });
    expect(error.problems[0]?.field).toMatch(/^labels\.K+…$/);
    expect(error.message.length).toBeLessThan(1_000);
    const strict = z.strictObject({ a: z.string() });
    expect(refusal(strict, { a: 'x', ['z'.repeat(100_000)]: 1 }).message.length).toBeLessThan(1_000);
    const many = refusal(z.array(z.number()), Array.from({ length: 10_000 }, () => 'x'));
    expect(many.problems).toHaveLength(21);
    expect(many.problems.at(-1)?.problem).toBe('and 9980 more problem(s)');
  });

  it('cuts excerpts without splitting a character', () => {
    expect(excerpt('short')).toBe('short');
    expect(excerpt('😀'.repeat(100), 9)).toBe('😀😀😀😀…');
  });
});
