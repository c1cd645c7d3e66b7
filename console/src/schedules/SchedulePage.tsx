import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useRef, type ReactNode } from 'react';
import { api, data } from '../api/client.js';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { formatCount } from '../format.js';
import { asCore, type ScheduleRun } from '../runs/types.js';
import { RunStatusBadge } from '../runs/words.js';
import { schedulePreviewQuery, scheduleQuery, scheduleRunsQuery } from './queries.js';
import { PreviewView } from './ScheduleForm.js';
import { deviceClassesWords, executionWords, postponeWords, rebootWords, recurrenceWords, targetWords, type Schedule } from './words.js';

/** One schedule: its fields, what an operator may do with it, its recent runs and where its next fire would reach. */

const route = getRouteApi('/schedules/$scheduleId');

const helper = createColumnHelper<TableFeatureSet, ScheduleRun>();
const RUN_COLUMNS = helper.columns([
  helper.accessor('scheduledTime', { header: 'Fired for', cell: (info) => <Link to="/runs/$runId" params={{ runId: info.row.original.id }}><Time at={info.getValue()} /><span className="visually-hidden">, run {info.row.original.id}</span></Link> }),
  helper.accessor('status', { header: 'Status', cell: (info) => <RunStatusBadge status={info.getValue()} /> }),
  helper.accessor('trigger', { header: 'Trigger', cell: (info) => `${info.getValue() === 'RunNow' ? 'Run now' : 'Schedule'} by ${info.row.original.by.name}` }),
  helper.accessor('targeted', { header: 'Targeted', cell: (info) => formatCount(info.getValue()) }),
  helper.accessor('started', { header: 'Started', cell: (info) => formatCount(info.getValue()) }),
  helper.display({ id: 'outcome', header: 'Passed / failed', cell: (info) => `${formatCount(info.row.original.outcome.passed + info.row.original.outcome.partiallyPassed)} / ${formatCount(info.row.original.outcome.failed)}` }),
]);

export function SchedulePage() {
  const { scheduleId } = route.useParams();
  const schedule = useQuery(scheduleQuery(scheduleId));
  const runs = useQuery(scheduleRunsQuery(scheduleId));
  const preview = useQuery(schedulePreviewQuery(scheduleId));
  usePageTitle(schedule.data === undefined ? `Schedule ${scheduleId}` : schedule.data.name);
  if (schedule.error) {
    return (
      <>
        <h1>Schedule {scheduleId}</h1>
        <Problem error={schedule.error} title="The schedule could not be read" />
        <p>
          <Link to="/schedules">All schedules</Link>
        </p>
      </>
    );
  }
  if (schedule.data === undefined) return <p aria-busy="true">Loading schedule {scheduleId}…</p>;
  const item = schedule.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> / {scheduleId}
      </p>
      <h1>
        {item.name} {item.enabled ? <span className="badge tone-good">Enabled</span> : <span className="badge tone-neutral">Disabled</span>}
      </h1>
      <ScheduleFacts schedule={item} />
      <ScheduleControls schedule={item} />
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Recent runs</h2>
        {runs.error ? <Problem error={runs.error} title="The runs could not be read" /> : null}
        <DataTable caption="The latest runs, newest first" columns={RUN_COLUMNS} data={runs.data?.items ?? []} rowId={(run) => run.id} busy={runs.isFetching} empty={runs.isPending ? 'Loading…' : 'It has not run yet.'} />
      </section>
      {preview.error ? <Problem error={preview.error} title="The preview could not be read" /> : null}
      {preview.data === undefined ? null : <PreviewView preview={preview.data} />}
    </>
  );
}

function ScheduleFacts({ schedule }: { readonly schedule: Schedule }) {
  const rings = schedule.rollout.rings;
  const facts: [string, ReactNode][] = [
    ['Schedule', schedule.id],
    ['Tenant', schedule.tenantId === undefined ? 'Every tenant' : `${schedule.tenantId}${schedule.includeChildTenants ? ' and its children' : ''}`],
    ['Targets', targetWords(schedule.target)],
    ['Device classes', deviceClassesWords(schedule.deviceClasses)],
    ...(schedule.limitTo === undefined ? [] : [['Only', schedule.limitTo] satisfies [string, ReactNode]]),
    ['Recurs', recurrenceWords(schedule)],
    ['Execution', executionWords(schedule)],
    ['Time zone', schedule.timeZone ?? "The tenant's, else UTC"],
    ['Reboots', rebootWords(schedule.reboot)],
    ['Postpone', postponeWords(schedule.postpone)],
    ['Offline computers', schedule.offline.behaviour === 'Skip' ? 'Skipped' : `Waited for, up to ${schedule.offline.waitHours} h`],
    ['Rings', rings.length === 0 ? 'None: every computer at once' : rings.map((ring) => `${ring.name} ${ring.percent} %`).join(' → ')],
    ['Version', String(schedule.version)],
    ['Updated', <><Time at={schedule.updatedAt} /> by {schedule.updatedBy.name}</>],
  ];
  return (
    <dl className="facts">
      {facts.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

type Request = 'run-now' | 'enable' | 'disable' | 'duplicate' | 'delete';

/** Edit, run now, enable or disable, duplicate or delete; none of them for a role that may not operate. */
function ScheduleControls({ schedule }: { readonly schedule: Schedule }) {
  const mayOperate = useMay('operate');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const confirmDelete = useRef<HTMLDialogElement>(null);
  const path = { params: { path: { scheduleId: schedule.id } } };
  const request = useMutation({
    mutationFn: async (kind: Request): Promise<void> => {
      switch (kind) {
        case 'run-now': {
          const { run } = asCore<{ run: ScheduleRun }>(await data(api.POST('/v1/schedules/{scheduleId}/run-now', path)));
          await navigate({ to: '/runs/$runId', params: { runId: run.id } });
          return;
        }
        case 'enable':
          await data(api.POST('/v1/schedules/{scheduleId}/enable', { ...path, body: { expectedVersion: schedule.version } }));
          return;
        case 'disable':
          await data(api.POST('/v1/schedules/{scheduleId}/disable', { ...path, body: { expectedVersion: schedule.version } }));
          return;
        case 'duplicate': {
          // the copy is disabled: it fires only once someone has looked at it and enabled it
          const copy = await data(api.POST('/v1/schedules/{scheduleId}/duplicate', { ...path, body: {} }));
          await navigate({ to: '/schedules/$scheduleId', params: { scheduleId: copy.schedule.id } });
          return;
        }
        case 'delete':
          // at the version shown: a schedule someone changed meanwhile is refused (409), not deleted unseen
          await data(api.DELETE('/v1/schedules/{scheduleId}', { params: { path: { scheduleId: schedule.id }, query: { expectedVersion: schedule.version } } }));
          await navigate({ to: '/schedules' });
          return;
      }
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['schedules'] }),
  });
  if (!mayOperate) return null;
  const busy = request.isPending;
  return (
    <section className="controls" aria-label="Schedule requests">
      <Link to="/schedules/$scheduleId/edit" params={{ scheduleId: schedule.id }} className="button-link">
        Edit
      </Link>
      <button type="button" disabled={busy} onClick={() => { request.mutate('run-now'); }}>
        Run now
      </button>
      {schedule.enabled ? (
        <button type="button" className="secondary" disabled={busy} onClick={() => { request.mutate('disable'); }}>
          Disable
        </button>
      ) : (
        <button type="button" className="secondary" disabled={busy} onClick={() => { request.mutate('enable'); }}>
          Enable
        </button>
      )}
      <button type="button" className="secondary" disabled={busy} onClick={() => { request.mutate('duplicate'); }}>
        Duplicate
      </button>
      <button type="button" className="danger" disabled={busy} onClick={() => confirmDelete.current?.showModal()}>
        Delete
      </button>
      <ConfirmDialog
        dialogRef={confirmDelete}
        id="confirm-delete-schedule"
        title="Delete this schedule?"
        explanation={`${schedule.name} stops firing and is removed. Runs already started carry on; its runs and its history stay.`}
        confirmLabel="Delete schedule"
        onConfirm={() => { request.mutate('delete'); }}
      />
      {request.error ? <Problem error={request.error} title="The request was refused" /> : null}
    </section>
  );
}
