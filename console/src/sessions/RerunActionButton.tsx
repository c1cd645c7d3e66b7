import { useMutation } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, data } from '../api/client.js';
import { Problem } from '../components/Problem.js';

/**
 * Reruns one action's item in a new session limited to it (the API's
 * per-action rerun): the fix for one failed install without redoing the
 * rest. One key per intention, so a double click starts one session.
 */
export function RerunActionButton({ sessionId, actionId, itemName }: { readonly sessionId: string; readonly actionId: string; readonly itemName: string }) {
  const navigate = useNavigate();
  const [key, setKey] = useState(() => crypto.randomUUID());
  const rerun = useMutation({
    mutationFn: () => data(api.POST('/v1/sessions/{sessionId}/actions/{actionId}/rerun', { params: { path: { sessionId, actionId }, header: { 'idempotency-key': key } } })),
    onSuccess: async (result) => {
      setKey(crypto.randomUUID());
      await navigate({ to: '/sessions/$sessionId', params: { sessionId: result.sessionId } });
    },
  });
  return (
    <>
      <button type="button" className="secondary small" disabled={rerun.isPending} onClick={() => { rerun.mutate(); }}>
        Rerun<span className="visually-hidden"> {itemName} in a new session</span>
      </button>
      {rerun.error ? <Problem error={rerun.error} title={`${itemName} could not be rerun`} /> : null}
    </>
  );
}
