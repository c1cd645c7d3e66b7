import { Fragment } from 'react';
import { Time } from './Time.js';

/**
 * A message the API wrote (a session's log line) with each ISO 8601 instant
 * in it shown in the viewer's locale and zone: the API words its log in UTC
 * instants ("maintenance postponed to 2026-12-01T21:00:00.000Z"), which a
 * technician in another zone would otherwise convert by hand.
 */

const ISO_INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})/g;

export function LocalTimes({ text }: { readonly text: string }) {
  const parts: (string | { readonly at: string })[] = [];
  let from = 0;
  for (const match of text.matchAll(ISO_INSTANT)) {
    // a string that only looks like an instant (an impossible date) stays as written
    if (Number.isNaN(Date.parse(match[0]))) continue;
    parts.push(text.slice(from, match.index), { at: match[0] });
    from = match.index + match[0].length;
  }
  parts.push(text.slice(from));
  return (
    <>
      {parts.map((part, index) => (
        <Fragment key={index}>{typeof part === 'string' ? part : <Time at={part.at} />}</Fragment>
      ))}
    </>
  );
}
