/** Time is injected so tests (and the local runtime's fast-forward) control it. */
export interface Clock {
  now(): Date;
}

/** Ids are injected so tests get stable ones. */
export interface IdGenerator {
  /** A new unique id with the given prefix, e.g. `ses_…`. */
  next(prefix: string): string;
  /**
   * The same id for the same parts, every time (a digest of them): what lets a
   * request delivered many times create its thing once, e.g. one session per
   * schedule, fire time and computer.
   */
  derive(prefix: string, parts: readonly string[]): string;
}
