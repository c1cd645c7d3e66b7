import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { MAX_WINDOW_DAYS, newStages, type Requester, type Session, type SessionOptions } from '../model/session.js';
import type { Dependencies } from './dependencies.js';
import { log } from './session-updates.js';

export interface StartSessionCommand {
  readonly computerId: string;
  /** A caller-chosen id makes the start idempotent (a schedule occurrence, an API retry). */
  readonly sessionId?: string;
  readonly options: SessionOptions;
  readonly by: Requester;
}

export interface StartSessionResult {
  readonly sessionId: string;
  /** False when the session already existed and this call only made sure it runs. */
  readonly created: boolean;
}

/**
 * Creates the session record (once: a conditional create) and starts its
 * workflow (once: the execution is named after the session). Starting the
 * same session twice yields one session and one execution.
 */
export async function startSession(deps: Dependencies, command: StartSessionCommand): Promise<StartSessionResult> {
  const computer = await deps.catalog.getComputer(command.computerId);
  if (!computer) throw new NotFoundError('computer', command.computerId);
  const now = deps.clock.now().toISOString();
  const horizon = Date.parse(now) + MAX_WINDOW_DAYS * 86_400_000;
  const tooFar = [
    ['options.executeAt', command.options.executeAt],
    ['options.postpone.deadline', command.options.postpone.deadline],
  ].filter(([, at]) => at !== undefined && Date.parse(at) > horizon);
  if (tooFar.length > 0) {
    throw new ValidationError(
      'session options',
      tooFar.map(([field]) => ({ field: field ?? '', problem: `must be within ${MAX_WINDOW_DAYS} days from now` })),
    );
  }
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
    options: command.options,
    ...(command.options.executeAt ? { executeAt: command.options.executeAt } : {}),
    postponements: [],
  };
  let created = true;
  try {
    await deps.sessions.createSession(session);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    created = false;
  }
  if (created) {
    const when = command.options.mode === 'DetectionOnly' ? 'detection only' : command.options.executeAt ? `execution at ${command.options.executeAt}` : 'execution right after detection';
    await log(deps, sessionId, 'Request', `session created for ${computer.name} (${when})`, { by: command.by });
  }
  await deps.workflow.startSession(sessionId);
  deps.logger.info(created ? 'session created' : 'session already existed', { sessionId, computerId: computer.id });
  return { sessionId, created };
}
