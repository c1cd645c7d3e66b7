import { formatDateTime, formatFullDateTime } from '../format.js';

/** An instant in the viewer's locale and zone, machine-readable, with the full date and zone on hover. */
export function Time({ at }: { readonly at: string }) {
  return (
    <time dateTime={at} title={formatFullDateTime(at)}>
      {formatDateTime(at)}
    </time>
  );
}
