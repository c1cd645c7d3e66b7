import { ConflictError, NotFoundError } from '../errors.js';
import { newStages, type Session } from '../model/session.js';
import type { Dependencies } from './dependencies.js';

export interface StartSessionCommand {
  readonly computerId: string;
  /** A caller-chosen id makes the start idempotent (a schedule occurrence, an API retry). */
  readonly sessionId?: string;
}

export interface StartSessionResult {
  readonly sessionId: string;
  /** False when the session already existed and this call only made sure it runs. */
  readonly created: boolean;
}

/** Creates the session record (once) and starts its workflow (once). */
export async function startSession(deps: Dependencies, command: StartSessionCommand): Promise<StartSessionResult> {
  const computer = await deps.catalog.getComputer(command.computerId);
  if (!computer) throw new NotFoundError('computer', command.computerId);
  const now = deps.clock.now().toISOString();
  const sessionId = command.sessionId ?? deps.ids.next('ses');
  const session: Session = {
    id: sessionId,
    computerId: computer.id,
    computerName: computer.name,
    agentId: computer.agentId,
    platform: computer.platform,
    tenantId: computer.tenantId,
    status: 'Created',
    version: 1,
    createdAt: now,
    updatedAt: now,
    stages: newStages(),
    items: [],
  };
  let created = true;
  try {
    await deps.sessions.createSession(session);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    created = false;
  }
  await deps.workflow.startSession(sessionId);
  deps.logger.info(created ? 'session created' : 'session already existed', { sessionId, computerId: computer.id });
  return { sessionId, created };
}
