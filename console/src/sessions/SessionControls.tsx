import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { useNavigate } from '@tanstack/react-router';
import { useId, useRef, useState, type SubmitEvent } from 'react';
import { api, data } from '../api/client.js';
import type { Schemas, SessionStatus } from '../api/types.js';
import { useMay } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { formatDateTime, localMinute } from '../format.js';
import { isFinal } from './words.js';

/**
 * What an operator may ask of a session: cancel, run now and postpone while
 * it is unfinished, rerun once it has ended. A role that may not operate
 * (a tenant viewer) is offered none of them; the API would refuse them anyway.
 * A request the session's state refuses now (the report's `allowed`, judged
 * by the API's own rules) is shown disabled, with the API's words for why.
 */

type Allowed = Schemas['SessionRequestsAllowed'];

const LABELS: Readonly<Record<keyof Allowed, string>> = { runNow: 'Run now', postpone: 'Postpone', cancel: 'Cancel', rerun: 'Rerun' };

/** A postpone moves by the session's own delay unless it names the new time (`until`, an instant). */
type Request = { readonly kind: 'cancel' | 'run-now' | 'rerun' } | { readonly kind: 'postpone'; readonly until?: string };

export function SessionControls({
  sessionId,
  status,
  allowed,
  executeAt,
}: {
  readonly sessionId: string;
  readonly status: SessionStatus;
  readonly allowed?: Allowed | undefined;
  /** When the maintenance may start now: a postpone to a chosen time must be later. */
  readonly executeAt?: string | undefined;
}) {
  const mayOperate = useMay('operate');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const confirmCancel = useRef<HTMLDialogElement>(null);
  const choosePostpone = useRef<HTMLDialogElement>(null);
  const untilId = useId();
  const [outcome, setOutcome] = useState<string>();
  // one key per intention: a double click or a retry asks for the same rerun once
  const [rerunKey, setRerunKey] = useState(() => crypto.randomUUID());
  const path = { params: { path: { sessionId } } };

  const request = useMutation({
    mutationFn: async (asked: Request): Promise<string> => {
      switch (asked.kind) {
        case 'cancel':
          await data(api.POST('/v1/sessions/{sessionId}/cancel', path));
          return 'The session is cancelled.';
        case 'run-now': {
          const { executeAt } = await data(api.POST('/v1/sessions/{sessionId}/run-now', path));
          return `Maintenance moved to now (${formatDateTime(executeAt)}).`;
        }
        case 'postpone': {
          const { executeAt: movedTo, postponesLeft } = await data(api.POST('/v1/sessions/{sessionId}/postpone', { ...path, body: asked.until === undefined ? {} : { until: asked.until } }));
          return `Postponed to ${formatDateTime(movedTo)}; ${postponesLeft} postpone(s) left.`;
        }
        case 'rerun': {
          const result = await data(api.POST('/v1/sessions/{sessionId}/rerun', { params: { path: { sessionId }, header: { 'idempotency-key': rerunKey } } }));
          setRerunKey(crypto.randomUUID());
          await navigate({ to: '/sessions/$sessionId', params: { sessionId: result.sessionId } });
          return result.created ? 'A new session was started.' : 'The computer already has an unfinished session: here it is.';
        }
      }
    },
    onSuccess: async (message) => {
      setOutcome(message);
      await queryClient.invalidateQueries({ queryKey: ['sessions'] });
    },
  });

  if (!mayOperate) return null;
  const ended = isFinal(status);
  const busy = request.isPending;
  const refused = (kind: keyof Allowed): string | undefined => (allowed?.[kind].allowed === false ? (allowed[kind].reason ?? 'not now') : undefined);
  /** The button's state: disabled while a request runs or when the session refuses it, then described by the reason. */
  const stateOf = (kind: keyof Allowed) => ({ disabled: busy || refused(kind) !== undefined, ...(refused(kind) === undefined ? {} : { 'aria-describedby': `refused-${kind}` }) });
  const shown: readonly (keyof Allowed)[] = ended ? ['rerun'] : ['runNow', 'postpone', 'cancel'];
  return (
    <section className="controls" aria-label="Session requests">
      {ended ? (
        <button type="button" {...stateOf('rerun')} onClick={() => { request.mutate({ kind: 'rerun' }); }}>
          Rerun
        </button>
      ) : (
        <>
          <button type="button" {...stateOf('runNow')} onClick={() => { request.mutate({ kind: 'run-now' }); }}>
            Run now
          </button>
          <button type="button" {...stateOf('postpone')} onClick={() => { request.mutate({ kind: 'postpone' }); }}>
            Postpone
          </button>
          <button type="button" className="secondary" {...stateOf('postpone')} onClick={() => choosePostpone.current?.showModal()}>
            Postpone to…
          </button>
          <button type="button" className="danger" {...stateOf('cancel')} onClick={() => confirmCancel.current?.showModal()}>
            Cancel session
          </button>
        </>
      )}
      {shown.some((kind) => refused(kind) !== undefined) ? (
        <ul className="refusals">
          {shown.map((kind) => {
            const reason = refused(kind);
            return reason === undefined ? null : (
              <li key={kind} id={`refused-${kind}`}>
                {LABELS[kind]}: {reason}
              </li>
            );
          })}
        </ul>
      ) : null}
      <ConfirmDialog
        dialogRef={confirmCancel}
        id="confirm-cancel-title"
        title="Cancel this session?"
        explanation="Before execution nothing on the computer is touched; during it the running command is stopped and nothing else starts."
        confirmLabel="Yes, cancel it"
        onConfirm={() => {
          request.mutate({ kind: 'cancel' });
        }}
      />
      <dialog ref={choosePostpone} aria-labelledby="choose-postpone-title" className="confirm">
        <form
          method="dialog"
          onSubmit={(event: SubmitEvent<HTMLFormElement>) => {
            const value = new FormData(event.currentTarget).get('until');
            const submitter = event.nativeEvent.submitter;
            // the input holds the viewer's wall time; the API takes an instant, so the browser's zone places it
            if (typeof value === 'string' && value !== '' && submitter instanceof HTMLButtonElement && submitter.value === 'postpone') {
              request.mutate({ kind: 'postpone', until: new Date(value).toISOString() });
            }
          }}
        >
          <h2 id="choose-postpone-title">Postpone to a time you choose</h2>
          <p>The maintenance starts at this time instead, in your time zone. The session's postpone limits still apply.</p>
          <div className="field">
            <label htmlFor={untilId}>New maintenance time</label>
            <input id={untilId} name="until" type="datetime-local" required {...(executeAt === undefined ? {} : { min: localMinute(new Date(executeAt)) })} />
          </div>
          <div className="dialog-buttons">
            <button type="submit" value="keep" formNoValidate>
              Keep the time
            </button>
            <button type="submit" value="postpone">
              Postpone
            </button>
          </div>
        </form>
      </dialog>
      <p role="status" className="outcome">
        {request.isSuccess ? outcome : ''}
      </p>
      {request.error ? <Problem error={request.error} title="The request was refused" /> : null}
    </section>
  );
}
