import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import { itemKeySchema, type ItemKey } from '../model/catalog.js';
import { describeDetected, REASON_WORDS } from '../model/session-report.js';
import type { DetectedItem, DetectionPhase, DetectionSnapshot, PlanReason, SessionItem } from '../model/session.js';
import { plan } from '../planning/planner.js';
import { indexDeployments, resolveComputer } from '../planning/resolution.js';
import type { Dependencies } from './dependencies.js';
import { loadCatalogFor } from './prepare-session.js';

/**
 * "Is this computer where its deployments want it?" without running a
 * session: per item it gets now, the state its latest detection found,
 * judged by the planner against what is deployed now. Detection is the only
 * source of truth about a computer, so an item no recent session detected is
 * said to be not detected, never guessed.
 */

/** How many of the computer's sessions, newest first, are looked through for detections: a session limited to one item detects only that one. */
export const COMPLIANCE_LOOKBACK_SESSIONS = 20;
/** Sessions read at once: most items are in the newest session's detection, so the look usually stops after the first batch. */
const SESSIONS_PER_BATCH = 5;

export const COMPLIANCE_STATES = ['Compliant', 'NotCompliant', 'Undetermined', 'NotEnforced', 'NotDetected'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

const detectionSchema = z.object({
  sessionId: z.string().meta({ description: 'The session whose detection this is' }),
  phase: z.enum(['Initial', 'Verification']).meta({ description: 'Initial: before the session acted; Verification: after' }),
  detectedAt: z.string().meta({ description: 'When that detection completed (ISO 8601, UTC)' }),
  state: z.enum(['Present', 'Absent', 'Compliant', 'NotCompliant', 'Undetermined']),
  version: z.string().optional().meta({ description: 'The installed version (software that is present)' }),
  test: z.enum(['Passed', 'Failed']).optional().meta({ description: "The software's health check, when it has one" }),
  detail: z.string().optional().meta({ description: "A task test's words, or why detection could not tell" }),
  found: z.string().meta({ description: 'What was found, in words: "2.0.0", "absent", "not compliant", "?"' }),
});

export const itemComplianceSchema = z.object({
  key: itemKeySchema,
  itemName: z.string(),
  kind: z.enum(['Software', 'Task']),
  origin: z.enum(['Deployed', 'Prerequisite', 'Unassigned']),
  wants: z.string().meta({ description: 'What the winning deployment wants now: a desired state (with its version) or a task mode' }),
  state: z.enum(COMPLIANCE_STATES).meta({ description: 'NotEnforced: ignored or only a disabled deployment; NotDetected: no recent session detected it' }),
  reason: z.string().optional().meta({ description: "The planner's reason code (UpToDate, UpdateAvailable, …); absent when not detected" }),
  why: z.string().meta({ description: 'The state in words' }),
  detected: detectionSchema.optional().meta({ description: 'The latest detection of the item' }),
});
export type ItemCompliance = z.infer<typeof itemComplianceSchema>;

export const computerComplianceSchema = z.object({
  computerId: z.string(),
  items: z.array(itemComplianceSchema),
  counts: z
    .object({ Compliant: z.number().int(), NotCompliant: z.number().int(), Undetermined: z.number().int(), NotEnforced: z.number().int(), NotDetected: z.number().int() })
    .meta({ description: 'How many items are in each state' }),
  sessionsRead: z.number().int().meta({ description: `How many of the computer's latest sessions were looked through (at most ${COMPLIANCE_LOOKBACK_SESSIONS})` }),
  problems: z.array(z.string()).meta({ description: 'What resolving the deployments noticed but could not use' }),
});
export type ComputerCompliance = z.infer<typeof computerComplianceSchema>;

/**
 * What each planner reason says about compliance. An audit always runs
 * whatever its test said, so its reason says nothing: the test decides.
 */
const STATE_OF_REASON: Readonly<Record<PlanReason, ComplianceState | 'ByTest'>> = {
  UpToDate: 'Compliant',
  NewerVersionInstalled: 'Compliant',
  AnyVersionInstalled: 'Compliant',
  NotInstalledUpdateIfFound: 'Compliant',
  SoftwareAbsent: 'Compliant',
  TaskCompliant: 'Compliant',
  // the prerequisite is missing, and nothing that needs it is there: nothing to fix
  PrerequisiteNotNeeded: 'Compliant',
  SoftwareMissing: 'NotCompliant',
  UpdateAvailable: 'NotCompliant',
  OlderVersionRequired: 'NotCompliant',
  SoftwareDetected: 'NotCompliant',
  TestFailed: 'NotCompliant',
  TaskNotCompliant: 'NotCompliant',
  PrerequisiteMissing: 'NotCompliant',
  ConflictingSoftware: 'NotCompliant',
  // deployments contradict each other: no session will fix it until an operator does
  DependencyConflict: 'NotCompliant',
  Undetermined: 'Undetermined',
  Ignored: 'NotEnforced',
  NotAssigned: 'NotEnforced',
  AuditRequested: 'ByTest',
  // not an item's reason (the restart's); listed so a new reason cannot go unjudged
  // Stryker disable next-line StringLiteral: no item is ever planned with a restart's reason, so no answer can show this entry
  RebootRequested: 'Undetermined',
  // Stryker disable next-line StringLiteral: as above
  RebootForced: 'Undetermined',
};

const STATE_WORDS: Readonly<Record<ComplianceState, string>> = {
  Compliant: 'compliant',
  NotCompliant: 'not compliant',
  Undetermined: 'could not be determined',
  NotEnforced: 'not enforced',
  NotDetected: 'not detected by a recent session',
};

interface Found {
  readonly snapshot: DetectionSnapshot;
  readonly item: DetectedItem;
}

/** Newest first: a verification after an action beats the detection before it. */
const byCompletedDescending = (a: DetectionSnapshot, b: DetectionSnapshot): number => b.completedAt.localeCompare(a.completedAt);

/** The latest detection of each key, reading the computer's sessions newest first and stopping once every key has one. */
async function latestDetections(deps: Pick<Dependencies, 'sessions'>, computerId: string, keys: ReadonlySet<ItemKey>): Promise<{ found: Map<ItemKey, Found>; sessionsRead: number }> {
  const found = new Map<ItemKey, Found>();
  const sessions = await deps.sessions.listSessionsByComputer(computerId, COMPLIANCE_LOOKBACK_SESSIONS);
  let sessionsRead = 0;
  // Stryker disable next-line EqualityOperator: one more turn at start === length reads an empty batch, which changes nothing
  for (let start = 0; start < sessions.length && found.size < keys.size; start += SESSIONS_PER_BATCH) {
    const batch = sessions.slice(start, start + SESSIONS_PER_BATCH);
    sessionsRead += batch.length;
    const phases: readonly DetectionPhase[] = ['Verification', 'Initial'];
    const snapshots = (await Promise.all(batch.flatMap((session) => phases.map((phase) => deps.sessions.getDetection(session.id, phase)))))
      .filter((snapshot): snapshot is DetectionSnapshot => snapshot !== undefined)
      .sort(byCompletedDescending);
    for (const snapshot of snapshots) {
      for (const key of keys) {
        const item = snapshot.items[key];
        if (item !== undefined && !found.has(key)) found.set(key, { snapshot, item });
      }
    }
  }
  return { found, sessionsRead };
}

const wantsOf = (item: SessionItem): string => (item.kind === 'Software' ? `${item.desiredState}${item.requiredVersion ? ` ${item.requiredVersion}` : ''}` : item.mode);

const isNotEnforced = (item: SessionItem): boolean => item.origin === 'Unassigned' || (item.kind === 'Software' ? item.desiredState === 'Ignored' : item.mode === 'Ignore');

function detectionOf(found: Found): NonNullable<ItemCompliance['detected']> {
  const { snapshot, item } = found;
  return {
    sessionId: snapshot.sessionId,
    phase: snapshot.phase,
    detectedAt: snapshot.completedAt,
    state: item.state,
    ...(item.state === 'Present' ? { version: item.version, ...(item.test === undefined ? {} : { test: item.test }) } : {}),
    ...(item.state === 'Undetermined' ? { detail: item.reason } : {}),
    ...((item.state === 'Compliant' || item.state === 'NotCompliant') && item.detail !== undefined ? { detail: item.detail } : {}),
    found: describeDetected(item),
  };
}

function byTest(detected: DetectedItem): ComplianceState {
  if (detected.state === 'Compliant') return 'Compliant';
  return detected.state === 'NotCompliant' ? 'NotCompliant' : 'Undetermined';
}

/**
 * Per item the computer gets now (the explain route's items), its
 * compliance as last detected. The planner judges the detections together,
 * as a session would: a missing prerequisite nobody needs is no fault.
 */
export async function computerCompliance(deps: Pick<Dependencies, 'catalog' | 'sessions'>, computerId: string): Promise<ComputerCompliance> {
  const computer = await deps.catalog.getComputer(computerId);
  if (!computer) throw new NotFoundError('computer', computerId);
  const { catalog, deployments } = await loadCatalogFor(deps);
  const { items, problems } = resolveComputer(computer, indexDeployments(deployments), catalog);
  const { found, sessionsRead } = await latestDetections(deps, computerId, new Set(items.map((item) => item.key)));
  const detected = Object.fromEntries([...found].map(([key, { item }]) => [key, item]));
  const decisions = new Map(plan(items, detected).map((decision) => [decision.key, decision]));

  const judged = items.map((item): ItemCompliance => {
    const last = found.get(item.key);
    const decision = decisions.get(item.key);
    const base = { key: item.key, itemName: item.itemName, kind: item.kind, origin: item.origin, wants: wantsOf(item) };
    // Stryker disable next-line ConditionalExpression: plan() decides every item it is given; the second check is for the type
    if (last === undefined || decision === undefined) {
      const state: ComplianceState = isNotEnforced(item) ? 'NotEnforced' : 'NotDetected';
      return { ...base, state, why: STATE_WORDS[state] };
    }
    const verdict = STATE_OF_REASON[decision.reason];
    const state = verdict === 'ByTest' ? byTest(last.item) : verdict;
    const why = verdict === 'ByTest' ? `${STATE_WORDS[state]} (audited)` : REASON_WORDS[decision.reason];
    return { ...base, state, reason: decision.reason, why, detected: detectionOf(last) };
  });
  const counts: Record<ComplianceState, number> = { Compliant: 0, NotCompliant: 0, Undetermined: 0, NotEnforced: 0, NotDetected: 0 };
  for (const item of judged) counts[item.state] += 1;
  return { computerId, items: judged, counts, sessionsRead, problems };
}
