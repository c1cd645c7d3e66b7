/**
 * Task parameter patterns, matched in time linear in the value's length.
 *
 * JavaScript's own engine backtracks: `^(a+)+$` against 31 `a`s and a `!`
 * takes seconds, and patterns come from catalog authors while values come
 * from deployments. So a pattern is parsed here into a Thompson automaton and
 * run by state-set simulation (every state at most once per character): the
 * cost is bounded by value length × automaton size, whatever the pattern, and
 * a work budget caps even that product.
 *
 * The language is JavaScript's with the `u` flag, minus what no automaton can
 * do: backreferences and lookaround are refused with a reason, and so are
 * Unicode property escapes (their tables are not worth carrying here). Where
 * a pattern is accepted it means what `new RegExp(source, 'u').test` means
 * by the specification; a property test holds the two together. (V8 also
 * tries a match inside a surrogate pair, where only `\B` can hold; that
 * quirk is not reproduced.)
 */

/** Automaton states a pattern may compile to. */
export const MAX_PATTERN_STATES = 1_000;
/** Longest pattern source a task may carry. */
export const MAX_PATTERN_LENGTH = 500;
/**
 * State visits one match may take: a few milliseconds. A value and pattern
 * that need more (thousands of characters against hundreds of live states)
 * are reported as too costly to check instead of being checked slowly.
 */
export const MATCH_WORK_BUDGET = 250_000;

export interface TextPattern {
  readonly source: string;
  /** Whether the pattern matches somewhere in `value`; `undefined` when deciding would exceed `MATCH_WORK_BUDGET`. */
  test(value: string): boolean | undefined;
}

export type CompiledPattern = { readonly ok: true; readonly pattern: TextPattern } | { readonly ok: false; readonly problem: string };

const MAX_CODE_POINT = 0x10ffff;

/** A set of code points as sorted, disjoint, inclusive ranges `[lo0, hi0, lo1, hi1, …]`. */
type Ranges = readonly number[];

type Node =
  | { readonly type: 'set'; readonly ranges: Ranges }
  | { readonly type: 'assert'; readonly kind: Assertion }
  | { readonly type: 'seq'; readonly items: readonly Node[] }
  | { readonly type: 'alt'; readonly options: readonly Node[] }
  | { readonly type: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

type Assertion = 'start' | 'end' | 'word' | 'notWord';

class Unsupported extends Error {}

function normalize(ranges: readonly (readonly [number, number])[]): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: number[] = [];
  for (const [lo, hi] of sorted) {
    const last = merged.length - 1;
    if (last > 0 && lo <= (merged[last] ?? -2) + 1) merged[last] = Math.max(merged[last] ?? hi, hi);
    else merged.push(lo, hi);
  }
  return merged;
}

function pairs(ranges: Ranges): [number, number][] {
  const result: [number, number][] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) result.push([ranges[i] ?? 0, ranges[i + 1] ?? 0]);
  return result;
}

function complement(ranges: Ranges): Ranges {
  const result: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of pairs(ranges)) {
    if (lo > next) result.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return normalize(result);
}

const single = (codePoint: number): Ranges => [codePoint, codePoint];
const DIGIT = normalize([[0x30, 0x39]]);
const WORD = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
// ECMAScript WhiteSpace and LineTerminator, which is what `\s` means
const SPACE = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const LINE_TERMINATORS = normalize([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]);
const DOT = complement(LINE_TERMINATORS);

function contains(ranges: Ranges, codePoint: number): boolean {
  let low = 0;
  let high = ranges.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (codePoint < (ranges[2 * middle] ?? 0)) high = middle - 1;
    else if (codePoint > (ranges[2 * middle + 1] ?? 0)) low = middle + 1;
    else return true;
  }
  return false;
}

const isWordChar = (codePoint: number): boolean => codePoint >= 0 && contains(WORD, codePoint);

const SYNTAX_CHARACTERS = new Set('^$\\.*+?()[]{}|/');

/** Recursive descent over the `u`-mode grammar; the source is already known to be a valid JavaScript pattern. */
class Parser {
  private index = 0;
  private groupNames = new Set<string>();

  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.disjunction();
    if (this.index < this.source.length) throw new Unsupported(`unexpected "${this.peekChar()}" at position ${this.index}`);
    return node;
  }

  private peekChar(): string {
    return String.fromCodePoint(this.source.codePointAt(this.index) ?? 0);
  }

  private eat(text: string): boolean {
    if (!this.source.startsWith(text, this.index)) return false;
    this.index += text.length;
    return true;
  }

  private nextCodePoint(): number {
    const codePoint = this.source.codePointAt(this.index);
    if (codePoint === undefined) throw new Unsupported('the pattern ends too early');
    this.index += codePoint > 0xffff ? 2 : 1;
    return codePoint;
  }

  private disjunction(): Node {
    const options = [this.alternative()];
    while (this.eat('|')) options.push(this.alternative());
    return options.length === 1 ? (options[0] ?? { type: 'seq', items: [] }) : { type: 'alt', options };
  }

  private alternative(): Node {
    const items: Node[] = [];
    while (this.index < this.source.length && this.source[this.index] !== '|' && this.source[this.index] !== ')') items.push(this.term());
    return items.length === 1 ? (items[0] ?? { type: 'seq', items: [] }) : { type: 'seq', items };
  }

  private term(): Node {
    if (this.eat('^')) return { type: 'assert', kind: 'start' };
    if (this.eat('$')) return { type: 'assert', kind: 'end' };
    if (this.eat('\\b')) return { type: 'assert', kind: 'word' };
    if (this.eat('\\B')) return { type: 'assert', kind: 'notWord' };
    if (this.source.startsWith('(?=', this.index) || this.source.startsWith('(?!', this.index) || this.source.startsWith('(?<=', this.index) || this.source.startsWith('(?<!', this.index)) {
      throw new Unsupported('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported');
    }
    return this.quantified(this.atom());
  }

  private quantified(node: Node): Node {
    let bounds: { min: number; max: number } | undefined;
    if (this.eat('*')) bounds = { min: 0, max: Infinity };
    else if (this.eat('+')) bounds = { min: 1, max: Infinity };
    else if (this.eat('?')) bounds = { min: 0, max: 1 };
    else {
      const braces = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.index));
      if (braces?.[1] !== undefined) {
        this.index += braces[0].length;
        const min = Number(braces[1]);
        const max = braces[2] === undefined ? min : braces[3] ? Number(braces[3]) : Infinity;
        if (min > MAX_PATTERN_STATES || (max !== Infinity && max > MAX_PATTERN_STATES)) {
          throw new Unsupported(`counted repetitions above ${MAX_PATTERN_STATES} are not supported`);
        }
        bounds = { min, max };
      }
    }
    if (!bounds) return node;
    // a lazy quantifier changes which match is found, never whether one is
    this.eat('?');
    return { type: 'repeat', node, ...bounds };
  }

  private atom(): Node {
    if (this.eat('.')) return { type: 'set', ranges: DOT };
    if (this.eat('[')) return { type: 'set', ranges: this.characterClass() };
    if (this.eat('(')) {
      if (this.eat('?:')) return this.groupBody();
      if (this.eat('?<')) {
        const name = /^[A-Za-z_$][A-Za-z0-9_$]*>/.exec(this.source.slice(this.index))?.[0];
        if (name === undefined) throw new Unsupported('group names other than plain letters, digits, "_" and "$" are not supported');
        if (this.groupNames.has(name)) throw new Unsupported(`the group name ${name.slice(0, -1)} is used twice`);
        this.groupNames.add(name);
        this.index += name.length;
        return this.groupBody();
      }
      if (this.source[this.index] === '?') throw new Unsupported(`the group "(?${this.source[this.index + 1] ?? ''}" is not supported`);
      return this.groupBody();
    }
    if (this.eat('\\')) return this.atomEscape();
    const codePoint = this.nextCodePoint();
    if (SYNTAX_CHARACTERS.has(String.fromCodePoint(codePoint)) && codePoint !== 0x2f) {
      throw new Unsupported(`"${String.fromCodePoint(codePoint)}" at position ${this.index - 1} must be escaped`);
    }
    return { type: 'set', ranges: single(codePoint) };
  }

  private groupBody(): Node {
    const node = this.disjunction();
    if (!this.eat(')')) throw new Unsupported('a group is not closed');
    return node;
  }

  private atomEscape(): Node {
    const next = this.source[this.index];
    if (next !== undefined && /[1-9]/.test(next)) throw new Unsupported('backreferences (\\1, \\2, …) are not supported');
    if (next === 'k') throw new Unsupported('named backreferences (\\k<name>) are not supported');
    const set = this.classEscapeSet();
    return { type: 'set', ranges: set ?? single(this.characterEscape(false)) };
  }

  /** `\d`, `\w`, `\s` and their complements, or `undefined` for a single-character escape. */
  private classEscapeSet(): Ranges | undefined {
    const letter = this.source[this.index];
    const sets: Readonly<Record<string, Ranges>> = { d: DIGIT, D: complement(DIGIT), w: WORD, W: complement(WORD), s: SPACE, S: complement(SPACE) };
    if (letter === 'p' || letter === 'P') throw new Unsupported('Unicode property escapes (\\p{…}) are not supported');
    if (letter === undefined || !Object.hasOwn(sets, letter)) return undefined;
    this.index++;
    return sets[letter];
  }

  /** The code point of a single-character escape, the backslash already read. */
  private characterEscape(inClass: boolean): number {
    const letter = this.nextCodePoint();
    const char = String.fromCodePoint(letter);
    const controls: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };
    if (Object.hasOwn(controls, char)) return controls[char] ?? letter;
    if (char === '0') return 0;
    if (char === 'b' && inClass) return 0x08;
    if (char === '-' && inClass) return 0x2d;
    if (char === 'c') {
      const control = this.nextCodePoint();
      return control % 32;
    }
    if (char === 'x') return this.hex(2);
    if (char === 'u') {
      if (this.eat('{')) {
        const end = this.source.indexOf('}', this.index);
        const value = Number.parseInt(this.source.slice(this.index, end), 16);
        this.index = end + 1;
        return value;
      }
      const unit = this.hex(4);
      // `\uD83D\uDE00` is one code point under the `u` flag
      if (unit >= 0xd800 && unit <= 0xdbff && /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(this.source.slice(this.index))) {
        this.index += 2;
        const low = this.hex(4);
        return (unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
      }
      return unit;
    }
    if (SYNTAX_CHARACTERS.has(char)) return letter;
    throw new Unsupported(`the escape "\\${char}" is not supported`);
  }

  private hex(digits: number): number {
    const text = this.source.slice(this.index, this.index + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(text)) throw new Unsupported('a hexadecimal escape is incomplete');
    this.index += digits;
    return Number.parseInt(text, 16);
  }

  /** After `[`: the class as ranges, `]` consumed. */
  private characterClass(): Ranges {
    const negated = this.eat('^');
    const ranges: [number, number][] = [];
    while (!this.eat(']')) {
      const from = this.classAtom();
      if (this.source[this.index] === '-' && this.source[this.index + 1] !== ']' && this.index + 1 < this.source.length) {
        this.index++;
        const to = this.classAtom();
        if (typeof from !== 'number' || typeof to !== 'number' || from > to) throw new Unsupported('a character range is out of order');
        ranges.push([from, to]);
      } else if (typeof from === 'number') ranges.push([from, from]);
      else ranges.push(...pairs(from));
    }
    const set = normalize(ranges);
    return negated ? complement(set) : set;
  }

  private classAtom(): number | Ranges {
    if (this.index >= this.source.length) throw new Unsupported('a character class is not closed');
    if (!this.eat('\\')) return this.nextCodePoint();
    return this.classEscapeSet() ?? this.characterEscape(true);
  }
}

/** Thompson automaton, as parallel arrays: a state reads a character of a set, forks, asserts, or is the match. */
const enum Op {
  Char,
  Split,
  Assert,
  Match,
}

const ASSERTIONS: readonly Assertion[] = ['start', 'end', 'word', 'notWord'];

const TOO_COMPLEX = `the pattern is too complex (more than ${MAX_PATTERN_STATES} steps once repetitions are spelled out)`;

class Compiler {
  readonly op: Op[] = [];
  /** Char: the set it reads; Split: the other branch; Assert: the assertion's index. */
  readonly arg: number[] = [];
  readonly next: number[] = [];
  readonly sets: Ranges[] = [];
  private readonly setIds = new Map<Ranges, number>();
  /** Repetitions of empty groups emit nothing, so the work is bounded apart from the states. */
  private work = 0;

  emit(op: Op, arg: number, next: number): number {
    if (this.op.length >= MAX_PATTERN_STATES) throw new Unsupported(TOO_COMPLEX);
    this.op.push(op);
    this.arg.push(arg);
    this.next.push(next);
    return this.op.length - 1;
  }

  /** Compiles `node` so that it continues at `next`; returns its entry state. Built back to front, so targets exist first. */
  compile(node: Node, next: number): number {
    if (++this.work > 20 * MAX_PATTERN_STATES) throw new Unsupported(TOO_COMPLEX);
    switch (node.type) {
      case 'set': {
        let id = this.setIds.get(node.ranges);
        if (id === undefined) {
          id = this.sets.push(node.ranges) - 1;
          this.setIds.set(node.ranges, id);
        }
        return this.emit(Op.Char, id, next);
      }
      case 'assert':
        return this.emit(Op.Assert, ASSERTIONS.indexOf(node.kind), next);
      case 'seq':
        return node.items.reduceRight((target, item) => this.compile(item, target), next);
      case 'alt': {
        const entries = node.options.map((option) => this.compile(option, next));
        return entries.slice(0, -1).reduceRight((rest, entry) => this.emit(Op.Split, entry, rest), entries.at(-1) ?? next);
      }
      case 'repeat': {
        let entry = next;
        if (node.max === Infinity) {
          // a loop: the fork is pointed into the body once the body exists
          const fork = this.emit(Op.Split, -1, next);
          this.arg[fork] = this.compile(node.node, fork);
          entry = fork;
        } else {
          for (let i = node.min; i < node.max; i++) entry = this.emit(Op.Split, this.compile(node.node, entry), next);
        }
        for (let i = 0; i < node.min; i++) entry = this.compile(node.node, entry);
        return entry;
      }
    }
  }
}

/** The compiled automaton in typed arrays, with an ASCII table per character set: matching is the hot loop. */
interface Program {
  readonly op: Uint8Array;
  readonly arg: Int32Array;
  readonly next: Int32Array;
  readonly sets: readonly Ranges[];
  readonly ascii: readonly Uint8Array[];
  readonly start: number;
  /** Begins with `^`: a match can only start at the beginning, so no other start is tried. */
  readonly anchored: boolean;
}

const anchoredAtStart = (node: Node): boolean =>
  node.type === 'assert' ? node.kind === 'start' : node.type === 'seq' ? node.items[0] !== undefined && anchoredAtStart(node.items[0]) : node.type === 'alt' && node.options.every(anchoredAtStart);

function program(compiler: Compiler, start: number, anchored: boolean): Program {
  return {
    anchored,
    op: Uint8Array.from(compiler.op),
    arg: Int32Array.from(compiler.arg),
    next: Int32Array.from(compiler.next),
    sets: compiler.sets,
    ascii: compiler.sets.map((ranges) => Uint8Array.from({ length: 128 }, (_, codePoint) => (contains(ranges, codePoint) ? 1 : 0))),
    start,
  };
}

const MATCHED = -1;
const OVER_BUDGET = -2;

interface Scratch {
  readonly seen: Int32Array;
  readonly stack: Int32Array;
  work: number;
}

/**
 * Appends `state` and every state it reaches without reading a character to
 * `list` (from `length`), each once per `step`; returns the new length, or
 * `MATCHED` when the match state is among them (`OVER_BUDGET` when the work runs out first).
 */
function close(
  { op, arg, next }: Program,
  scratch: Scratch,
  step: number,
  state: number,
  list: Int32Array,
  length: number,
  context: { previous: number; upcoming: number; atStart: boolean; atEnd: boolean },
): number {
  const { seen, stack } = scratch;
  let top = 0;
  let end = length;
  stack[top++] = state;
  while (top > 0) {
    const s = stack[--top] ?? 0;
    if (seen[s] === step) continue;
    seen[s] = step;
    if (--scratch.work < 0) return OVER_BUDGET;
    switch (op[s]) {
      case Op.Char:
        list[end++] = s;
        break;
      case Op.Split:
        stack[top++] = next[s] ?? 0;
        stack[top++] = arg[s] ?? 0;
        break;
      case Op.Assert: {
        const kind = arg[s];
        const holds =
          kind === 0 ? context.atStart : kind === 1 ? context.atEnd : (isWordChar(context.previous) !== isWordChar(context.upcoming)) === (kind === 2);
        if (holds) stack[top++] = next[s] ?? 0;
        break;
      }
      default:
        return MATCHED;
    }
  }
  return end;
}

function run(compiled: Program, value: string): boolean | undefined {
  const { op, arg, next, sets, ascii, start, anchored } = compiled;
  const size = op.length;
  // every state pushes at most two others, once per closure
  const scratch: Scratch = { seen: new Int32Array(size).fill(-1), stack: new Int32Array(2 * size + 1), work: MATCH_WORK_BUDGET };
  let current = new Int32Array(size);
  let following = new Int32Array(size);
  let currentLength = 0;
  const memoStep = new Int32Array(sets.length).fill(-1);
  const memo = new Uint8Array(sets.length);
  const context = { previous: -1, upcoming: -1, atStart: true, atEnd: false };
  let step = 0;
  let index = 0;
  for (;;) {
    const atEnd = index >= value.length;
    const codePoint = atEnd ? -1 : (value.codePointAt(index) ?? -1);
    context.upcoming = codePoint;
    context.atStart = index === 0;
    context.atEnd = atEnd;
    // an unanchored search: a match may begin at every position
    if (index === 0 || !anchored) {
      currentLength = close(compiled, scratch, step, start, current, currentLength, context);
      if (currentLength === MATCHED) return true;
      if (currentLength === OVER_BUDGET) return undefined;
    }
    if (atEnd || (anchored && currentLength === 0)) return false;
    step++;
    const width = codePoint > 0xffff ? 2 : 1;
    context.previous = codePoint;
    context.atStart = false;
    context.atEnd = index + width >= value.length;
    context.upcoming = context.atEnd ? -1 : (value.codePointAt(index + width) ?? -1);
    let followingLength = 0;
    scratch.work -= currentLength;
    if (scratch.work < 0) return undefined;
    for (let i = 0; i < currentLength; i++) {
      const s = current[i] ?? 0;
      const set = arg[s] ?? 0;
      if (memoStep[set] !== step) {
        memoStep[set] = step;
        memo[set] = codePoint < 128 ? (ascii[set]?.[codePoint] ?? 0) : contains(sets[set] ?? [], codePoint) ? 1 : 0;
      }
      if (memo[set] !== 1) continue;
      const target = next[s] ?? 0;
      // the common case, one character after another, without the closure's bookkeeping
      if (op[target] === Op.Char) {
        if (scratch.seen[target] !== step) {
          scratch.seen[target] = step;
          following[followingLength++] = target;
        }
        continue;
      }
      followingLength = close(compiled, scratch, step, target, following, followingLength, context);
      if (followingLength === MATCHED) return true;
      if (followingLength === OVER_BUDGET) return undefined;
    }
    [current, following] = [following, current];
    currentLength = followingLength;
    index += width;
  }
}

/**
 * Parses and compiles a pattern, or says in words why it cannot be used.
 * `test` searches like `RegExp.prototype.test` (anywhere in the value unless
 * anchored with `^`/`$`).
 */
export function compilePattern(source: string): CompiledPattern {
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, problem: `must be at most ${MAX_PATTERN_LENGTH} characters` };
  try {
    new RegExp(source, 'u');
  } catch {
    return { ok: false, problem: 'is not a valid regular expression' };
  }
  try {
    const tree = new Parser(source).parse();
    const compiler = new Compiler();
    const match = compiler.emit(Op.Match, 0, 0);
    const compiled = program(compiler, compiler.compile(tree, match), anchoredAtStart(tree));
    return { ok: true, pattern: { source, test: (value) => run(compiled, value) } };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, problem: `cannot be used: ${error.message}` };
    throw error;
  }
}
