import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { api, ApiError, data } from '../api/client.js';
import { createColumnHelper } from '@tanstack/react-table';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { asCore, type SchedulePreview } from '../runs/types.js';
import { SKIP_LABELS } from '../runs/words.js';
import { tenantsQuery } from '../sessions/queries.js';
import { amountText, fieldProblemsOf, inputFrom, inputNameFor, ringsText } from './form.js';
import type { ScheduleInput } from './words.js';

/**
 * Create or edit a schedule. The API validates: its answer names the field at
 * fault (`body.schedule.recurrence.expression`), and the message is shown on
 * that input, which is marked invalid and focused. Preview asks the API what
 * the schedule as typed would target, and when each window would open.
 */

const FIELD_NAMES = [
  'name',
  'enabled',
  'tenantId',
  'target.kind',
  'target.tag',
  'target.computerIds',
  'recurrence.kind',
  'recurrence.days',
  'recurrence.expression',
  'detectionTime',
  'maintenanceTime',
  'executeImmediatelyAfterDetection',
  'detectionOnly',
  'timeZone',
  'offline.behaviour',
  'rollout.rings',
  'rollout.maxConcurrent',
  'rollout.errorBudget',
] as const;

type Saved = { readonly scheduleId: string };

export function ScheduleForm({ base, scheduleId, expectedVersion }: { readonly base: ScheduleInput; readonly scheduleId?: string; readonly expectedVersion?: number }) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const tenants = useQuery(tenantsQuery);
  const [recurrenceKind, setRecurrenceKind] = useState<string>(base.recurrence.kind);
  const [targetKind, setTargetKind] = useState<string>(base.target.kind);
  // each input's problem, by input name, from the API's last refusal
  const [fieldProblems, setFieldProblems] = useState<ReadonlyMap<string, string>>(new Map());
  const [unplaced, setUnplaced] = useState<unknown>();

  const showProblem = (error: unknown) => {
    const placed = new Map<string, string>();
    let rest = error;
    if (error instanceof ApiError && error.code === 'VALIDATION_FAILED') {
      const problems = fieldProblemsOf(error.message, error.field);
      const left: string[] = [];
      for (const { field, problem } of problems) {
        const name = inputNameFor(field, FIELD_NAMES);
        if (name === undefined) left.push(`${field}: ${problem}`);
        else placed.set(name, placed.has(name) ? `${placed.get(name) ?? ''}; ${problem}` : problem);
      }
      rest = left.length === 0 ? undefined : new ApiError(error.status, error.code, left.join('; '), error.field);
    }
    setFieldProblems(placed);
    setUnplaced(rest);
    const first = FIELD_NAMES.find((name) => placed.has(name));
    // the first field at fault takes the focus, so the keyboard and a screen reader land on it
    if (first !== undefined) requestAnimationFrame(() => (form.current?.elements.namedItem(first) as HTMLElement | null)?.focus());
  };
  const clearProblems = () => {
    setFieldProblems(new Map());
    setUnplaced(undefined);
  };

  const save = useMutation({
    mutationFn: async (input: ScheduleInput): Promise<Saved> => {
      if (scheduleId !== undefined && expectedVersion !== undefined) {
        const { schedule } = await data(api.PUT('/v1/schedules/{scheduleId}', { params: { path: { scheduleId } }, body: { expectedVersion, schedule: input } }));
        return { scheduleId: schedule.id };
      }
      const { schedule } = await data(api.POST('/v1/schedules', { body: { schedule: input } }));
      return { scheduleId: schedule.id };
    },
    onMutate: clearProblems,
    onError: showProblem,
    onSuccess: async ({ scheduleId: saved }) => {
      await queryClient.invalidateQueries({ queryKey: ['schedules'] });
      await navigate({ to: '/schedules/$scheduleId', params: { scheduleId: saved } });
    },
  });
  const preview = useMutation({
    mutationFn: async (input: ScheduleInput) => asCore<SchedulePreview>(await data(api.POST('/v1/schedules/preview', { body: { schedule: input, fires: 5 } }))),
    onMutate: clearProblems,
    onError: showProblem,
  });

  const current = (): ScheduleInput | undefined => (form.current === null ? undefined : inputFrom(new FormData(form.current), base));
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input = current();
    if (input !== undefined) save.mutate(input);
  };
  const problemOf = (name: string) => fieldProblems.get(name);
  const field = (name: (typeof FIELD_NAMES)[number], label: string, control: (props: FieldProps) => ReactNode, hint?: string) => (
    <Field key={name} id={`${id}-${name}`} name={name} label={label} problem={problemOf(name)} hint={hint} control={control} />
  );
  const unplacedShown = unplaced !== undefined;

  return (
    <form ref={form} onSubmit={submit} className="schedule-form" noValidate aria-describedby={unplacedShown ? `${id}-problem` : undefined}>
      {unplacedShown ? (
        <div id={`${id}-problem`}>
          <Problem error={unplaced} title="The schedule was not saved" />
        </div>
      ) : null}
      <fieldset>
        <legend>What</legend>
        {field('name', 'Name', (props) => <input {...props} type="text" defaultValue={base.name} required />)}
        {field('enabled', 'Enabled', (props) => <input {...props} type="checkbox" defaultChecked={base.enabled} />)}
        {field('tenantId', 'Tenant', (props) => (
          <select {...props} defaultValue={base.tenantId ?? ''}>
            <option value="">Every tenant</option>
            {(tenants.data?.items ?? []).map((tenant) => (
              <option key={tenant.id} value={tenant.id}>
                {tenant.name}
              </option>
            ))}
            {base.tenantId !== undefined && !(tenants.data?.items ?? []).some((tenant) => tenant.id === base.tenantId) ? <option value={base.tenantId}>{base.tenantId}</option> : null}
          </select>
        ))}
        {field('target.kind', 'Targets', (props) => (
          <select {...props} defaultValue={base.target.kind} onChange={(event) => { setTargetKind(event.currentTarget.value); }}>
            <option value="AllComputers">All computers</option>
            <option value="Tag">Computers with a tag</option>
            <option value="Computers">Named computers</option>
          </select>
        ))}
        {targetKind === 'Tag' ? field('target.tag', 'Tag', (props) => <input {...props} type="text" defaultValue={base.target.kind === 'Tag' ? base.target.tag : ''} />) : null}
        {targetKind === 'Computers'
          ? field('target.computerIds', 'Computer ids', (props) => <input {...props} type="text" defaultValue={base.target.kind === 'Computers' ? base.target.computerIds.join(', ') : ''} />, 'Separated by commas')
          : null}
      </fieldset>
      <fieldset>
        <legend>When</legend>
        {field('recurrence.kind', 'Repeats', (props) => (
          <select {...props} defaultValue={base.recurrence.kind} onChange={(event) => { setRecurrenceKind(event.currentTarget.value); }}>
            <option value="Daily">Every day</option>
            <option value="Weekly">Weekly</option>
            <option value="Monthly">Monthly</option>
            <option value="Cron">Cron expression</option>
          </select>
        ))}
        {recurrenceKind === 'Weekly' || recurrenceKind === 'Monthly'
          ? field(
              'recurrence.days',
              'Days',
              (props) => <input {...props} type="text" defaultValue={base.recurrence.kind === 'Weekly' || base.recurrence.kind === 'Monthly' ? base.recurrence.days.join(', ') : ''} />,
              recurrenceKind === 'Weekly' ? 'MON, TUE, … separated by commas' : '1 to 31, or Last',
            )
          : null}
        {recurrenceKind === 'Cron'
          ? field('recurrence.expression', 'Cron expression', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.recurrence.kind === 'Cron' ? base.recurrence.expression : ''} />, 'minute hour day-of-month month day-of-week; at most daily')
          : field('detectionTime', 'Detection at', (props) => <input {...props} type="time" defaultValue={base.detectionTime ?? ''} />)}
        {field('maintenanceTime', 'Maintenance window opens at', (props) => <input {...props} type="time" defaultValue={base.maintenanceTime ?? ''} />)}
        {field('executeImmediatelyAfterDetection', 'Execute right after detection', (props) => <input {...props} type="checkbox" defaultChecked={base.executeImmediatelyAfterDetection} />)}
        {field('detectionOnly', 'Detection only', (props) => <input {...props} type="checkbox" defaultChecked={base.detectionOnly} />)}
        {field('offline.behaviour', 'Offline computers', (props) => (
          <select {...props} defaultValue={base.offline.behaviour}>
            <option value="ApplyOnConnect">Wait for them ({base.offline.waitHours} h at most)</option>
            <option value="Skip">Skip them</option>
          </select>
        ))}
        {field('timeZone', 'Time zone', (props) => <input {...props} type="text" defaultValue={base.timeZone ?? ''} placeholder="the tenant's, else UTC" />, 'IANA name, e.g. Europe/Berlin')}
      </fieldset>
      <fieldset>
        <legend>Rollout</legend>
        {field('rollout.rings', 'Rings', (props) => <textarea {...props} rows={3} spellCheck={false} defaultValue={ringsText(base.rollout.rings)} />, 'One per line: name, share reached (%), must pass (%), soak (minutes). Empty: every computer at once.')}
        {field('rollout.maxConcurrent', 'At most executing at once', (props) => <input {...props} type="text" defaultValue={amountText(base.rollout.maxConcurrent)} />, 'A count, or a share such as 10%; empty: no limit')}
        {field('rollout.errorBudget', 'Halt after failures', (props) => <input {...props} type="text" defaultValue={amountText(base.rollout.errorBudget)} />, 'A count, or a share such as 5%; empty: never')}
      </fieldset>
      <div className="filter-buttons">
        <button type="submit" disabled={save.isPending}>
          {scheduleId === undefined ? 'Create schedule' : 'Save changes'}
        </button>
        <button type="button" className="secondary" disabled={preview.isPending} onClick={() => { const input = current(); if (input !== undefined) preview.mutate(input); }}>
          Preview
        </button>
      </div>
      {preview.data === undefined ? null : <PreviewView preview={preview.data} />}
    </form>
  );
}

interface FieldProps {
  readonly id: string;
  readonly name: string;
  readonly 'aria-invalid': boolean | undefined;
  readonly 'aria-describedby': string | undefined;
}

function Field({ id, name, label, problem, hint, control }: { readonly id: string; readonly name: string; readonly label: string; readonly problem: string | undefined; readonly hint: string | undefined; readonly control: (props: FieldProps) => ReactNode }) {
  const described = [hint === undefined ? undefined : `${id}-hint`, problem === undefined ? undefined : `${id}-problem`].filter((part) => part !== undefined).join(' ');
  return (
    <div className={`field${problem === undefined ? '' : ' field-invalid'}`}>
      <label htmlFor={id}>{label}</label>
      {control({ id, name, 'aria-invalid': problem === undefined ? undefined : true, 'aria-describedby': described === '' ? undefined : described })}
      {hint === undefined ? null : (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {problem === undefined ? null : (
        <p id={`${id}-problem`} className="field-problem" role="alert">
          {label} {problem}
        </p>
      )}
    </div>
  );
}

type PreviewTarget = SchedulePreview['targets'][number];
const previewHelper = createColumnHelper<TableFeatureSet, PreviewTarget>();
const PREVIEW_COLUMNS = previewHelper.columns([
  previewHelper.accessor('computerName', { header: 'Computer', cell: (info) => `${info.getValue()} (${info.row.original.computerId})` }),
  previewHelper.accessor('tenantId', { header: 'Tenant' }),
  previewHelper.accessor('timeZone', { header: 'Its zone' }),
  previewHelper.accessor('windowOpensAt', {
    header: 'Window opens',
    cell: (info) => {
      const target = info.row.original;
      if (target.skipped !== undefined) return `Skipped: ${SKIP_LABELS[target.skipped]}${target.detail === undefined ? '' : ` (${target.detail})`}`;
      const at = info.getValue();
      return at === undefined ? 'Right after detection' : <Time at={at} />;
    },
  }),
]);

/** The next fires and each targeted computer's window, in the viewer's zone. */
export function PreviewView({ preview }: { readonly preview: SchedulePreview }) {
  return (
    <section aria-label="Preview" className="preview">
      <h2>Preview</h2>
      <p>
        Times read in {preview.timeZone}; shown in yours. Next fires:{' '}
        {preview.nextFires.length === 0
          ? 'none ahead.'
          : preview.nextFires.map((fire, index) => (
              <span key={fire}>
                {index === 0 ? '' : ', '}
                <Time at={fire} />
              </span>
            ))}
      </p>
      <DataTable caption={`Computers at the next fire (${preview.targets.length})`} columns={PREVIEW_COLUMNS} data={preview.targets} rowId={(target) => target.computerId} empty="No computer is targeted." />
      {preview.unknownComputerIds.length > 0 ? <p className="problem">Unknown computers: {preview.unknownComputerIds.join(', ')}</p> : null}
    </section>
  );
}
