import { NotFoundError } from '../errors.js';
import { boundedExecutionTimeout, commandComment, type AgentCommand, type DispatchKey } from '../model/agent.js';
import type { MaintenanceTask, ParameterValue, Software } from '../model/catalog.js';
import type { Action, Session, TaskSessionItem } from '../model/session.js';
import { isSecretParameter, secretReference, type SecretScope } from '../catalog/secrets.js';
import {
  buildActionScript,
  buildDetectionScript,
  buildRebootScript,
  detectionEntry,
  parameterEnvironment,
  softwareSteps,
  taskSteps,
} from '../scripts/commands.js';
import { DETECTION_CONCURRENCY, SECRET_REFS_VARIABLE, SECRET_RESOLVE_TIMEOUT_SECONDS, type DetectionEntry } from '../scripts/contract.js';
import type { Dependencies } from './dependencies.js';

async function softwareById(deps: Dependencies, ids: readonly string[]): Promise<Map<string, Software>> {
  // Stryker disable next-line ArrayDeclaration: with no ids to look up, nothing is looked up in what was found
  // a step of a session under way: the item may have been deleted since the session froze it, and its tombstone is what it still runs
  const found = ids.length ? await deps.catalog.getSoftware(ids, { includeDeleted: true }) : [];
  const byId = new Map(found.map((s) => [s.id, s]));
  for (const id of ids) if (!byId.has(id)) throw new NotFoundError('software', id);
  return byId;
}

async function tasksById(deps: Dependencies, ids: readonly string[]): Promise<Map<string, MaintenanceTask>> {
  // Stryker disable next-line ArrayDeclaration: with no ids to look up, nothing is looked up in what was found
  // as for software: a task deleted since the session froze it is still run from its tombstone
  const found = ids.length ? await deps.catalog.getTasks(ids, { includeDeleted: true }) : [];
  const byId = new Map(found.map((t) => [t.id, t]));
  // Stryker disable next-line ConditionalExpression: every caller throws this same error for a task missing from the map
  for (const id of ids) if (!byId.has(id)) throw new NotFoundError('maintenance task', id);
  return byId;
}

/**
 * What a task's script is told: the values the session froze, except that a
 * secret (frozen as the marker, stored as the marker) is told only by its
 * reference, which the computer resolves itself. Nothing here reads a secret:
 * no handler can leak what it never holds.
 */
function taskParameters(
  session: Session,
  item: TaskSessionItem,
  task: MaintenanceTask,
): { parameters: Record<string, ParameterValue>; secretReferences: Record<string, string> } {
  const parameters: Record<string, ParameterValue> = {};
  const secretReferences: Record<string, string> = {};
  // a per-tenant deployment reaches one tenant's computers only: this computer's
  const scope: SecretScope = item.secretScope === 'Tenant' ? { kind: 'Tenant', tenantId: session.tenantId } : { kind: 'Shared' };
  for (const [name, value] of Object.entries(item.parameters)) {
    if (!isSecretParameter(task, name)) parameters[name] = value;
    // an item without a deployment is never run; its secret has nowhere to be read from
    else if (item.deploymentId !== undefined) secretReferences[name] = secretReference(scope, item.deploymentId, name);
  }
  return { parameters, secretReferences };
}

const commandBase = (deps: Dependencies, session: Session, key: DispatchKey, nonce: string) => ({
  agentId: session.agentId,
  platform: session.platform,
  comment: commandComment(session.id, key, nonce),
  // a session that skips offline computers gives up on delivery soon; one that waits for them, late (at most as long as its own bound)
  deliveryTimeoutSeconds:
    session.options.offline === 'Skip'
      ? deps.agentSettings.skipOfflineAfterSeconds
      : Math.min(deps.agentSettings.deliveryTimeoutSeconds, session.options.offlineWaitSeconds ?? deps.agentSettings.deliveryTimeoutSeconds),
});

/** Long enough for a slow firmware update on restart; the command only completes once the computer is back. */
const REBOOT_TIMEOUT_SECONDS = 3_600;

/** Both platforms give a script this long to die once its limit is up (bash `timeout --kill-after=5`, PowerShell's wait after taskkill). */
const KILL_GRACE_SECONDS = 5;
/** Start-up, decoding, and printing the records once every item is done. */
const DETECTION_BATCH_SLACK_SECONDS = 30;

/** The longest one item can hold its slot: its secret look-ups, its detection, and its test, each to its limit. */
function itemWorstSeconds(entry: DetectionEntry): number {
  const references = entry.environment[SECRET_REFS_VARIABLE];
  const secrets = references === undefined ? 0 : Object.keys(JSON.parse(references) as object).length;
  return secrets * (SECRET_RESOLVE_TIMEOUT_SECONDS + KILL_GRACE_SECONDS) + 2 * (entry.timeoutSeconds + KILL_GRACE_SECONDS);
}

/**
 * How long a batched detection may run. Items run DETECTION_CONCURRENCY at a
 * time, each starting as soon as a slot frees, in order; so item k has started
 * by floor(k / concurrency) turns of the slowest item, and the last one ends
 * within ceil(items / concurrency) turns. Capped at what every agent allows:
 * past the cap (over about 460 items that all hang, at the default 120 s per
 * item) the batch is cut short and SSM ends it ExecutionTimedOut.
 */
export function detectionTimeoutSeconds(entries: readonly DetectionEntry[]): number {
  const turns = Math.ceil(entries.length / DETECTION_CONCURRENCY);
  const slowest = Math.max(0, ...entries.map(itemWorstSeconds));
  return boundedExecutionTimeout(Math.max(60, turns * slowest + DETECTION_BATCH_SLACK_SECONDS));
}

/** The batched detection of every managed item of the session (the first detection and the verification). */
export async function buildDetectionCommand(deps: Dependencies, session: Session, key: DispatchKey, nonce: string): Promise<AgentCommand> {
  const items = session.items.filter((item) => item.origin !== 'Unassigned');
  const software = await softwareById(deps, items.filter((i) => i.kind === 'Software').map((i) => i.itemId));
  const tasks = await tasksById(deps, items.filter((i) => i.kind === 'Task').map((i) => i.itemId));
  const timeoutSeconds = deps.agentSettings.detectionItemTimeoutSeconds;
  const entries = items.map((item) => {
    if (item.kind === 'Software') return detectionEntry({ key: item.key, platform: session.platform, software: software.get(item.itemId) }, timeoutSeconds);
    const task = tasks.get(item.itemId);
    // Stryker disable next-line ConditionalExpression,StringLiteral: tasksById threw already for a missing task; this narrows the type
    if (!task) throw new NotFoundError('maintenance task', item.itemId);
    return detectionEntry(
      // Stryker disable next-line ConditionalExpression: an undefined secretsRegion and an absent one make the same entry
      { key: item.key, platform: session.platform, task, ...taskParameters(session, item, task), ...(deps.agentSettings.secretsRegion === undefined ? {} : { secretsRegion: deps.agentSettings.secretsRegion }) },
      timeoutSeconds,
    );
  });
  return {
    ...commandBase(deps, session, key, nonce),
    script: buildDetectionScript(session.platform, entries, nonce),
    executionTimeoutSeconds: detectionTimeoutSeconds(entries),
  };
}

export async function buildActionCommand(
  deps: Dependencies,
  session: Session,
  action: Action,
  key: DispatchKey,
  nonce: string,
  /** The catalog entry when the caller read it already (the step reads it with the action). */
  read: { readonly software?: Software; readonly task?: MaintenanceTask } = {},
): Promise<AgentCommand> {
  if (action.type === 'Reboot') {
    return { ...commandBase(deps, session, key, nonce), script: buildRebootScript(session.platform, nonce), executionTimeoutSeconds: boundedExecutionTimeout(REBOOT_TIMEOUT_SECONDS) };
  }
  const item = session.items.find((i) => i.key === action.itemKey);
  if (!item) throw new NotFoundError('session item', action.itemKey);
  const environment: Record<string, string> = {
    NIGHTSHIFT_ACTION: action.type,
    NIGHTSHIFT_SESSION_ID: session.id,
    NIGHTSHIFT_ITEM_ID: action.itemId,
  };
  let steps;
  if (item.kind === 'Software') {
    const software = read.software?.id === item.itemId ? read.software : (await softwareById(deps, [item.itemId])).get(item.itemId);
    // Stryker disable next-line ConditionalExpression,StringLiteral: softwareById threw already for missing software; this narrows the type
    if (!software) throw new NotFoundError('software', item.itemId);
    if (action.toVersion !== undefined) environment.NIGHTSHIFT_VERSION = action.toVersion;
    if (action.fromVersion !== undefined) environment.NIGHTSHIFT_FROM_VERSION = action.fromVersion;
    steps = softwareSteps({ type: action.type, software });
  } else {
    const task = read.task?.id === item.itemId ? read.task : (await tasksById(deps, [item.itemId])).get(item.itemId);
    // Stryker disable next-line ConditionalExpression,StringLiteral: tasksById threw already for a missing task; this narrows the type
    if (!task) throw new NotFoundError('maintenance task', item.itemId);
    const planned = taskSteps(action.type, task);
    const { parameters, secretReferences } = taskParameters(session, item, task);
    Object.assign(environment, { NIGHTSHIFT_TASK_METHOD: planned.method }, parameterEnvironment(parameters, secretReferences, deps.agentSettings.secretsRegion));
    steps = planned.steps;
  }
  return {
    ...commandBase(deps, session, key, nonce),
    script: buildActionScript(
      session.platform,
      { description: `${action.type} ${action.itemName} (${session.id} action ${action.actionId})`, steps, environment },
      nonce,
    ),
    executionTimeoutSeconds: boundedExecutionTimeout(deps.agentSettings.actionTimeoutSeconds * steps.length),
  };
}
