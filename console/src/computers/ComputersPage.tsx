import { useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useId, useMemo, useState } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Pager } from '../components/Pager.js';
import { Problem } from '../components/Problem.js';
import { tenantsQuery } from '../sessions/queries.js';
import { computerListQuery } from './queries.js';
import { DEVICE_CLASS_LABELS, PLATFORM_LABELS, type Computer } from './words.js';

/** Every computer the operator can see, of one tenant or all, a page at a time through the API's cursors; each a link to its page. */

const route = getRouteApi('/computers');

const helper = createColumnHelper<TableFeatureSet, Computer>();

const columnsFor = (tenantName: (id: string) => string) =>
  helper.columns([
    helper.accessor('name', { header: 'Name', cell: (info) => <Link to="/computers/$computerId" params={{ computerId: info.row.original.id }}>{info.getValue()}</Link> }),
    helper.accessor('id', { header: 'Id' }),
    helper.accessor('tenantId', { header: 'Tenant', cell: (info) => tenantName(info.getValue()) }),
    helper.accessor('platform', { header: 'Platform', cell: (info) => PLATFORM_LABELS[info.getValue()] }),
    helper.accessor('deviceClass', { header: 'Device class', cell: (info) => DEVICE_CLASS_LABELS[info.getValue()] }),
    helper.accessor('online', { header: 'Agent', cell: (info) => (info.getValue() ? <span className="badge tone-good">Online</span> : <span className="badge tone-warn">Offline</span>) }),
  ]);

export function ComputersPage() {
  usePageTitle('Computers');
  const { tenantId } = route.useSearch();
  const navigate = route.useNavigate();
  const id = useId();
  const tenants = useQuery(tenantsQuery);
  return (
    <>
      <h1>Computers</h1>
      <form className="filters" aria-label="Filter computers" onSubmit={(event) => { event.preventDefault(); }}>
        <div className="field">
          <label htmlFor={`${id}-tenant`}>Tenant</label>
          <select
            id={`${id}-tenant`}
            value={tenantId ?? ''}
            onChange={(event) => void navigate({ search: event.target.value === '' ? {} : { tenantId: event.target.value } })}
          >
            <option value="">All tenants</option>
            {(tenants.data?.items ?? []).map((tenant) => (
              <option key={tenant.id} value={tenant.id}>
                {tenant.name}
              </option>
            ))}
          </select>
        </div>
      </form>
      {/* a new list (cursors from the first page) whenever the tenant changes */}
      <ComputerResults key={tenantId ?? ''} tenantId={tenantId} />
    </>
  );
}

function ComputerResults({ tenantId }: { readonly tenantId: string | undefined }) {
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const list = useQuery(computerListQuery(tenantId, cursors.at(-1)));
  const tenantName = useTenantName();
  const columns = useMemo(() => columnsFor(tenantName), [tenantName]);
  return (
    <section aria-label="Results">
      {list.error ? <Problem error={list.error} title="The computers could not be listed" /> : null}
      <DataTable
        caption={`Computers, by id (page ${cursors.length + 1})`}
        columns={columns}
        data={list.data?.items ?? []}
        rowId={(computer) => computer.id}
        busy={list.isFetching}
        empty={list.isPending ? 'Loading…' : 'No computers.'}
      />
      <Pager label="Pages of computers" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} />
    </section>
  );
}
