import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useMemo, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { api, ApiError, data } from '../api/client.js';
import { createColumnHelper } from '@tanstack/react-table';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Field, type ControlProps } from '../components/Field.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { asCore, type SchedulePreview } from '../runs/types.js';
import { SKIP_LABELS } from '../runs/words.js';
import { tenantsQuery } from '../sessions/queries.js';
import { softwarePickerQuery, taskPickerQuery } from '../catalog/queries.js';
import { amountText, DEVICE_CLASSES, EMAIL_SWITCHES, fieldProblemsOf, inputFrom, inputNameFor, REBOOT_PREFERENCES, ringsText, SCHEDULE_FIELDS } from './form.js';
import { DEVICE_CLASS_WORDS, REBOOT_WORDS, type ScheduleInput } from './words.js';

/**
 * Create or edit a schedule. The API validates: its answer names the field at
 * fault (`body.schedule.recurrence.expression`), and the message is shown on
 * that input, which is marked invalid and focused. Preview asks the API what
 * the schedule as typed would target, and when each window would open.
 */

type FieldName = (typeof SCHEDULE_FIELDS)[number];

const EMAIL_LABELS: Readonly<Record<(typeof EMAIL_SWITCHES)[number], string>> = {
  detectionEmail: 'Detection email',
  detectionEmailWhenCompliant: 'Also when nothing needs doing',
  followUpEmail: 'Follow-up email',
  followUpOnlyIfActionNeeded: 'Only if something changed',
  showRunNowButton: 'Run now button',
  showPostponeButton: 'Postpone button',
  showCancelButton: 'Cancel button',
  showActionList: 'List the actions',
};

/** A catalog item `limitTo` may name: `software:<id>` or `task:<id>`. */
interface LimitOption {
  readonly value: string;
  readonly label: string;
}

type Saved = { readonly scheduleId: string };

export function ScheduleForm({ base, scheduleId, expectedVersion }: { readonly base: ScheduleInput; readonly scheduleId?: string; readonly expectedVersion?: number }) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const tenants = useQuery(tenantsQuery);
  const [recurrenceKind, setRecurrenceKind] = useState<string>(base.recurrence.kind);
  const [targetKind, setTargetKind] = useState<string>(base.target.kind);
  const [rebootPreference, setRebootPreference] = useState<string>(base.reboot.preference);
  const software = useQuery(softwarePickerQuery);
  const tasks = useQuery(taskPickerQuery);
  const catalogSettled = !software.isPending && !tasks.isPending;
  const limitOptions: LimitOption[] = [
    ...(software.data?.items ?? []).map((item) => ({ value: `software:${item.id}`, label: `Software: ${item.name}` })),
    ...(tasks.data?.items ?? []).map((item) => ({ value: `task:${item.id}`, label: `Task: ${item.name}` })),
  ];
  // a stored item outside the first page (or not loaded) is still offered, so an untouched edit keeps it
  if (base.limitTo !== undefined && !limitOptions.some((option) => option.value === base.limitTo)) limitOptions.push({ value: base.limitTo, label: base.limitTo });
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
        const name = inputNameFor(field, SCHEDULE_FIELDS);
        if (name === undefined) left.push(`${field}: ${problem}`);
        else placed.set(name, placed.has(name) ? `${placed.get(name) ?? ''}; ${problem}` : problem);
      }
      rest = left.length === 0 ? undefined : new ApiError(error.status, error.code, left.join('; '), error.field);
    }
    setFieldProblems(placed);
    setUnplaced(rest);
    const first = SCHEDULE_FIELDS.find((name) => placed.has(name));
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
  const field = (name: FieldName, label: string, control: (props: ControlProps) => ReactNode, hint?: string) => (
    <Field key={name} id={`${id}-${name}`} name={name} label={label} problem={problemOf(name)} hint={hint}>
      {control}
    </Field>
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
            <option value="ApplyOnConnect">Wait for them</option>
            <option value="Skip">Skip them</option>
          </select>
        ))}
        {field('offline.waitHours', 'Longest wait for an offline computer (hours)', (props) => <input {...props} type="number" min={1} max={72} step={1} defaultValue={base.offline.waitHours} />, 'when waiting for them: 1 to 72')}
        {field('timeZone', 'Time zone', (props) => <input {...props} type="text" defaultValue={base.timeZone ?? ''} placeholder="the tenant's, else UTC" />, 'IANA name, e.g. Europe/Berlin')}
      </fieldset>
      <fieldset>
        <legend>Computers</legend>
        <fieldset>
          <legend>Device classes</legend>
          {DEVICE_CLASSES.map((deviceClass) =>
            field(`deviceClasses.${deviceClass}`, DEVICE_CLASS_WORDS[deviceClass], (props) => <input {...props} type="checkbox" defaultChecked={base.deviceClasses.includes(deviceClass)} />),
          )}
          <small className="hint">None ticked: every class.</small>
        </fieldset>
        {field(
          'limitTo',
          'Only this software or task',
          (props) => (
            // remounted once the catalog is in, so the stored item is selected among the loaded ones
            <select {...props} key={catalogSettled ? 'settled' : 'loading'} defaultValue={base.limitTo ?? ''}>
              <option value="">None: everything deployed</option>
              {limitOptions.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          ),
          'Also what it depends on',
        )}
      </fieldset>
      <fieldset>
        <legend>Timing</legend>
        {field('useComputerTimeZone', "Execute in each computer's own zone", (props) => <input {...props} type="checkbox" defaultChecked={base.useComputerTimeZone} />)}
        {field('executeAfterActiveHours', 'Execute after active hours', (props) => <input {...props} type="checkbox" defaultChecked={base.executeAfterActiveHours} />, "A window inside the computer's active hours opens when they end")}
        {field('flexibleWindowMinutes', 'Flexible window (minutes)', (props) => <input {...props} type="number" min={0} max={240} step={1} defaultValue={base.flexibleWindowMinutes} />, 'The scheduler may fire up to this late, to spread load; 0 is exact')}
      </fieldset>
      <fieldset>
        <legend>Reboot</legend>
        {field('reboot.preference', 'Reboots', (props) => (
          <select {...props} defaultValue={base.reboot.preference} onChange={(event) => { setRebootPreference(event.currentTarget.value); }}>
            {REBOOT_PREFERENCES.map((preference) => (
              <option key={preference} value={preference}>
                {REBOOT_WORDS[preference]}
              </option>
            ))}
          </select>
        ))}
        {rebootPreference === 'Prompt' ? (
          <>
            {field('reboot.promptTimeoutMinutes', 'Wait for an answer (minutes)', (props) => <input {...props} type="number" min={5} max={1440} step={1} defaultValue={base.reboot.promptTimeoutMinutes} />)}
            {field('reboot.timeoutAction', 'When nobody answers', (props) => (
              <select {...props} defaultValue={base.reboot.timeoutAction}>
                <option value="Reboot">Reboot</option>
                <option value="Suppress">Do not reboot</option>
              </select>
            ))}
          </>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>End-user emails</legend>
        {EMAIL_SWITCHES.map((name) => field(`email.${name}`, EMAIL_LABELS[name], (props) => <input {...props} type="checkbox" defaultChecked={base.email[name]} />))}
        {field('email.additionalRecipients', 'Additional recipients', (props) => <input {...props} type="text" defaultValue={base.email.additionalRecipients.join(', ')} />, 'Email addresses separated by commas; at most 10')}
      </fieldset>
      <fieldset>
        <legend>Postpone</legend>
        {field('postpone.delayMinutes', 'Each postpone delays by (minutes)', (props) => <input {...props} type="number" min={5} max={10080} step={1} defaultValue={base.postpone.delayMinutes} />)}
        {field('postpone.maxCount', 'Postpones allowed', (props) => <input {...props} type="number" min={0} max={20} step={1} defaultValue={base.postpone.maxCount} />, '0: the user cannot postpone')}
        {field('postpone.maxDelayHours', 'Never later than (hours past the window)', (props) => <input {...props} type="number" min={1} max={168} step={1} defaultValue={base.postpone.maxDelayHours} />)}
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

type PreviewTarget = SchedulePreview['targets'][number];
const previewHelper = createColumnHelper<TableFeatureSet, PreviewTarget>();
const previewColumns = (tenantName: (tenantId: string) => string) => previewHelper.columns([
  previewHelper.accessor('computerName', { header: 'Computer', cell: (info) => `${info.getValue()} (${info.row.original.computerId})` }),
  previewHelper.accessor('tenantId', { header: 'Tenant', cell: (info) => tenantName(info.getValue()) }),
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
  const tenantName = useTenantName();
  const columns = useMemo(() => previewColumns(tenantName), [tenantName]);
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
      <DataTable caption={`Computers at the next fire (${preview.targets.length})`} columns={columns} data={preview.targets} rowId={(target) => target.computerId} empty="No computer is targeted." />
      {preview.unknownComputerIds.length > 0 ? <p className="problem">Unknown computers: {preview.unknownComputerIds.join(', ')}</p> : null}
    </section>
  );
}
