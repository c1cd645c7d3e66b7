import { canonicalJson } from '../canonical-json.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { MAX_WINDOW_DAYS, isFinalSessionStatus, newStages, type Requester, type Session, type SessionOptions, type SessionOrigin, type SessionTrigger } from '../model/session.js';
import { cancelSession } from './session-requests.js';
import type { Dependencies } from './dependencies.js';
import { log } from './session-updates.js';
import { DAY_MS } from '../durations.js';

export interface StartSessionCommand {
  readonly computerId: string;
  /** A caller-chosen id makes the start idempotent (a schedule occurrence, an API retry). */
  readonly sessionId?: string;
  readonly options: SessionOptions;
  readonly by: Requester;
  /**
   * The computer already has an unfinished session: cancel it and start this
   * one instead. Without it, the start answers with the active session.
   */
  readonly supersede?: boolean;
  /** The schedule run starting it, recorded on the session. */
  readonly origin?: SessionOrigin;
  /** @default `Scheduled` with an origin, else `Manual` */
  readonly trigger?: SessionTrigger;
}

export interface StartSessionResult {
  readonly sessionId: string;
  /** False when the session already existed and this call only made sure it runs. */
  readonly created: boolean;
  /**
   * Why nothing was created: the same request was made before (`SameRequest`),
   * or the computer has an unfinished session, which is the one answered
   * (`ComputerBusy`).
   */
  readonly existing?: 'SameRequest' | 'ComputerBusy';
}

/**
 * Creates the session record (once: a conditional create) and starts its
 * workflow (once: the execution is named after the session). Starting the
 * same session twice yields one session and one execution; reusing a session
 * id for a different computer or different options is a conflict.
 *
 * One active session per computer: a start for a computer whose session has
 * not finished answers with that session (`existing: 'ComputerBusy'`), or
 * cancels it first when the caller asks to `supersede` it. The claim is one
 * conditional write on a per-computer item, so two concurrent starts cannot
 * both win.
 */
export async function startSession(deps: Dependencies, command: StartSessionCommand): Promise<StartSessionResult> {
  const computer = await deps.catalog.getComputer(command.computerId);
  if (!computer) throw new NotFoundError('computer', command.computerId);
  const now = deps.clock.now().toISOString();
  const horizon = Date.parse(now) + MAX_WINDOW_DAYS * DAY_MS;
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
  if (command.sessionId !== undefined) {
    const earlier = await deps.sessions.getSession(command.sessionId);
    if (earlier) return sameRequestAgain(deps, command, earlier);
  }
  const sessionId = command.sessionId ?? deps.ids.next('ses');

  const busy = await claimComputer(deps, command, sessionId);
  if (busy) return busy;

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
    ...(command.origin ? { origin: command.origin } : {}),
    trigger: command.trigger ?? (command.origin ? 'Scheduled' : 'Manual'),
    requestedBy: command.by,
    ...(command.options.executeAt ? { executeAt: command.options.executeAt } : {}),
    postponements: [],
  };
  try {
    await deps.sessions.createSession(session);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // the same id created concurrently: fine if it is the same request
    const earlier = await deps.sessions.getSession(sessionId);
    if (!earlier) throw error;
    return sameRequestAgain(deps, command, earlier);
  }
  // counted by the create that made it: a repeated start of the same session answers above and counts nothing
  deps.metrics.count('SessionsStarted');
  const when = command.options.mode === 'DetectionOnly' ? 'detection only' : command.options.executeAt ? `execution at ${command.options.executeAt}` : 'execution right after detection';
  await log(deps, sessionId, 'Request', `session created for ${computer.name} (${when})`, { by: command.by });
  // A throttled start leaves the session Created: the caller may retry (same id, same execution name), and
  // the sweeper starts any session still Created a minute later.
  await deps.workflow.startSession(sessionId);
  deps.logger.info('session created', { sessionId, computerId: computer.id });
  return { sessionId, created: true };
}

/** A repeated start: the same computer and options make it idempotent; anything else reusing the id is refused. */
async function sameRequestAgain(deps: Dependencies, command: StartSessionCommand, earlier: Session): Promise<StartSessionResult> {
  if (earlier.computerId !== command.computerId) {
    throw new ConflictError(`session id ${earlier.id} is already used by a session for another computer`);
  }
  if (!sameOptions(earlier.options, command.options)) {
    throw new ConflictError(`session id ${earlier.id} is already used by a session with other options`);
  }
  await deps.workflow.startSession(earlier.id);
  deps.logger.info('session already existed', { sessionId: earlier.id, computerId: earlier.computerId });
  return { sessionId: earlier.id, created: false, existing: 'SameRequest' };
}

/**
 * A claim whose session record is not there yet belongs to a start still
 * between its claim and its create: busy for this long, after which the start
 * that claimed it is taken to have died.
 */
const CLAIM_WITHOUT_SESSION_SECONDS = 60;

/** Takes the computer's active-session claim for `sessionId`; answers with the busy session when it cannot. */
async function claimComputer(deps: Dependencies, command: StartSessionCommand, sessionId: string): Promise<StartSessionResult | undefined> {
  const now = deps.clock.now();
  for (let attempt = 0; attempt < 3; attempt++) {
    const { holder, claimedAt } = await deps.sessions.claimComputer(command.computerId, sessionId, undefined, now.toISOString());
    if (holder === sessionId) return undefined;
    const active = await deps.sessions.getSession(holder);
    const starting = !active && now.getTime() - Date.parse(claimedAt) < CLAIM_WITHOUT_SESSION_SECONDS * 1000;
    if (starting || (active && !isFinalSessionStatus(active.status))) {
      if (!command.supersede || !active) return { sessionId: holder, created: false, existing: 'ComputerBusy' };
      await cancelSession(deps, { sessionId: active.id, by: command.by });
      await log(deps, active.id, 'Request', 'superseded by a new session for the same computer', { by: command.by });
    }
    const retaken = await deps.sessions.claimComputer(command.computerId, sessionId, holder, now.toISOString());
    if (retaken.holder === sessionId) return undefined;
    // another start took it between our two writes: look at that one
  }
  throw new ConflictError(`computer ${command.computerId} is being started by several requests at once; try again`);
}

/** The same options, whatever order their keys come back in: DynamoDB does not keep the order of a map's keys. */
const sameOptions = (a: SessionOptions, b: SessionOptions): boolean => canonicalJson(a) === canonicalJson(b);
