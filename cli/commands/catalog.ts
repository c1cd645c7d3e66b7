import type { Command } from 'commander';
import { integerWithin } from '../arguments.js';
import type { Api } from '../client.js';
import { example, type Cli } from '../context.js';
import { ApiRefusal } from '../errors.js';
import { catalogList, computer, computerList, deploymentList, explanation, importReport, record, tenantList } from '../views.js';
import { asBody, entityFromFile, pageQuery, withPaging, type PageOptions } from './shared.js';

export function catalogCommands(program: Command, cli: Cli): void {
  // ---- tenants
  const tenants = program.command('tenants').description('tenants (customers) and their children');
  example(
    withPaging(tenants.command('list').description('the tenants you can see')).action(async (options: PageOptions, command: Command) => {
      const { client, call } = await cli.api(command);
      await cli.list(command, options, (cursor) => call(client.GET('/v1/tenants', { params: { query: pageQuery(options, cursor) } })), (page, view) => tenantList(page.items, view));
    }),
    'nightshift tenants list',
  );
  example(
    tenants
      .command('show')
      .argument('<tenantId>')
      .description('one tenant')
      .action(async (tenantId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const tenant = await call(client.GET('/v1/tenants/{tenantId}', { params: { path: { tenantId } } }));
        cli.show(command, tenant, record);
      }),
    'nightshift tenants show contoso',
  );
  example(
    tenants
      .command('put')
      .description('create or replace a tenant from JSON (its "id" names it)')
      .option('--file <path>', 'the tenant as JSON ("-" or no option: stdin)')
      .action(async (options: { file?: string }, command: Command) => {
        const { id, body } = await entityFromFile(cli, options.file);
        const { client, call } = await cli.api(command);
        const saved = await call(client.PUT('/v1/tenants/{tenantId}', { params: { path: { tenantId: id } }, body: asBody(body) }));
        cli.show(command, saved, (data) => `Saved tenant ${data.id}.`);
      }),
    'nightshift tenants put --file contoso.json',
  );

  // ---- computers
  const computers = program.command('computers').description('managed computers, and why each gets what it gets');
  example(
    withPaging(computers.command('list').description('the computers you can see').option('--tenant <tenantId>', "only this tenant's computers")).action(
      async (options: PageOptions & { tenant?: string }, command: Command) => {
        const { client, call } = await cli.api(command);
        await cli.list(
          command,
          options,
          (cursor) => call(client.GET('/v1/computers', { params: { query: { ...pageQuery(options, cursor), ...(options.tenant === undefined ? {} : { tenantId: options.tenant }) } } })),
          (page, view) => computerList(page.items, view),
        );
      },
    ),
    'nightshift computers list --tenant contoso',
  );
  example(
    computers
      .command('show')
      .argument('<computerId>')
      .description('one computer')
      .action(async (computerId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const found = await call(client.GET('/v1/computers/{computerId}', { params: { path: { computerId } } }));
        cli.show(command, found, computer);
      }),
    'nightshift computers show pc-frontdesk',
  );
  example(
    computers
      .command('explain')
      .argument('<computerId>')
      .description('why the computer gets what it gets: per item, the winning deployment and the rule that decided')
      .action(async (computerId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const answer = await call(client.GET('/v1/computers/{computerId}/explain', { params: { path: { computerId } } }));
        cli.show(command, answer, explanation);
      }),
    'nightshift computers explain pc-frontdesk',
  );
  example(
    computers
      .command('import')
      .description('bring SSM managed nodes into the catalog, each in the tenant its tag maps to (rules from JSON)')
      .option('--file <path>', 'the import as JSON: { "rules": [{ "tag": { "key", "value" }, "tenantId", ... }] } ("-" or no option: stdin)')
      .option('--dry-run', 'report what the import would do, and change nothing')
      .action(async (options: { file?: string; dryRun?: boolean }, command: Command) => {
        const body = await cli.jsonInput(options.file);
        const request = options.dryRun && typeof body === 'object' && body !== null ? { ...body, dryRun: true } : body;
        const { client, call } = await cli.api(command);
        const report = await call(client.POST('/v1/computers/import', { body: asBody(request) }));
        cli.show(command, report, importReport);
      }),
    'nightshift computers import --file contoso-rules.json --dry-run',
  );
  example(
    computers
      .command('put')
      .description('create or replace a computer from JSON (its "id" names it)')
      .option('--file <path>', 'the computer as JSON ("-" or no option: stdin)')
      .action(async (options: { file?: string }, command: Command) => {
        const { id, body } = await entityFromFile(cli, options.file);
        const { client, call } = await cli.api(command);
        const saved = await call(client.PUT('/v1/computers/{computerId}', { params: { path: { computerId: id } }, body: asBody(body) }));
        cli.show(command, saved, (data) => `Saved computer ${data.id}.`);
      }),
    'nightshift computers put --file pc-frontdesk.json',
  );

  // ---- software, tasks and deployments: each carries a revision a change names
  for (const kind of REVISED_KINDS) {
    const { noun, group: groupName, description, example: sample } = REVISED[kind];
    const group = program.command(groupName).description(description);
    if (kind === 'deployment') {
      example(
        withPaging(group.command('list').description('the deployments you can see')).action(async (options: PageOptions, command: Command) => {
          const { client, call } = await cli.api(command);
          await cli.list(command, options, (cursor) => call(client.GET('/v1/deployments', { params: { query: pageQuery(options, cursor) } })), (page, view) => deploymentList(page.items, view));
        }),
        'nightshift deployments list --all',
      );
    } else {
      example(
        withPaging(group.command('list').description(`every ${noun}, by id`)).action(async (options: PageOptions, command: Command) => {
          const { client, call } = await cli.api(command);
          if (kind === 'software') {
            await cli.list(command, options, (cursor) => call(client.GET('/v1/software', { params: { query: pageQuery(options, cursor) } })), (page, view) => catalogList(page.items, view));
          } else {
            await cli.list(command, options, (cursor) => call(client.GET('/v1/tasks', { params: { query: pageQuery(options, cursor) } })), (page, view) => catalogList(page.items, view));
          }
        }),
        `nightshift ${groupName} list --all`,
      );
    }
    example(
      group
        .command('show')
        .argument('<id>')
        .description(kind === 'deployment' ? 'one deployment, with its revision (secret parameters show as "(secret)")' : `one ${noun}, with its revision (its scripts: add --json)`)
        .action(async (id: string, _options: unknown, command: Command) => {
          cli.show(command, await one(await cli.api(command), kind, id), record);
        }),
      `nightshift ${groupName} show ${sample}`,
    );
    example(
      expectedRevisionOption(
        group
          .command('put')
          .description(
            `create or replace a ${noun} from JSON (its "id" names it${kind === 'deployment' ? '' : '; Admin only'}): a new id is created; a stored one is replaced at the revision you decided on, ` +
              'which a file from `show --json` names; with neither that nor --expected-revision, whatever is stored now is replaced (upsert)',
          )
          .option('--file <path>', `the ${noun} as JSON ("-" or no option: stdin)`),
        'replace it only if it is still at this revision (refused with CONFLICT if it changed since); default: the file\'s "revision", else the one stored now',
      ).action(async (options: { file?: string; expectedRevision?: number }, command: Command) => {
        const file = await revisedFromFile(cli, options.file);
        const api = await cli.api(command);
        const given = options.expectedRevision ?? file.revision;
        const expectedRevision = given ?? (await read(api, kind, file.id))?.revision;
        const saved = expectedRevision === undefined ? await create(api, kind, file.body) : await replace(api, kind, file.id, file.body, expectedRevision);
        cli.show(command, saved, (data) => `${expectedRevision === undefined ? 'Created' : 'Saved'} ${noun} ${data.id} (revision ${String(data.revision)}).`);
      }),
      `nightshift ${groupName} put --file ${sample}.json`,
      `nightshift ${groupName} put --file ${sample}.json --expected-revision 3`,
    );
    example(
      expectedRevisionOption(
        group
          .command('delete')
          .argument('<id>')
          .description(
            kind === 'deployment'
              ? 'delete a deployment and its stored secrets (its history stays; a session under way keeps its frozen items, but a step still to run that needs those secrets fails)'
              : `delete a ${noun} (Admin only; its history stays), refused while ${kind === 'software' ? 'deployments or other software use it' : 'deployments run it'}`,
          ),
        'the revision you decided on (refused with CONFLICT if it changed since); default: the revision stored now',
      ).action(async (id: string, options: { expectedRevision?: number }, command: Command) => {
        const api = await cli.api(command);
        const expectedRevision = options.expectedRevision ?? (await one(api, kind, id)).revision;
        const deleted = await remove(api, kind, id, expectedRevision);
        cli.show(command, deleted, (data) => `Deleted ${noun} ${data.deleted}.`);
      }),
      `nightshift ${groupName} delete ${sample}`,
    );
  }
}

type RevisedKind = 'software' | 'task' | 'deployment';
const REVISED_KINDS = ['software', 'task', 'deployment'] as const satisfies readonly RevisedKind[];

const REVISED: Readonly<Record<RevisedKind, { readonly noun: string; readonly group: string; readonly description: string; readonly example: string }>> = {
  software: { noun: 'software item', group: 'software', description: 'the software catalog', example: 'chrome' },
  task: { noun: 'task', group: 'tasks', description: 'the maintenance-task catalog', example: 'firewall' },
  deployment: { noun: 'deployment', group: 'deployments', description: 'what is deployed where, with which desired state', example: 'deploy-zoom' },
};

const expectedRevisionOption = (command: Command, help: string): Command => command.option('--expected-revision <n>', help, integerWithin(1, Number.MAX_SAFE_INTEGER));

/** What a `put --file` holds: the entity, its id, and the revision a file written by `show --json` carries (taken off: the API adds it). */
async function revisedFromFile(cli: Cli, file: string | undefined): Promise<{ id: string; body: Readonly<Record<string, unknown>>; revision?: number }> {
  const { id, body } = await entityFromFile(cli, file);
  const { revision, ...entity } = body as Readonly<Record<string, unknown>>;
  return { id, body: entity, ...(typeof revision === 'number' ? { revision } : {}) };
}

/** The stored entity; the API's NOT_FOUND when there is none under the id. */
function one(api: Api, kind: RevisedKind, id: string): Promise<{ readonly id: string; readonly revision: number }> {
  switch (kind) {
    case 'software':
      return api.call(api.client.GET('/v1/software/{softwareId}', { params: { path: { softwareId: id } } }));
    case 'task':
      return api.call(api.client.GET('/v1/tasks/{taskId}', { params: { path: { taskId: id } } }));
    case 'deployment':
      return api.call(api.client.GET('/v1/deployments/{deploymentId}', { params: { path: { deploymentId: id } } }));
  }
}

/** The stored entity, or undefined when there is none under the id. */
async function read(api: Api, kind: RevisedKind, id: string): Promise<{ readonly id: string; readonly revision: number } | undefined> {
  try {
    return await one(api, kind, id);
  } catch (error) {
    if (error instanceof ApiRefusal && error.status === 404) return undefined;
    throw error;
  }
}

function create(api: Api, kind: RevisedKind, body: unknown): Promise<{ readonly id: string; readonly revision: number }> {
  switch (kind) {
    case 'software':
      return api.call(api.client.POST('/v1/software', { body: asBody(body) }));
    case 'task':
      return api.call(api.client.POST('/v1/tasks', { body: asBody(body) }));
    case 'deployment':
      return api.call(api.client.POST('/v1/deployments', { body: asBody(body) }));
  }
}

function replace(api: Api, kind: RevisedKind, id: string, body: Readonly<Record<string, unknown>>, expectedRevision: number): Promise<{ readonly id: string; readonly revision: number }> {
  const change = asBody({ ...body, expectedRevision });
  switch (kind) {
    case 'software':
      return api.call(api.client.PUT('/v1/software/{softwareId}', { params: { path: { softwareId: id } }, body: change }));
    case 'task':
      return api.call(api.client.PUT('/v1/tasks/{taskId}', { params: { path: { taskId: id } }, body: change }));
    case 'deployment':
      return api.call(api.client.PUT('/v1/deployments/{deploymentId}', { params: { path: { deploymentId: id } }, body: change }));
  }
}

function remove(api: Api, kind: RevisedKind, id: string, expectedRevision: number): Promise<{ readonly deleted: string }> {
  const query = { expectedRevision };
  switch (kind) {
    case 'software':
      return api.call(api.client.DELETE('/v1/software/{softwareId}', { params: { path: { softwareId: id }, query } }));
    case 'task':
      return api.call(api.client.DELETE('/v1/tasks/{taskId}', { params: { path: { taskId: id }, query } }));
    case 'deployment':
      return api.call(api.client.DELETE('/v1/deployments/{deploymentId}', { params: { path: { deploymentId: id }, query } }));
  }
}
