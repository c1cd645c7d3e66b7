import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { fieldChanges, type AuditAction, type AuditEntry } from '../model/audit.js';
import type { Tenant } from '../model/catalog.js';
import type { Schedule, ScheduleInput } from '../model/schedule.js';
import type { Requester } from '../model/session.js';
import type { HeldScheduleTrigger, ScheduleTriggerSpec, TriggerField, TriggerSpecField } from '../ports/schedule-trigger.port.js';
import { toEventBridgeExpression } from '../schedules/cron.js';
import { scheduleCron, scheduleTimeZone } from '../schedules/windows.js';
import type { Dependencies } from './dependencies.js';

type ScheduleDeps = Pick<Dependencies, 'schedules' | 'scheduleTriggers' | 'audit' | 'catalog' | 'clock' | 'ids' | 'logger' | 'metrics'>;

/** What an operator is told after a change: the schedule as stored, and whether its trigger already matches it. */
export interface ScheduleChangeResult {
  readonly schedule: Schedule;
  /**
   * False when the table changed but the trigger could not be updated (the
   * scheduler was unreachable): the reconcile sweep brings it in line within
   * its period, and says so.
   */
  readonly triggerInSync: boolean;
}

/** Bookkeeping fields: not changes anyone made. */
const NOT_CHANGES = ['version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'];

/** Checks what the schema cannot: that the tenant, computers and item a schedule names exist. */
async function checkReferences(deps: ScheduleDeps, input: ScheduleInput): Promise<Tenant | undefined> {
  const problems: { field: string; problem: string }[] = [];
  const tenant = input.tenantId === undefined ? undefined : await deps.catalog.getTenant(input.tenantId);
  if (input.tenantId !== undefined && !tenant) problems.push({ field: 'tenantId', problem: `no tenant ${input.tenantId}` });
  if (input.target.kind === 'Computers') {
    const found = await Promise.all(input.target.computerIds.map((id) => deps.catalog.getComputer(id)));
    input.target.computerIds.forEach((id, index) => {
      const computer = found[index];
      if (!computer) problems.push({ field: `target.computerIds.${String(index)}`, problem: `no computer ${id}` });
    });
  }
  if (input.limitTo !== undefined) {
    const [kind, id] = input.limitTo.startsWith('software:') ? ['software', input.limitTo.slice(9)] : ['task', input.limitTo.slice(5)];
    const exists = kind === 'software' ? (await deps.catalog.getSoftware([id])).length > 0 : (await deps.catalog.getTasks([id])).length > 0;
    if (!exists) problems.push({ field: 'limitTo', problem: `no ${kind} ${id} in the catalog` });
  }
  if (problems.length > 0) throw new ValidationError('schedule', problems);
  return tenant;
}

/** The trigger a schedule stands for: its recurrence in EventBridge's form, in its zone. */
export function triggerSpecOf(schedule: Schedule, tenant: Pick<Tenant, 'defaultTimeZone'> | undefined): ScheduleTriggerSpec {
  const cron = scheduleCron(schedule);
  // the schema refuses a recurrence without cron fields, so a stored schedule always has them
  if (!cron) throw new ValidationError('schedule', [{ field: 'recurrence', problem: 'has no time to fire at' }]);
  return {
    scheduleId: schedule.id,
    expression: toEventBridgeExpression(cron),
    timeZone: scheduleTimeZone(schedule, tenant),
    enabled: schedule.enabled,
    flexibleWindowMinutes: schedule.flexibleWindowMinutes,
  };
}

async function tenantOf(deps: ScheduleDeps, schedule: Pick<Schedule, 'tenantId'>): Promise<Tenant | undefined> {
  return schedule.tenantId === undefined ? undefined : deps.catalog.getTenant(schedule.tenantId);
}

/** Makes the trigger match the schedule; a failure is logged and left to the reconcile sweep. */
async function syncTrigger(deps: ScheduleDeps, put: () => Promise<void>, scheduleId: string): Promise<boolean> {
  try {
    await put();
    return true;
  } catch (error) {
    deps.logger.warn('schedule trigger not updated; the reconcile sweep will', { scheduleId, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

function auditEntry(schedule: Schedule, action: AuditAction, by: Requester, at: string, before: Schedule | undefined, after: Schedule | undefined): AuditEntry {
  return {
    resource: 'Schedule',
    resourceId: schedule.id,
    ...(schedule.tenantId === undefined ? {} : { tenantId: schedule.tenantId }),
    version: after?.version ?? schedule.version + 1,
    at,
    by,
    action,
    changes: fieldChanges(before, after, NOT_CHANGES),
  };
}

export interface CreateScheduleCommand {
  readonly input: ScheduleInput;
  /** A caller-chosen id (letters, digits, `.`, `_`, `-`); a generated one otherwise. */
  readonly scheduleId?: string;
  readonly by: Requester;
}

export async function createSchedule(deps: ScheduleDeps, command: CreateScheduleCommand): Promise<ScheduleChangeResult> {
  const tenant = await checkReferences(deps, command.input);
  const now = deps.clock.now().toISOString();
  const schedule: Schedule = {
    ...command.input,
    id: command.scheduleId ?? deps.ids.next('sch'),
    version: 1,
    createdAt: now,
    createdBy: command.by,
    updatedAt: now,
    updatedBy: command.by,
  };
  if (command.scheduleId !== undefined && (await deps.audit.list('Schedule', command.scheduleId, { latest: 1 })).length > 0) {
    // its history is kept under this id: a new schedule under it would mix the two
    throw new ConflictError(`schedule id ${command.scheduleId} was used before (its history is kept); choose another id`);
  }
  await deps.schedules.createSchedule(schedule);
  await deps.audit.record(auditEntry(schedule, 'Created', command.by, now, undefined, schedule));
  const triggerInSync = await syncTrigger(deps, () => deps.scheduleTriggers.put(triggerSpecOf(schedule, tenant)), schedule.id);
  deps.logger.info('schedule created', { scheduleId: schedule.id });
  return { schedule, triggerInSync };
}

async function loadSchedule(deps: ScheduleDeps, scheduleId: string): Promise<Schedule> {
  const schedule = await deps.schedules.getSchedule(scheduleId);
  if (!schedule) throw new NotFoundError('schedule', scheduleId);
  return schedule;
}

const inputOf = (schedule: Schedule): ScheduleInput => {
  const { id: _id, version: _version, createdAt: _createdAt, createdBy: _createdBy, updatedAt: _updatedAt, updatedBy: _updatedBy, ...input } = schedule;
  return input;
};

/** The same content: what a retried request finds already written (the schedule's own bookkeeping aside). */
const sameContent = (a: object, b: object): boolean => fieldChanges(a, b, NOT_CHANGES).length === 0;

/**
 * Writes `next` over `current` at its version, records the change and moves
 * the trigger. A retry of a change that was written (the answer got lost)
 * finds its own content at the next version and answers as the first did.
 */
async function change(deps: ScheduleDeps, current: Schedule, content: ScheduleInput, action: AuditAction, by: Requester): Promise<ScheduleChangeResult> {
  const now = deps.clock.now().toISOString();
  const next: Schedule = { ...content, id: current.id, version: current.version + 1, createdAt: current.createdAt, createdBy: current.createdBy, updatedAt: now, updatedBy: by };
  await deps.schedules.replaceSchedule(next, current.version);
  await deps.audit.record(auditEntry(current, action, by, now, current, next));
  const tenant = await tenantOf(deps, next);
  const triggerInSync = await syncTrigger(deps, () => deps.scheduleTriggers.put(triggerSpecOf(next, tenant)), next.id);
  deps.logger.info('schedule changed', { scheduleId: next.id, action, version: next.version });
  return { schedule: next, triggerInSync };
}

async function changeAt(
  deps: ScheduleDeps,
  scheduleId: string,
  expectedVersion: number,
  content: (current: Schedule) => ScheduleInput,
  action: AuditAction,
  by: Requester,
): Promise<ScheduleChangeResult> {
  const current = await loadSchedule(deps, scheduleId);
  if (current.version !== expectedVersion) {
    // the request was applied already (its answer was lost) when the next version holds exactly its content
    const previousContent = current.version === expectedVersion + 1 ? content(current) : undefined;
    if (previousContent !== undefined && sameContent(previousContent, inputOf(current)) && current.updatedBy.name === by.name) {
      await deps.audit.record(auditEntry({ ...current, version: expectedVersion }, action, by, current.updatedAt, undefined, current));
      return { schedule: current, triggerInSync: await syncTrigger(deps, async () => deps.scheduleTriggers.put(triggerSpecOf(current, await tenantOf(deps, current))), current.id) };
    }
    throw new ConflictError(`schedule ${scheduleId} is at version ${String(current.version)}, not ${String(expectedVersion)}: someone changed it; read it again`);
  }
  const next = content(current);
  // nothing to change: no new version, no audit entry
  if (sameContent(next, inputOf(current))) return { schedule: current, triggerInSync: true };
  return change(deps, current, next, action, by);
}

export interface UpdateScheduleCommand {
  readonly scheduleId: string;
  /** The version the operator edited: a change made meanwhile by someone else is not overwritten. */
  readonly expectedVersion: number;
  readonly input: ScheduleInput;
  readonly by: Requester;
}

export async function updateSchedule(deps: ScheduleDeps, command: UpdateScheduleCommand): Promise<ScheduleChangeResult> {
  await checkReferences(deps, command.input);
  return changeAt(deps, command.scheduleId, command.expectedVersion, () => command.input, 'Updated', command.by);
}


export async function setScheduleEnabled(
  deps: ScheduleDeps,
  command: { readonly scheduleId: string; readonly expectedVersion: number; readonly enabled: boolean; readonly by: Requester },
): Promise<ScheduleChangeResult> {
  return changeAt(deps, command.scheduleId, command.expectedVersion, (current) => ({ ...inputOf(current), enabled: command.enabled }), command.enabled ? 'Enabled' : 'Disabled', command.by);
}

/** A copy to edit, disabled so it does not fire beside the original until someone enables it. */
export async function duplicateSchedule(
  deps: ScheduleDeps,
  command: { readonly scheduleId: string; readonly newScheduleId?: string; readonly name?: string; readonly by: Requester },
): Promise<ScheduleChangeResult> {
  const original = await loadSchedule(deps, command.scheduleId);
  const name = command.name ?? `${original.name} (copy)`.slice(0, 255);
  return createSchedule(deps, { input: { ...inputOf(original), name, enabled: false }, ...(command.newScheduleId ? { scheduleId: command.newScheduleId } : {}), by: command.by });
}

/**
 * Removes the trigger first, then the schedule: a failure between the two
 * leaves a schedule without a trigger (the sweep puts it back), never a
 * trigger firing for a schedule that is gone.
 */
export async function deleteSchedule(deps: ScheduleDeps, command: { readonly scheduleId: string; readonly expectedVersion: number; readonly by: Requester }): Promise<void> {
  const current = await loadSchedule(deps, command.scheduleId);
  if (current.version !== command.expectedVersion) {
    throw new ConflictError(`schedule ${command.scheduleId} is at version ${String(current.version)}, not ${String(command.expectedVersion)}: someone changed it; read it again`);
  }
  await deps.scheduleTriggers.delete(current.id);
  await deps.schedules.deleteSchedule(current.id, current.version);
  await deps.audit.record(auditEntry(current, 'Deleted', command.by, deps.clock.now().toISOString(), current, undefined));
  deps.logger.info('schedule deleted', { scheduleId: current.id });
}

export interface TriggerDrift {
  readonly scheduleId: string;
  /** Missing: no trigger for a schedule. Different: a trigger that does not match. Orphaned: a trigger without a schedule. */
  readonly drift: 'Missing' | 'Different' | 'Orphaned';
  /** Different only: each part that did not match, the schedule's own first, then its delivery. */
  readonly fields?: readonly TriggerField[];
}

/** Every part of a spec the sweep compares: a record, so a field added to the spec does not compile until it is listed here. */
// Stryker disable next-line BooleanLiteral: only the keys are read; the values are there for the type
const COMPARED_SPEC_FIELDS: { readonly [F in TriggerSpecField]: true } = { expression: true, timeZone: true, enabled: true, flexibleWindowMinutes: true };

/** What in the held trigger differs from the wanted one; empty when it matches. */
function differingFields(held: HeldScheduleTrigger, wanted: ScheduleTriggerSpec): TriggerField[] {
  const specFields = (Object.keys(COMPARED_SPEC_FIELDS) as TriggerSpecField[]).filter((field) => held[field] !== wanted[field]);
  return [...specFields, ...new Set(held.deliveryDrift ?? [])];
}

/**
 * The table is the truth: every schedule gets a trigger that matches it, and
 * a trigger without a schedule goes. Answers each drift it fixed.
 */
export async function reconcileScheduleTriggers(deps: ScheduleDeps): Promise<TriggerDrift[]> {
  const [schedules, triggers] = await Promise.all([deps.schedules.listSchedules(), deps.scheduleTriggers.list()]);
  const tenants = new Map((await deps.catalog.listTenants()).map((tenant) => [tenant.id, tenant]));
  const held = new Map(triggers.map((trigger) => [trigger.scheduleId, trigger]));
  const drifts: TriggerDrift[] = [];
  // each trigger on its own: one the scheduler refuses (or a throttle) must not leave the others unrepaired
  const repair = async (found: TriggerDrift, fix: () => Promise<void>): Promise<void> => {
    try {
      await fix();
      drifts.push(found);
    } catch (error) {
      deps.logger.error('schedule trigger drift not fixed', { ...found, error: error instanceof Error ? error.message : String(error) });
    }
  };
  for (const schedule of schedules) {
    // Stryker disable next-line ConditionalExpression: the tenants map has no entry under undefined, so looking one up gives the same undefined
    const wanted = triggerSpecOf(schedule, schedule.tenantId === undefined ? undefined : tenants.get(schedule.tenantId));
    const current = held.get(schedule.id);
    held.delete(schedule.id);
    const fix = () => deps.scheduleTriggers.put(wanted);
    if (!current) {
      await repair({ scheduleId: schedule.id, drift: 'Missing' }, fix);
      continue;
    }
    // put() writes the whole trigger, delivery included, so one put repairs whatever part differs
    const fields = differingFields(current, wanted);
    if (fields.length > 0) await repair({ scheduleId: schedule.id, drift: 'Different', fields }, fix);
  }
  for (const orphan of held.keys()) await repair({ scheduleId: orphan, drift: 'Orphaned' }, () => deps.scheduleTriggers.delete(orphan));
  for (const drift of drifts) deps.logger.warn('schedule trigger drift fixed', { ...drift });
  if (drifts.length > 0) deps.metrics.count('ScheduleTriggerDrift', drifts.length);
  return drifts;
}
