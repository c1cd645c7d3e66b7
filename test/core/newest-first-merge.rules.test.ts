import { describe, expect, it } from 'vitest';
import { NewestFirstMerge, type MergeRead } from '../../functions/core/newest-first-merge.js';

/** The answer of a read: these keys (each its own value), stopping below `resumeBelow` (absent: the source is used up). */
const answer = (keys: readonly string[], resumeBelow?: string, evaluated = keys.length) => ({
  items: keys.map((key) => ({ key, value: key })),
  ...(resumeBelow === undefined ? {} : { resumeBelow }),
  evaluated,
});
const only = (reads: MergeRead[]): MergeRead => {
  const [read] = reads;
  if (reads.length !== 1 || !read) throw new Error(`expected one read, got ${String(reads.length)}`);
  return read;
};
const readOf = (reads: MergeRead[], sourceId: string): MergeRead => {
  const read = reads.find((candidate) => candidate.sourceId === sourceId);
  if (!read) throw new Error(`no read of ${sourceId}`);
  return read;
};

describe('the newest-first merge: its rules, read by read', () => {
  it('refuses a page of less than one item, or not a whole number of them, and two sources under one id', () => {
    for (const limit of [0, -1, 1.5]) expect(() => new NewestFirstMerge([], { limit })).toThrow(`a page holds at least one item, not ${String(limit)}`);
    expect(() => new NewestFirstMerge([{ id: 'a' }, { id: 'a' }], { limit: 1 })).toThrow(new RangeError('every source needs its own id'));
  });

  it('starts each source at the lower of its ceiling and where the page starts', () => {
    expect(new NewestFirstMerge([{ id: 'a', ceiling: 'm' }], { limit: 1 }).reads()).toStrictEqual([{ sourceId: 'a', below: 'm', count: 1 }]);
    expect(new NewestFirstMerge([{ id: 'a', ceiling: 'm' }], { limit: 1, below: 'k' }).reads()).toStrictEqual([{ sourceId: 'a', below: 'k', count: 1 }]);
    expect(new NewestFirstMerge([{ id: 'a', ceiling: 'k' }], { limit: 1, below: 'm' }).reads()).toStrictEqual([{ sourceId: 'a', below: 'k', count: 1 }]);
    expect(new NewestFirstMerge([{ id: 'a' }], { limit: 1, below: 'k' }).reads()).toStrictEqual([{ sourceId: 'a', below: 'k', count: 1 }]);
    expect(new NewestFirstMerge([{ id: 'a', floor: 'c' }], { limit: 1 }).reads()).toStrictEqual([{ sourceId: 'a', floor: 'c', count: 1 }]);
  });

  it('never reads a source whose every key is at or above where the page starts', () => {
    const merge = new NewestFirstMerge([{ id: 'a', floor: 'm' }, { id: 'b', floor: 'p', ceiling: 'z' }, { id: 'c' }], { limit: 2, below: 'p' });
    expect(merge.reads().map((read) => read.sourceId)).toEqual(['a', 'c']);
    // the whole page is in the others; the closed one gives no reason to go on
    const reads = merge.reads();
    merge.add(readOf(reads, 'a'), answer(['n']));
    merge.add(readOf(reads, 'c'), answer(['o']));
    expect(merge.page()).toStrictEqual({ items: ['o', 'n'] });
  });

  it('reads first the sources unread from their top, then the highest unread ones, never one that could not beat what is in hand', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'top' }, { id: 'low', ceiling: 'c' }], { limit: 3 });
    expect(merge.reads().map((read) => read.sourceId)).toEqual(['top']);

    const ranked = new NewestFirstMerge<string>([{ id: 'a', ceiling: 'z' }, { id: 'b', ceiling: 'y' }, { id: 'c', ceiling: 'p' }], { limit: 4 });
    const first = only(ranked.reads());
    expect(first.sourceId).toBe('a');
    ranked.add(first, answer(['m'], 'm'));
    // `m` waits: b and c may still hold keys above it; a, unread only below it, cannot
    expect(ranked.reads().map((read) => read.sourceId)).toEqual(['b', 'c']);
  });

  it('asks each source for an even share of what the page still needs, twice over, never more than it needs or the most one read may ask', () => {
    const four = new NewestFirstMerge<string>(['a', 'b', 'c', 'd'].map((id) => ({ id })), { limit: 10 });
    expect(four.reads().map((read) => read.count)).toEqual([5, 5, 5, 5]);
    expect(new NewestFirstMerge<string>([{ id: 'a' }], { limit: 10 }).reads().map((read) => read.count)).toEqual([10]);
    expect(new NewestFirstMerge<string>([{ id: 'a' }, { id: 'b' }], { limit: 10, maxReadCount: 3 }).reads().map((read) => read.count)).toEqual([3, 3]);
  });

  it('asks a source whose filtered reads keep coming back short for twice as many next time, up to the most one read may ask', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a' }], { limit: 2, maxReadCount: 5 });
    let read = only(merge.reads());
    expect(read.count).toBe(2);
    merge.add(read, answer([], 'x', 2));
    read = only(merge.reads());
    expect(read.count).toBe(4);
    merge.add(read, answer(['w'], 'v', 4));
    read = only(merge.reads());
    expect(read.count).toBe(5);
  });

  it('reads nothing more once the page is full, and says where the next one starts', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a' }, { id: 'b' }], { limit: 2 });
    const reads = merge.reads();
    merge.add(readOf(reads, 'a'), answer(['z', 'y'], 'y'));
    merge.add(readOf(reads, 'b'), answer(['x'], 'x'));
    expect(merge.reads()).toEqual([]);
    expect(merge.page()).toStrictEqual({ items: ['z', 'y'], next: 'y' });
  });

  it('a full page says where the next starts while anything is left, in a source or in hand, and not when nothing is', () => {
    const usedUp = new NewestFirstMerge<string>([{ id: 'a' }], { limit: 2 });
    usedUp.add(only(usedUp.reads()), answer(['b', 'a']));
    expect(usedUp.page()).toStrictEqual({ items: ['b', 'a'] });

    const inHand = new NewestFirstMerge<string>([{ id: 'a' }], { limit: 2 });
    inHand.add(only(inHand.reads()), answer(['c', 'b', 'a']));
    expect(inHand.page()).toStrictEqual({ items: ['c', 'b'], next: 'b' });
  });

  it('a short page says where to go on only when the budget stopped it, at the highest key still unread', () => {
    const usedUp = new NewestFirstMerge<string>([{ id: 'a' }, { id: 'b' }], { limit: 5 });
    const reads = usedUp.reads();
    usedUp.add(readOf(reads, 'a'), answer(['d']));
    usedUp.add(readOf(reads, 'b'), answer(['c']));
    expect(usedUp.reads()).toEqual([]);
    expect(usedUp.page()).toStrictEqual({ items: ['d', 'c'] });

    const budget = new NewestFirstMerge<string>([{ id: 'a' }, { id: 'b' }], { limit: 5, evaluationBudget: 6 });
    const first = budget.reads();
    budget.add(readOf(first, 'a'), answer(['s'], 'r', 3));
    budget.add(readOf(first, 'b'), answer([], 'q', 3));
    // six items looked at: the budget is spent exactly, so the page ends here
    expect(budget.reads()).toEqual([]);
    expect(budget.page()).toStrictEqual({ items: ['s'], next: 'r' });
  });

  it('goes on past the budget while a source is still unread from its top: it could not say where to go on', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a' }, { id: 'b' }], { limit: 5, evaluationBudget: 1 });
    const first = merge.reads();
    merge.add(readOf(first, 'b'), answer([], 'k', 4));
    // spent, but a is still unread from its top
    expect(merge.reads()).toStrictEqual([readOf(first, 'a')]);
    merge.add(readOf(first, 'a'), answer([], 'x', 3));
    // spent, and no source is unread from its top any more: stop, going on below the highest unread key
    expect(merge.reads()).toEqual([]);
    expect(merge.page()).toStrictEqual({ items: [], next: 'x' });
  });

  it('refuses an answer for a source that was not waiting for it: unknown, used up, or asked from elsewhere', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a', ceiling: 'z' }, { id: 'b', ceiling: 'y' }], { limit: 5 });
    const read = only(merge.reads());
    expect(() => merge.add({ ...read, sourceId: 'nope' }, answer([]))).toThrow(new RangeError('source nope was not waiting for this read'));
    expect(() => merge.add({ ...read, below: 'q' }, answer([]))).toThrow(new RangeError('source a was not waiting for this read'));
    merge.add(read, answer(['m']));
    expect(() => merge.add(read, answer([]))).toThrow(new RangeError('source a was not waiting for this read'));
  });

  it('refuses an answer that does not move its source, or holds a key outside what was asked, naming both', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a', floor: 'b', ceiling: 'y' }], { limit: 2 });
    const read = only(merge.reads());
    expect(() => merge.add(read, answer([], 'y'))).toThrow(new RangeError('source a read from y did not move (resumes below y)'));
    expect(() => merge.add(read, answer(['c'], 'd'))).toThrow(new RangeError('source a answered key c, outside the range it was asked for'));
    expect(() => merge.add(read, answer(['a']))).toThrow(new RangeError('source a answered key a, outside the range it was asked for'));
  });
});
