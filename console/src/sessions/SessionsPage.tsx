import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Pager } from '../components/Pager.js';
import { createColumnHelper, type RowSelectionState } from '@tanstack/react-table';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useId, useMemo, useState, type SubmitEvent } from 'react';
import type { SessionStatus, SessionStatusCounts, SessionSummary } from '../api/types.js';
import { useMay } from '../auth/me.js';
import { DataTable, selectionColumn, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { Time } from '../components/Time.js';
import { formatCount, formatDuration, localDay } from '../format.js';
import { usePageTitle } from '../app/page-title.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { BulkAnnouncer, BulkBar, useBulkSessions, type BulkSessions } from './bulk-actions.js';
import { PAGE_SIZE, rangeFor, type SessionFilters } from './filters.js';
import { sessionListQuery, tenantsQuery } from './queries.js';
import { RequesterLabel } from './RequesterLabel.js';
import { isFinal, stageOf, STATUS_LABELS, STATUS_ORDER, TRIGGER_LABELS } from './words.js';

/**
 * All sessions, newest first, a page at a time through the API's cursors:
 * status counts as filter chips, filters by tenant, computer, schedule run
 * and days, and each row a link to the session. Nothing here reads more than
 * the page shown.
 * An operator may select sessions on the page shown and cancel or rerun
 * them together (bulk-actions.tsx).
 */

const route = getRouteApi('/sessions');

const helper = createColumnHelper<TableFeatureSet, SessionSummary>();

/** How long a session ran, or has been running (as of the page's last read). */
function duration(session: SessionSummary, nowMs: number): string {
  const end = session.endedAt ?? (isFinal(session.status) ? session.updatedAt : undefined);
  if (end !== undefined) return formatDuration(Date.parse(end) - Date.parse(session.createdAt));
  return `${formatDuration(nowMs - Date.parse(session.createdAt))} so far`;
}

/** Last, so the other columns keep their places (the computer first) for whoever reads the table by position. */
const selectColumn = selectionColumn<SessionSummary>({
  row: (session) => `Select session ${session.id} on ${session.computerName ?? session.computerId}`,
  page: (count) => `Select all ${count} sessions on this page`,
});

const columnsFor = (nowMs: number, tenantName: (id: string) => string, selectable: boolean) => [
  ...helper.columns([
    helper.accessor((session) => session.computerName ?? session.computerId, {
      id: 'computer',
      header: 'Computer',
      cell: (info) => <Link to="/computers/$computerId" params={{ computerId: info.row.original.computerId }}>{info.getValue()}</Link>,
    }),
    helper.accessor('tenantId', { header: 'Tenant', cell: (info) => tenantName(info.getValue()) }),
    helper.accessor('trigger', { header: 'Type', cell: (info) => TRIGGER_LABELS[info.getValue()] }),
    helper.accessor('requestedBy', { header: 'Triggered by', cell: (info) => <RequesterLabel by={info.getValue()} /> }),
    helper.accessor('stage', {
      header: 'Stage',
      cell: (info) => {
        const { label, until } = stageOf(info.row.original, nowMs);
        return until === undefined ? label : <>{label}, <Time at={until} /></>;
      },
    }),
    helper.accessor('status', { header: 'Status', cell: (info) => <StatusBadge status={info.getValue()} /> }),
    // the visible time starts the link's name (WCAG 2.5.3); which session it opens follows for those who hear the link alone
    helper.accessor('createdAt', { header: 'Started', cell: (info) => <Link to="/sessions/$sessionId" params={{ sessionId: info.row.original.id }}><Time at={info.getValue()} /><span className="visually-hidden">, session {info.row.original.id} on {info.row.original.computerName ?? info.row.original.computerId}</span></Link> }),
    helper.display({ id: 'duration', header: 'Duration', cell: (info) => duration(info.row.original, nowMs) }),
  ]),
  ...(selectable ? [selectColumn] : []),
];

export function SessionsPage() {
  usePageTitle('Sessions');
  const filters = route.useSearch();
  const navigate = route.useNavigate();
  const [refreshes, setRefreshes] = useState(0);
  const queryClient = useQueryClient();
  const bulk = useBulkSessions((kind) => {
    // a rerun's sessions are newer than the list's range: take a new one, as Refresh does
    if (kind === 'rerun') setRefreshes((count) => count + 1);
    else void queryClient.invalidateQueries({ queryKey: ['sessions'] });
  });
  const setFilters = (next: SessionFilters) => void navigate({ search: next });
  return (
    <>
      <div className="page-heading">
        <h1>Sessions</h1>
        <button type="button" onClick={() => { setRefreshes((count) => count + 1); }}>
          Refresh
        </button>
      </div>
      <FiltersForm key={JSON.stringify(filters)} filters={filters} onApply={setFilters} />
      {/* a new list (range, cursors) whenever the filters change or the operator refreshes */}
      <SessionResults key={`${JSON.stringify(filters)}#${refreshes}`} filters={filters} onFilters={setFilters} bulk={bulk} />
      <BulkAnnouncer bulk={bulk} />
    </>
  );
}

function FiltersForm({ filters, onApply }: { readonly filters: SessionFilters; readonly onApply: (filters: SessionFilters) => void }) {
  const id = useId();
  const tenants = useQuery(tenantsQuery);
  const today = localDay(new Date());
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string): string | undefined => {
      const value = form.get(name);
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    };
    const next: Record<string, string> = {};
    for (const name of ['tenantId', 'computerId', 'runId', 'from', 'to'] as const) {
      const value = text(name);
      if (value !== undefined) next[name] = value;
    }
    onApply({ ...next, ...(filters.status === undefined ? {} : { status: filters.status }) });
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter sessions">
      <div className="field">
        <label htmlFor={`${id}-tenant`}>Tenant</label>
        <select id={`${id}-tenant`} name="tenantId" defaultValue={filters.tenantId ?? ''}>
          <option value="">All tenants</option>
          {(tenants.data?.items ?? []).map((tenant) => (
            <option key={tenant.id} value={tenant.id}>
              {tenant.name}
            </option>
          ))}
          {filters.tenantId !== undefined && tenants.data?.items.every((tenant) => tenant.id !== filters.tenantId) === true ? <option value={filters.tenantId}>{filters.tenantId}</option> : null}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-computer`}>Computer id</label>
        <input id={`${id}-computer`} name="computerId" defaultValue={filters.computerId ?? ''} autoComplete="off" spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-run`}>Schedule run id</label>
        <input id={`${id}-run`} name="runId" defaultValue={filters.runId ?? ''} autoComplete="off" spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-from`}>From day</label>
        <input id={`${id}-from`} name="from" type="date" max={today} defaultValue={filters.from ?? ''} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To day</label>
        <input id={`${id}-to`} name="to" type="date" defaultValue={filters.to ?? ''} />
      </div>
      <div className="filter-buttons">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => { onApply({}); }}>
          Clear
        </button>
      </div>
    </form>
  );
}

function StatusChips({ counts, selected, onSelect }: { readonly counts: SessionStatusCounts | undefined; readonly selected: SessionStatus | undefined; readonly onSelect: (status: SessionStatus | undefined) => void }) {
  const total = counts === undefined ? undefined : STATUS_ORDER.reduce((sum, status) => sum + counts[status], 0);
  const chip = (status: SessionStatus | undefined, label: string, count: number | undefined) => (
    <button key={status ?? 'all'} type="button" className="chip" aria-pressed={selected === status} onClick={() => { onSelect(status); }}>
      {label} <span className="chip-count">{count === undefined ? '…' : formatCount(count)}</span>
    </button>
  );
  return (
    <div className="chips" role="group" aria-label="Filter by status">
      {chip(undefined, 'All', total)}
      {STATUS_ORDER.map((status) => chip(status, STATUS_LABELS[status], counts?.[status]))}
    </div>
  );
}

function SessionResults({ filters, onFilters, bulk }: { readonly filters: SessionFilters; readonly onFilters: (filters: SessionFilters) => void; readonly bulk: BulkSessions }) {
  const [range] = useState(() => rangeFor(filters, Date.now()));
  /** The cursors of the pages after the first, in the order they were opened (Newer pops one). */
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const mayOperate = useMay('operate');
  /** The sessions selected on this page, by id (other filters are another list: it starts with none). */
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  // a selection is of the page shown: turning the page starts another
  const turnPage = (update: (opened: readonly string[]) => readonly string[]) => {
    setRowSelection({});
    setCursors(update);
  };
  const cursor = cursors.at(-1);
  const query = {
    // a run's sessions are listed whole by the API, whenever they started: a range would only mislead the caption
    ...(filters.runId === undefined ? range : { runId: filters.runId }),
    limit: PAGE_SIZE,
    ...(filters.status === undefined ? {} : { status: filters.status }),
    ...(filters.tenantId === undefined ? {} : { tenantId: filters.tenantId }),
    ...(filters.computerId === undefined ? {} : { computerId: filters.computerId }),
    ...(cursor === undefined ? {} : { cursor }),
  };
  const list = useQuery(sessionListQuery(query, cursor === undefined));
  const tenantName = useTenantName();
  const readAtMs = list.dataUpdatedAt;
  const columns = useMemo(() => columnsFor(readAtMs === 0 ? Date.now() : readAtMs, tenantName, mayOperate), [readAtMs, tenantName, mayOperate]);
  const items = list.data?.items ?? [];
  // what is selected and still on the page as last read (a live first page may have moved a session off it)
  const selected = items.filter((session) => rowSelection[session.id] === true);
  const page = cursors.length + 1;
  const selectStatus = (status: SessionStatus | undefined) => {
    const { status: _status, ...rest } = filters;
    onFilters(status === undefined ? rest : { ...rest, status });
  };
  return (
    <section aria-labelledby="sessions-results">
      <h2 id="sessions-results" className="visually-hidden">
        Results
      </h2>
      <StatusChips counts={list.data?.counts} selected={filters.status} onSelect={selectStatus} />
      {list.error ? <Problem error={list.error} title="The sessions could not be listed" /> : null}
      {mayOperate ? <BulkBar selected={selected} bulk={bulk} onClear={() => { setRowSelection({}); }} /> : null}
      <DataTable
        caption={
          <>
            {filters.runId === undefined ? (
              <>
                Sessions created <Range from={range.from} to={range.to} />
              </>
            ) : (
              <>
                Sessions of schedule run <Link to="/runs/$runId" params={{ runId: filters.runId }}>{filters.runId}</Link>
              </>
            )}
            {filters.status === undefined ? '' : `, ${STATUS_LABELS[filters.status]}`}
            {filters.runId === undefined ? ', newest first' : ', by computer id'} (page {page})
          </>
        }
        columns={columns}
        data={items}
        rowId={(session) => session.id}
        busy={list.isFetching}
        empty={list.isPending ? 'Loading…' : 'No sessions match these filters.'}
        selection={mayOperate ? { state: rowSelection, onChange: setRowSelection } : undefined}
      />
      <Pager label="Pages of sessions" cursors={cursors} setCursors={turnPage} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} words={['Newer', 'Older']} />
    </section>
  );
}

function Range({ from, to }: { readonly from: string; readonly to: string }) {
  return (
    <>
      from <time dateTime={from}>{new Date(from).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</time> to{' '}
      <time dateTime={to}>{new Date(to).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</time>
    </>
  );
}
