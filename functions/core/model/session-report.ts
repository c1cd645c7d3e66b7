import type { SessionCost } from './usage.js';
import type { Action, ActionResult, DetectedItem, DetectionSnapshot, PlannedItem, PlanSnapshot, Requester, Session, SessionFailure, SessionItem, SessionOrigin, SessionStatus, SessionTrigger } from './session.js';
import { sessionSteps, type SessionStep } from './session-steps.js';

/**
 * What a finished (or running) session did, as people read it: the one
 * read-model behind the terminal demo, the API, the CLI, the console and the
 * follow-up email, so they all say the same thing in the same words.
 */
export interface SessionReport {
  readonly sessionId: string;
  readonly computerId: string;
  readonly computerName: string;
  readonly agentId: string;
  readonly tenantId: string;
  readonly status: SessionStatus;
  /** The eight steps an operator knows, each with where the session stands, from the record (see session-steps.ts). */
  readonly steps: readonly SessionStep[];
  readonly createdAt: string;
  readonly endedAt?: string;
  /** When execution may start (moved by postpone and run-now); absent: right after detection. */
  readonly executeAt?: string;
  readonly trigger?: SessionTrigger;
  readonly requestedBy?: Requester;
  /** The schedule run that started it: its page counts the session among the run's. */
  readonly origin?: SessionOrigin;
  /** From creation to the end (or to the last update of a session still running). */
  readonly durationMs: number;
  readonly failure?: SessionFailure;
  /** Only observations (audits, monitoring) or nothing at all ran: the computer was not changed. */
  readonly changedNothing: boolean;
  readonly rows: readonly ReportRow[];
  /** Items the plan left alone, with why in words: "Chrome (up to date 2.0.0)". */
  readonly leftAlone: readonly string[];
  /** What audits and monitors observed, when nothing changed: "Disk space: 42 % free". */
  readonly observed: readonly string[];
  /** The decisions an end user asks about (removals, pinned older versions), explained. */
  readonly why: readonly string[];
  /** What the session used of AWS, counted, and its price at list prices (see model/usage.ts); for readers that asked for it. */
  readonly cost?: SessionCost;
  /** What may be asked of the session now, and why not (the request rules themselves judged it); for the operator's read. */
  readonly allowed?: SessionRequestsAllowed;
}

/** Whether one request would be taken now; a refusal carries the words the request itself would answer with. */
export interface RequestAllowance {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** The requests an operator may make of a session, each judged as the request would be. */
export interface SessionRequestsAllowed {
  readonly runNow: RequestAllowance;
  readonly postpone: RequestAllowance;
  readonly cancel: RequestAllowance;
  readonly rerun: RequestAllowance;
}

export interface ReportRow {
  readonly actionId: string;
  readonly type: Action['type'];
  readonly itemName: string;
  /** What detection found before ("1.0.0", "absent", "not compliant", "—"). */
  readonly before: string;
  /** What is there afterwards, by the verification or the action's own word. */
  readonly after: string;
  /** `Skipped` for an action that did not run because of a failed prerequisite. */
  readonly result: ActionResult | 'Skipped' | Action['status'];
  readonly durationMs?: number;
  /** Why it ran (success) or why it did not succeed. */
  readonly why: string;
  /** The deployment whose wish this action carries out (absent for a prerequisite, or an item nothing enabled wants). */
  readonly deploymentId?: string;
  /** How the item was decided, in one sentence: which deployment won and by which rule, or what needed it. */
  readonly decidedBy?: string;
}

/** The planner's reasons in words a non-technical reader understands. */
export const REASON_WORDS: Readonly<Record<PlannedItem['reason'], string>> = {
  SoftwareMissing: 'missing',
  UpdateAvailable: 'update available',
  OlderVersionRequired: 'older version pinned',
  SoftwareDetected: 'installed, must not be',
  TestFailed: 'health check failed',
  TaskNotCompliant: 'not compliant',
  AuditRequested: 'audit',
  PrerequisiteMissing: 'prerequisite',
  ConflictingSoftware: 'conflicts with a deployed item',
  RebootRequested: 'asked for by an installer',
  RebootForced: 'the session restarts every time',
  UpToDate: 'up to date',
  NewerVersionInstalled: 'newer than the catalog',
  AnyVersionInstalled: 'installed',
  SoftwareAbsent: 'absent, as deployed',
  NotInstalledUpdateIfFound: 'not installed (update if found)',
  TaskCompliant: 'compliant',
  Ignored: 'ignored by deployment',
  NotAssigned: 'no enabled deployment',
  Undetermined: 'could not be determined',
  PrerequisiteNotNeeded: 'prerequisite not needed',
  DependencyConflict: 'conflicting deployments',
};

export function describeDetected(detected: DetectedItem | undefined): string {
  switch (detected?.state) {
    case 'Present':
      return detected.version;
    case 'Absent':
      return 'absent';
    case 'Compliant':
      return 'compliant';
    case 'NotCompliant':
      return 'not compliant';
    case 'Undetermined':
      return '?';
    case undefined:
      return '—';
  }
}

/** The last line an audit printed that is not the agent's own bookkeeping, cut for a table cell. */
const AUDIT_RESULT_CHARACTERS = 40;

function afterAction(action: Action, verified: DetectedItem | undefined): string {
  if (action.type === 'TaskAudit') {
    return action.outputTail?.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('nightshift:')).at(-1)?.slice(0, AUDIT_RESULT_CHARACTERS) ?? '—';
  }
  if (action.type === 'TaskMonitor') return 'reported';
  if (action.type === 'Uninstall') return action.result === 'Success' ? 'removed' : describeDetected(verified);
  return action.versionAfter ?? describeDetected(verified);
}

function resultOf(action: Action): ReportRow['result'] {
  if (action.result === 'Success') return 'Success';
  if (action.result === 'Failed') return action.status === 'Skipped' ? 'Skipped' : 'Failed';
  return action.status;
}

export interface SessionReportInput {
  readonly session: Session;
  readonly actions: readonly Action[];
  readonly plan?: PlanSnapshot;
  readonly verification?: DetectionSnapshot;
  readonly cost?: SessionCost;
}

export function buildSessionReport({ session, actions, plan, verification, cost }: SessionReportInput): SessionReport {
  const leftAlone = (plan?.items ?? [])
    .filter((item) => item.action === undefined)
    .map((item) => `${item.itemName} (${REASON_WORDS[item.reason]}${item.detected.state === 'Present' ? ` ${item.detected.version}` : ''})`);
  const observations = actions.filter((a) => a.type === 'TaskAudit' || a.type === 'TaskMonitor');
  const changedNothing = actions.length === observations.length;
  // keyed by plain text: an action's target may be the computer itself (a restart), which no item is
  const itemsByKey = new Map<string, SessionItem>(session.items.map((item) => [item.key, item]));
  const rows = actions.map((action): ReportRow => {
    const item = itemsByKey.get(action.itemKey);
    return {
      actionId: action.actionId,
      type: action.type,
      itemName: action.itemName,
      before: describeDetected(plan?.items.find((i) => i.actionId === action.actionId)?.detected),
      after: afterAction(action, verification?.items[action.itemKey]),
      result: resultOf(action),
      ...(action.durationMs === undefined ? {} : { durationMs: action.durationMs }),
      why: action.result === 'Success' ? REASON_WORDS[action.reason] : (action.resultReason ?? ''),
      ...(item?.deploymentId === undefined ? {} : { deploymentId: item.deploymentId }),
      ...(item === undefined ? {} : { decidedBy: item.explanation.summary }),
    };
  });
  const why = actions
    .filter((a) => a.type === 'Uninstall' || a.type === 'Downgrade')
    .flatMap((action) => session.items.find((item) => item.key === action.itemKey)?.explanation.summary ?? []);
  return {
    sessionId: session.id,
    computerId: session.computerId,
    computerName: session.computerName,
    agentId: session.agentId,
    tenantId: session.tenantId,
    status: session.status,
    steps: sessionSteps(session, plan),
    createdAt: session.createdAt,
    ...(session.endedAt === undefined ? {} : { endedAt: session.endedAt }),
    ...(session.executeAt === undefined ? {} : { executeAt: session.executeAt }),
    ...(session.trigger === undefined ? {} : { trigger: session.trigger }),
    ...(session.requestedBy === undefined ? {} : { requestedBy: session.requestedBy }),
    ...(session.origin === undefined ? {} : { origin: session.origin }),
    durationMs: Date.parse(session.endedAt ?? session.updatedAt) - Date.parse(session.createdAt),
    ...(session.failure ? { failure: session.failure } : {}),
    changedNothing,
    rows,
    leftAlone,
    observed: changedNothing ? observations.map((a) => `${a.itemName}: ${afterAction(a, undefined)}`) : [],
    why,
    ...(cost ? { cost } : {}),
  };
}
