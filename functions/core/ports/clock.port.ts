/** Time is injected so tests (and the local runtime's fast-forward) control it. */
export interface Clock {
  now(): Date;
}

/** Ids are injected so tests get stable ones. */
export interface IdGenerator {
  /** A new unique id with the given prefix, e.g. `ses_…`. */
  next(prefix: string): string;
}
