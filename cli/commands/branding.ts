import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_BRANDING_ID } from '../../functions/core/model/branding.js';
import { EMAIL_KINDS, type EmailKind } from '../../functions/core/notifications/emails.js';
import { integerWithin } from '../arguments.js';
import type { Api } from '../client.js';
import { example, type Cli } from '../context.js';
import { ApiRefusal, UsageError } from '../errors.js';
import { brandingList } from '../views.js';
import { asBody } from './shared.js';

/**
 * `nightshift branding`: the MSP's branding and each tenant's override of it,
 * as the end user's emails show them. A file is a branding as JSON; one
 * printed by `branding show --json` (an item of it) is taken back as it is.
 */

/** What the API adds to a branding it stores: not the operator's input (its `id` and `version` still say which and which version). */
const STORED_FIELDS = ['owner', 'id', 'version', 'updatedAt'] as const;

interface OwnerOptions {
  readonly tenant?: string;
}

interface Target extends OwnerOptions {
  readonly id?: string;
  readonly expectedVersion?: number;
}

const ownerWords = (tenantId: string | undefined): string => (tenantId === undefined ? 'the MSP' : `tenant ${tenantId}`);

/**
 * The document leaves a stored branding opaque (its fields are whatever the
 * operator set), so the CLI checks the ones it draws before drawing them.
 */
const storedBrandingSchema = z.looseObject({
  owner: z.object({ kind: z.string(), tenantId: z.string().optional() }),
  id: z.string(),
  version: z.number(),
  updatedAt: z.string(),
  dateRange: z.object({ from: z.string(), to: z.string() }).optional(),
});

type StoredBranding = z.infer<typeof storedBrandingSchema>;

const isStoredBranding = (value: unknown): value is StoredBranding => storedBrandingSchema.safeParse(value).success;

const notABranding = (): ApiRefusal => new ApiRefusal(200, 'UNEXPECTED_ANSWER', "the API's answer does not read as a branding (owner, id, version, updatedAt); are the CLI and the API the same version?");

/** Every branding of the MSP or of one tenant, as the API answered them (`--json` prints them unchanged). */
async function brandingsOf(api: Api, tenantId: string | undefined): Promise<{ readonly items: readonly StoredBranding[] }> {
  const { client, call } = api;
  const answer = tenantId === undefined ? await call(client.GET('/v1/branding')) : await call(client.GET('/v1/tenants/{tenantId}/branding', { params: { path: { tenantId } } }));
  const items: readonly unknown[] = answer.items;
  if (!items.every(isStoredBranding)) throw notABranding();
  return { ...answer, items };
}

/** The version a change is decided on: the one given, else the one stored now (0: there is none, so a save creates it). */
async function versionToChange(api: Api, target: Target, id: string): Promise<number> {
  if (target.expectedVersion !== undefined) return target.expectedVersion;
  const { items } = await brandingsOf(api, target.tenant);
  return items.find((branding) => branding.id === id)?.version ?? 0;
}

async function brandingFromFile(cli: Cli, file: string | undefined): Promise<{ input: Record<string, unknown>; id?: string; version?: number }> {
  const parsed = await cli.jsonInput(file);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${file ?? 'stdin'} must hold one branding as a JSON object`);
  const record = parsed as Readonly<Record<string, unknown>>;
  if ('items' in record) throw new UsageError(`${file ?? 'stdin'} is a list from \`branding show --json\`; keep one of its items`);
  return {
    input: Object.fromEntries(Object.entries(record).filter(([key]) => !(STORED_FIELDS as readonly string[]).includes(key))),
    ...(typeof record.id === 'string' ? { id: record.id } : {}),
    ...(typeof record.version === 'number' ? { version: record.version } : {}),
  };
}

const tenantOption = (command: Command): Command => command.option('--tenant <tenantId>', "a tenant's branding (default: the MSP's)");

const targetOptions = (command: Command): Command =>
  tenantOption(command)
    .option('--id <brandingId>', `which branding: "${DEFAULT_BRANDING_ID}", or a seasonal one's name (default: the file's "id", else ${DEFAULT_BRANDING_ID})`)
    .option('--expected-version <n>', 'the version you decided on (refused with CONFLICT if it changed since); default: the version stored now', integerWithin(0, Number.MAX_SAFE_INTEGER));

/** The options a preview and a test email share: which email, whose branding, which session. */
const previewOptions = (command: Command): Command =>
  tenantOption(command)
    .addOption(new Option('--kind <kind>', 'which email').choices(EMAIL_KINDS).makeOptionMandatory())
    .option('--session <sessionId>', "draw a real session (its tenant's branding) instead of a sample evening");

interface PreviewOptions extends OwnerOptions {
  readonly kind: EmailKind;
  readonly session?: string;
}

const previewBody = (options: PreviewOptions) => ({
  kind: options.kind,
  ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
  ...(options.session === undefined ? {} : { sessionId: options.session }),
});

export function brandingCommands(program: Command, cli: Cli): void {
  const branding = program.command('branding').description("what the end user's emails look like: the MSP's branding and each tenant's override");

  example(
    tenantOption(branding.command('show').description('the brandings of the MSP or of one tenant: when each applies and the fields it sets')).action(
      async (options: OwnerOptions, command: Command) => {
        const api = await cli.api(command);
        cli.show(command, await brandingsOf(api, options.tenant), (data, view) => brandingList(data.items, ownerWords(options.tenant), view));
      },
    ),
    'nightshift branding show',
    'nightshift branding show --tenant contoso --json',
  );

  example(
    targetOptions(
      branding
        .command('set')
        .description("create or replace a branding from JSON (--file, or stdin); a tenant's names only what it changes over the MSP's")
        .option('--file <path>', 'the branding as JSON ("-" or no option: stdin)'),
    ).action(async (options: Target & { file?: string }, command: Command) => {
      const file = await brandingFromFile(cli, options.file);
      if (options.id !== undefined && file.id !== undefined && file.id !== options.id) throw new UsageError(`the file is branding ${file.id}, not ${options.id}`);
      const brandingId = options.id ?? file.id ?? DEFAULT_BRANDING_ID;
      const api = await cli.api(command);
      const expectedVersion = options.expectedVersion ?? file.version ?? (await versionToChange(api, options, brandingId));
      const body = { branding: asBody(file.input), expectedVersion };
      const saved =
        options.tenant === undefined
          ? await api.call(api.client.PUT('/v1/branding/{brandingId}', { params: { path: { brandingId } }, body }))
          : await api.call(api.client.PUT('/v1/tenants/{tenantId}/branding/{brandingId}', { params: { path: { tenantId: options.tenant, brandingId } }, body }));
      if (!isStoredBranding(saved)) throw notABranding();
      cli.show(command, saved, (data) => `Saved branding ${data.id} of ${ownerWords(options.tenant)} (version ${String(data.version)}).`);
    }),
    'nightshift branding set --file msp-branding.json',
    'nightshift branding set --tenant contoso --file contoso.json',
    'nightshift branding set --id christmas --file christmas.json',
  );

  example(
    targetOptions(branding.command('delete').description("delete a branding: the MSP's (then Nightshift's plain look) applies again")).action(async (options: Target, command: Command) => {
      const brandingId = options.id ?? DEFAULT_BRANDING_ID;
      const api = await cli.api(command);
      // none stored: asking at version 1 gets the API's own NOT_FOUND, naming the branding
      const expectedVersion = Math.max(1, await versionToChange(api, options, brandingId));
      const deleted =
        options.tenant === undefined
          ? await api.call(api.client.DELETE('/v1/branding/{brandingId}', { params: { path: { brandingId }, query: { expectedVersion } } }))
          : await api.call(api.client.DELETE('/v1/tenants/{tenantId}/branding/{brandingId}', { params: { path: { tenantId: options.tenant, brandingId }, query: { expectedVersion } } }));
      cli.show(command, deleted, (data) => `Deleted branding ${data.deleted} of ${ownerWords(options.tenant)}.`);
    }),
    'nightshift branding delete --tenant contoso',
  );

  example(
    previewOptions(
      branding
        .command('preview')
        .description('draw an email as the end user would get it today: the text version, or the HTML into a file (its buttons go nowhere)')
        .option('--out <file>', 'write the HTML here (open it in a browser)')
        .option('--text', 'print the text version (the default without --out)'),
    ).action(async (options: PreviewOptions & { out?: string; text?: boolean }, command: Command) => {
      const { client, call } = await cli.api(command);
      const preview = await call(client.POST('/v1/branding/preview', { body: previewBody(options) }));
      if (options.out !== undefined) {
        try {
          await writeFile(options.out, preview.html, 'utf8');
        } catch (error) {
          throw new UsageError(`cannot write ${options.out}: ${error instanceof Error && 'code' in error ? String(error.code) : String(error)}`);
        }
      }
      const printText = options.text === true || options.out === undefined;
      cli.show(command, preview, (data) =>
        [...(options.out === undefined ? [] : [`Wrote the HTML of "${data.subject}" to ${options.out}.`]), ...(printText ? [`Subject: ${data.subject}`, '', data.text] : [])].join('\n'),
      );
    }),
    'nightshift branding preview --kind Detection --tenant contoso --out preview.html',
    'nightshift branding preview --kind FollowUp --session ses_0001 --text',
  );

  example(
    previewOptions(
      branding
        .command('test-email')
        .description('send the preview to one address, its subject marked [Test]')
        .requiredOption('--to <address>', 'who gets it'),
    ).action(async (options: PreviewOptions & { to: string }, command: Command) => {
      const { client, call } = await cli.api(command);
      const sent = await call(client.POST('/v1/branding/test-email', { body: { ...previewBody(options), to: options.to } }));
      cli.show(command, sent, (data) => `Sent a test ${options.kind} email to ${options.to} (message ${data.messageId}).`);
    }),
    'nightshift branding test-email --kind Detection --tenant contoso --to me@msp.example',
  );
}
