import type { SessionStatus } from '../api/types.js';
import { STATUS_LABELS, STATUS_TONE } from '../sessions/words.js';

/** A session's status in words, coloured by what it means (the words carry it; the colour only helps). */
export function StatusBadge({ status }: { readonly status: SessionStatus }) {
  return <span className={`badge tone-${STATUS_TONE[status]}`}>{STATUS_LABELS[status]}</span>;
}
