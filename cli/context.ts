import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { connect, type Api } from './client.js';
import { resolveConnection, type CliEnv } from './config.js';
import { UsageError } from './errors.js';
import { viewFor, type View } from './format.js';
import { morePages } from './views.js';

/** Where output goes: `process.stdout` in the binary, a buffer in tests. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Everything the CLI touches outside itself, handed in, so tests run the real program in-process. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: CliEnv;
  /** For `--token-stdin` and JSON bodies piped in; absent: nothing to read. */
  readonly stdin?: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean };
  /** The API's transport; the global fetch unless a test hands another. */
  readonly fetch?: typeof fetch;
  /** @default the wall clock: `--since 24h` and `--until 2h` count from it */
  readonly now?: () => Date;
  /** How `--follow` waits between polls. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface GlobalOptions {
  readonly json?: boolean;
  readonly apiUrl?: string;
  /** commander's `--no-color`: false when given. */
  readonly color?: boolean;
}

/** A page of any list the API answers. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/**
 * What every command's action uses: its global options, the view, the API,
 * and the two ways of printing (a person's text or the API's JSON).
 */
export class Cli {
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly io: CliIo) {
    this.now = io.now ?? (() => new Date());
    this.sleep = io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals<GlobalOptions>();
  }

  view(command: Command): View {
    return viewFor({ isTTY: this.io.stdout.isTTY, env: this.io.env, noColourFlag: this.globals(command).color === false });
  }

  async api(command: Command): Promise<Api> {
    const apiUrl = this.globals(command).apiUrl;
    const connection = await resolveConnection(this.io.env, apiUrl === undefined ? {} : { apiUrl });
    return connect(connection, this.io.fetch);
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note for the person (more pages, what to do next): stderr, so `--json` output stays one document. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** `--json`: the API's answer as it came; otherwise the person's view of it. */
  show<T>(command: Command, data: T, human: (data: T, view: View) => string): void {
    if (this.globals(command).json === true) this.out(JSON.stringify(data, null, 2));
    else this.out(human(data, this.view(command)));
  }

  /**
   * A list, one page (`--limit`, `--cursor`) or every page (`--all`, following
   * `nextCursor`). With `--json`, one page prints as the API answered it; all
   * pages print as that first page with every item and no `nextCursor`.
   */
  async list<T, P extends ListPage<T>>(
    command: Command,
    options: { readonly all?: boolean },
    fetchPage: (cursor: string | undefined) => Promise<P>,
    human: (page: P, view: View) => string,
  ): Promise<void> {
    const first = await fetchPage(undefined);
    let page: P = first;
    const items: T[] = [...first.items];
    while (options.all === true && page.nextCursor !== undefined) {
      page = await fetchPage(page.nextCursor);
      items.push(...page.items);
    }
    // undefined keys are left out of JSON: all pages print as one page without a cursor
    const whole: P = options.all === true ? { ...first, items, nextCursor: undefined } : first;
    this.show(command, whole, human);
    if (options.all !== true && first.nextCursor !== undefined && this.globals(command).json !== true) {
      this.note(morePages(`add --all, or --cursor ${first.nextCursor}`));
    }
  }

  /** A JSON body from `--file <path>`, `--file -` or piped stdin. */
  async jsonInput(file: string | undefined): Promise<unknown> {
    let text: string;
    let source: string;
    if (file === undefined || file === '-') {
      if (this.io.stdin === undefined || (file === undefined && this.io.stdin.isTTY === true)) {
        throw new UsageError('give the JSON with --file <path>, or pipe it in (--file - reads stdin)');
      }
      text = await this.readStdin();
      source = 'stdin';
    } else {
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${error instanceof Error && 'code' in error ? String(error.code) : String(error)}`);
      }
      source = file;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${source} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async readStdin(): Promise<string> {
    const stdin = this.io.stdin;
    if (stdin === undefined) throw new UsageError('nothing to read on stdin');
    const chunks: string[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    chunks.push(decoder.decode());
    return chunks.join('');
  }
}

/** Adds an example to a command's help, the way every command shows one. */
export function example<C extends Command>(command: C, ...lines: string[]): C {
  return command.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}
