import type { RunStatus, SkipReason } from './types.js';

/** The run vocabulary as the console shows it. */

export const RUN_STATUS_LABELS: Readonly<Record<RunStatus, string>> = {
  Starting: 'Starting',
  Running: 'Running',
  Halted: 'Halted',
  Completed: 'Completed',
  Cancelled: 'Cancelled',
};

export const RUN_STATUS_TONE: Readonly<Record<RunStatus, 'neutral' | 'active' | 'good' | 'warn' | 'bad'>> = {
  Starting: 'active',
  Running: 'active',
  Halted: 'warn',
  Completed: 'good',
  Cancelled: 'neutral',
};

export const SKIP_LABELS: Readonly<Record<SkipReason, string>> = {
  Offline: 'Offline',
  NoApplicableDeployments: 'Nothing deployed',
  ActiveSession: 'Already in a session',
  TenantDisabled: 'Tenant disabled',
  StartFailed: 'Could not start',
};

export function RunStatusBadge({ status }: { readonly status: RunStatus }) {
  return <span className={`badge tone-${RUN_STATUS_TONE[status]}`}>{RUN_STATUS_LABELS[status]}</span>;
}
