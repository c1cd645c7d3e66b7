import { useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Link } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import type { SessionSummary } from '../api/types.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Pager } from '../components/Pager.js';
import { Problem } from '../components/Problem.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { Time } from '../components/Time.js';
import { formatDuration } from '../format.js';
import { PAGE_SIZE } from '../sessions/filters.js';
import { sessionListQuery } from '../sessions/queries.js';
import { RequesterLabel } from '../sessions/RequesterLabel.js';
import { isFinal, STAGE_LABELS, TRIGGER_LABELS } from '../sessions/words.js';

/**
 * The computer's sessions of the last month, newest first, a page at a time
 * through the API's cursors; older ones are a link away, on the Sessions
 * page filtered by the computer (its date filters reach further back).
 */

/** The API lists at most 31 days at once; a month, from when the tab opened (a cursor is bound to its range). */
const DAYS_SHOWN = 30;
const DAY_MS = 86_400_000;
/** As the Sessions page: a session created while the tab opens is in the range. */
const AHEAD_MS = 60_000;

const helper = createColumnHelper<TableFeatureSet, SessionSummary>();

function duration(session: SessionSummary, nowMs: number): string {
  const end = session.endedAt ?? (isFinal(session.status) ? session.updatedAt : undefined);
  if (end !== undefined) return formatDuration(Date.parse(end) - Date.parse(session.createdAt));
  return `${formatDuration(nowMs - Date.parse(session.createdAt))} so far`;
}

const columnsFor = (nowMs: number) =>
  helper.columns([
    helper.accessor('createdAt', {
      header: 'Started',
      cell: (info) => (
        <Link to="/sessions/$sessionId" params={{ sessionId: info.row.original.id }}>
          <Time at={info.getValue()} />
          <span className="visually-hidden">, session {info.row.original.id}</span>
        </Link>
      ),
    }),
    helper.accessor('trigger', { header: 'Type', cell: (info) => TRIGGER_LABELS[info.getValue()] }),
    helper.accessor('requestedBy', { header: 'Triggered by', cell: (info) => <RequesterLabel by={info.getValue()} /> }),
    helper.accessor('stage', { header: 'Stage', cell: (info) => { const stage = info.getValue(); return stage === undefined ? '—' : STAGE_LABELS[stage]; } }),
    helper.accessor('status', { header: 'Status', cell: (info) => <StatusBadge status={info.getValue()} /> }),
    helper.display({ id: 'duration', header: 'Duration', cell: (info) => duration(info.row.original, nowMs) }),
  ]);

export function ComputerSessions({ computerId }: { readonly computerId: string }) {
  const [range] = useState(() => {
    const to = Date.now() + AHEAD_MS;
    return { from: new Date(to - DAYS_SHOWN * DAY_MS).toISOString(), to: new Date(to).toISOString() };
  });
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  const list = useQuery(sessionListQuery({ ...range, computerId, limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) }, cursor === undefined));
  const readAtMs = list.dataUpdatedAt;
  const columns = useMemo(() => columnsFor(readAtMs === 0 ? Date.now() : readAtMs), [readAtMs]);
  return (
    <section aria-labelledby="computer-sessions-title">
      <h2 id="computer-sessions-title">Sessions</h2>
      <p className="hint">
        The last {DAYS_SHOWN} days. <Link to="/sessions" search={{ computerId }}>Earlier sessions, and filters by status and date, on the Sessions page</Link>.
      </p>
      {list.error ? <Problem error={list.error} title="The sessions could not be listed" /> : null}
      <DataTable
        caption={`Sessions of this computer in the last ${DAYS_SHOWN} days, newest first (page ${cursors.length + 1})`}
        columns={columns}
        data={list.data?.items ?? []}
        rowId={(session) => session.id}
        busy={list.isFetching}
        empty={list.isPending ? 'Loading…' : `No sessions in the last ${DAYS_SHOWN} days.`}
      />
      <Pager label="Pages of this computer's sessions" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} words={['Newer', 'Older']} />
    </section>
  );
}
