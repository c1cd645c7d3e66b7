import type { SessionSummary } from '../api/types.js';
import { LocalTimes } from '../components/LocalTimes.js';
import { requesterLabel } from './words.js';

/** Who asked, as `requesterLabel` words it; a schedule's name carries the instant it fired for, shown in the viewer's zone. */
export function RequesterLabel({ by }: { readonly by: SessionSummary['requestedBy'] }) {
  return <LocalTimes text={requesterLabel(by)} />;
}
