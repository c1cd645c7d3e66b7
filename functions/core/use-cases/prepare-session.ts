import { NotFoundError } from '../errors.js';
import { resolveSessionItems } from '../planning/resolution.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, mutateSession, withStage } from './session-updates.js';

export interface PrepareSessionResult {
  readonly sessionId: string;
  readonly itemCount: number;
}

/**
 * First stage: the session starts running and freezes the deployments that
 * apply to its computer, so later catalog edits do not move the target mid-way.
 */
export async function prepareSession(deps: Dependencies, sessionId: string): Promise<PrepareSessionResult> {
  const current = await loadSession(deps, sessionId);
  if (current.status !== 'Created') return { sessionId, itemCount: current.items.length };

  const computer = await deps.catalog.getComputer(current.computerId);
  if (!computer) throw new NotFoundError('computer', current.computerId);
  const deployments = await deps.catalog.listDeployments();
  const software = await deps.catalog.getSoftware([...new Set(deployments.map((d) => d.softwareId))]);
  const items = resolveSessionItems(computer, deployments, new Map(software.map((s) => [s.id, s])));

  const now = deps.clock.now().toISOString();
  const session = await mutateSession(deps, sessionId, (s) =>
    s.status !== 'Created'
      ? undefined
      : {
          status: 'Running',
          items,
          stages: withStage(
            s,
            'Detection',
            items.length > 0 ? { status: 'Running', startedAt: now } : { status: 'Skipped', startedAt: now, endedAt: now },
          ),
        },
  );
  deps.logger.info('session prepared', { sessionId, computerId: session.computerId, itemCount: session.items.length });
  return { sessionId, itemCount: session.items.length };
}
