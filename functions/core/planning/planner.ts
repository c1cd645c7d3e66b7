import type { ActionType, DetectedItem, SessionItem } from '../model/session.js';
import { compareVersions } from '../versions.js';

export type PlanReason =
  | 'SoftwareMissing'
  | 'UpdateAvailable'
  | 'UpToDate'
  | 'NewerInstalled'
  | 'SoftwareDetected'
  | 'NotPresent'
  | 'Undetermined';

export interface PlanDecision {
  readonly item: SessionItem;
  readonly detected: DetectedItem;
  /** `undefined` when the computer is already where the deployment wants it (or we cannot tell). */
  readonly action?: ActionType;
  readonly reason: PlanReason;
}

/** What one item needs, given what detection found. Never acts on an undetermined state. */
export function decide(item: SessionItem, detected: DetectedItem): PlanDecision {
  if (detected.state === 'Undetermined') return { item, detected, reason: 'Undetermined' };
  if (item.desiredState === 'NotPresent') {
    return detected.state === 'Present'
      ? { item, detected, action: 'Uninstall', reason: 'SoftwareDetected' }
      : { item, detected, reason: 'NotPresent' };
  }
  if (detected.state === 'Absent') return { item, detected, action: 'Install', reason: 'SoftwareMissing' };
  const target = item.desiredVersion;
  if (target === undefined) return { item, detected, reason: 'UpToDate' };
  const order = compareVersions(detected.version, target);
  if (order === undefined) return { item, detected, reason: 'Undetermined' };
  if (order < 0) return { item, detected, action: 'Update', reason: 'UpdateAvailable' };
  return { item, detected, reason: order === 0 ? 'UpToDate' : 'NewerInstalled' };
}

export function plan(items: readonly SessionItem[], detected: Readonly<Record<string, DetectedItem>>): PlanDecision[] {
  return items.map((item) =>
    decide(item, detected[item.itemId] ?? { state: 'Undetermined', reason: 'missing from detection output' }),
  );
}

/** Whether the detected state satisfies the deployment: the verification rule. */
export function isCompliant(item: SessionItem, detected: DetectedItem): boolean {
  return decide(item, detected).action === undefined && detected.state !== 'Undetermined';
}
