import { useQuery } from '@tanstack/react-query';
import { Pager } from '../components/Pager.js';
import { createColumnHelper } from '@tanstack/react-table';
import { Link } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { tenantsQuery } from '../sessions/queries.js';
import { cronOf, nextFireTimes } from '../../../functions/core/schedules/cron.js';
import { scheduleListQuery } from './queries.js';
import { recurrenceWords, type Schedule } from './words.js';

/**
 * Every schedule the operator can see, a page at a time through the API's
 * cursors: name, whether it is on, its tenant, when it fires next (in the
 * viewer's zone) and how it recurs in words.
 */

/**
 * The next fire, by the core's own cron rules (what the scheduler and the
 * API's preview use), in the schedule's zone: its own, its tenant's, else
 * UTC. From cron.ts, not windows.ts: the latter brings the zod schemas, and
 * with them a bundle twice the size, for one date per row.
 */
function nextFire(schedule: Schedule, tenantZone: string | undefined, nowMs: number): string | undefined {
  if (!schedule.enabled) return undefined;
  const cron = cronOf(schedule.recurrence, schedule.detectionTime);
  return cron === undefined ? undefined : nextFireTimes(cron, schedule.timeZone ?? tenantZone ?? 'UTC', new Date(nowMs), 1)[0]?.toISOString();
}

const helper = createColumnHelper<TableFeatureSet, Schedule>();

function columnsFor(tenantName: (id: string) => string, tenantZone: (id: string | undefined) => string | undefined, nowMs: number) {
  return helper.columns([
    helper.accessor('name', { header: 'Name', cell: (info) => <Link to="/schedules/$scheduleId" params={{ scheduleId: info.row.original.id }}>{info.getValue()}</Link> }),
    helper.accessor('enabled', { header: 'Enabled', cell: (info) => (info.getValue() ? <span className="badge tone-good">On</span> : <span className="badge tone-neutral">Off</span>) }),
    helper.accessor('tenantId', { header: 'Tenant', cell: (info) => { const id = info.getValue(); return id === undefined ? 'Every tenant' : tenantName(id); } }),
    helper.display({ id: 'next', header: 'Next fire', cell: (info) => { const at = nextFire(info.row.original, tenantZone(info.row.original.tenantId), nowMs); return at === undefined ? '—' : <Time at={at} />; } }),
    helper.display({ id: 'recurs', header: 'Recurs', cell: (info) => `${recurrenceWords(info.row.original)}${info.row.original.timeZone === undefined ? '' : ` (${info.row.original.timeZone})`}` }),
  ]);
}

export function SchedulesPage() {
  usePageTitle('Schedules');
  const mayOperate = useMay('operate');
  // the cursors of the pages opened so far; the last one is the page shown
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  const list = useQuery(scheduleListQuery(cursor));
  const tenants = useQuery(tenantsQuery);
  const readAtMs = list.dataUpdatedAt;
  const columns = useMemo(() => {
    const byId = new Map((tenants.data?.items ?? []).map((tenant) => [tenant.id, tenant]));
    return columnsFor((id) => byId.get(id)?.name ?? id, (id) => (id === undefined ? undefined : byId.get(id)?.defaultTimeZone), readAtMs === 0 ? Date.now() : readAtMs);
  }, [tenants.data, readAtMs]);
  const page = cursors.length + 1;
  return (
    <>
      <div className="page-heading">
        <h1>Schedules</h1>
        {mayOperate ? (
          <Link to="/schedules/new" className="button-link">
            New schedule
          </Link>
        ) : null}
      </div>
      {list.error ? <Problem error={list.error} title="The schedules could not be listed" /> : null}
      <DataTable caption={`Schedules, by id (page ${page})`} columns={columns} data={list.data?.items ?? []} rowId={(schedule) => schedule.id} busy={list.isFetching} empty={list.isPending ? 'Loading…' : 'No schedules yet.'} />
      <Pager label="Pages of schedules" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} />
    </>
  );
}
