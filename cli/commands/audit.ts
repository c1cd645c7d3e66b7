import { Option, type Command } from 'commander';
import type { AuditedResource } from '../../functions/core/model/audit.js';
import { example, type Cli } from '../context.js';
import { UsageError } from '../errors.js';
import { auditList } from '../views.js';
import { pageQuery, withPaging, type PageOptions } from './shared.js';

/** Every audited kind of resource (a record, so a kind the API adds is a compile error here until it is listed). */
const RESOURCES: Readonly<Record<AuditedResource, true>> = { Schedule: true, Tenant: true, Computer: true, Software: true, Task: true, Deployment: true, Branding: true, Session: true, Run: true };

interface AuditOptions extends PageOptions {
  readonly tenant?: string;
  readonly resource?: AuditedResource;
  readonly id?: string;
}

export function auditCommands(program: Command, cli: Cli): void {
  example(
    withPaging(
      program
        .command('audit')
        .description("who changed what, when: one resource's changes (--resource and --id, oldest first) or a tenant's (newest first)")
        .option('--tenant <tenantId>', "only this tenant's changes (default: every tenant you can see)")
        .addOption(new Option('--resource <kind>', 'the kind of resource, with --id').choices(Object.keys(RESOURCES)))
        .option('--id <resourceId>', 'the resource, with --resource'),
    ).action(async (options: AuditOptions, command: Command) => {
      if ((options.resource === undefined) !== (options.id === undefined)) throw new UsageError('--resource and --id name a resource together: give both, or neither');
      const { client, call } = await cli.api(command);
      const filters = {
        ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
        ...(options.resource === undefined ? {} : { resource: options.resource }),
        ...(options.id === undefined ? {} : { resourceId: options.id }),
      };
      await cli.list(command, options, (cursor) => call(client.GET('/v1/audit', { params: { query: { ...filters, ...pageQuery(options, cursor) } } })), (page, view) => auditList(page.items, view));
    }),
    'nightshift audit --tenant contoso',
    'nightshift audit --resource Schedule --id nightly-dms --json',
  );
}
