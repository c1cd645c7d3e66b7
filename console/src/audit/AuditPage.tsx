import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useId, useMemo, useState, type SubmitEvent } from 'react';
import { Field } from '../components/Field.js';
import { LocalTimes } from '../components/LocalTimes.js';
import { api, data } from '../api/client.js';
import type { Schemas } from '../api/types.js';
import { usePageTitle } from '../app/page-title.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { tenantsQuery } from '../sessions/queries.js';
import { RequesterLabel } from '../sessions/RequesterLabel.js';
import { AUDITED_RESOURCES, type AuditFilters, type AuditedResource } from './filters.js';

/**
 * Who changed what, when: every change to schedules, the catalog, tenants
 * and branding, and every decision about a session (an end user's from an
 * email link, an operator's) or a run, newest first. By tenant it pages
 * through the API's cursors; one resource's changes are read whole, every
 * page of them (a resource has few), to show newest first.
 */

type AuditEntry = Schemas['AuditEntry'];
const PAGE_SIZE = 50;
/** The API's largest page: one resource's changes are read whole in as few requests as it allows. */
const MAX_PAGE_SIZE = 200;
const MAX_CHANGES_SHOWN = 4;
const route = getRouteApi('/audit');

const ACTION_WORDS: Readonly<Record<AuditEntry['action'], string>> = {
  Created: 'Created',
  Updated: 'Updated',
  Enabled: 'Enabled',
  Disabled: 'Disabled',
  Deleted: 'Deleted',
  Postponed: 'Postponed',
  Cancelled: 'Cancelled',
  MovedToNow: 'Moved to now',
  Started: 'Started',
  Halted: 'Halted',
  Resumed: 'Resumed',
  Promoted: 'Promoted',
};

const shortValue = (value: unknown): string => {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
};

function ResourceCell({ entry }: { readonly entry: AuditEntry }) {
  const label = `${entry.resource} ${entry.resourceId}`;
  if (entry.resource === 'Schedule' && entry.action !== 'Deleted') return <Link to="/schedules/$scheduleId" params={{ scheduleId: entry.resourceId }}>{label}</Link>;
  if (entry.resource === 'Session') return <Link to="/sessions/$sessionId" params={{ sessionId: entry.resourceId }}>{label}</Link>;
  if (entry.resource === 'Run') return <Link to="/runs/$runId" params={{ runId: entry.resourceId }}>{label}</Link>;
  return <>{label}</>;
}

const helper = createColumnHelper<TableFeatureSet, AuditEntry>();
const columnsFor = (tenantName: (tenantId: string) => string) => helper.columns([
  helper.accessor('at', { header: 'When', cell: (info) => <Time at={info.getValue()} /> }),
  helper.accessor('by', { header: 'Who', cell: (info) => <RequesterLabel by={info.getValue()} /> }),
  helper.accessor('action', { header: 'What', cell: (info) => ACTION_WORDS[info.getValue()] }),
  helper.display({ id: 'resource', header: 'Resource', cell: (info) => <ResourceCell entry={info.row.original} /> }),
  helper.accessor('tenantId', { header: 'Tenant', cell: (info) => { const tenantId = info.getValue(); return tenantId === undefined ? 'Every tenant' : tenantName(tenantId); } }),
  helper.accessor('changes', {
    header: 'Changes',
    cell: (info) => {
      const changes = info.getValue();
      if (changes.length === 0) return '—';
      const listed = (
        <ul className="changes">
          {changes.map((change) => (
            <li key={change.field}>
              <code>{change.field}</code>: <LocalTimes text={shortValue(change.before)} /> → <LocalTimes text={shortValue(change.after)} />
            </li>
          ))}
        </ul>
      );
      // a creation lists every field: folded, so a page of entries stays readable
      if (changes.length <= MAX_CHANGES_SHOWN) return listed;
      return (
        <details>
          <summary>{changes.length} fields</summary>
          {listed}
        </details>
      );
    },
  }),
]);

export function AuditPage() {
  usePageTitle('Audit');
  const filters = route.useSearch();
  const navigate = useNavigate({ from: '/audit' });
  return (
    <>
      <h1>Audit</h1>
      {/* keyed by the filters: Clear (or Back) shows the URL's filters, not what was typed before */}
      <AuditFilterForm key={`form#${JSON.stringify(filters)}`} filters={filters} onFilters={(next) => void navigate({ search: next })} />
      {/* a new set of filters is a new listing: its cursors start again */}
      <AuditResults key={JSON.stringify(filters)} filters={filters} />
    </>
  );
}

function AuditFilterForm({ filters, onFilters }: { readonly filters: AuditFilters; readonly onFilters: (filters: AuditFilters) => void }) {
  const id = useId();
  const tenants = useQuery(tenantsQuery);
  const [problem, setProblem] = useState<{ readonly field: 'resource' | 'resourceId'; readonly message: string }>();
  const problemOf = (field: 'resource' | 'resourceId') => (problem?.field === field ? problem.message : undefined);
  const apply = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string): string => {
      const value = form.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const tenantId = text('tenantId');
    const resource = text('resource');
    const resourceId = text('resourceId');
    // the API reads one resource's trail by its kind and id together: one without the other is said on the empty field, not sent
    if ((resource === '') !== (resourceId === '')) {
      const missing = resource === '' ? 'resource' : 'resourceId';
      setProblem({ field: missing, message: missing === 'resource' ? 'is needed with the resource id: choose its kind' : 'is needed with the kind: a resource is named by both' });
      document.getElementById(`${id}-${missing}`)?.focus();
      return;
    }
    setProblem(undefined);
    onFilters({
      ...(tenantId === '' ? {} : { tenantId }),
      ...(resource === '' ? {} : { resource: resource as AuditedResource }),
      ...(resourceId === '' ? {} : { resourceId }),
    });
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter the audit trail">
      <div className="field">
        <label htmlFor={`${id}-tenant`}>Tenant</label>
        <select id={`${id}-tenant`} name="tenantId" defaultValue={filters.tenantId ?? ''}>
          <option value="">Every tenant I see</option>
          {(tenants.data?.items ?? []).map((tenant) => (
            <option key={tenant.id} value={tenant.id}>
              {tenant.name}
            </option>
          ))}
        </select>
      </div>
      <Field id={`${id}-resource`} name="resource" label="Resource kind" problem={problemOf('resource')}>
        {(control) => (
          <select {...control} defaultValue={filters.resource ?? ''}>
            <option value="">Any</option>
            {AUDITED_RESOURCES.map((resource) => (
              <option key={resource} value={resource}>
                {resource}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field id={`${id}-resourceId`} name="resourceId" label="Resource id" problem={problemOf('resourceId')}>
        {(control) => <input {...control} type="text" defaultValue={filters.resourceId ?? ''} autoComplete="off" spellCheck={false} />}
      </Field>
      <div className="filter-buttons">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={() => { setProblem(undefined); onFilters({}); }}>
          Clear
        </button>
      </div>
    </form>
  );
}

function AuditResults({ filters }: { readonly filters: AuditFilters }) {
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  const oneResource = filters.resource !== undefined || filters.resourceId !== undefined;
  const list = useQuery({
    queryKey: ['audit', filters, cursor ?? ''],
    queryFn: async () => {
      if (oneResource) {
        // one resource's changes come oldest first, a page at a time (the API validates that both are named)
        const query = { ...(filters.resource === undefined ? {} : { resource: filters.resource }), ...(filters.resourceId === undefined ? {} : { resourceId: filters.resourceId }), limit: MAX_PAGE_SIZE };
        const items: AuditEntry[] = [];
        let next: string | undefined;
        do {
          const page = await data(api.GET('/v1/audit', { params: { query: { ...query, ...(next === undefined ? {} : { cursor: next }) } } }));
          items.push(...page.items);
          next = page.nextCursor;
        } while (next !== undefined);
        return { items: items.reverse() };
      }
      const query = { limit: PAGE_SIZE, ...(filters.tenantId === undefined ? {} : { tenantId: filters.tenantId }), ...(cursor === undefined ? {} : { cursor }) };
      return data(api.GET('/v1/audit', { params: { query } }));
    },
    placeholderData: keepPreviousData,
  });
  const page = cursors.length + 1;
  const nextCursor = list.data !== undefined && 'nextCursor' in list.data ? list.data.nextCursor : undefined;
  const tenantName = useTenantName();
  const columns = useMemo(() => columnsFor(tenantName), [tenantName]);
  const scope = oneResource ? `${filters.resource ?? '?'} ${filters.resourceId ?? '?'}` : filters.tenantId === undefined ? 'every tenant you see' : `tenant ${tenantName(filters.tenantId)}`;
  return (
    <section aria-labelledby="audit-results">
      <h2 id="audit-results" className="visually-hidden">
        Results
      </h2>
      {list.error ? <Problem error={list.error} title="The audit trail could not be read" /> : null}
      <DataTable
        caption={`Changes and decisions of ${scope}, newest first${oneResource ? '' : ` (page ${page})`}`}
        columns={columns}
        data={list.data?.items ?? []}
        rowId={(entry) => `${entry.resource}#${entry.resourceId}#${entry.version}`}
        busy={list.isFetching}
        empty={list.isPending ? 'Loading…' : 'Nothing recorded.'}
      />
      {oneResource ? null : (
        <nav className="pager" aria-label="Pages of the audit trail">
          <button type="button" disabled={cursors.length === 0} onClick={() => { setCursors((opened) => opened.slice(0, -1)); }}>
            Newer
          </button>
          <span aria-live="polite">Page {page}</span>
          <button
            type="button"
            disabled={list.isPlaceholderData || nextCursor === undefined}
            onClick={() => {
              if (nextCursor !== undefined) setCursors((opened) => [...opened, nextCursor]);
            }}
          >
            Older
          </button>
        </nav>
      )}
    </section>
  );
}
