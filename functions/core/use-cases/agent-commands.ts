import { NotFoundError } from '../errors.js';
import { commandComment, type AgentCommand, type DispatchKey } from '../model/agent.js';
import type { MaintenanceTask, ParameterValue, Software } from '../model/catalog.js';
import type { Action, Session, TaskSessionItem } from '../model/session.js';
import { effectiveParameters } from '../planning/resolution.js';
import {
  buildActionScript,
  buildDetectionScript,
  buildRebootScript,
  detectionEntry,
  parameterEnvironment,
  softwareSteps,
  taskSteps,
} from '../scripts/commands.js';
import type { Dependencies } from './dependencies.js';

async function softwareById(deps: Dependencies, ids: readonly string[]): Promise<Map<string, Software>> {
  const found = ids.length ? await deps.catalog.getSoftware(ids) : [];
  const byId = new Map(found.map((s) => [s.id, s]));
  for (const id of ids) if (!byId.has(id)) throw new NotFoundError('software', id);
  return byId;
}

async function tasksById(deps: Dependencies, ids: readonly string[]): Promise<Map<string, MaintenanceTask>> {
  const found = ids.length ? await deps.catalog.getTasks(ids) : [];
  const byId = new Map(found.map((t) => [t.id, t]));
  for (const id of ids) if (!byId.has(id)) throw new NotFoundError('maintenance task', id);
  return byId;
}

/**
 * The session keeps parameters with secrets redacted; the real values are
 * read from the winning deployment only when a script is about to run.
 */
async function taskParameters(deps: Dependencies, item: TaskSessionItem, task: MaintenanceTask): Promise<Record<string, ParameterValue>> {
  if (!task.parameters.some((p) => p.type === 'secret') || item.deploymentId === undefined) return { ...item.parameters };
  const deployment = await deps.catalog.getDeployment(item.deploymentId);
  const values = deployment?.itemKind === 'Task' ? deployment.parameters : {};
  return { ...item.parameters, ...effectiveParameters(task, values, false) };
}

const commandBase = (deps: Dependencies, session: Session, key: DispatchKey, nonce: string) => ({
  agentId: session.agentId,
  platform: session.platform,
  comment: commandComment(session.id, key, nonce),
  // a session that skips offline computers gives up on delivery soon; one that waits for them, late
  deliveryTimeoutSeconds:
    session.options.offline === 'Skip' ? deps.agentSettings.skipOfflineAfterSeconds : deps.agentSettings.deliveryTimeoutSeconds,
});

/** Long enough for a slow firmware update on restart; the command only completes once the computer is back. */
const REBOOT_TIMEOUT_SECONDS = 3_600;

/** The batched detection of every managed item of the session (the first detection and the verification). */
export async function buildDetectionCommand(deps: Dependencies, session: Session, key: DispatchKey, nonce: string): Promise<AgentCommand> {
  const items = session.items.filter((item) => item.origin !== 'Unassigned');
  const software = await softwareById(deps, items.filter((i) => i.kind === 'Software').map((i) => i.itemId));
  const tasks = await tasksById(deps, items.filter((i) => i.kind === 'Task').map((i) => i.itemId));
  const timeoutSeconds = deps.agentSettings.detectionItemTimeoutSeconds;
  const entries = await Promise.all(
    items.map(async (item) => {
      if (item.kind === 'Software') return detectionEntry({ key: item.key, platform: session.platform, software: software.get(item.itemId) }, timeoutSeconds);
      const task = tasks.get(item.itemId);
      if (!task) throw new NotFoundError('maintenance task', item.itemId);
      return detectionEntry({ key: item.key, platform: session.platform, task, parameters: await taskParameters(deps, item, task) }, timeoutSeconds);
    }),
  );
  return {
    ...commandBase(deps, session, key, nonce),
    script: buildDetectionScript(session.platform, entries, nonce),
    // every item has its own limit (and a test may follow); the batch as a whole gets them all plus slack
    executionTimeoutSeconds: Math.max(60, entries.length * timeoutSeconds * 2 + 30),
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
    return { ...commandBase(deps, session, key, nonce), script: buildRebootScript(session.platform, nonce), executionTimeoutSeconds: REBOOT_TIMEOUT_SECONDS };
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
    if (!software) throw new NotFoundError('software', item.itemId);
    if (action.toVersion !== undefined) environment.NIGHTSHIFT_VERSION = action.toVersion;
    if (action.fromVersion !== undefined) environment.NIGHTSHIFT_FROM_VERSION = action.fromVersion;
    steps = softwareSteps({ type: action.type, software });
  } else {
    const task = read.task?.id === item.itemId ? read.task : (await tasksById(deps, [item.itemId])).get(item.itemId);
    if (!task) throw new NotFoundError('maintenance task', item.itemId);
    const planned = taskSteps(action.type, task);
    Object.assign(environment, { NIGHTSHIFT_TASK_METHOD: planned.method }, parameterEnvironment(await taskParameters(deps, item, task)));
    steps = planned.steps;
  }
  return {
    ...commandBase(deps, session, key, nonce),
    script: buildActionScript(
      session.platform,
      { description: `${action.type} ${action.itemName} (${session.id} action ${action.actionId})`, steps, environment },
      nonce,
    ),
    executionTimeoutSeconds: deps.agentSettings.actionTimeoutSeconds * steps.length,
  };
}
