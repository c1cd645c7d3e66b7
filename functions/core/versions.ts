/**
 * Version strings as software vendors write them: Windows file versions
 * (`1.2.3.4`), semver (`2.0.0-rc.1+build.5`), and vendor strings such as
 * `23.01`, `124.0.6367.91` or `v6.6.10`.
 *
 * Missing trailing parts count as zero (`1.2` = `1.2.0.0`), a pre-release sorts
 * before its release (`2.0.0-rc.1` < `2.0.0`), build metadata is ignored.
 * Anything that does not start with a number is unparsable, and callers must
 * treat it as undetermined rather than guess.
 *
 * This grammar is the only one: the catalog accepts exactly the versions
 * parsed here, so every version it stores can be ordered against every other.
 */
export interface ParsedVersion {
  readonly numbers: readonly number[];
  readonly preRelease: readonly (number | string)[];
}

/** Longer strings are not versions: the catalog stores at most this, and detection output that long is noise. */
export const MAX_VERSION_LENGTH = 64;

/**
 * A pre-release follows a `-` or `~`, or starts with a letter right after the
 * numbers (`1.0rc1`). Each part can end in only one place, so a failing
 * match never backtracks over the numbers.
 */
const VERSION_PATTERN = /^[vV]?(\d+(?:\.\d+)*)(?:[-~]([0-9A-Za-z][0-9A-Za-z.-]*)|([A-Za-z][0-9A-Za-z.-]*))?(?:\+[0-9A-Za-z][0-9A-Za-z.-]*)?$/;

/** Fleets repeat the same few hundred version strings; parsing each once matters when planning thousands of computers. */
const parsed = new Map<string, ParsedVersion | undefined>();
const PARSED_CACHE_LIMIT = 50_000;

export function parseVersion(text: string): ParsedVersion | undefined {
  // The cache only saves time: using, skipping or clearing it changes no answer, so mutation testing leaves it out.
  // Stryker disable all
  // hostile or padded output is not worth a cache slot
  if (text.length > 2 * MAX_VERSION_LENGTH) return parseUncached(text);
  if (parsed.has(text)) return parsed.get(text);
  const result = parseUncached(text);
  if (parsed.size >= PARSED_CACHE_LIMIT) parsed.clear();
  parsed.set(text, result);
  return result;
}
// Stryker restore all

function parseUncached(text: string): ParsedVersion | undefined {
  const trimmed = text.trim();
  if (trimmed.length > MAX_VERSION_LENGTH) return undefined;
  const match = VERSION_PATTERN.exec(trimmed);
  if (!match?.[1]) return undefined;
  const numbers = match[1].split('.').map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  const tag = match[2] ?? match[3];
  const preRelease = tag ? tag.split(/[.-]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part)) : [];
  // digits past 2^53 would compare equal while being different versions
  if (preRelease.some((part) => typeof part === 'number' && !Number.isSafeInteger(part))) return undefined;
  return { numbers, preRelease };
}

function compareParts(a: number | string, b: number | string): -1 | 0 | 1 {
  // semver: numeric identifiers sort before alphanumeric ones
  if (typeof a === 'number') return typeof b === 'number' ? order(a, b) : -1;
  if (typeof b === 'number') return 1;
  return order(a, b);
}

const order = <T extends number | string>(a: T, b: T): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0);

function compareParsed(a: ParsedVersion, b: ParsedVersion): -1 | 0 | 1 {
  const length = Math.max(a.numbers.length, b.numbers.length);
  // Stryker disable next-line EqualityOperator: one step past the end compares 0 with 0, which changes nothing
  for (let i = 0; i < length; i++) {
    const difference = order(a.numbers[i] ?? 0, b.numbers[i] ?? 0);
    if (difference !== 0) return difference;
  }
  if (a.preRelease.length === 0 || b.preRelease.length === 0) {
    // a release outranks any pre-release of the same numbers
    return a.preRelease.length === b.preRelease.length ? 0 : a.preRelease.length === 0 ? 1 : -1;
  }
  const preLength = Math.max(a.preRelease.length, b.preRelease.length);
  for (let i = 0; i < preLength; i++) {
    const left = a.preRelease[i];
    const right = b.preRelease[i];
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    const difference = compareParts(left, right);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** -1, 0 or 1; `undefined` when either side is unparsable. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) return undefined;
  return compareParsed(left, right);
}
