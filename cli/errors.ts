/**
 * The CLI's failures and the exit code each one ends with, so scripts (PSA,
 * RMM) can tell "the API said no" from "I typed it wrong" from "the API is
 * not there" without reading the message.
 */
export const EXIT = {
  ok: 0,
  /** The API answered and refused (any 4xx or 5xx). */
  refused: 1,
  /** The command line was wrong: commander's own mistakes, unreadable files, no configuration. */
  usage: 2,
  /** The API could not be reached at all. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
  /** The lines printed to stderr, each without its newline. */
  abstract lines(): string[];
}

/** A mistake the person can fix on the command line (or in the file they passed). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT.usage;

  lines(): string[] {
    return [`error: ${this.message}`];
  }
}

/** The API's error envelope `{ error: { code, message, field? } }`, or what stood in for it. */
export class ApiRefusal extends CliError {
  override readonly name = 'ApiRefusal';
  readonly exitCode = EXIT.refused;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  lines(): string[] {
    const lines = [`error: ${this.code}: ${this.message}`];
    if (this.field !== undefined) lines.push(`field: ${this.field}`);
    if (this.status === 401) lines.push('hint: the token is missing, expired or not for this API; run `nightshift login` again');
    // the API knows no such route at all: most often a base URL that already ends in /v1 (npm start prints the routes' URL)
    if (this.code === 'NOT_FOUND' && this.message.startsWith('no route')) lines.push("hint: is the API URL the API's base URL, without /v1?");
    return lines;
  }
}

export class ApiUnreachable extends CliError {
  override readonly name = 'ApiUnreachable';
  readonly exitCode = EXIT.unreachable;

  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the API at ${url}: ${reason}`);
  }

  lines(): string[] {
    return [`error: ${this.message}`, 'hint: check the URL (`nightshift login --url`, NIGHTSHIFT_API_URL or --api-url) and that the API is running'];
  }
}
