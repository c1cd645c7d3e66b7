import { ConfigurationError, NotFoundError } from '../errors.js';
import { commandComment, type AgentCommand, type DispatchKey } from '../model/agent.js';
import type { Software } from '../model/catalog.js';
import type { Action, Session } from '../model/session.js';
import { buildBashActionScript, buildBashDetectionScript } from '../scripts/bash.js';
import type { Dependencies } from './dependencies.js';

async function softwareFor(deps: Dependencies, ids: readonly string[]): Promise<Map<string, Software>> {
  const software = await deps.catalog.getSoftware(ids);
  const byId = new Map(software.map((s) => [s.id, s]));
  for (const id of ids) if (!byId.has(id)) throw new NotFoundError('software', id);
  return byId;
}

function requireLinux(session: Session): void {
  if (session.platform !== 'linux') {
    throw new ConfigurationError(`computer ${session.computerName} is ${session.platform}; only linux scripts can be generated so far`);
  }
}

/** The batched detection of every item of the session (used for the first detection and for verification). */
export async function buildDetectionCommand(
  deps: Dependencies,
  session: Session,
  key: DispatchKey,
  nonce: string,
): Promise<AgentCommand> {
  requireLinux(session);
  const software = await softwareFor(
    deps,
    session.items.map((item) => item.itemId),
  );
  const script = buildBashDetectionScript(
    session.items.map((item) => ({
      itemId: item.itemId,
      script: software.get(item.itemId)?.detectionScript ?? '',
      timeoutSeconds: deps.agentSettings.detectionItemTimeoutSeconds,
    })),
    nonce,
  );
  return {
    agentId: session.agentId,
    platform: session.platform,
    script,
    comment: commandComment(session.id, key),
    deliveryTimeoutSeconds: deps.agentSettings.deliveryTimeoutSeconds,
    // every item has its own limit; the batch as a whole gets them all plus slack
    executionTimeoutSeconds: Math.max(60, session.items.length * deps.agentSettings.detectionItemTimeoutSeconds + 30),
  };
}

const scriptFor = (software: Software, action: Action): string => {
  switch (action.type) {
    case 'Install':
      return software.installScript;
    case 'Update':
      return software.upgradeScript ?? software.installScript;
    case 'Uninstall':
      return software.uninstallScript;
  }
};

export async function buildActionCommand(
  deps: Dependencies,
  session: Session,
  action: Action,
  key: DispatchKey,
  nonce: string,
): Promise<AgentCommand> {
  requireLinux(session);
  const software = (await softwareFor(deps, [action.itemId])).get(action.itemId);
  if (!software) throw new NotFoundError('software', action.itemId);
  const environment: Record<string, string> = {
    NIGHTSHIFT_ACTION: action.type,
    NIGHTSHIFT_SESSION_ID: session.id,
    NIGHTSHIFT_ITEM_ID: action.itemId,
  };
  if (action.toVersion !== undefined) environment.NIGHTSHIFT_VERSION = action.toVersion;
  if (action.fromVersion !== undefined) environment.NIGHTSHIFT_FROM_VERSION = action.fromVersion;
  return {
    agentId: session.agentId,
    platform: session.platform,
    script: buildBashActionScript(
      { description: `${action.type} ${action.itemName} (${session.id} action ${action.actionId})`, script: scriptFor(software, action), environment },
      nonce,
    ),
    comment: commandComment(session.id, key),
    deliveryTimeoutSeconds: deps.agentSettings.deliveryTimeoutSeconds,
    executionTimeoutSeconds: deps.agentSettings.actionTimeoutSeconds,
  };
}
