import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { useRef, useState } from 'react';
import { api, data } from '../api/client.js';
import { useMay } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { isRunFinal } from './queries.js';
import type { ScheduleRun } from './types.js';

/**
 * What an operator may ask of a run, as the API allows it: halt a running
 * run, resume a halted one, promote to the next ring (not from the last),
 * cancel while it is unfinished (after a confirmation: its queued computers
 * never start). A role that may not operate is offered none of them.
 */

type Operation = 'halt' | 'resume' | 'promote' | 'cancel';

const DONE: Readonly<Record<Operation, string>> = {
  halt: 'The run is halted: no more sessions start.',
  resume: 'The run goes on.',
  promote: 'The run moved to its next ring.',
  cancel: 'The run is cancelled.',
};

export function RunControls({ run }: { readonly run: ScheduleRun }) {
  const mayOperate = useMay('operate');
  const queryClient = useQueryClient();
  const confirmCancel = useRef<HTMLDialogElement>(null);
  const [outcome, setOutcome] = useState<string>();
  const request = useMutation({
    mutationFn: async (operation: Operation): Promise<Operation> => {
      const path = { params: { path: { runId: run.id } }, body: {} };
      switch (operation) {
        case 'halt':
          await data(api.POST('/v1/runs/{runId}/halt', path));
          break;
        case 'resume':
          await data(api.POST('/v1/runs/{runId}/resume', path));
          break;
        case 'promote':
          await data(api.POST('/v1/runs/{runId}/promote', path));
          break;
        case 'cancel':
          await data(api.POST('/v1/runs/{runId}/cancel', path));
          break;
      }
      return operation;
    },
    onSuccess: async (operation) => {
      setOutcome(DONE[operation]);
      await queryClient.invalidateQueries({ queryKey: ['runs', run.id] });
      await queryClient.invalidateQueries({ queryKey: ['schedules', 'runs', run.scheduleId] });
    },
  });
  if (!mayOperate || isRunFinal(run.status)) return null;
  const busy = request.isPending || run.status === 'Starting';
  const hasNextRing = run.currentRing < run.rollout.rings.length - 1;
  return (
    <section className="controls" aria-label="Run requests">
      {run.status === 'Halted' ? (
        <button type="button" disabled={busy} onClick={() => { request.mutate('resume'); }}>
          Resume
        </button>
      ) : (
        <button type="button" disabled={busy} onClick={() => { request.mutate('halt'); }}>
          Halt
        </button>
      )}
      {hasNextRing ? (
        <button type="button" className="secondary" disabled={busy} onClick={() => { request.mutate('promote'); }}>
          Promote to the next ring
        </button>
      ) : null}
      <button type="button" className="danger" disabled={request.isPending} onClick={() => confirmCancel.current?.showModal()}>
        Cancel run
      </button>
      <ConfirmDialog
        dialogRef={confirmCancel}
        id="confirm-run-cancel-title"
        title="Cancel this run?"
        explanation="Its queued computers never start; sessions already started run to their end."
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
