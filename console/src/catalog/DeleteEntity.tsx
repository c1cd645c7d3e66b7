import { useMutation } from '@tanstack/react-query';
import { useRef } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Problem } from '../components/Problem.js';

/**
 * The Delete of a software item, task or deployment page: asked again in a
 * dialog, then sent at the revision the page shows, so one someone changed
 * meanwhile is refused, not deleted unseen. The API's refusal is shown as
 * it says it: what still uses the entity, or the revision it is at now.
 */
export function DeleteEntity({
  what,
  id,
  explanation,
  remove,
  onDeleted,
}: {
  /** "software", "maintenance task", "deployment". */
  readonly what: string;
  readonly id: string;
  readonly explanation: string;
  /** The API's deletion at the revision the page shows. */
  readonly remove: () => Promise<unknown>;
  readonly onDeleted: () => Promise<void>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const deletion = useMutation({ mutationFn: remove, onSuccess: onDeleted });
  const dialogId = `confirm-delete-${what.replace(/\W+/g, '-')}`;
  return (
    <>
      <button type="button" className="danger" disabled={deletion.isPending} onClick={() => dialog.current?.showModal()}>
        Delete
      </button>
      <ConfirmDialog dialogRef={dialog} id={dialogId} title={`Delete ${what} ${id}?`} explanation={explanation} confirmLabel={`Delete ${what}`} onConfirm={() => { deletion.mutate(); }} />
      {deletion.error ? <Problem error={deletion.error} title={`The ${what} was not deleted`} /> : null}
    </>
  );
}
