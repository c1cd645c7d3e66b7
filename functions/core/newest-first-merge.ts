/**
 * One page of a newest-first list kept in several sorted sources (DynamoDB
 * partitions: the shards of a day, the days of a range, the tenants of a
 * Viewer), decided without I/O: the caller asks `reads()` what to read, reads
 * it, hands each answer to `add`, and repeats until `reads()` is empty; then
 * `page()` holds the items and where the next page starts.
 *
 * Every source sorts by the same key, and a key is unique across all of them
 * (`<createdAt>#<id>`), so one key is a position in every source at once: the
 * next page is "every key strictly below the last one handed out", in each
 * source. A cursor that held each source's own position would say the same
 * thing at greater length: a source's own last key handed out is at or above
 * that key, and it holds nothing in between (the merge handed out every key
 * above it, from every source).
 *
 * An item is handed out only once no source could still hold a higher key:
 * each source remembers the key below which it is unread, and the highest of
 * those is the bar. Sources are read lazily, highest first: a day's shards
 * are not read while a later day still fills the page.
 */

export interface MergeSource {
  /** Names the source in `reads()` and `add`. */
  readonly id: string;
  /** Every key of the source is at or above this (inclusive); absent: no lower bound. */
  readonly floor?: string;
  /** Every key of the source is below this (exclusive); absent: no upper bound. */
  readonly ceiling?: string;
}

/** One read to make: up to `count` items of the source with keys below `below` (absent: from its top) and at or above `floor`, highest first. */
export interface MergeRead {
  readonly sourceId: string;
  readonly below?: string;
  readonly floor?: string;
  readonly count: number;
}

export interface MergeReadResult<T> {
  /** The items the read found that pass the caller's filters, each with its key, in any order. */
  readonly items: readonly { readonly key: string; readonly value: T }[];
  /**
   * Keys below this are still unread (DynamoDB's LastEvaluatedKey, which may
   * lie past the last item returned when a filter dropped some); absent when
   * the read reached the source's floor.
   */
  readonly resumeBelow?: string;
  /** Items the read looked at, filtered out ones included: what it cost. */
  readonly evaluated: number;
}

export interface MergeOptions {
  readonly limit: number;
  /** Only keys strictly below this: the position a cursor carried. */
  readonly below?: string;
  /** A filtered read that finds fewer items than it asked for asks for twice as many next time, up to this. @default 1000 */
  readonly maxReadCount?: number;
  /**
   * Items looked at (filtered ones included) after which the page ends short,
   * with a position to go on from: a rare status over a month must not read a
   * month in one request. @default no budget
   */
  readonly evaluationBudget?: number;
}

export interface MergedPage<T> {
  /** Newest first, at most `limit`; fewer when every source is used up, or the evaluation budget ran out. */
  readonly items: readonly T[];
  /** Where the next page starts (every key below it is still to come); absent when nothing is left. */
  readonly next?: string;
}

interface SourceState {
  readonly source: MergeSource;
  /** False once the source has nothing left for this page's range. */
  open: boolean;
  /** Keys below this are unread; undefined while the source is unread from its top. */
  unreadBelow: string | undefined;
  /** What a read of this source asks for at least (grows when a filter keeps dropping what it reads). */
  minCount: number;
}

interface Keyed<T> {
  readonly key: string;
  readonly value: T;
}

// byte order, as DynamoDB sorts string keys (localeCompare would weigh punctuation differently)
const above = (a: string, b: string): boolean => a > b;
const lowest = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a < b ? a : b);

export class NewestFirstMerge<T> {
  private readonly states: SourceState[];
  private readonly limit: number;
  private readonly maxReadCount: number;
  private readonly evaluationBudget: number;
  /** Read but not handed out yet, highest key first. */
  private pending: Keyed<T>[] = [];
  private readonly handedOut: Keyed<T>[] = [];
  private evaluated = 0;

  constructor(sources: readonly MergeSource[], options: MergeOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError(`a page holds at least one item, not ${options.limit}`);
    if (new Set(sources.map((source) => source.id)).size !== sources.length) throw new RangeError('every source needs its own id');
    this.limit = options.limit;
    this.maxReadCount = options.maxReadCount ?? 1000;
    this.evaluationBudget = options.evaluationBudget ?? Number.POSITIVE_INFINITY;
    this.states = sources.map((source) => {
      const unreadBelow = lowest(source.ceiling, options.below);
      // a source whose every key is at or above where the page starts has nothing for it
      const open = !(source.floor !== undefined && unreadBelow !== undefined && source.floor >= unreadBelow);
      return { source, open, unreadBelow, minCount: 1 };
    });
  }

  /** The reads the page still needs (each source at most once); empty when the page is decided. */
  reads(): MergeRead[] {
    const remaining = this.limit - this.handedOut.length;
    if (remaining <= 0) return [];
    const open = this.states.filter((state) => state.open);
    // the budget stops a page only where it can say where to go on: once no source is unread from its top
    if (this.evaluated >= this.evaluationBudget && this.bar(open) !== undefined) return [];
    const top = this.pending[0]?.key;
    // with something in hand, the sources that could still beat it; with nothing, the highest unread ones
    const wanted =
      top === undefined
        ? open.filter((state) => state.unreadBelow === this.bar(open))
        : open.filter((state) => state.unreadBelow === undefined || above(state.unreadBelow, top));
    // an even share of what is left, twice over (a hash spreads shards evenly, not exactly), never more than is left
    const share = Math.min(remaining, Math.ceil((2 * remaining) / Math.max(1, wanted.length)));
    return wanted.map((state) => ({
      sourceId: state.source.id,
      ...(state.unreadBelow === undefined ? {} : { below: state.unreadBelow }),
      ...(state.source.floor === undefined ? {} : { floor: state.source.floor }),
      count: Math.min(this.maxReadCount, Math.max(share, state.minCount)),
    }));
  }

  /** The answer to one of `reads()`. */
  add(read: MergeRead, result: MergeReadResult<T>): void {
    const state = this.states.find((candidate) => candidate.source.id === read.sourceId);
    if (!state?.open || state.unreadBelow !== read.below) throw new RangeError(`source ${read.sourceId} was not waiting for this read`);
    if (result.resumeBelow !== undefined && read.below !== undefined && !above(read.below, result.resumeBelow)) {
      // a read that does not move its source would be asked again forever
      throw new RangeError(`source ${read.sourceId} read from ${read.below} did not move (resumes below ${result.resumeBelow})`);
    }
    const inRange = (key: string): boolean =>
      (read.below === undefined || above(read.below, key)) && (read.floor === undefined || key >= read.floor) && (result.resumeBelow === undefined || key >= result.resumeBelow);
    const stray = result.items.find((item) => !inRange(item.key));
    if (stray) throw new RangeError(`source ${read.sourceId} answered key ${stray.key}, outside the range it was asked for`);
    state.unreadBelow = result.resumeBelow;
    state.open = result.resumeBelow !== undefined;
    if (state.open && result.items.length < read.count) state.minCount = Math.min(this.maxReadCount, read.count * 2);
    this.evaluated += result.evaluated;
    this.pending = [...this.pending, ...result.items].sort((a, b) => (above(a.key, b.key) ? -1 : above(b.key, a.key) ? 1 : 0));
    this.handOut();
  }

  page(): MergedPage<T> {
    const items = this.handedOut.map((item) => item.value);
    const open = this.states.filter((state) => state.open);
    const last = this.handedOut.at(-1)?.key;
    if (this.handedOut.length >= this.limit) {
      // full: more may follow below the last key, unless every source is used up and nothing is in hand
      return last !== undefined && (open.length > 0 || this.pending.length > 0) ? { items, next: last } : { items };
    }
    // short: used up, or stopped by the budget with everything at or above the bar looked at
    const bar = this.bar(open);
    return open.length > 0 && bar !== undefined ? { items, next: bar } : { items };
  }

  /** The highest key a source could still hold unread; undefined when one is unread from its top (or none is open). */
  private bar(open: readonly SourceState[]): string | undefined {
    let highest: string | undefined;
    for (const state of open) {
      if (state.unreadBelow === undefined) return undefined;
      if (highest === undefined || above(state.unreadBelow, highest)) highest = state.unreadBelow;
    }
    return highest;
  }

  /** Hands out, highest first, every item in hand that no unread key could beat. */
  private handOut(): void {
    const open = this.states.filter((state) => state.open);
    const unreadFromTop = open.some((state) => state.unreadBelow === undefined);
    const bar = this.bar(open);
    while (this.handedOut.length < this.limit) {
      const next = this.pending[0];
      // unread keys are strictly below the bar, and keys are unique: a key at or above it beats them all
      if (!next || unreadFromTop || (bar !== undefined && above(bar, next.key))) return;
      this.handedOut.push(next);
      this.pending.shift();
    }
  }
}
