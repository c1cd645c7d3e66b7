import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { useNavigate } from '@tanstack/react-router';
import { useRef, useState } from 'react';
import { api, data } from '../api/client.js';
import type { Schemas, SessionStatus } from '../api/types.js';
import { useMay } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { formatDateTime } from '../format.js';
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

type Request = 'cancel' | 'run-now' | 'postpone' | 'rerun';

export function SessionControls({ sessionId, status, allowed }: { readonly sessionId: string; readonly status: SessionStatus; readonly allowed?: Allowed | undefined }) {
  const mayOperate = useMay('operate');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const confirmCancel = useRef<HTMLDialogElement>(null);
  const [outcome, setOutcome] = useState<string>();
  // one key per intention: a double click or a retry asks for the same rerun once
  const [rerunKey, setRerunKey] = useState(() => crypto.randomUUID());
  const path = { params: { path: { sessionId } } };

  const request = useMutation({
    mutationFn: async (kind: Request): Promise<string> => {
      switch (kind) {
        case 'cancel':
          await data(api.POST('/v1/sessions/{sessionId}/cancel', path));
          return 'The session is cancelled.';
        case 'run-now': {
          const { executeAt } = await data(api.POST('/v1/sessions/{sessionId}/run-now', path));
          return `Maintenance moved to now (${formatDateTime(executeAt)}).`;
        }
        case 'postpone': {
          const { executeAt, postponesLeft } = await data(api.POST('/v1/sessions/{sessionId}/postpone', { ...path, body: {} }));
          return `Postponed to ${formatDateTime(executeAt)}; ${postponesLeft} postpone(s) left.`;
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
        <button type="button" {...stateOf('rerun')} onClick={() => { request.mutate('rerun'); }}>
          Rerun
        </button>
      ) : (
        <>
          <button type="button" {...stateOf('runNow')} onClick={() => { request.mutate('run-now'); }}>
            Run now
          </button>
          <button type="button" {...stateOf('postpone')} onClick={() => { request.mutate('postpone'); }}>
            Postpone
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
          request.mutate('cancel');
        }}
      />
      <p role="status" className="outcome">
        {request.isSuccess ? outcome : ''}
      </p>
      {request.error ? <Problem error={request.error} title="The request was refused" /> : null}
    </section>
  );
}
