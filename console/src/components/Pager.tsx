/**
 * Back and forth through a list the API pages with opaque cursors: the pages
 * opened so far are a stack of cursors, so "back" needs no cursor of its own.
 */
export function Pager({
  label,
  cursors,
  setCursors,
  nextCursor,
  waiting,
  words = ['Previous', 'Next'],
}: {
  /** What the pages are of, for screen readers ("Pages of sessions"). */
  readonly label: string;
  readonly cursors: readonly string[];
  readonly setCursors: (update: (opened: readonly string[]) => readonly string[]) => void;
  /** The cursor of the page after this one; absent on the last page. */
  readonly nextCursor: string | undefined;
  /** The shown page is a placeholder while the next one loads: no going further yet. */
  readonly waiting: boolean;
  readonly words?: readonly [back: string, forward: string];
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={cursors.length === 0} onClick={() => { setCursors((opened) => opened.slice(0, -1)); }}>
        {words[0]}
      </button>
      <span aria-live="polite">Page {cursors.length + 1}</span>
      <button
        type="button"
        disabled={waiting || nextCursor === undefined}
        onClick={() => {
          if (nextCursor !== undefined) setCursors((opened) => [...opened, nextCursor]);
        }}
      >
        {words[1]}
      </button>
    </nav>
  );
}
