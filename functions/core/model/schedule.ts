import { z } from 'zod';
import { deviceClassSchema, entityIdSchema, itemKeySchema, tagSchema, timeOfDaySchema, timeZoneSchema } from './catalog.js';
import { notifyOptionsSchema, requesterSchema } from './session.js';
import { parseCronExpression } from '../schedules/cron.js';

/**
 * A schedule: "every Tuesday, detect at 14:00, execute at 22:00 in each
 * computer's own time zone, for every workstation of tenant Contoso". Each
 * fire starts one session per targeted computer (a run). The fields follow
 * what MSP tools offer (ImmyBot's schedules as the reference).
 */

export const weekdaySchema = z.enum(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']);

const unique = (values: readonly unknown[]): boolean => new Set(values).size === values.length;

export const recurrenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Daily') }),
  z.object({
    kind: z.literal('Weekly'),
    days: z.array(weekdaySchema).min(1, 'name at least one day').max(7).refine(unique, 'must not repeat a day'),
  }),
  z.object({
    kind: z.literal('Monthly'),
    /** Days of the month; `Last` is the month's last day. A month without day 31 has no run on it, as in cron. */
    days: z
      .array(z.union([z.number().int().min(1, 'days of the month run from 1').max(31, 'days of the month end at 31'), z.literal('Last')]))
      .min(1, 'name at least one day')
      .max(32)
      .refine(unique, 'must not repeat a day')
      .refine((days) => !days.includes('Last') || days.length === 1, 'Last stands alone (cron has no "the 15th and the last day")'),
  }),
  /**
   * A 5-field cron expression (minute hour day-of-month month day-of-week),
   * at most daily: one minute and one hour, no lists or steps in either. Its
   * minute and hour are the detection time.
   */
  z.object({
    kind: z.literal('Cron'),
    expression: z
      .string()
      .max(100, 'must be at most 100 characters')
      .superRefine((expression, ctx) => {
        const parsed = parseCronExpression(expression);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
      }),
  }),
]);

/** Which computers a schedule reaches, within its tenant scope. */
export const scheduleTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('AllComputers') }),
  z.object({ kind: z.literal('Tag'), tag: tagSchema }),
  z.object({
    kind: z.literal('Computers'),
    computerIds: z.array(entityIdSchema).min(1, 'name at least one computer').max(1000, 'at most 1,000 computers; use a tag for more').refine(unique, 'must not repeat a computer'),
  }),
]);

export const rebootPreferenceSchema = z
  .object({
    /** Normal restarts when an action needs it; Prompt asks the user first and applies `timeoutAction` when nobody answers. */
    preference: z.enum(['Normal', 'Suppress', 'Force', 'Prompt']).default('Normal'),
    promptTimeoutMinutes: z.number().int().min(5).max(1440).default(60),
    timeoutAction: z.enum(['Reboot', 'Suppress']).default('Reboot'),
  })
  .default({ preference: 'Normal', promptTimeoutMinutes: 60, timeoutAction: 'Reboot' });

export const offlineBehaviourSchema = z
  .object({
    /** Skip: an offline computer gets no session this run. ApplyOnConnect: its session waits for it, up to `waitHours`. */
    behaviour: z.enum(['Skip', 'ApplyOnConnect']).default('ApplyOnConnect'),
    waitHours: z.number().int().min(1).max(72).default(24),
  })
  .default({ behaviour: 'ApplyOnConnect', waitHours: 24 });

/** What the end user is told; stored with the schedule and copied into each session it starts (`options.notify`). */
export const emailOptionsSchema = notifyOptionsSchema.default(notifyOptionsSchema.parse({}));

/**
 * How far an end user may push the maintenance back (Automox's deferral
 * limits, Intune's deadlines): each postpone moves it `delayMinutes`, at most
 * `maxCount` times, and never more than `maxDelayHours` past the window.
 */
export const postponePolicySchema = z
  .object({
    delayMinutes: z.number().int().min(5).max(7 * 24 * 60).default(60),
    maxCount: z.number().int().min(0).max(20).default(2),
    maxDelayHours: z.number().int().min(1).max(7 * 24).default(24),
  })
  .strict()
  .default({ delayMinutes: 60, maxCount: 2, maxDelayHours: 24 });

const amountSchema = (min: number) =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('Count'), value: z.number().int().min(min).max(100_000) }),
    z.object({ kind: z.literal('Percent'), value: z.number().int().min(min).max(100) }),
  ]);

export const ringSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters'),
    /** The share of the run's targets reached once this ring has started, counting the rings before it. */
    percent: z.number().int().min(1).max(100),
    /** The share of this ring's ended sessions that must pass (or pass partly) before the next ring starts. */
    successThresholdPercent: z.number().int().min(0).max(100).default(95),
    /** How long to wait after this ring's last session ended before the next ring starts. */
    soakMinutes: z.number().int().min(0).max(10_080).default(60),
  })
  .strict();

/**
 * How a run reaches its computers. Semantics (the README states them as SSM
 * states its own): `maxConcurrent` bounds the run's sessions executing at
 * once (execution slots taken when each one's window opens); a
 * run whose failed sessions exceed `errorBudget` halts: no further session
 * starts, the ones already started run to their end. Rings start one after
 * the other, each once the one before ended well enough and soaked.
 */
export const rolloutSchema = z
  .object({
    maxConcurrent: amountSchema(1).optional(),
    errorBudget: amountSchema(0).optional(),
    rings: z
      .array(ringSchema)
      .max(5, 'at most 5 rings')
      .refine((rings) => rings.every((ring, index) => index === 0 || ring.percent > (rings[index - 1]?.percent ?? 0)), 'each ring must reach a larger share than the one before')
      .refine((rings) => rings.length === 0 || rings.at(-1)?.percent === 100, 'the last ring must reach 100 percent')
      .default([]),
  })
  .strict()
  .default({ rings: [] });
export type Rollout = z.infer<typeof rolloutSchema>;

/** The minimum time between detection and execution, unless execution follows detection at once. */
export const MIN_DETECTION_TO_EXECUTION_MINUTES = 60;
/** EventBridge Scheduler's flexible time window allows up to 1,440 minutes; a maintenance run wants far less. */
export const MAX_FLEXIBLE_WINDOW_MINUTES = 240;

const minutesOfDay = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** What an operator sends to create or update a schedule. */
export const scheduleInputSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    enabled: z.boolean().default(true),
    /** One tenant, or absent for every tenant (except those excluded from cross-tenant work). */
    tenantId: entityIdSchema.optional(),
    includeChildTenants: z.boolean().default(false),
    target: scheduleTargetSchema,
    /** Only these device classes; empty means every class. */
    deviceClasses: z.array(deviceClassSchema).max(4).refine(unique, 'must not repeat a device class').default([]),
    /** Only this software item or task, instead of everything deployed to the computer. */
    limitTo: itemKeySchema.optional(),
    recurrence: recurrenceSchema,
    /** When detection starts, in the schedule's time zone; from the expression for a `Cron` recurrence. */
    detectionTime: timeOfDaySchema.optional(),
    /** When the maintenance window opens; absent with `executeImmediatelyAfterDetection` or `detectionOnly`. */
    maintenanceTime: timeOfDaySchema.optional(),
    executeImmediatelyAfterDetection: z.boolean().default(false),
    /** IANA zone of the detection and maintenance times; absent: the tenant's, else UTC. */
    timeZone: timeZoneSchema.optional(),
    /** The maintenance time is read in each computer's own time zone. */
    useComputerTimeZone: z.boolean().default(false),
    /** A window that would open inside the computer's active hours opens when they end. */
    executeAfterActiveHours: z.boolean().default(false),
    offline: offlineBehaviourSchema,
    reboot: rebootPreferenceSchema,
    email: emailOptionsSchema,
    postpone: postponePolicySchema,
    /** Detect and report what would change; execute nothing. */
    detectionOnly: z.boolean().default(false),
    /** EventBridge Scheduler may fire up to this many minutes late, to spread load; 0 is exact. */
    flexibleWindowMinutes: z.number().int().min(0).max(MAX_FLEXIBLE_WINDOW_MINUTES).default(0),
    rollout: rolloutSchema,
  })
  .strict()
  .superRefine((input, ctx) => {
    const isCron = input.recurrence.kind === 'Cron';
    if (isCron && input.detectionTime !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['detectionTime'], message: 'comes from the cron expression; leave it out' });
    }
    if (!isCron && input.detectionTime === undefined) {
      ctx.addIssue({ code: 'custom', path: ['detectionTime'], message: 'is required (HH:MM), unless the recurrence is a cron expression' });
    }
    if (input.detectionOnly) {
      if (input.maintenanceTime !== undefined) ctx.addIssue({ code: 'custom', path: ['maintenanceTime'], message: 'a detection-only schedule executes nothing; leave it out' });
      return;
    }
    if (input.executeImmediatelyAfterDetection) {
      if (input.maintenanceTime !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['maintenanceTime'], message: 'leave it out when execution follows detection at once' });
      }
      return;
    }
    if (input.maintenanceTime === undefined) {
      ctx.addIssue({ code: 'custom', path: ['maintenanceTime'], message: 'is required (HH:MM), unless executeImmediatelyAfterDetection or detectionOnly is set' });
      return;
    }
    // in each computer's zone the gap is applied when the window is computed; in one zone it is checked here
    const detection = detectionTimeOf(input);
    if (!input.useComputerTimeZone && detection !== undefined) {
      const gap = (minutesOfDay(input.maintenanceTime) - minutesOfDay(detection) + 1440) % 1440;
      if (gap < MIN_DETECTION_TO_EXECUTION_MINUTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['maintenanceTime'],
          message: `must be at least ${MIN_DETECTION_TO_EXECUTION_MINUTES} minutes after the detection time (${detection}), or set executeImmediatelyAfterDetection`,
        });
      }
    }
  });
export type ScheduleInput = z.infer<typeof scheduleInputSchema>;

/** The detection time: the field, or the minute and hour of a cron recurrence. */
export function detectionTimeOf(input: Pick<ScheduleInput, 'recurrence' | 'detectionTime'>): string | undefined {
  if (input.recurrence.kind !== 'Cron') return input.detectionTime;
  const parsed = parseCronExpression(input.recurrence.expression);
  return parsed.ok ? parsed.cron.time : undefined;
}

export const scheduleIdSchema = entityIdSchema;

/** A stored schedule: the operator's input with its identity and bookkeeping. */
export const scheduleSchema = z.object({
  ...scheduleInputSchema.shape,
  id: scheduleIdSchema,
  /** Bumped by every change; each write names the version it read. */
  version: z.number().int().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  createdBy: requesterSchema,
  updatedAt: z.iso.datetime({ offset: true }),
  updatedBy: requesterSchema,
});
export type Schedule = z.infer<typeof scheduleSchema>;
