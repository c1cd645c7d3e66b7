/** What the command groups share: paging options, and bodies read from files. */
import type { Command } from 'commander';
import { integerWithin } from '../arguments.js';
import type { Cli } from '../context.js';
import { UsageError } from '../errors.js';

/** What a list command takes: a page size, a page, or every page. */
export interface PageOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

/** The API's bounds on `limit` for every paged list. */
const MAX_PAGE_ITEMS = 200;

export function withPaging(command: Command): Command {
  return command
    .option('--limit <n>', `items per page (1-${String(MAX_PAGE_ITEMS)}, the API's default 50)`, integerWithin(1, MAX_PAGE_ITEMS))
    .option('--cursor <cursor>', 'the page after this one (printed as "More results" by the page before)')
    .option('--all', 'every page, one after the other');
}

/** `{ limit, cursor }` for the query, leaving out what was not given (the API's defaults apply). */
export const pageQuery = (options: PageOptions, cursor: string | undefined) => ({
  ...(options.limit === undefined ? {} : { limit: options.limit }),
  ...((cursor ?? options.cursor) === undefined ? {} : { cursor: cursor ?? options.cursor }),
});

/**
 * The body of a `put --file`: the file as it is (the API validates it and
 * names the field at fault), and its `id`, which is also the path's.
 */
export async function entityFromFile(cli: Cli, file: string | undefined): Promise<{ id: string; body: unknown }> {
  const body = await cli.jsonInput(file);
  const id = typeof body === 'object' && body !== null && 'id' in body ? body.id : undefined;
  if (typeof id !== 'string' || id === '') throw new UsageError(`${file ?? 'stdin'} has no "id": the id names the resource to create or replace`);
  return { id, body };
}

/**
 * The CLI passes a body from a file through unchanged: the API's schema is the
 * one judge of it, and its refusal names the field. `never` hands it to the
 * typed client as whatever the route takes.
 */
export const asBody = (body: unknown): never => body as never;
