import type { RefObject } from 'react';

/**
 * A modal question before something that cannot be undone: "keep it" is the
 * default (focused, and what Escape does); only the danger button acts.
 */
export function ConfirmDialog({
  dialogRef,
  id,
  title,
  explanation,
  confirmLabel,
  onConfirm,
}: {
  readonly dialogRef: RefObject<HTMLDialogElement | null>;
  /** The id of its title, for `aria-labelledby`. */
  readonly id: string;
  readonly title: string;
  readonly explanation: string;
  readonly confirmLabel: string;
  readonly onConfirm: () => void;
}) {
  return (
    <dialog ref={dialogRef} aria-labelledby={id} className="confirm">
      <form method="dialog">
        <h2 id={id}>{title}</h2>
        <p>{explanation}</p>
        <div className="dialog-buttons">
          <button type="submit" value="keep" autoFocus>
            Keep it
          </button>
          <button type="submit" value="cancel" className="danger" onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
