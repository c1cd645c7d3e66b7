import { ConflictError, NotFoundError } from '../core/errors.js';
import type { Dispatch, DispatchKey, DispatchOutcome } from '../core/model/agent.js';
import type {
  Action,
  ActionStatus,
  DetectionPhase,
  DetectionSnapshot,
  PlanSnapshot,
  Session,
  SessionStatus,
} from '../core/model/session.js';
import type { ActionChanges, SessionChanges, SessionStore } from '../core/ports/session-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

const sessionPk = (sessionId: string): string => `SESSION#${sessionId}`;
const SESSION_SK = 'SESSION';
const actionSk = (actionId: string): string => `ACTION#${actionId}`;
const detectionSk = (phase: DetectionPhase): string => `DETECTION#${phase}`;
const PLAN_SK = 'PLAN';
const dispatchSk = (key: DispatchKey): string => `DISPATCH#${key}`;
/** Sparse GSI2 partition holding the dispatches still waiting for their command (the reconciler's worklist). */
const WAITING_DISPATCHES = 'DISPATCH#Waiting';

const statusIndex = (status: SessionStatus, updatedAt: string, sessionId: string) => ({
  GSI2PK: `STATUS#${status}`,
  GSI2SK: `${updatedAt}#${sessionId}`,
});

export class DynamoSessionStore implements SessionStore {
  constructor(private readonly table: DynamoTable) {}

  async createSession(session: Session): Promise<void> {
    const written = await this.table.putIf(
      {
        PK: sessionPk(session.id),
        SK: SESSION_SK,
        entity: 'Session',
        GSI1PK: `COMPUTER#${session.computerId}`,
        GSI1SK: `${session.createdAt}#${session.id}`,
        ...statusIndex(session.status, session.updatedAt, session.id),
        ...session,
      },
      'attribute_not_exists(PK)',
    );
    if (!written) throw new ConflictError(`session ${session.id} already exists`);
  }

  async getSession(sessionId: string): Promise<Session | undefined> {
    const item = await this.table.get(sessionPk(sessionId), SESSION_SK);
    return item ? toEntity<Session>(item) : undefined;
  }

  async updateSession(sessionId: string, expectedVersion: number, changes: SessionChanges, now: string): Promise<Session> {
    const current = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: SESSION_SK },
      set: {
        ...changes,
        version: expectedVersion + 1,
        updatedAt: now,
        ...(changes.status ? statusIndex(changes.status, now, sessionId) : { GSI2SK: `${now}#${sessionId}` }),
      },
      condition: 'attribute_exists(PK) AND #version = :expectedVersion',
      conditionNames: { '#version': 'version' },
      conditionValues: { ':expectedVersion': expectedVersion },
      conflict: `session ${sessionId} is no longer at version ${expectedVersion}`,
    }).catch(async (error: unknown) => {
      if (error instanceof ConflictError && !(await this.getSession(sessionId))) throw new NotFoundError('session', sessionId);
      throw error;
    });
    return toEntity<Session>(current);
  }

  async listSessionsByComputer(computerId: string, limit: number): Promise<Session[]> {
    const items = await this.table.query({ pk: `COMPUTER#${computerId}`, index: 'GSI1', limit, newestFirst: true });
    return items.map((item) => toEntity<Session>(item));
  }

  async listSessionsByStatus(status: SessionStatus, limit: number): Promise<Session[]> {
    const items = await this.table.query({ pk: `STATUS#${status}`, index: 'GSI2', limit, newestFirst: true });
    return items.map((item) => toEntity<Session>(item));
  }

  async createActions(sessionId: string, actions: readonly Action[]): Promise<void> {
    // One conditional put per action: a repeated Plan step finds them written and leaves them as they are.
    for (const action of actions) {
      await this.table.putIf(
        { PK: sessionPk(sessionId), SK: actionSk(action.actionId), entity: 'Action', ...action },
        'attribute_not_exists(PK)',
      );
    }
  }

  async getActions(sessionId: string): Promise<Action[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'ACTION#' });
    return items.map((item) => toEntity<Action>(item));
  }

  async getAction(sessionId: string, actionId: string): Promise<Action | undefined> {
    const item = await this.table.get(sessionPk(sessionId), actionSk(actionId));
    return item ? toEntity<Action>(item) : undefined;
  }

  async updateAction(
    sessionId: string,
    actionId: string,
    expectedStatuses: readonly ActionStatus[],
    changes: ActionChanges,
  ): Promise<Action> {
    const placeholders = expectedStatuses.map((_, index) => `:expected${index}`);
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: actionSk(actionId) },
      set: changes,
      condition: `attribute_exists(PK) AND #status IN (${placeholders.join(', ')})`,
      conditionNames: { '#status': 'status' },
      conditionValues: Object.fromEntries(expectedStatuses.map((status, index) => [`:expected${index}`, status])),
      conflict: `action ${sessionId}/${actionId} is not ${expectedStatuses.join(' or ')}`,
    });
    return toEntity<Action>(item);
  }

  async savePlan(plan: PlanSnapshot): Promise<void> {
    await this.table.putIf({ PK: sessionPk(plan.sessionId), SK: PLAN_SK, entity: 'Plan', ...plan }, undefined);
  }

  async getPlan(sessionId: string): Promise<PlanSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), PLAN_SK);
    return item ? toEntity<PlanSnapshot>(item) : undefined;
  }

  async saveDetection(snapshot: DetectionSnapshot): Promise<void> {
    // A whole snapshot per phase: a redelivered completion writes the same facts again.
    await this.table.putIf(
      { PK: sessionPk(snapshot.sessionId), SK: detectionSk(snapshot.phase), entity: 'Detection', ...snapshot },
      undefined,
    );
  }

  async getDetection(sessionId: string, phase: DetectionPhase): Promise<DetectionSnapshot | undefined> {
    const item = await this.table.get(sessionPk(sessionId), detectionSk(phase));
    return item ? toEntity<DetectionSnapshot>(item) : undefined;
  }

  async claimDispatch(dispatch: Dispatch): Promise<{ created: boolean; dispatch: Dispatch }> {
    const created = await this.table.putIf(
      {
        PK: sessionPk(dispatch.sessionId),
        SK: dispatchSk(dispatch.key),
        entity: 'Dispatch',
        GSI2PK: WAITING_DISPATCHES,
        GSI2SK: `${dispatch.createdAt}#${dispatch.sessionId}#${dispatch.key}`,
        ...dispatch,
      },
      'attribute_not_exists(PK)',
    );
    if (created) return { created, dispatch };
    const existing = await this.getDispatch(dispatch.sessionId, dispatch.key);
    if (!existing) throw new ConflictError(`dispatch ${dispatch.sessionId}/${dispatch.key} vanished while claimed`);
    return { created, dispatch: existing };
  }

  async replaceDispatchToken(sessionId: string, key: DispatchKey, taskToken: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { taskToken, tokenDelivered: false },
      increment: { attempts: 1 },
      condition: 'attribute_exists(PK) AND #status <> :completed',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':completed': 'Completed' },
      conflict: `dispatch ${sessionId}/${key} already completed`,
    });
    return toEntity<Dispatch>(item);
  }

  async takeOverDispatch(sessionId: string, key: DispatchKey, previousLeaseUntil: string | undefined, leaseUntil: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { leaseUntil },
      condition:
        previousLeaseUntil === undefined
          ? '#status = :sending AND attribute_not_exists(#lease)'
          : '#status = :sending AND #lease = :previous',
      conditionNames: { '#status': 'status', '#lease': 'leaseUntil' },
      conditionValues: { ':sending': 'Sending', ...(previousLeaseUntil === undefined ? {} : { ':previous': previousLeaseUntil }) },
      conflict: `dispatch ${sessionId}/${key} was taken over by another attempt`,
    });
    return toEntity<Dispatch>(item);
  }

  async markDispatchSent(sessionId: string, key: DispatchKey, commandId: string): Promise<void> {
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { status: 'Sent', commandId },
      condition: '#status = :sending',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sending': 'Sending' },
      conflict: `dispatch ${sessionId}/${key} already has its command`,
    });
  }

  async getDispatch(sessionId: string, key: DispatchKey): Promise<Dispatch | undefined> {
    const item = await this.table.get(sessionPk(sessionId), dispatchSk(key));
    return item ? toEntity<Dispatch>(item) : undefined;
  }

  async completeDispatch(sessionId: string, key: DispatchKey, outcome: DispatchOutcome, now: string): Promise<Dispatch> {
    const item = await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { status: 'Completed', outcome, completedAt: now },
      condition: '#status = :sent',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sent': 'Sent' },
      conflict: `dispatch ${sessionId}/${key} was completed already`,
    });
    return toEntity<Dispatch>(item);
  }

  async markTokenDelivered(sessionId: string, key: DispatchKey): Promise<void> {
    // only now does the dispatch leave the reconciler's worklist: until the workflow is told, it may need telling again
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { tokenDelivered: true },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: 'attribute_exists(PK)',
      conflict: `dispatch ${sessionId}/${key} does not exist`,
    });
  }

  async abandonDispatch(sessionId: string, key: DispatchKey): Promise<void> {
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: dispatchSk(key) },
      set: { status: 'Abandoned' },
      remove: ['GSI2PK', 'GSI2SK'],
      condition: '#status = :sending',
      conditionNames: { '#status': 'status' },
      conditionValues: { ':sending': 'Sending' },
      conflict: `dispatch ${sessionId}/${key} is no longer sending`,
    });
  }

  async listWaitingDispatches(createdBefore: string, limit: number): Promise<Dispatch[]> {
    const items = await this.table.query({ pk: WAITING_DISPATCHES, index: 'GSI2', skBefore: createdBefore, limit });
    return items.map((item) => toEntity<Dispatch>(item));
  }

  async listDispatches(sessionId: string): Promise<Dispatch[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'DISPATCH#' });
    return items.map((item) => toEntity<Dispatch>(item));
  }
}
