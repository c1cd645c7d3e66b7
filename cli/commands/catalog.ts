import type { Command } from 'commander';
import { example, type Cli } from '../context.js';
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

  // ---- software and tasks
  for (const kind of ['software', 'tasks'] as const) {
    const group = program.command(kind).description(kind === 'software' ? 'the software catalog' : 'the maintenance-task catalog');
    example(
      withPaging(group.command('list').description(`every ${kind === 'software' ? 'software item' : 'task'}, by id`)).action(async (options: PageOptions, command: Command) => {
        const { client, call } = await cli.api(command);
        if (kind === 'software') {
          await cli.list(command, options, (cursor) => call(client.GET('/v1/software', { params: { query: pageQuery(options, cursor) } })), (page, view) => catalogList(page.items, view));
        } else {
          await cli.list(command, options, (cursor) => call(client.GET('/v1/tasks', { params: { query: pageQuery(options, cursor) } })), (page, view) => catalogList(page.items, view));
        }
      }),
      `nightshift ${kind} list --all`,
    );
    example(
      group
        .command('show')
        .argument('<id>')
        .description(`one ${kind === 'software' ? 'software item' : 'task'} (its scripts: add --json)`)
        .action(async (id: string, _options: unknown, command: Command) => {
          const { client, call } = await cli.api(command);
          const found = kind === 'software' ? await call(client.GET('/v1/software/{softwareId}', { params: { path: { softwareId: id } } })) : await call(client.GET('/v1/tasks/{taskId}', { params: { path: { taskId: id } } }));
          cli.show(command, found, record);
        }),
      `nightshift ${kind} show ${kind === 'software' ? 'chrome' : 'firewall'}`,
    );
    example(
      group
        .command('put')
        .description(`create or replace a ${kind === 'software' ? 'software item' : 'task'} from JSON (its "id" names it; Admin only)`)
        .option('--file <path>', 'the item as JSON ("-" or no option: stdin)')
        .action(async (options: { file?: string }, command: Command) => {
          const { id, body } = await entityFromFile(cli, options.file);
          const { client, call } = await cli.api(command);
          const saved =
            kind === 'software'
              ? await call(client.PUT('/v1/software/{softwareId}', { params: { path: { softwareId: id } }, body: asBody(body) }))
              : await call(client.PUT('/v1/tasks/{taskId}', { params: { path: { taskId: id } }, body: asBody(body) }));
          cli.show(command, saved, (data) => `Saved ${kind === 'software' ? 'software' : 'task'} ${data.id}.`);
        }),
      `nightshift ${kind} put --file ${kind === 'software' ? 'chrome' : 'firewall'}.json`,
    );
  }

  // ---- deployments
  const deployments = program.command('deployments').description('what is deployed where, with which desired state');
  example(
    withPaging(deployments.command('list').description('the deployments you can see')).action(async (options: PageOptions, command: Command) => {
      const { client, call } = await cli.api(command);
      await cli.list(command, options, (cursor) => call(client.GET('/v1/deployments', { params: { query: pageQuery(options, cursor) } })), (page, view) => deploymentList(page.items, view));
    }),
    'nightshift deployments list --all',
  );
  example(
    deployments
      .command('show')
      .argument('<deploymentId>')
      .description('one deployment (secret parameters show as "(secret)")')
      .action(async (deploymentId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const found = await call(client.GET('/v1/deployments/{deploymentId}', { params: { path: { deploymentId } } }));
        cli.show(command, found, record);
      }),
    'nightshift deployments show deploy-zoom',
  );
  example(
    deployments
      .command('put')
      .description('create or replace a deployment from JSON (its "id" names it)')
      .option('--file <path>', 'the deployment as JSON ("-" or no option: stdin)')
      .action(async (options: { file?: string }, command: Command) => {
        const { id, body } = await entityFromFile(cli, options.file);
        const { client, call } = await cli.api(command);
        const saved = await call(client.PUT('/v1/deployments/{deploymentId}', { params: { path: { deploymentId: id } }, body: asBody(body) }));
        cli.show(command, saved, (data) => `Saved deployment ${data.id}.`);
      }),
    'nightshift deployments put --file deploy-zoom.json',
  );
}
