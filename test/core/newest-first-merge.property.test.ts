import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NewestFirstMerge, type MergeRead, type MergeReadResult, type MergeSource } from '../../functions/core/newest-first-merge.js';

/**
 * The merge against sources that behave as DynamoDB partitions do: a read
 * looks at up to `count` keys below its start, returns those that pass a
 * filter, and says where it stopped whenever it stopped at its limit (even if
 * nothing was left, as LastEvaluatedKey does).
 */

interface SimulatedSource extends MergeSource {
  /** Everything stored in the partition, including keys below the source's floor (outside the query's range). */
  keys: string[];
}

const key = (n: number): string => String(n).padStart(4, '0');

function readFrom(source: SimulatedSource, read: MergeRead, passes: (key: string) => boolean): MergeReadResult<string> {
  const candidates = source.keys
    .filter((k) => (read.below === undefined || k < read.below) && (read.floor === undefined || k >= read.floor))
    .sort()
    .reverse();
  const looked = candidates.slice(0, read.count);
  const last = looked.at(-1);
  return {
    items: looked.filter(passes).map((k) => ({ key: k, value: k })),
    ...(looked.length === read.count && last !== undefined ? { resumeBelow: last } : {}),
    evaluated: looked.length,
  };
}

function onePage(sources: readonly SimulatedSource[], passes: (key: string) => boolean, options: { limit: number; below?: string; evaluationBudget?: number }) {
  const merge = new NewestFirstMerge<string>(sources, options);
  let rounds = 0;
  for (let reads = merge.reads(); reads.length > 0; reads = merge.reads()) {
    for (const read of reads) {
      const source = sources.find((s) => s.id === read.sourceId);
      if (!source) throw new Error(`unknown source ${read.sourceId}`);
      merge.add(read, readFrom(source, read, passes));
    }
    if (++rounds > 10_000) throw new Error('the merge never decided its page');
  }
  return merge.page();
}

const scenario = fc.record({
  /** Which source each of the keys 0..n-1 is stored in. */
  placement: fc.array(fc.nat({ max: 5 }), { minLength: 0, maxLength: 120 }),
  sourceCount: fc.integer({ min: 1, max: 6 }),
  /** Per source: a floor and a ceiling (as key numbers), or none. */
  bounds: fc.array(fc.record({ floor: fc.option(fc.nat({ max: 60 }), { nil: undefined }), ceilingAbove: fc.option(fc.nat({ max: 60 }), { nil: undefined }) }), {
    minLength: 6,
    maxLength: 6,
  }),
  /** Keys whose number is a multiple of this are filtered out (1: none pass; 0: no filter). */
  filterEvery: fc.nat({ max: 4 }),
  limit: fc.integer({ min: 1, max: 12 }),
  evaluationBudget: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  insertBetweenPages: fc.boolean(),
});

describe('the newest-first merge (property)', () => {
  it('pages add up to exactly the merged list, newest first: no repeats, no gaps, even with new keys arriving between pages', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const sources: SimulatedSource[] = Array.from({ length: s.sourceCount }, (_, index) => {
          const bounds = s.bounds[index];
          const floor = bounds?.floor;
          const ceiling = bounds?.ceilingAbove === undefined ? undefined : s.placement.length + bounds.ceilingAbove;
          return {
            id: `source-${index}`,
            keys: [],
            ...(floor === undefined ? {} : { floor: key(floor) }),
            ...(ceiling === undefined ? {} : { ceiling: key(ceiling) }),
          };
        });
        s.placement.forEach((at, n) => sources[at % s.sourceCount]?.keys.push(key(n)));
        const passes = (k: string): boolean => s.filterEvery === 0 || Number(k) % s.filterEvery !== 0;
        const expected = sources
          .flatMap((source) => source.keys.filter((k) => (source.floor === undefined || k >= source.floor) && (source.ceiling === undefined || k < source.ceiling)))
          .filter(passes)
          .sort()
          .reverse();

        const seen: string[] = [];
        let below: string | undefined;
        let pages = 0;
        let arrivals = 0;
        do {
          const page = onePage(sources, passes, {
            limit: s.limit,
            ...(below === undefined ? {} : { below }),
            ...(s.evaluationBudget === undefined ? {} : { evaluationBudget: s.evaluationBudget }),
          });
          expect(page.items.length).toBeLessThanOrEqual(s.limit);
          // without a budget only the last page is short
          if (s.evaluationBudget === undefined && page.next !== undefined) expect(page.items).toHaveLength(s.limit);
          seen.push(...page.items);
          below = page.next;
          if (s.insertBetweenPages) {
            // a session created now: above every key handed out so far
            sources[arrivals % sources.length]?.keys.push(`new-${String(arrivals++).padStart(4, '0')}`);
          }
          if (++pages > 5_000) throw new Error('the walk never ended');
        } while (below !== undefined);
        expect(seen).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads only the highest sources first: a later day is used up before an earlier one is touched', () => {
    const day = (d: number, shard: number): SimulatedSource => ({
      id: `day-${d}-${shard}`,
      floor: `2026-03-0${d}`,
      ceiling: `2026-03-0${d + 1}`,
      keys: Array.from({ length: 5 }, (_, i) => `2026-03-0${d}T0${i}#${shard}`),
    });
    const sources = [day(1, 0), day(1, 1), day(2, 0), day(2, 1)];
    const merge = new NewestFirstMerge<string>(sources, { limit: 4 });
    const first = merge.reads();
    expect(first.map((read) => read.sourceId)).toEqual(['day-2-0', 'day-2-1']);
    for (const read of first) {
      const source = sources.find((s) => s.id === read.sourceId);
      if (source) merge.add(read, readFrom(source, read, () => true));
    }
    expect(merge.reads()).toEqual([]);
    expect(merge.page()).toEqual({
      items: ['2026-03-02T04#1', '2026-03-02T04#0', '2026-03-02T03#1', '2026-03-02T03#0'],
      next: '2026-03-02T03#0',
    });
  });

  it('refuses an answer that does not move its source, which would be asked again forever', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a', ceiling: 'z' }], { limit: 2 });
    const [read] = merge.reads();
    if (!read) throw new Error('no read');
    expect(() => merge.add(read, { items: [], resumeBelow: 'z', evaluated: 0 })).toThrow(RangeError);
  });

  it('refuses an answer with a key outside the range it asked for', () => {
    const merge = new NewestFirstMerge<string>([{ id: 'a', floor: 'b', ceiling: 'y' }], { limit: 2 });
    const [read] = merge.reads();
    if (!read) throw new Error('no read');
    expect(() => merge.add(read, { items: [{ key: 'y', value: 'y' }], evaluated: 1 })).toThrow(RangeError);
    expect(() => merge.add(read, { items: [{ key: 'a', value: 'a' }], evaluated: 1 })).toThrow(RangeError);
  });
});
