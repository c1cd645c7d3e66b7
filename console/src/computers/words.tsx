import type { Schemas } from '../api/types.js';
import type { CandidateExplanation, ResolutionRule } from '../../../functions/core/model/session.js';

/** A computer, what it gets and how it stands, in the words an operator uses. */

export type Computer = Schemas['Computer'];
export type ComputerCompliance = Schemas['ComputerCompliance'];
export type ItemCompliance = ComputerCompliance['items'][number];
export type ComplianceState = ItemCompliance['state'];
type Tone = 'neutral' | 'active' | 'good' | 'warn' | 'bad';

/** Every state (a state the API adds fails to compile here until it has words), worst first: the order of the counts. */
export const COMPLIANCE_LABELS: Readonly<Record<ComplianceState, string>> = {
  NotCompliant: 'Not compliant',
  Undetermined: 'Could not tell',
  NotDetected: 'Not detected',
  Compliant: 'Compliant',
  NotEnforced: 'Not enforced',
};

export const COMPLIANCE_ORDER = Object.keys(COMPLIANCE_LABELS) as readonly ComplianceState[];

export const COMPLIANCE_TONE: Readonly<Record<ComplianceState, Tone>> = {
  NotCompliant: 'bad',
  Undetermined: 'warn',
  NotDetected: 'neutral',
  Compliant: 'good',
  NotEnforced: 'neutral',
};

export function ComplianceBadge({ state }: { readonly state: ComplianceState }) {
  return <span className={`badge tone-${COMPLIANCE_TONE[state]}`}>{COMPLIANCE_LABELS[state]}</span>;
}

export const DEVICE_CLASS_LABELS: Readonly<Record<Computer['deviceClass'], string>> = {
  Workstation: 'Workstation',
  Portable: 'Laptop',
  Server: 'Server',
  DomainController: 'Domain controller',
};

export const PLATFORM_LABELS: Readonly<Record<Computer['platform'], string>> = { linux: 'Linux', windows: 'Windows' };

const DESIRED_WORDS: Readonly<Record<string, string>> = {
  LatestVersion: 'Latest version',
  ThisVersion: 'Exactly version',
  AnyVersion: 'Any version',
  NewerOrEqualVersion: 'At least version',
  UpdateIfFound: 'Update if installed',
  NotPresent: 'Not installed',
  Ignored: 'Ignored',
  Enforce: 'Enforce',
  Audit: 'Audit',
  Monitor: 'Monitor',
  Ignore: 'Ignored',
};

/** "ThisVersion 1.2" → "Exactly version 1.2": the API's `wants` (a desired state or task mode, then a version) in words. */
export function wantsWords(wants: string): string {
  const [state = '', ...rest] = wants.split(' ');
  return [DESIRED_WORDS[state] ?? state, ...rest].join(' ');
}

export const ORIGIN_LABELS: Readonly<Record<ItemCompliance['origin'], string>> = {
  Deployed: 'Deployed',
  Prerequisite: 'Prerequisite',
  Unassigned: 'Only disabled deployments',
};

/** Why a losing deployment lost, short enough for a list under the winner. */
export const LOST_BY_WORDS: Readonly<Record<ResolutionRule, string>> = {
  OnlyCandidate: 'the only one',
  TargetLevel: 'its target is wider',
  DeviceClassFilter: 'its device-class filter is less specific',
  IgnoredWinsTie: 'Ignored wins a tie',
  MoreSpecificTarget: 'its target is less specific',
  LowestDeploymentId: 'a lower deployment id wins a tie',
  Disabled: 'disabled',
};

/** "deploy-7 (tag "kiosk" in tenant acme) wants Latest version: lost, its target is wider". */
export function candidateWords(candidate: CandidateExplanation): string {
  const lost = candidate.lostBy === undefined ? 'won' : `lost, ${LOST_BY_WORDS[candidate.lostBy]}`;
  return `${candidate.deploymentId} (${candidate.target}) wants ${wantsWords(candidate.wants)}: ${lost}`;
}
