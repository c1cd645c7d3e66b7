import type { Platform, SoftwareDesiredState } from './catalog.js';

export type SessionStatus = 'Created' | 'Running' | 'Passed' | 'Failed';
export type StageName = 'Detection' | 'Execution' | 'Verification';
export type StageStatus = 'Unstarted' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped';

export interface Stage {
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
}

/** One resolved deployment, frozen into the session when it starts so later catalog edits do not move the target. */
export interface SessionItem {
  readonly itemId: string;
  readonly itemName: string;
  readonly deploymentId: string;
  readonly desiredState: SoftwareDesiredState;
  /** The concrete version the session aims for (the catalog's latest at resolve time, or the pinned one). */
  readonly desiredVersion?: string;
}

export interface SessionFailure {
  readonly code: string;
  readonly message: string;
}

export interface Session {
  readonly id: string;
  readonly computerId: string;
  readonly computerName: string;
  readonly agentId: string;
  readonly platform: Platform;
  readonly tenantId: string;
  readonly status: SessionStatus;
  /** Incremented by every write; each write is conditional on the version it read. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly stages: Readonly<Record<StageName, Stage>>;
  readonly items: readonly SessionItem[];
  readonly failure?: SessionFailure;
}

export type DetectedItem =
  | { readonly state: 'Present'; readonly version: string }
  | { readonly state: 'Absent' }
  | { readonly state: 'Undetermined'; readonly reason: string };

export type DetectionPhase = 'Initial' | 'Verification';

export interface DetectionSnapshot {
  readonly sessionId: string;
  readonly phase: DetectionPhase;
  readonly items: Readonly<Record<string, DetectedItem>>;
  readonly completedAt: string;
}

export type ActionType = 'Install' | 'Update' | 'Uninstall';
export type ActionStatus = 'NotStarted' | 'PerformingAction' | 'DeterminingResult' | 'Complete' | 'Skipped';
export type ActionResult = 'Pending' | 'Success' | 'Failed';

export interface Action {
  readonly sessionId: string;
  /** Zero-padded position in the plan (`001`), so actions sort in execution order. */
  readonly actionId: string;
  readonly itemId: string;
  readonly itemName: string;
  readonly type: ActionType;
  readonly reason: string;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** Actions that must succeed before this one runs. */
  readonly dependsOn: readonly string[];
  readonly status: ActionStatus;
  readonly result: ActionResult;
  readonly resultReason?: string;
  /** The stage that decided the result: the script itself, or verification afterwards. */
  readonly resultStage?: 'Execution' | 'Verification';
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly exitCode?: number;
  readonly durationMs?: number;
  readonly rebootRequired?: boolean;
  readonly outputTail?: string;
  /** What verification found for the item after the action. */
  readonly versionAfter?: string;
}

export const STAGE_NAMES: readonly StageName[] = ['Detection', 'Execution', 'Verification'];

export const newStages = (): Record<StageName, Stage> => ({
  Detection: { status: 'Unstarted' },
  Execution: { status: 'Unstarted' },
  Verification: { status: 'Unstarted' },
});

/**
 * Allowed session status changes. Anything not listed is rejected before a
 * write is attempted; the write itself is also conditional on the version read,
 * so a stale writer loses even when its transition would be legal.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  Created: ['Running', 'Failed'],
  Running: ['Passed', 'Failed'],
  Passed: [],
  Failed: [],
};

export const canTransitionSession = (from: SessionStatus, to: SessionStatus): boolean =>
  from === to || SESSION_TRANSITIONS[from].includes(to);

/** Allowed action status changes, same rules as the session's. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  NotStarted: ['PerformingAction', 'Skipped'],
  PerformingAction: ['DeterminingResult', 'Complete'],
  DeterminingResult: ['Complete'],
  Complete: [],
  Skipped: [],
};

export const canTransitionAction = (from: ActionStatus, to: ActionStatus): boolean =>
  ACTION_TRANSITIONS[from].includes(to);
