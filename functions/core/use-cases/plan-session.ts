import { IllegalTransitionError } from '../errors.js';
import type { Action } from '../model/session.js';
import { plan } from '../planning/planner.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, mutateSession, withStage } from './session-updates.js';

export interface PlanSessionResult {
  readonly sessionId: string;
  readonly actionIds: string[];
  readonly actionCount: number;
}

const ACTION_ID_DIGITS = 3;

/**
 * Turns the first detection into the session's actions. The plan is a pure
 * function of the frozen items and the stored detection, so a repeated Plan
 * step computes the same actions and its conditional writes find them there.
 */
export async function planSession(deps: Dependencies, sessionId: string): Promise<PlanSessionResult> {
  const session = await loadSession(deps, sessionId);
  if (session.status !== 'Running') throw new IllegalTransitionError('session', session.status, 'planning');
  const detection = await deps.sessions.getDetection(sessionId, 'Initial');
  if (!detection) throw new IllegalTransitionError('session', 'undetected', 'planning');

  const actions: Action[] = plan(session.items, detection.items).flatMap((decision, index) => {
    if (!decision.action) return [];
    const actionId = String(index + 1).padStart(ACTION_ID_DIGITS, '0');
    const fromVersion = decision.detected.state === 'Present' ? decision.detected.version : undefined;
    const toVersion = decision.action === 'Uninstall' ? undefined : decision.item.desiredVersion;
    return [
      {
        sessionId,
        actionId,
        itemId: decision.item.itemId,
        itemName: decision.item.itemName,
        type: decision.action,
        reason: decision.reason,
        ...(fromVersion === undefined ? {} : { fromVersion }),
        ...(toVersion === undefined ? {} : { toVersion }),
        dependsOn: [],
        status: 'NotStarted',
        result: 'Pending',
      },
    ];
  });

  await deps.sessions.createActions(sessionId, actions);
  const stored = await deps.sessions.getActions(sessionId);
  const now = deps.clock.now().toISOString();
  await mutateSession(deps, sessionId, (s) =>
    s.stages.Execution.status !== 'Unstarted'
      ? undefined
      : {
          stages: withStage(
            s,
            'Execution',
            stored.length > 0 ? { status: 'Running', startedAt: now } : { status: 'Skipped', startedAt: now, endedAt: now },
          ),
        },
  );
  const actionIds = stored.map((action) => action.actionId);
  deps.logger.info('session planned', { sessionId, computerId: session.computerId, actionCount: actionIds.length });
  return { sessionId, actionIds, actionCount: actionIds.length };
}
