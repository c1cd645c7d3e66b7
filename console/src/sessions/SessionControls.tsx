import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { useNavigate } from '@tanstack/react-router';
import { useRef, useState } from 'react';
import { api, data } from '../api/client.js';
import type { SessionStatus } from '../api/types.js';
import { useMay } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { formatDateTime } from '../format.js';
import { isFinal } from './words.js';

/**
 * What an operator may ask of a session: cancel, run now and postpone while
 * it is unfinished, rerun once it has ended. A role that may not operate
 * (a tenant viewer) is offered none of them; the API would refuse them anyway.
 */

type Request = 'cancel' | 'run-now' | 'postpone' | 'rerun';

export function SessionControls({ sessionId, status }: { readonly sessionId: string; readonly status: SessionStatus }) {
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
  return (
    <section className="controls" aria-label="Session requests">
      {ended ? (
        <button type="button" disabled={busy} onClick={() => { request.mutate('rerun'); }}>
          Rerun
        </button>
      ) : (
        <>
          <button type="button" disabled={busy} onClick={() => { request.mutate('run-now'); }}>
            Run now
          </button>
          <button type="button" disabled={busy} onClick={() => { request.mutate('postpone'); }}>
            Postpone
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => confirmCancel.current?.showModal()}>
            Cancel session
          </button>
        </>
      )}
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
