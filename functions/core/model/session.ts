import type { ActionTarget, DeviceClass, ItemKey, OrderingHint, ParameterValue, Platform, SoftwareDesiredState, TaskMode } from './catalog.js';

import { z } from 'zod';
import { itemKeySchema } from './catalog.js';
import { lowerCaseEmailAddressSchema } from './email-address.js';

/**
 * Session statuses.
 * - Passed: every action succeeded (or there was nothing to do), and detection
 *   could read every enforced item.
 * - PartialPassed: some actions failed or were skipped, or some items could not
 *   be determined, and every one of them belongs to a non-critical deployment
 *   (`critical: false`), or is an observation (audit, monitoring) or the
 *   restart: the computer got everything that matters.
 * - Failed: a critical action failed or was skipped, a critical item could not
 *   be determined, or the session itself broke.
 */
export type SessionStatus =
  | 'Created'
  | 'Running'
  | 'PendingConnectivity'
  | 'Postponed'
  | 'Cancelled'
  | 'Passed'
  | 'PartialPassed'
  | 'Failed';

/** Who asked for a change to a session: recorded with every postpone, cancel and run-now. */
export const requesterSchema = z.object({
  kind: z.enum(['EndUser', 'Operator', 'Api', 'Schedule']),
  /** A name or email, for the log; never used to decide anything. */
  name: z.string().trim().min(1).max(254),
});
export type Requester = z.infer<typeof requesterSchema>;

/** Where a session came from when a schedule started it. */
export interface SessionOrigin {
  readonly scheduleId: string;
  readonly runId: string;
  /** The run's execution slots: at most this many of its sessions execute at once (their windows open, they wait for a slot). */
  readonly maxExecuting?: number;
}

/** The end-user email options a session carries (copied from its schedule; an operator's start may set them). */
export const notifyOptionsSchema = z
  .object({
    detectionEmail: z.boolean().default(true),
    /** Also send the detection email when nothing needs doing. */
    detectionEmailWhenCompliant: z.boolean().default(false),
    followUpEmail: z.boolean().default(true),
    followUpOnlyIfActionNeeded: z.boolean().default(true),
    showRunNowButton: z.boolean().default(true),
    showPostponeButton: z.boolean().default(true),
    showCancelButton: z.boolean().default(true),
    showActionList: z.boolean().default(true),
    /** People told besides the computer's primary user (an office manager, a shared mailbox). */
    additionalRecipients: z.array(lowerCaseEmailAddressSchema).max(10, 'at most 10 additional recipients').default([]),
  })
  .strict();
export type NotifyOptions = z.infer<typeof notifyOptionsSchema>;

export const sessionOptionsSchema = z
  .object({
    /** Detection only: plan and report what would change, touch nothing. */
    mode: z.enum(['Full', 'DetectionOnly']).default('Full'),
    /** When execution may start: at once after detection, or at a maintenance time (an instant). */
    executeAt: z.iso.datetime({ offset: true }).optional(),
    reboot: z.enum(['IfNecessary', 'Suppress', 'Force']).default('IfNecessary'),
    /** Only this software item or task (and what it needs), instead of everything deployed to the computer. */
    limitTo: itemKeySchema.optional(),
    /** Offline computer: wait for it and carry on when it is back, or end the session as unreachable. */
    offline: z.enum(['ApplyOnConnect', 'Skip']).default('ApplyOnConnect'),
    /** With ApplyOnConnect: how long to wait for an offline computer before giving up (within the agent's delivery timeout). */
    offlineWaitSeconds: z.number().int().min(60).max(30 * 86_400).optional(),
    /** Which emails the end user gets; absent: none (an operator working on a computer by hand tells its user). */
    notify: notifyOptionsSchema.optional(),
    postpone: z
      .object({
        delayMinutes: z.number().int().min(5).max(7 * 24 * 60).default(60),
        maxCount: z.number().int().min(0).max(20).default(2),
        /** No postpone may move execution past this instant. */
        deadline: z.iso.datetime({ offset: true }).optional(),
        /** No postpone may move execution more than this past the window it first had (a schedule's deadline, relative to each computer's window). */
        maxDelayMinutes: z.number().int().min(1).max(14 * 24 * 60).optional(),
      })
      .default({ delayMinutes: 60, maxCount: 2 }),
  })
  .superRefine((options, ctx) => {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a missing instant parses as NaN, which no comparison passes; the guards are for the types
    if (options.executeAt && options.postpone.deadline && Date.parse(options.postpone.deadline) < Date.parse(options.executeAt)) {
      ctx.addIssue({ code: 'custom', path: ['postpone', 'deadline'], message: 'must not be before executeAt' });
    }
  });
export type SessionOptions = z.infer<typeof sessionOptionsSchema>;

/**
 * How far ahead a session may wait for its window, postponements included.
 * The waiting costs nothing (one parked token, one timer), but the gate's
 * `TimeoutSeconds` safety net has to be a fixed number in the ASL, and a
 * maintenance that keeps moving for more than two weeks is a schedule, not a session.
 */
export const MAX_WINDOW_DAYS = 14;

export interface Postponement {
  readonly at: string;
  readonly by: Requester;
  readonly from: string;
  readonly to: string;
  /** The email link that asked for it: the same link postpones once, however often it is followed. */
  readonly ref?: string;
}
export type StageName = 'Detection' | 'Execution' | 'Verification';
export type StageStatus = 'Unstarted' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped';

export interface Stage {
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
}

/** Which rule decided between two deployments of the same item (the answer to "why this one?"). */
export type ResolutionRule =
  | 'OnlyCandidate'
  | 'TargetLevel'
  | 'DeviceClassFilter'
  | 'IgnoredWinsTie'
  | 'MoreSpecificTarget'
  | 'LowestDeploymentId'
  | 'Disabled';

export type TargetLevel = 'Individual' | 'SingleTenant' | 'CrossTenant';

export interface CandidateExplanation {
  readonly deploymentId: string;
  readonly level: TargetLevel;
  /** The target in words, e.g. `tag "kiosk" in tenant contoso`. */
  readonly target: string;
  readonly deviceClasses?: readonly DeviceClass[];
  /** What this deployment wants: a desired state or a task mode. */
  readonly wants: string;
  /** For losers: the rule that put them behind the winner. */
  readonly lostBy?: ResolutionRule;
}

export interface Explanation {
  readonly winner?: string;
  /** The rule that separated the winner from the runner-up. */
  readonly rule: ResolutionRule;
  /** Every deployment of the item that applies to the computer, winner first. */
  readonly candidates: readonly CandidateExplanation[];
  /** For items added because another item needs them. */
  readonly requiredBy?: readonly ItemKey[];
  /** One sentence an operator can read. */
  readonly summary: string;
}

export interface ItemDependency {
  readonly key: ItemKey;
  readonly requires: 'Installed' | 'Absent';
}

interface SessionItemBase {
  readonly key: ItemKey;
  readonly itemId: string;
  readonly itemName: string;
  /** Where the item comes from: a winning deployment, another item's prerequisite, or nothing enabled. */
  readonly origin: 'Deployed' | 'Prerequisite' | 'Unassigned';
  readonly deploymentId?: string;
  /** From the deployment: whether a failure here fails the session (prerequisites are critical). */
  readonly critical: boolean;
  readonly orderingHint: OrderingHint;
  readonly explanation: Explanation;
  /** Set when the item's dependencies contradict another deployment; the planner leaves such items alone. */
  readonly conflict?: string;
}

/** One resolved software deployment, frozen into the session so later catalog edits do not move the target. */
export interface SoftwareSessionItem extends SessionItemBase {
  readonly kind: 'Software';
  readonly desiredState: SoftwareDesiredState;
  /** The version to install or update to (the pinned one, or the catalog's latest at resolve time). */
  readonly targetVersion: string;
  /** The lowest acceptable version (NewerOrEqualVersion), or the only one (ThisVersion). */
  readonly requiredVersion?: string;
  readonly dependencies: readonly ItemDependency[];
  readonly hasTest: boolean;
}

/** One resolved maintenance-task deployment. Secret parameter values are not copied here. */
export interface TaskSessionItem extends SessionItemBase {
  readonly kind: 'Task';
  readonly mode: TaskMode;
  /** Parameter values with defaults applied; secrets appear as `"(secret)"`. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /**
   * Where the deployment keeps its secrets (see `SecretScope`): `Tenant` is
   * the session's own tenant, the one tenant such a deployment reaches.
   * Absent on items frozen before secrets were kept per tenant: shared.
   */
  readonly secretScope?: 'Tenant' | 'Shared';
}

export type SessionItem = SoftwareSessionItem | TaskSessionItem;

/**
 * The items a session limited to `key` keeps: that item and, following
 * software dependencies, every item it needs present or absent. Empty when
 * the item does not apply to the computer.
 */
export function limitItems(items: readonly SessionItem[], key: ItemKey): SessionItem[] {
  const byKey = new Map(items.map((item) => [item.key, item]));
  const keep = new Set<ItemKey>();
  const pending: ItemKey[] = [key];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const item = byKey.get(next);
    if (!item || keep.has(next)) continue;
    keep.add(next);
    if (item.kind === 'Software') pending.push(...item.dependencies.map((dependency) => dependency.key));
  }
  return items.filter((item) => keep.has(item.key));
}

/** What started a session: a schedule's fire, a schedule run now, an operator (API, CLI, console), or its end user. */
export type SessionTrigger = 'Scheduled' | 'RunNow' | 'Manual' | 'EndUser';

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
  readonly options: SessionOptions;
  /** The schedule run that started the session, if one did: its end is told to the run's listeners. */
  readonly origin?: SessionOrigin;
  /** Absent on sessions recorded before it was (their lists tell it from `origin`). */
  readonly trigger?: SessionTrigger;
  readonly requestedBy?: Requester;
  /** How many actions the session planned; set when it ends, for lists that show no actions. */
  readonly actionCount?: number;
  /** When execution may start; moved by postpone and run-now. Absent: right after detection. */
  readonly executeAt?: string;
  readonly postponements: readonly Postponement[];
  readonly cancelled?: { readonly at: string; readonly by: Requester };
  /** Some action asked for a restart that the reboot preference did not allow. */
  readonly rebootPending?: boolean;
  /**
   * The gate step parked until the window opens: the task token the window
   * timer, a run-now or a cancel completes. The latest attempt's token wins.
   */
  readonly windowWait?: WindowWait;
}

export interface WindowWait {
  readonly taskToken: string;
  readonly since: string;
  /** When the timer is due (the session's `executeAt` when the gate parked). */
  readonly until: string;
}

export type DetectedItem =
  | { readonly state: 'Present'; readonly version: string; readonly test?: 'Passed' | 'Failed' }
  | { readonly state: 'Absent' }
  | { readonly state: 'Compliant'; readonly detail?: string }
  | { readonly state: 'NotCompliant'; readonly detail?: string }
  | { readonly state: 'Undetermined'; readonly reason: string };

export type DetectionPhase = 'Initial' | 'Verification';

export interface DetectionSnapshot {
  readonly sessionId: string;
  readonly phase: DetectionPhase;
  /** By item key. */
  readonly items: Readonly<Record<string, DetectedItem>>;
  readonly completedAt: string;
}

export type ActionType =
  | 'Install'
  | 'Update'
  | 'Downgrade'
  | 'Uninstall'
  | 'Reinstall'
  | 'TaskEnforce'
  | 'TaskAudit'
  | 'TaskMonitor'
  | 'Reboot';

/** Why the planner chose what it chose, per item. */
export type PlanReason =
  | 'SoftwareMissing'
  | 'UpdateAvailable'
  | 'UpToDate'
  | 'NewerVersionInstalled'
  | 'OlderVersionRequired'
  | 'AnyVersionInstalled'
  | 'NotInstalledUpdateIfFound'
  | 'SoftwareDetected'
  | 'SoftwareAbsent'
  | 'TestFailed'
  | 'TaskNotCompliant'
  | 'TaskCompliant'
  | 'AuditRequested'
  | 'Ignored'
  | 'NotAssigned'
  | 'Undetermined'
  | 'PrerequisiteMissing'
  | 'PrerequisiteNotNeeded'
  | 'ConflictingSoftware'
  | 'DependencyConflict'
  | 'RebootRequested'
  | 'RebootForced';
export type ActionStatus = 'NotStarted' | 'PerformingAction' | 'DeterminingResult' | 'Complete' | 'Skipped' | 'Cancelled';
export type ActionResult = 'Pending' | 'Success' | 'Failed' | 'Cancelled' | 'Indeterminable';

export interface Action {
  readonly sessionId: string;
  /** Zero-padded position in the plan (`001`), so actions sort in execution order. */
  readonly actionId: string;
  readonly itemKey: ActionTarget;
  readonly itemId: string;
  readonly itemName: string;
  readonly type: ActionType;
  readonly reason: PlanReason;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** Actions that must succeed before this one runs. */
  readonly dependsOn: readonly string[];
  /** A failure of a non-critical action makes the session PartialPassed rather than Failed. */
  readonly critical: boolean;
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
 * Allowed session status changes — the one table. Anything not listed is
 * rejected before a write is attempted; the write itself is also conditional
 * on the version read, so a stale writer loses even when its transition would
 * be legal. A status may always be written again (a repeated step).
 *
 * | from                | to                                                                     |
 * |---------------------|------------------------------------------------------------------------|
 * | Created             | Running, Cancelled, Failed                                             |
 * | Running             | PendingConnectivity, Postponed, Cancelled, Passed, PartialPassed, Failed |
 * | PendingConnectivity | Running, Cancelled, Passed, PartialPassed, Failed                      |
 * | Postponed           | Running, Cancelled, Passed, PartialPassed, Failed                      |
 *
 * A postponed or still-offline session reaches a final status directly when
 * it ends without executing (nothing to do, or only observations).
 * | Cancelled, Passed, PartialPassed, Failed | (final)                                           |
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  Created: ['Running', 'Cancelled', 'Failed'],
  Running: ['PendingConnectivity', 'Postponed', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  PendingConnectivity: ['Running', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  Postponed: ['Running', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  Cancelled: [],
  Passed: [],
  PartialPassed: [],
  Failed: [],
};

export const isFinalSessionStatus = (status: SessionStatus): boolean => SESSION_TRANSITIONS[status].length === 0;

export const canTransitionSession = (from: SessionStatus, to: SessionStatus): boolean =>
  from === to || SESSION_TRANSITIONS[from].includes(to);

/** Allowed action status changes, same rules as the session's. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  // Complete straight from NotStarted: observations (TaskMonitor) that need no command
  NotStarted: ['PerformingAction', 'Skipped', 'Complete', 'Cancelled'],
  PerformingAction: ['DeterminingResult', 'Complete', 'Cancelled'],
  DeterminingResult: ['Complete', 'Cancelled'],
  Complete: [],
  Skipped: [],
  Cancelled: [],
};

export const canTransitionAction = (from: ActionStatus, to: ActionStatus): boolean =>
  ACTION_TRANSITIONS[from].includes(to);

/** The planner's decision for every item, actionable or not: what the console shows as "why nothing happened". */
export interface PlannedItem {
  readonly key: ItemKey;
  readonly itemName: string;
  readonly action?: ActionType;
  readonly reason: PlanReason;
  readonly detected: DetectedItem;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  readonly actionId?: string;
}

/**
 * An item the plan left alone because detection could not read it: the
 * session cannot call it compliant (the plan's log names it, the report
 * counts it as its deployment's failure).
 */
export const leftUndetermined = (planned: { readonly reason: PlanReason; readonly action?: ActionType }): boolean =>
  planned.reason === 'Undetermined' && planned.action === undefined;

export interface PlanSnapshot {
  readonly sessionId: string;
  readonly items: readonly PlannedItem[];
  readonly plannedAt: string;
}

export type LogKind = 'Stage' | 'Action' | 'Output' | 'Request' | 'Agent' | 'Problem' | 'Email';

/** One line of a session's append-only log: what happened, when, and (for requests) who asked. */
export interface SessionLogEntry {
  readonly sessionId: string;
  readonly at: string;
  readonly kind: LogKind;
  readonly message: string;
  readonly by?: Requester;
  readonly actionId?: string;
  /** Script output, already cut to its tail. */
  readonly output?: string;
}
