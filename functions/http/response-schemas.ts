import { z } from '@hono/zod-openapi';
import { AUDITED_RESOURCES, type AuditEntry } from '../core/model/audit.js';
import { brandingInputSchema, type Branding } from '../core/model/branding.js';
import { deploymentSchema, deviceClassSchema, itemKeySchema, maintenanceTaskSchema, softwareSchema, type StoredDeployment, type StoredSoftware, type StoredTask } from '../core/model/catalog.js';
import type { ImportReport, ImportedComputer } from '../core/model/inventory.js';
import { SKIP_REASONS, type RunTarget, type ScheduleRun } from '../core/model/schedule-run.js';
import { rolloutSchema } from '../core/model/schedule.js';
import { SESSION_STATUSES, type SessionStatusCounts, type SessionSummary } from '../core/model/session-list.js';
import type { SessionReport } from '../core/model/session-report.js';
import { SESSION_STEPS } from '../core/model/session-steps.js';
import { ACTION_TRANSITIONS, requesterSchema, sessionOptionsSchema, STAGE_NAMES, type ActionStatus, type SessionStatus } from '../core/model/session.js';
import { USAGE_COUNTERS, type RunCost, type UsageCounter } from '../core/model/usage.js';
import type { LogPage } from '../core/ports/session-log.port.js';
import type { ComputerExplanation } from '../core/use-cases/explain-computer.js';
import type { SchedulePreview } from '../core/use-cases/preview-schedule.js';
import type { StartSessionResult } from '../core/use-cases/start-session.js';

/**
 * What the routes answer, as zod schemas, so the OpenAPI document (and the
 * console and CLI types generated from it) describes each answer in full.
 * The core's interfaces stay the truth: each schema below is checked at
 * compile time to say exactly what its core type says, no field more or
 * less, so the two cannot drift. Answers are not validated when they are
 * sent; test/http/openapi-responses.test.ts parses real ones against these.
 */

/** A type as JSON carries it: no `readonly`, intersections flattened, so two spellings of one shape compare equal. */
type Plain<T> = T extends readonly (infer E)[] ? Plain<E>[] : T extends object ? { -readonly [K in keyof T]: Plain<T[K]> } : T;

/**
 * Identical after `Plain`: unlike assignability both ways, an optional field
 * only one side has is a difference. Spelled out inline: through a generic
 * alias TypeScript would compare by variance, which is assignability again.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the unresolved T is the point: the two functions are related only when the two types are identical
type SameShape<A, B> = (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;

/** `schema`, refused at compile time unless its output is exactly `Core` (the error names the call). */
const exactly =
  <Core>() =>
  <S extends z.ZodType>(schema: S & (SameShape<z.output<S>, Core> extends true ? unknown : { readonly outputDiffersFromCoreType: Core })): S =>
    schema;

// ---- shared parts

/** An instant as the store writes it (`toISOString`), or as an operator gave it with an offset. */
const instant = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

const requester = requesterSchema.meta({ id: 'Requester', description: 'Who asked: an end user, an operator, an API client or a schedule, by name or email' });
const sessionStatus = z.enum(SESSION_STATUSES);
const sessionTrigger = z.enum(['Scheduled', 'RunNow', 'Manual', 'EndUser']).meta({ description: 'What started the session: a schedule, a schedule run now, an operator, or its end user' });
const failure = z.object({ code: z.string(), message: z.string() });

const usageCounts = Object.fromEntries(USAGE_COUNTERS.map((name) => [name, z.number()])) as Record<UsageCounter, z.ZodNumber>;

const usagePriceShape = {
  counted: z
    .object({ ...usageCounts, stateTransitions: z.number(), lambdaGbSeconds: z.number() })
    .meta({ description: 'What was used, counted where it was used; table units in halves, as DynamoDB reports them' }),
  priceUsd: z
    .object({ stepFunctions: z.number(), lambda: z.number(), dynamodb: z.number(), events: z.number(), scheduler: z.number(), email: z.number(), total: z.number() })
    .meta({ description: 'US dollars at list prices, each rounded to the micro-dollar; `total` is the sum of the rounded parts' }),
  pricing: z.object({
    region: z.string().meta({ description: 'The Region whose prices were used' }),
    asOf: z.string().meta({ description: 'The day the prices were last checked' }),
    architecture: z.enum(['arm64', 'x86_64']),
    requestedRegion: z.string().optional().meta({ description: 'Set when the Region asked for has no prices and us-east-1 prices were used instead' }),
    note: z.string().optional(),
  }),
};

const sessionCost = z
  .object({ ...usagePriceShape, final: z.boolean().meta({ description: 'The execution ended and its state transitions are in' }) })
  .meta({ id: 'SessionCost', description: 'What the session used of AWS, and its price at list prices (no free tiers, storage or logs)' });

const runCost = exactly<RunCost>()(
  z
    .object({ ...usagePriceShape, sessionsCounted: count.meta({ description: 'Sessions whose usage the run holds' }) })
    .meta({ id: 'RunCost', description: "The run's own fan-out plus each of its sessions, at list prices" }),
);

// ---- sessions

const sessionOrigin = z
  .object({ scheduleId: z.string(), runId: z.string(), maxExecuting: z.number().int().min(1).optional().meta({ description: "The run's execution slots" }) })
  .meta({ description: 'The schedule run that started the session' });

export const sessionSummarySchema = exactly<SessionSummary>()(
  z
    .object({
      id: z.string(),
      computerId: z.string(),
      computerName: z.string().optional().meta({ description: 'The computer’s name when the session started; absent on sessions listed before it was kept' }),
      tenantId: z.string(),
      status: sessionStatus,
      stage: z.enum(STAGE_NAMES).optional().meta({ description: 'The stage running now, or the last one that ran' }),
      createdAt: instant,
      updatedAt: instant,
      endedAt: instant.optional(),
      origin: sessionOrigin.optional(),
      trigger: sessionTrigger,
      requestedBy: requester,
      actionCount: count.optional().meta({ description: 'How many actions the session planned; set when it ends' }),
      executeAt: instant.optional().meta({ description: 'When the changes may start on the computer (its window, as postponed or moved to now); absent for a session that runs at once' }),
      awaitingExecution: z.literal(true).optional().meta({ description: 'Detected and not yet executing: planning, telling the user or, with executeAt ahead, waiting for its window (only while Running)' }),
    })
    .meta({ id: 'SessionSummary', description: 'One session in a list: computer, tenant, status, stage, times, what started it and who asked' }),
);

// an object rather than a record over the statuses: the document then says every status is there
const statusCounts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, count])) as Record<SessionStatus, typeof count>;

export const sessionStatusCountsSchema = exactly<SessionStatusCounts>()(
  z.object(statusCounts).meta({ id: 'SessionStatusCounts', description: 'Sessions per status over the range and filters (not narrowed by status)' }),
);

const actionType = z.enum(['Install', 'Update', 'Downgrade', 'Uninstall', 'Reinstall', 'TaskEnforce', 'TaskAudit', 'TaskMonitor', 'Reboot']);
const actionStatuses = Object.keys(ACTION_TRANSITIONS) as ActionStatus[];

const reportRow = z
  .object({
    actionId: z.string(),
    type: actionType,
    itemName: z.string(),
    before: z.string().meta({ description: 'What detection found before: a version, `absent`, `not compliant`, `—`' }),
    after: z.string().meta({ description: 'What is there afterwards, by the verification or the action’s own word' }),
    result: z
      .enum(['Pending', 'Success', 'Failed', 'Cancelled', 'Indeterminable', 'Skipped', ...actionStatuses])
      .meta({ description: 'The action’s result; `Skipped` for one that did not run because a prerequisite failed; its status while it has no result' }),
    durationMs: z.number().int().optional(),
    why: z.string().meta({ description: 'Why it ran (success) or why it did not succeed' }),
    deploymentId: z.string().optional().meta({ description: 'The deployment whose wish the action carries out (absent for a prerequisite)' }),
    decidedBy: z.string().optional().meta({ description: 'How the item was decided: which deployment won and by which rule, or what needed it' }),
  })
  .meta({ id: 'ReportRow' });

const sessionStep = z
  .object({ step: z.enum(SESSION_STEPS), state: z.enum(['done', 'current', 'pending', 'skipped', 'failed', 'cancelled']) })
  .meta({ id: 'SessionStep', description: 'One of the eight steps an operator knows, and where the session stands in it' });

const requestAllowance = z
  .object({ allowed: z.boolean(), reason: z.string().optional().meta({ description: 'Why not, in the words the request itself would answer with' }) })
  .meta({ id: 'RequestAllowance' });

const sessionRequestsAllowed = z
  .object({ runNow: requestAllowance, postpone: requestAllowance, cancel: requestAllowance, rerun: requestAllowance })
  .meta({ id: 'SessionRequestsAllowed', description: 'What may be asked of the session now, each judged by the request\'s own rule' });

export const sessionReportSchema = exactly<SessionReport>()(
  z
    .object({
      sessionId: z.string(),
      computerId: z.string(),
      computerName: z.string(),
      agentId: z.string(),
      tenantId: z.string(),
      status: sessionStatus,
      steps: z.array(sessionStep).readonly(),
      createdAt: instant,
      endedAt: instant.optional(),
      executeAt: instant.optional().meta({ description: 'When execution may start (moved by postpone and run-now); absent: right after detection' }),
      trigger: sessionTrigger.optional(),
      requestedBy: requester.optional(),
      origin: sessionOrigin.optional(),
      durationMs: z.number().int().meta({ description: 'From creation to the end (or to the last update of a session still running)' }),
      failure: failure.optional(),
      changedNothing: z.boolean().meta({ description: 'Only observations (audits, monitoring) or nothing at all ran' }),
      rows: z.array(reportRow).readonly(),
      leftAlone: z.array(z.string()).readonly().meta({ description: 'Items the plan left alone, with why in words' }),
      observed: z.array(z.string()).readonly().meta({ description: 'What audits and monitors observed, when nothing changed' }),
      why: z.array(z.string()).readonly().meta({ description: 'The decisions an end user asks about (removals, pinned older versions), explained' }),
      cost: sessionCost.optional(),
      allowed: sessionRequestsAllowed.optional(),
    })
    .meta({ id: 'SessionReport', description: 'What the session did, per action, in words: the read-model behind the CLI, the console and the emails' }),
);

const sessionLogEntry = z
  .object({
    sessionId: z.string(),
    at: instant,
    kind: z.enum(['Stage', 'Action', 'Output', 'Request', 'Agent', 'Problem', 'Email']),
    message: z.string(),
    by: requester.optional(),
    actionId: z.string().optional(),
    output: z.string().optional().meta({ description: 'Script output, already cut to its tail' }),
  })
  .meta({ id: 'SessionLogEntry', description: 'One line of the session’s log: what happened, when, and (for requests) who asked' });

export const sessionLogPageSchema = exactly<LogPage>()(
  z
    .object({
      entries: z.array(sessionLogEntry).readonly(),
      cursor: z.string().optional().meta({ description: 'Pass back to read on; absent on the last page so far (a running session may add more)' }),
    })
    .meta({ id: 'SessionLogPage', description: 'Log entries oldest first, and the cursor to read on from' }),
);

export const startSessionResultSchema = exactly<StartSessionResult>()(
  z
    .object({ sessionId: z.string(), created: z.boolean(), existing: z.enum(['SameRequest', 'ComputerBusy']).optional() })
    .meta({
      id: 'StartSessionResult',
      description: '`created` false: the same request was made before (`existing: SameRequest`), or the computer has an unfinished session, which is the one answered (`existing: ComputerBusy`)',
    }),
);

// ---- audit

export const auditEntrySchema = exactly<AuditEntry>()(
  z
    .object({
      resource: z.enum(AUDITED_RESOURCES),
      resourceId: z.string(),
      tenantId: z.string().optional().meta({ description: 'The tenant the resource belongs to; absent for one that spans every tenant' }),
      version: z.number().int().min(1).meta({ description: "The resource's version this change produced (a deletion: the version it deleted, plus one)" }),
      at: instant,
      by: requester,
      action: z.enum(['Created', 'Updated', 'Enabled', 'Disabled', 'Deleted', 'Postponed', 'Cancelled', 'MovedToNow', 'Started', 'Halted', 'Resumed', 'Promoted']),
      changes: z
        .array(
          z
            .object({ field: z.string(), before: z.unknown().optional(), after: z.unknown().optional() })
            .meta({ id: 'FieldChange', description: 'One top-level field that changed: its value before and after (absent when the field was absent)' }),
        )
        .readonly(),
    })
    .meta({ id: 'AuditEntry', description: 'One change: who, when, what, each field before and after' }),
);

// ---- catalog

/** Software, tasks and deployments as a request gives them (a create's body; a change's, with its `expectedRevision`). */
export const softwareRef = softwareSchema.meta({ id: 'Software' });
export const taskRef = maintenanceTaskSchema.meta({ id: 'MaintenanceTask' });
export const deploymentRef = deploymentSchema.meta({ id: 'Deployment' });

const revised = z.object({
  revision: z
    .number()
    .int()
    .min(1)
    .meta({ description: 'Its revision: 1 when created, and at each change the version of the audit entry that records it. A change or a deletion names it as `expectedRevision`' }),
});

/** As stored, and answered: the entity with its revision. */
export const storedSoftwareSchema = exactly<StoredSoftware>()(z.intersection(softwareRef, revised).meta({ id: 'StoredSoftware', description: 'A software item as stored, with its revision' }));
export const storedTaskSchema = exactly<StoredTask>()(z.intersection(taskRef, revised).meta({ id: 'StoredMaintenanceTask', description: 'A maintenance task as stored, with its revision' }));
export const storedDeploymentSchema = exactly<StoredDeployment>()(
  z.intersection(deploymentRef, revised).meta({ id: 'StoredDeployment', description: 'A deployment as stored (secret values replaced by `(secret)`), with its revision' }),
);

const importOutcomes = ['Created', 'Updated', 'Moved', 'Unchanged'] as const satisfies readonly ImportedComputer['outcome'][];

export const importReportSchema = exactly<ImportReport>()(
  z
    .object({
      dryRun: z.boolean(),
      computers: z
        .array(
          z.object({
            computerId: z.string(),
            agentId: z.string(),
            name: z.string(),
            tenantId: z.string(),
            outcome: z.enum(importOutcomes).meta({ description: '`Moved`: it was known under another tenant, and its rule now puts it in this one' }),
          }),
        )
        .readonly(),
      skipped: z.array(z.object({ agentId: z.string(), reason: z.enum(['AmbiguousTenant', 'UnsupportedPlatform', 'InvalidRecord']), detail: z.string() })).readonly(),
      counts: z.object({ Created: count, Updated: count, Moved: count, Unchanged: count, skipped: count }),
    })
    .meta({
      id: 'ComputerImportReport',
      description: 'Per computer: Created, Updated, Moved or Unchanged; per skipped node: the reason (AmbiguousTenant, UnsupportedPlatform, InvalidRecord)',
    }),
);

const resolutionRule = z.enum(['OnlyCandidate', 'TargetLevel', 'DeviceClassFilter', 'IgnoredWinsTie', 'MoreSpecificTarget', 'LowestDeploymentId', 'Disabled']);

const resolution = z
  .object({
    winner: z.string().optional().meta({ description: 'The winning deployment' }),
    rule: resolutionRule.meta({ description: 'The rule that separated the winner from the runner-up' }),
    candidates: z
      .array(
        z.object({
          deploymentId: z.string(),
          level: z.enum(['Individual', 'SingleTenant', 'CrossTenant']),
          target: z.string().meta({ description: 'The target in words, e.g. `tag "kiosk" in tenant contoso`' }),
          deviceClasses: z.array(deviceClassSchema).readonly().optional(),
          wants: z.string().meta({ description: 'A desired state or a task mode' }),
          lostBy: resolutionRule.optional().meta({ description: 'For losers: the rule that put them behind the winner' }),
        }),
      )
      .readonly()
      .meta({ description: 'Every deployment of the item that applies to the computer, winner first' }),
    requiredBy: z.array(itemKeySchema).readonly().optional().meta({ description: 'For items added because another item needs them' }),
    summary: z.string().meta({ description: 'One sentence an operator can read' }),
  })
  .meta({ id: 'ResolutionExplanation', description: 'Why this deployment of the item won: the candidates and the rule that decided' });

export const computerExplanationSchema = exactly<ComputerExplanation>()(
  z
    .object({
      computerId: z.string(),
      items: z
        .array(
          z.object({
            key: itemKeySchema,
            itemName: z.string(),
            origin: z.enum(['Deployed', 'Prerequisite', 'Unassigned']),
            wants: z.string().meta({ description: 'What the winning deployment wants: a desired state (with its version) or a task mode' }),
            explanation: resolution,
          }),
        )
        .readonly(),
      problems: z.array(z.string()).readonly(),
    })
    .meta({ id: 'ComputerExplanation', description: 'Per item: the winning deployment, the ones it beat and the rule that decided' }),
);

// ---- schedules and runs

const skipReason = z.enum(SKIP_REASONS);

const runOutcome = z
  .object({
    queued: count.meta({ description: 'Targets waiting for their ring or for room under `maxConcurrent`' }),
    running: count,
    awaitingExecution: count.optional().meta({ description: 'Of those running, the ones detected and waiting to execute: for their window, as postponed, or for an execution slot; absent on runs last counted before it was' }),
    passed: count,
    partiallyPassed: count,
    failed: count,
    cancelled: count,
  })
  .meta({ id: 'RunOutcome', description: 'What became of the started sessions, as the run last counted them' });

const runShape = {
  id: z.string(),
  scheduleId: z.string(),
  scheduleName: z.string(),
  scheduleVersion: z.number().int().min(1).meta({ description: 'The schedule version the run used' }),
  owner: z
    .object({ tenantId: z.string().optional() })
    .optional()
    .meta({ description: "The schedule's tenant when it fired (no `tenantId`: every tenant); absent on runs recorded before it was kept" }),
  scheduledTime: instant.meta({ description: 'When the occurrence was due (a run-now: when it was asked for)' }),
  trigger: z.enum(['Schedule', 'RunNow']),
  by: requester,
  status: z.enum(['Starting', 'Running', 'Halted', 'Completed', 'Cancelled']),
  version: z.number().int().min(1),
  // a run always has its rollout: the input default would make it look optional
  rollout: rolloutSchema.unwrap(),
  sessionBasis: sessionOptionsSchema.meta({ description: 'The options every session of the run gets (each adds its own window), fixed when the schedule fired' }),
  thresholdWaivedForRing: z.number().int().min(0).optional().meta({ description: 'A ring whose success threshold an operator waived by resuming the run' }),
  currentRing: z.number().int().min(0).meta({ description: 'The ring whose sessions may start (0 without rings)' }),
  ringEndedAt: instant.optional().meta({ description: "When the current ring's last session ended: its soak counts from here" }),
  haltReason: z.string().optional(),
  haltCause: z.enum(['ErrorBudget', 'RingThreshold', 'Operator', 'ScheduleDeleted']).optional(),
  failuresAccepted: count.meta({ description: 'Failed sessions an operator accepted when resuming' }),
  outcome: runOutcome,
  fanOutLeaseUntil: instant.optional().meta({ description: 'Until when a fan-out or controller step holds the run' }),
  createdAt: instant,
  updatedAt: instant,
  targeted: count,
  started: count,
  skipped: z.partialRecord(skipReason, count).meta({ description: 'Targeted computers that got no session, by reason' }),
};

export const scheduleRunSchema = exactly<ScheduleRun>()(z.object(runShape).meta({ id: 'ScheduleRun', description: 'One fire of a schedule: its rollout, counts and outcome' }));

export const scheduleRunWithCostSchema = exactly<ScheduleRun & { cost: RunCost }>()(
  z.object({ ...runShape, cost: runCost }).meta({ id: 'ScheduleRunWithCost', description: 'One run, with what its sessions and its fan-out cost at list prices' }),
);

export const runTargetSchema = exactly<RunTarget>()(
  z
    .object({
      runId: z.string(),
      computerId: z.string(),
      computerName: z.string(),
      tenantId: z.string(),
      sessionId: z.string().optional().meta({ description: 'The session started for it' }),
      skipped: skipReason.optional(),
      detail: z.string().optional().meta({ description: 'Words for the skip: which session is active, what failed' }),
      window: z
        .object({
          time: z.string(),
          zone: z.string(),
          avoid: z.object({ start: z.string(), end: z.string() }).optional(),
          avoidZone: z.string().optional(),
        })
        .optional()
        .meta({ description: 'Its window rule (absent when execution follows detection): the wall time, the zone it is read in, and the active hours it must avoid' }),
      executeAt: instant.optional().meta({ description: 'When its maintenance window opens, fixed just before its session starts' }),
      ring: z.number().int().min(0).meta({ description: 'Its rollout ring (0 without rings)' }),
    })
    .meta({ id: 'RunTarget', description: 'One computer of a run: its session, or why it got none' }),
);

export const schedulePreviewSchema = exactly<SchedulePreview>()(
  z
    .object({
      timeZone: z.string().meta({ description: "The zone the schedule's times are read in" }),
      nextFires: z.array(instant).readonly().meta({ description: 'The next fires (detection starts), as Scheduler will fire them' }),
      targets: z
        .array(
          z.object({
            computerId: z.string(),
            computerName: z.string(),
            tenantId: z.string(),
            timeZone: z.string(),
            windowOpensAt: instant.optional(),
            skipped: skipReason.optional(),
            detail: z.string().optional(),
          }),
        )
        .readonly()
        .meta({ description: 'Each targeted computer at the next fire: when its window opens, or why it would be skipped' }),
      unknownComputerIds: z.array(z.string()).readonly(),
    })
    .meta({ id: 'SchedulePreview', description: 'The next fires, and per targeted computer when its window would open or why it would be skipped' }),
);

// ---- branding

const brandingOwner = z
  .discriminatedUnion('kind', [z.object({ kind: z.literal('Msp') }), z.object({ kind: z.literal('Tenant'), tenantId: z.string() })])
  .meta({ id: 'BrandingOwner', description: 'Whose branding it is: the MSP\'s, or one tenant\'s (its children inherit it)' });

export const brandingSchema = exactly<Branding>()(
  brandingInputSchema
    .extend({
      owner: brandingOwner,
      id: z.string().meta({ description: '`default`, or a seasonal branding\'s name' }),
      version: z.number().int().min(1),
      updatedAt: instant,
    })
    .meta({ id: 'Branding', description: 'A stored branding: the `BrandingInput` fields it sets, whose it is, its id, version and when it last changed' }),
);
