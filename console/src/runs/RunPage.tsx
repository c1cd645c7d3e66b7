import { useQuery } from '@tanstack/react-query';
import { Pager } from '../components/Pager.js';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { formatCount, formatUsd } from '../format.js';
import { isRunFinal, runQuery, runTargetsQuery } from './queries.js';
import { RunControls } from './RunControls.js';
import type { RunTarget, ScheduleRunWithCost, SkipReason } from './types.js';
import { RunStatusBadge, SKIP_LABELS } from './words.js';

/**
 * One run of a schedule: how many computers it targeted, started and
 * skipped (and why), how their sessions are doing, where its rings stand,
 * and every target a page at a time, each linked to its session.
 */

const route = getRouteApi('/runs/$runId');

const helper = createColumnHelper<TableFeatureSet, RunTarget>();
/** The targets' columns; a ring is named as the rollout names it (the API gives its index). */
const targetColumns = (ringNames: readonly string[], tenantName: (tenantId: string) => string) => helper.columns([
  helper.accessor('computerName', { header: 'Computer', cell: (info) => <><Link to="/computers/$computerId" params={{ computerId: info.row.original.computerId }}>{info.getValue()}</Link> ({info.row.original.computerId})</> }),
  helper.accessor('tenantId', { header: 'Tenant', cell: (info) => tenantName(info.getValue()) }),
  helper.accessor('ring', { header: 'Ring', cell: (info) => ringNames[info.getValue()] ?? formatCount(info.getValue() + 1) }),
  helper.accessor('sessionId', {
    header: 'Session',
    cell: (info) => {
      const sessionId = info.getValue();
      const target = info.row.original;
      // the visible id is the start of the link's name (WCAG 2.5.3): the computer follows for those who hear the link alone
      if (sessionId !== undefined) return <Link to="/sessions/$sessionId" params={{ sessionId }}>{sessionId}<span className="visually-hidden">, the session of {target.computerName}</span></Link>;
      if (target.skipped !== undefined) return `Skipped: ${SKIP_LABELS[target.skipped]}${target.detail === undefined ? '' : ` (${target.detail})`}`;
      return 'Queued';
    },
  }),
  helper.accessor('executeAt', { header: 'Window opens', cell: (info) => { const at = info.getValue(); return at === undefined ? '—' : <Time at={at} />; } }),
]);

export function RunPage() {
  const { runId } = route.useParams();
  const run = useQuery(runQuery(runId));
  usePageTitle(run.data === undefined ? `Run ${runId}` : `Run of ${run.data.scheduleName}`);
  if (run.error) {
    return (
      <>
        <h1>Run {runId}</h1>
        <Problem error={run.error} title="The run could not be read" />
        <p>
          <Link to="/schedules">All schedules</Link>
        </p>
      </>
    );
  }
  if (run.data === undefined) return <p aria-busy="true">Loading run {runId}…</p>;
  const item = run.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> / <Link to="/schedules/$scheduleId" params={{ scheduleId: item.scheduleId }}>{item.scheduleName}</Link> / run
      </p>
      <h1>
        Run of {item.scheduleName} <RunStatusBadge status={item.status} />
      </h1>
      <dl className="facts">
        <div>
          <dt>Fired for</dt>
          <dd>
            <Time at={item.scheduledTime} />
          </dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>
            {item.trigger === 'RunNow' ? 'Run now' : 'Schedule'} by {item.by.name}
          </dd>
        </div>
        <div>
          <dt>Schedule version</dt>
          <dd>{item.scheduleVersion}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{item.cost === undefined ? '—' : `${formatUsd(item.cost.priceUsd.total)} over ${formatCount(item.cost.sessionsCounted)} ended session(s)`}</dd>
        </div>
      </dl>
      {item.haltReason === undefined ? null : (
        <p className="problem" role="note">
          <strong>{item.status === 'Cancelled' ? 'Cancelled' : 'Halted'}:</strong> {item.haltReason}
        </p>
      )}
      <RunControls run={item} />
      <RunCounts run={item} />
      <RingProgress run={item} />
      <Targets runId={runId} live={!isRunFinal(item.status)} ringNames={item.rollout.rings.map((ring) => ring.name)} />
    </>
  );
}

function RunCounts({ run }: { readonly run: ScheduleRunWithCost }) {
  const skipped = (Object.entries(run.skipped) as [SkipReason, number | undefined][]).filter(([, count]) => (count ?? 0) > 0);
  const skippedTotal = skipped.reduce((sum, [, count]) => sum + (count ?? 0), 0);
  // a session detected at 6 pm and parked until its 10 pm window is not at work on the computer: counted apart (absent on older runs)
  const awaiting = run.outcome.awaitingExecution;
  const waiting: [string, number, string][] = awaiting === undefined ? [] : [['Waiting for window', awaiting, 'neutral']];
  const counts: [string, number, string][] = [
    ['Targeted', run.targeted, 'neutral'],
    ['Started', run.started, 'active'],
    ['Skipped', skippedTotal, skippedTotal > 0 ? 'warn' : 'neutral'],
    ['Passed', run.outcome.passed, 'good'],
    ['Partly passed', run.outcome.partiallyPassed, 'warn'],
    ['Failed', run.outcome.failed, run.outcome.failed > 0 ? 'bad' : 'neutral'],
    ['Running', run.outcome.running - (awaiting ?? 0), 'active'],
    ...waiting,
    ['Queued', run.outcome.queued, 'neutral'],
    ['Cancelled', run.outcome.cancelled, 'neutral'],
  ];
  return (
    <section aria-labelledby="counts-title">
      <h2 id="counts-title">Counts</h2>
      <dl className="counts">
        {counts.map(([name, count, tone]) => (
          <div key={name} className={`count tone-${tone}`}>
            <dt>{name}</dt>
            <dd>{formatCount(count)}</dd>
          </div>
        ))}
      </dl>
      {skipped.length === 0 ? null : (
        <ul className="skip-reasons" aria-label="Skipped, by reason">
          {skipped.map(([reason, count]) => (
            <li key={reason}>
              {SKIP_LABELS[reason]}: {formatCount(count ?? 0)}
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link to="/sessions" search={{ runId: run.id }}>
          This run’s sessions
        </Link>
        , with their counts by status
      </p>
    </section>
  );
}

/** The rings in order: done, the one whose sessions may start now, and those still to come. */
function RingProgress({ run }: { readonly run: ScheduleRunWithCost }) {
  const rings = run.rollout.rings;
  if (rings.length === 0) return <p>No rings: every computer may start at once{run.rollout.maxConcurrent === undefined ? '' : ', within the concurrency limit'}.</p>;
  const finished = run.status === 'Completed';
  return (
    <nav aria-label="Rings" className="steps">
      <h2>Rings</h2>
      <ol>
        {rings.map((ring, index) => {
          const state = finished || index < run.currentRing ? 'done' : index === run.currentRing ? (run.status === 'Halted' ? 'failed' : run.status === 'Cancelled' ? 'cancelled' : 'current') : 'pending';
          const words = { done: 'done', current: run.ringEndedAt === undefined ? 'now' : 'soaking', pending: 'not yet', failed: 'halted here', cancelled: 'cancelled here' }[state];
          return (
            <li key={ring.name} className={`step step-${state}`} aria-current={index === run.currentRing && !finished ? 'step' : undefined}>
              <span className="step-name">
                {ring.name} ({ring.percent} %)
              </span>{' '}
              <span className="step-state">{words}</span>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function Targets({ runId, live, ringNames }: { readonly runId: string; readonly live: boolean; readonly ringNames: readonly string[] }) {
  // memoised on the names' text: the run is read again every few seconds (a new array each time), its rings do not change
  const namesKey = ringNames.join('\n');
  const tenantName = useTenantName();
  const columns = useMemo(() => targetColumns(namesKey.split('\n'), tenantName), [namesKey, tenantName]);
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  // only the first page follows the run; later pages stay where the operator left them
  const targets = useQuery(runTargetsQuery(runId, cursor, live && cursor === undefined));
  const page = cursors.length + 1;
  return (
    <section aria-labelledby="targets-title">
      <h2 id="targets-title">Targets</h2>
      {targets.error ? <Problem error={targets.error} title="The targets could not be read" /> : null}
      <DataTable caption={`The run's computers, by id (page ${page})`} columns={columns} data={targets.data?.items ?? []} rowId={(target) => target.computerId} busy={targets.isFetching} empty={targets.isPending ? 'Loading…' : 'No computer was targeted.'} />
      <Pager label="Pages of targets" cursors={cursors} setCursors={setCursors} nextCursor={targets.data?.nextCursor} waiting={targets.isPlaceholderData} />
    </section>
  );
}
