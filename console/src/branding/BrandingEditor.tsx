import { hashKey, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useRef, useState, type SubmitEvent } from 'react';
import { api, ApiError, data } from '../api/client.js';
import { useMay } from '../auth/me.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Problem } from '../components/Problem.js';
import { asCore } from '../runs/types.js';
import { fieldProblemsOf } from '../schedules/form.js';
import {
  BRANDING_FIELDS,
  DEFAULT_BRANDING_ID,
  EMAIL_KIND_WORDS,
  EMAIL_KINDS,
  FIELD_GROUPS,
  inputNameFor,
  inputOf,
  inWords,
  sameValues,
  SEASON_FIELDS,
  valuesOf,
  type Branding,
  type EmailKind,
  type FormValues,
  type InputName,
  type OwnerChoice,
  type PreviewBody,
} from './fields.js';
import { Field } from '../components/Field.js';
import { BrandingField } from './BrandingField.js';
import { brandingsKey, brandingsQuery, previewQuery } from './queries.js';
import { useDebounced } from './use-debounced.js';

/**
 * One branding of one owner, edited beside a live preview. The preview draws
 * the form as typed (debounced) through the API, in a sandboxed frame: the
 * email's HTML never enters the console's own page. The API checks
 * everything: what it refuses is shown on the field it names, live from the
 * preview (a contrast below WCAG AA) and on save. A save carries the version
 * it was opened at: a change by someone else meanwhile is refused (409), not
 * overwritten, and the operator is offered a reload.
 */

const PREVIEW_DELAY_MS = 300;

type Problems = ReadonlyMap<InputName, string>;
const NO_PROBLEMS: Problems = new Map();

/** Each input's problem from a refusal (`VALIDATION_FAILED`), and what no input shows (another refusal). */
function placeProblems(error: unknown): { placed: Problems; unplaced: unknown } {
  if (!(error instanceof ApiError && error.code === 'VALIDATION_FAILED')) return { placed: NO_PROBLEMS, unplaced: error };
  return placeFieldProblems(fieldProblemsOf(error.message, error.field), (left) => new ApiError(error.status, error.code, left, error.field));
}

function placeFieldProblems(problems: readonly { readonly field: string; readonly problem: string }[], rest: (left: string) => unknown = (left) => new Error(left)): { placed: Problems; unplaced: unknown } {
  const placed = new Map<InputName, string>();
  const left: string[] = [];
  for (const { field, problem } of problems) {
    const name = inputNameFor(field);
    if (name === undefined) left.push(`${field}: ${problem}`);
    else placed.set(name, placed.has(name) ? `${placed.get(name) ?? ''}; ${inWords(problem)}` : inWords(problem));
  }
  return { placed, unplaced: left.length === 0 ? undefined : rest(left.join('; ')) };
}

const ORDER: readonly InputName[] = [...SEASON_FIELDS, ...BRANDING_FIELDS.map(({ name }) => name)];

export function BrandingEditor({
  owner,
  ownerLabel,
  stored,
  brandingId,
  onCreated,
  onDeleted,
}: {
  readonly owner: OwnerChoice;
  /** "the MSP" or the tenant's name: whose branding this is, in words. */
  readonly ownerLabel: string;
  /** The branding as stored when the editor opened; absent: none yet (everything inherited). */
  readonly stored: Branding | undefined;
  /** `default`, a seasonal branding's id, or undefined for a new seasonal branding. */
  readonly brandingId: string | undefined;
  readonly onCreated: (brandingId: string) => void;
  readonly onDeleted: (brandingId: string) => void;
}) {
  const id = useId();
  const queryClient = useQueryClient();
  const mayEdit = useMay('editBranding');
  const mayTest = useMay('operate');
  const form = useRef<HTMLFormElement>(null);
  const confirmDelete = useRef<HTMLDialogElement>(null);
  const creating = brandingId === undefined;
  const seasonal = brandingId !== DEFAULT_BRANDING_ID;

  const [base, setBase] = useState(stored);
  const [values, setValues] = useState<FormValues>(() => valuesOf(stored));
  const [newId, setNewId] = useState('');
  const [saveProblems, setSaveProblems] = useState<Problems>(NO_PROBLEMS);
  const [unplaced, setUnplaced] = useState<unknown>();
  const [conflict, setConflict] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [kind, setKind] = useState<EmailKind>('Detection');
  const [sessionId, setSessionId] = useState('');

  const dirty = !sameValues(values, valuesOf(base)) || (creating && newId !== '');
  const draft = useMemo(() => inputOf(values, seasonal), [values, seasonal]);
  // a new seasonal branding whose dates are not typed yet is not wrong yet: the preview draws it undated until they are, and a save names them
  const datesTyped = values['dateRange.from'].trim() !== '' || values['dateRange.to'].trim() !== '';
  const previewDraft = useMemo(() => (seasonal && !datesTyped ? inputOf(values, false) : draft), [values, seasonal, datesTyped, draft]);
  const previewBody = useMemo<PreviewBody>(
    () => ({ kind, ...(owner.kind === 'Tenant' ? { tenantId: owner.tenantId } : {}), ...(sessionId.trim() === '' ? {} : { sessionId: sessionId.trim() }), branding: previewDraft }),
    [kind, owner, sessionId, previewDraft],
  );
  const settled = useDebounced(previewBody, PREVIEW_DELAY_MS);
  const preview = useQuery(previewQuery(settled));
  const inherited = preview.data?.inherited;
  // by content: the owner is a new object on each of the page's renders
  const previewIsOfDraft = hashKey([settled]) === hashKey([previewBody]);

  // what the preview says is wrong with the draft as typed: a refusal of its schema, or a contrast a save would refuse.
  // A field's problem in a draft since changed is not shown against what the field reads now; the next preview names it again.
  const live = useMemo(() => {
    if (preview.error) {
      const found = placeProblems(preview.error);
      return previewIsOfDraft ? found : { placed: NO_PROBLEMS, unplaced: found.unplaced };
    }
    if (!previewIsOfDraft || preview.data === undefined || preview.isPlaceholderData) return { placed: NO_PROBLEMS, unplaced: undefined };
    return placeFieldProblems(preview.data.problems);
  }, [preview.error, preview.data, preview.isPlaceholderData, previewIsOfDraft]);
  const problems: Problems = useMemo(() => new Map([...live.placed, ...saveProblems]), [live.placed, saveProblems]);

  const clearOutcome = () => {
    setSaveProblems(NO_PROBLEMS);
    setUnplaced(undefined);
    setNotice(undefined);
  };
  const change = (name: keyof FormValues, value: string) => {
    setValues((current) => ({ ...current, [name]: value }));
    clearOutcome();
  };
  const showProblem = (error: unknown) => {
    const { placed, unplaced: rest } = placeProblems(error);
    setSaveProblems(placed);
    setUnplaced(rest);
    const first = ORDER.find((name) => placed.has(name));
    // the first field at fault takes the focus, so the keyboard and a screen reader land on it
    if (first !== undefined) requestAnimationFrame(() => (form.current?.elements.namedItem(first) as HTMLElement | null)?.focus());
  };
  const remember = (update: (stored: readonly Branding[]) => Branding[]) => {
    queryClient.setQueryData<Branding[]>(brandingsKey(owner), (list) => (list === undefined ? list : update(list)));
  };

  const save = useMutation({
    mutationFn: async (): Promise<Branding> => {
      const targetId = brandingId ?? newId.trim();
      const body = { branding: draft, expectedVersion: base?.version ?? 0 };
      const saved =
        owner.kind === 'Msp'
          ? await data(api.PUT('/v1/branding/{brandingId}', { params: { path: { brandingId: targetId } }, body }))
          : await data(api.PUT('/v1/tenants/{tenantId}/branding/{brandingId}', { params: { path: { tenantId: owner.tenantId, brandingId: targetId } }, body }));
      // the document declares a stored branding as an opaque object: it is the core's Branding
      return asCore<Branding>(saved);
    },
    onMutate: () => {
      clearOutcome();
      setConflict(false);
    },
    onError: (error) => {
      // a create under a name already taken is not someone else's edit of this one: the API's words say what to do
      if (error instanceof ApiError && error.code === 'CONFLICT' && !creating) setConflict(true);
      else showProblem(error);
    },
    onSuccess: (saved) => {
      remember((list) => [...list.filter((branding) => branding.id !== saved.id), saved]);
      setBase(saved);
      setValues(valuesOf(saved));
      setNotice(`Saved ${ownerLabel}’s branding (version ${saved.version}).`);
      if (creating) onCreated(saved.id);
    },
  });

  const remove = useMutation({
    mutationFn: async (deleting: Branding) => {
      const query = { expectedVersion: deleting.version };
      if (owner.kind === 'Msp') await data(api.DELETE('/v1/branding/{brandingId}', { params: { path: { brandingId: deleting.id }, query } }));
      else await data(api.DELETE('/v1/tenants/{tenantId}/branding/{brandingId}', { params: { path: { tenantId: owner.tenantId, brandingId: deleting.id }, query } }));
      return deleting;
    },
    onMutate: () => {
      clearOutcome();
      setConflict(false);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === 'CONFLICT') setConflict(true);
      else setUnplaced(error);
    },
    onSuccess: (deleted) => {
      remember((list) => list.filter((branding) => branding.id !== deleted.id));
      setBase(undefined);
      setValues(valuesOf(undefined));
      setNotice(deleted.id === DEFAULT_BRANDING_ID ? `Deleted: ${ownerLabel} now inherits everything.` : `Deleted the seasonal branding ${deleted.id}.`);
      onDeleted(deleted.id);
    },
  });

  const reload = useMutation({
    mutationFn: () => queryClient.query({ ...brandingsQuery(owner), staleTime: 0 }),
    onSuccess: (list) => {
      const found = list.find((branding) => branding.id === brandingId);
      setBase(found);
      setValues(valuesOf(found));
      setConflict(false);
      setSaveProblems(NO_PROBLEMS);
      setUnplaced(undefined);
      setNotice(found === undefined ? 'Reloaded: it was deleted meanwhile.' : `Reloaded version ${found.version}.`);
    },
    onError: setUnplaced,
  });

  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (creating && newId.trim() === '') {
      showProblem(new ApiError(400, 'VALIDATION_FAILED', 'invalid request: path.brandingId: must not be empty', 'path.brandingId'));
      return;
    }
    save.mutate();
  };

  const problemOf = (name: InputName) => problems.get(name);
  const fieldId = (name: string) => `${id}-${name}`;
  const shownUnplaced = unplaced ?? live.unplaced;
  const busy = save.isPending || remove.isPending || reload.isPending;

  return (
    <div className="branding-editor">
      <form ref={form} onSubmit={submit} className="branding-form" noValidate aria-label={`Branding of ${ownerLabel}`}>
        {conflict ? (
          <div role="alert" className="problem conflict">
            <p>
              <strong>Someone else changed this branding</strong> since you opened it (version {base?.version ?? 0}), so nothing was saved. Reload it to see their change; your edits here will be
              lost.
            </p>
            <button type="button" onClick={() => { reload.mutate(); }} disabled={reload.isPending}>
              Reload
            </button>
          </div>
        ) : null}
        {mayEdit ? null : <p className="read-only-note">Your role may read and preview branding, not change it.</p>}
        {shownUnplaced === undefined ? null : <Problem error={shownUnplaced} title={unplaced === undefined ? 'The preview could not be drawn' : 'The branding was not saved'} />}
        <fieldset disabled={!mayEdit} className="branding-fields">
          <legend className="visually-hidden">{mayEdit ? 'Branding fields' : 'Branding fields (read-only for your role)'}</legend>
          {seasonal ? (
            <fieldset>
              <legend>Season</legend>
              {creating ? (
                <Field problemAfter=": " id={fieldId('brandingId')} name="brandingId" label="Name of the seasonal branding" problem={problemOf('brandingId')} hint="Lowercase letters, digits and -, e.g. winter-holidays">
                  {(props) => <input {...props} type="text" value={newId} spellCheck={false} onChange={(event) => { setNewId(event.currentTarget.value); clearOutcome(); }} />}
                </Field>
              ) : null}
              <div className="date-range">
                <Field problemAfter=": " id={fieldId('dateRange.from')} name="dateRange.from" label="From" problem={problemOf('dateRange.from')} hint="In each recipient’s time zone">
                  {(props) => <input {...props} type="date" value={values['dateRange.from']} onChange={(event) => { change('dateRange.from', event.currentTarget.value); }} />}
                </Field>
                <Field problemAfter=": " id={fieldId('dateRange.to')} name="dateRange.to" label="To (inclusive)" problem={problemOf('dateRange.to')} hint={undefined}>
                  {(props) => <input {...props} type="date" value={values['dateRange.to']} onChange={(event) => { change('dateRange.to', event.currentTarget.value); }} />}
                </Field>
              </div>
              <p className="hint">While its dates last, what it sets wins over the default branding; the rest comes from the default.</p>
            </fieldset>
          ) : null}
          {FIELD_GROUPS.map((group) => (
            <fieldset key={group.legend}>
              <legend>{group.legend}</legend>
              {group.fields.map((spec) => (
                <BrandingField
                  key={spec.name}
                  id={fieldId(spec.name)}
                  spec={spec}
                  value={values[spec.name]}
                  inherited={inherited?.[spec.name]}
                  inheritedKnown={inherited !== undefined}
                  inheritedWord={owner.kind === 'Msp' && !seasonal ? 'Nightshift’s default' : 'Inherited'}
                  problem={problemOf(spec.name)}
                  editable={mayEdit}
                  onChange={(value: string) => { change(spec.name, value); }}
                />
              ))}
            </fieldset>
          ))}
        </fieldset>
        {mayEdit ? (
          <div className="branding-actions">
            <button type="submit" disabled={busy}>
              {creating ? 'Create seasonal branding' : 'Save branding'}
            </button>
            {base === undefined ? null : (
              <button type="button" className="danger" disabled={busy} onClick={() => confirmDelete.current?.showModal()}>
                {base.id !== DEFAULT_BRANDING_ID ? 'Delete this seasonal branding' : owner.kind === 'Msp' ? 'Delete the MSP’s branding' : 'Delete this tenant’s override'}
              </button>
            )}
            <p role="status" className="outcome">
              {notice ?? (dirty ? 'Unsaved changes.' : base === undefined ? 'Nothing saved yet: everything is inherited.' : `Saved version ${base.version}.`)}
            </p>
          </div>
        ) : null}
        {base === undefined ? null : (
          <ConfirmDialog
            dialogRef={confirmDelete}
            id={`${id}-confirm-delete`}
            title={base.id !== DEFAULT_BRANDING_ID ? `Delete the seasonal branding ${base.id}?` : `Delete ${ownerLabel}’s branding?`}
            explanation={
              owner.kind === 'Msp'
                ? 'Emails and link pages fall back to what is inherited for every field it sets. Tenant overrides stay.'
                : 'This tenant’s emails and link pages go back to what it inherits for every field the override sets.'
            }
            confirmLabel="Yes, delete it"
            onConfirm={() => {
              remove.mutate(base);
            }}
          />
        )}
      </form>

      <div className="branding-side">
        <section className="branding-preview" aria-labelledby={`${id}-preview-title`} aria-busy={preview.isFetching}>
          <h2 id={`${id}-preview-title`}>Preview</h2>
          <div className="filters">
            <div className="field">
              <label htmlFor={`${id}-kind`}>Email</label>
              <select id={`${id}-kind`} value={kind} onChange={(event) => { setKind(event.currentTarget.value as EmailKind); }}>
                {EMAIL_KINDS.map((each) => (
                  <option key={each} value={each}>
                    {EMAIL_KIND_WORDS[each]}
                  </option>
                ))}
              </select>
            </div>
            <Field problemAfter=": " id={fieldId('sessionId')} name="sessionId" label="Real session (optional)" problem={problemOf('sessionId')} hint={undefined}>
              {(props) => <input {...props} type="text" value={sessionId} placeholder="a sample evening" spellCheck={false} onChange={(event) => { setSessionId(event.currentTarget.value); }} />}
            </Field>
          </div>
          <p className="hint" aria-live="polite">
            {preview.isFetching ? 'Drawing…' : dirty ? 'With your unsaved changes.' : 'As saved.'} Its buttons go nowhere.
          </p>
          {preview.data === undefined ? (
            preview.error ? null : <p aria-busy="true">Drawing the email…</p>
          ) : (
            <>
              <p className="email-subject">
                <strong>Subject:</strong> {preview.data.subject}
              </p>
              {/* sandbox="": the email's HTML runs no script, submits no form and is its own opaque origin, never part of the console's page */}
              <iframe className="email-frame" sandbox="" srcDoc={preview.data.html} title={`Preview of the ${EMAIL_KIND_WORDS[kind].toLowerCase()} email`} />
              <details>
                <summary>Plain-text version</summary>
                <pre className="email-text">{preview.data.text}</pre>
              </details>
            </>
          )}
        </section>
        {mayTest ? <TestEmail body={previewBody} /> : null}
      </div>
    </div>
  );
}

/** Sends what the preview shows (unsaved changes included) to one address, its subject marked [Test]. */
function TestEmail({ body }: { readonly body: PreviewBody }) {
  const id = useId();
  const [to, setTo] = useState('');
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [unplaced, setUnplaced] = useState<unknown>();
  const send = useMutation({
    mutationFn: (address: string) => data(api.POST('/v1/branding/test-email', { body: { ...body, to: address } })),
    onMutate: () => {
      setProblems(NO_PROBLEMS);
      setUnplaced(undefined);
    },
    onError: (error) => {
      const placed = placeProblems(error);
      setProblems(new Map([...placed.placed].filter(([name]) => name === 'to')));
      // a problem with the branding itself is the form's to show; here it is said in words
      const elsewhere = [...placed.placed].filter(([name]) => name !== 'to');
      setUnplaced(placed.unplaced ?? (elsewhere.length === 0 ? undefined : new Error(`fix the branding first: ${elsewhere.map(([name, problem]) => `${name} ${problem}`).join('; ')}`)));
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    send.mutate(to.trim());
  };
  return (
    <form className="test-email" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Send a test email</h2>
      <Field problemAfter=": " id={`${id}-to`} name="to" label="Send to" problem={problems.get('to')} hint="The preview above, with any unsaved changes; its subject starts with [Test]">
        {(props) => <input {...props} type="email" value={to} autoComplete="email" onChange={(event) => { setTo(event.currentTarget.value); }} />}
      </Field>
      <div className="filter-buttons">
        <button type="submit" disabled={send.isPending}>
          Send test email
        </button>
      </div>
      <p role="status" className="outcome">
        {send.isSuccess ? `Sent to ${send.variables} (message ${send.data.messageId}).` : ''}
      </p>
      {unplaced === undefined ? null : <Problem error={unplaced} title="The test email was not sent" />}
    </form>
  );
}
