import { z } from 'zod';
import { compilePattern, MAX_PATTERN_LENGTH } from '../catalog/pattern.js';
import { utf8Length } from '../validation.js';
import { MAX_VERSION_LENGTH, parseVersion } from '../versions.js';
import { lowerCaseEmailAddressSchema } from './email-address.js';

/**
 * What an MSP engineer configures: tenants and their computers, the software
 * and maintenance-task catalog, and the deployments that say which computers
 * get what. Schemas here are the boundary: nothing unparsed reaches the store.
 */

export const entityIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit');

const nameSchema = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
/** Exactly what `compareVersions` can order: a version the catalog accepts is never "undetermined" against another. */
export const versionSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_VERSION_LENGTH, `must be at most ${MAX_VERSION_LENGTH} characters`)
  .refine((version) => parseVersion(version) !== undefined, 'must be a version such as 1.2.3, 2.0.0-rc.1, 23.01 or v6.6.10');
/** In bytes: scripts are stored whole with their entity and sent inline to the agent. */
const MAX_SCRIPT_BYTES = 32_768;
const scriptSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_SCRIPT_BYTES, 'must be at most 32 KB')
  .refine((script) => utf8Length(script) <= MAX_SCRIPT_BYTES, 'must be at most 32 KB (UTF-8)');
/** Parameter values travel in the environment of a script; 16 KB is far more than any setting needs. */
const MAX_PARAMETER_TEXT = 16_384;
const MAX_PARAMETERS = 50;

export const platformSchema = z.enum(['linux', 'windows']);
export type Platform = z.infer<typeof platformSchema>;

/**
 * The zone's canonical name as the runtime's ICU gives it (`US/Eastern` is
 * America/New_York), or undefined for a zone Intl does not know. ICU keeps
 * some spellings IANA has since replaced (Asia/Kolkata reads Asia/Calcutta,
 * Europe/Kyiv reads Europe/Kiev); both are in the tz database EventBridge
 * Scheduler uses, and every comparison of stored names runs on the same
 * runtime, so the older spelling is stored as it is.
 */
function canonicalZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * An IANA time zone, stored by its canonical name: EventBridge Scheduler
 * takes those, and the reconcile sweep compares names. Abbreviations that
 * are not zones (EST resolves to Panama, which keeps no DST) are refused.
 */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    const canonical = canonicalZone(zone);
    return canonical !== undefined && (canonical === 'UTC' || !/^[A-Z]{3,5}\d?$/.test(zone));
  }, 'must be an IANA time zone such as Europe/Lisbon')
  .transform((zone) => canonicalZone(zone) ?? zone);

export const tenantSchema = z.object({
  id: entityIdSchema,
  name: nameSchema,
  parentTenantId: entityIdSchema.optional(),
  /** Cross-tenant deployments and schedules skip this tenant's computers (a customer with its own rules). */
  excludeFromCrossTenant: z.boolean().default(false),
  /** `false`: the tenant (a customer on hold) gets no scheduled sessions; its computers are skipped with the reason. Absent: enabled. */
  enabled: z.boolean().optional(),
  /** The zone a schedule of this tenant uses when it names none. */
  defaultTimeZone: timeZoneSchema.optional(),
});
export type Tenant = z.infer<typeof tenantSchema>;

/** SSM managed instance ids: EC2 instances `i-…`, hybrid activations `mi-…`. */
export const agentIdSchema = z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'must be an SSM managed instance id (i-… or mi-…)');

export const deviceClassSchema = z.enum(['Workstation', 'Portable', 'Server', 'DomainController']);
export type DeviceClass = z.infer<typeof deviceClassSchema>;

export const tagSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[^\s,]+$/, 'may not contain spaces or commas');

/** A wall-clock time, `HH:MM` on the 24-hour clock. */
export const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (24-hour clock)');

/** Office hours the user works in; a schedule can keep maintenance out of them. */
export const activeHoursSchema = z.object({ start: timeOfDaySchema, end: timeOfDaySchema });
export type ActiveHours = z.infer<typeof activeHoursSchema>;
/** What a computer that reports none is taken to have (Windows' own default). */
export const DEFAULT_ACTIVE_HOURS: ActiveHours = { start: '08:00', end: '17:00' };

export const computerSchema = z.object({
  id: entityIdSchema,
  agentId: agentIdSchema,
  name: nameSchema,
  tenantId: entityIdSchema,
  platform: platformSchema,
  deviceClass: deviceClassSchema.default('Workstation'),
  tags: z.array(tagSchema).max(50, 'at most 50 tags').default([]),
  primaryUser: z.object({ name: nameSchema, email: lowerCaseEmailAddressSchema }).optional(),
  timeZone: timeZoneSchema.default('UTC'),
  activeHours: activeHoursSchema.optional(),
  /** Last known agent connectivity; a session still tries an offline computer (its command waits for delivery). */
  online: z.boolean().default(true),
});
export type Computer = z.infer<typeof computerSchema>;

/** How detection finds an installed version, generated into the batched detection script. */
export const softwareDetectionSchema = z.discriminatedUnion('method', [
  z.object({
    /** Installed programs whose display name contains the text (Windows uninstall entries, Linux package names). */
    method: z.literal('DisplayName'),
    match: z.enum(['Contains', 'Regex']).default('Contains'),
    value: z.string().min(1).max(255),
  }),
  z.object({
    /** An exact package: dpkg/rpm name on Linux, MSI product code on Windows. */
    method: z.literal('PackageName'),
    value: z.string().min(1).max(255),
  }),
  z.object({
    /** A script that prints the installed version, or nothing when absent. */
    method: z.literal('Script'),
    script: scriptSchema,
  }),
]);
export type SoftwareDetection = z.infer<typeof softwareDetectionSchema>;

export const dependencySchema = z.object({
  softwareId: entityIdSchema,
  /** `Installed`: a prerequisite, installed first. `Absent`: must be uninstalled first (a conflicting product). */
  requires: z.enum(['Installed', 'Absent']),
});

export const softwareSchema = z
  .object({
    id: entityIdSchema,
    name: nameSchema,
    platform: platformSchema,
    detection: softwareDetectionSchema,
    /** Optional health check: exit 0 when the installed software works; a failure plans a Reinstall. */
    testScript: scriptSchema.optional(),
    installScript: scriptSchema,
    uninstallScript: scriptSchema,
    /** Runs for updates when present; otherwise the install script installs over the old version. */
    upgradeScript: scriptSchema.optional(),
    versions: z.array(versionSchema).max(500).default([]),
    latestVersion: versionSchema,
    dependencies: z.array(dependencySchema).max(50).default([]),
  })
  .superRefine((software, ctx) => {
    if (software.dependencies.some((d) => d.softwareId === software.id)) {
      ctx.addIssue({ code: 'custom', path: ['dependencies'], message: `${software.id} cannot depend on itself` });
    }
    const seen = new Set<string>();
    software.dependencies.forEach((d, index) => {
      if (seen.has(d.softwareId)) ctx.addIssue({ code: 'custom', path: ['dependencies', index, 'softwareId'], message: `${d.softwareId} is listed twice` });
      seen.add(d.softwareId);
    });
  });
export type Software = z.infer<typeof softwareSchema>;

const parameterNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,47}$/, 'must start with a letter and contain only letters, digits and "_" (at most 48)');

export const taskParameterSchema = z.discriminatedUnion('type', [
  z.object({
    name: parameterNameSchema,
    type: z.literal('string'),
    required: z.boolean().default(false),
    default: z.string().max(MAX_PARAMETER_TEXT).optional(),
    pattern: z.string().max(MAX_PATTERN_LENGTH, `must be at most ${MAX_PATTERN_LENGTH} characters`).optional(),
  }),
  z.object({ name: parameterNameSchema, type: z.literal('number'), required: z.boolean().default(false), default: z.number().optional(), min: z.number().optional(), max: z.number().optional() }),
  z.object({ name: parameterNameSchema, type: z.literal('boolean'), required: z.boolean().default(false), default: z.boolean().optional() }),
  z.object({ name: parameterNameSchema, type: z.literal('enum'), required: z.boolean().default(false), values: z.array(z.string().min(1).max(255)).min(1).max(100), default: z.string().max(255).optional() }),
  /** Never shown in logs, sessions or emails; passed to the script like any other parameter. */
  z.object({ name: parameterNameSchema, type: z.literal('secret'), required: z.boolean().default(false) }),
]);

export const maintenanceTaskSchema = z
  .object({
    id: entityIdSchema,
    name: nameSchema,
    platform: platformSchema,
    /**
     * Either one script told its method (`NIGHTSHIFT_TASK_METHOD` = test | get | set), or separate
     * scripts. `test` exits 0 when compliant and 1 when not; any other exit means "could not tell".
     */
    scripts: z.discriminatedUnion('style', [
      z.object({ style: z.literal('Combined'), script: scriptSchema }),
      z.object({ style: z.literal('Separate'), test: scriptSchema, set: scriptSchema.optional(), get: scriptSchema.optional() }),
    ]),
    parameters: z.array(taskParameterSchema).max(MAX_PARAMETERS).default([]),
  })
  .superRefine((task, ctx) => {
    const names = new Set<string>();
    task.parameters.forEach((parameter, index) => {
      if (names.has(parameter.name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['parameters', index, 'name'], message: `${parameter.name} is defined twice` });
      names.add(parameter.name.toLowerCase());
      if (parameter.type === 'enum' && parameter.default !== undefined && !parameter.values.includes(parameter.default)) {
        ctx.addIssue({ code: 'custom', path: ['parameters', index, 'default'], message: `must be one of ${parameter.values.join(', ')}` });
      }
      if (parameter.type === 'number' && parameter.min !== undefined && parameter.max !== undefined && parameter.min > parameter.max) {
        ctx.addIssue({ code: 'custom', path: ['parameters', index, 'max'], message: 'must not be below min' });
      }
      if (parameter.type === 'string' && parameter.pattern !== undefined) {
        // compiled here, at save time, so a pattern that cannot be matched in linear time never reaches a deployment
        const compiled = compilePattern(parameter.pattern);
        if (!compiled.ok) ctx.addIssue({ code: 'custom', path: ['parameters', index, 'pattern'], message: compiled.problem });
        else if (parameter.default !== undefined) {
          const matches = compiled.pattern.test(parameter.default);
          if (matches !== true) {
            const message = matches === false ? "must match the parameter's pattern" : "is too long to check against the parameter's pattern";
            ctx.addIssue({ code: 'custom', path: ['parameters', index, 'default'], message });
          }
        }
      }
    });
  });
export type MaintenanceTask = z.infer<typeof maintenanceTaskSchema>;

export const deploymentTargetSchema = z.discriminatedUnion('kind', [
  /** Every tenant, except those excluded from cross-tenant deployments. */
  z.object({ kind: z.literal('AllTenants') }),
  z.object({ kind: z.literal('Tenant'), tenantId: entityIdSchema, includeChildTenants: z.boolean().default(false) }),
  /** Computers with the tag: in one tenant (single-tenant level) or in every tenant (cross-tenant level). */
  z.object({ kind: z.literal('Tag'), tag: tagSchema, tenantId: entityIdSchema.optional() }),
  z.object({ kind: z.literal('Computer'), computerId: entityIdSchema }),
  /** The computers whose primary user is this person. */
  z.object({ kind: z.literal('Person'), email: lowerCaseEmailAddressSchema }),
]);
export type DeploymentTarget = z.infer<typeof deploymentTargetSchema>;

export const softwareDesiredStateSchema = z.enum([
  'LatestVersion',
  'ThisVersion',
  'AnyVersion',
  'NewerOrEqualVersion',
  'UpdateIfFound',
  'NotPresent',
  'Ignored',
]);
export type SoftwareDesiredState = z.infer<typeof softwareDesiredStateSchema>;

export const taskModeSchema = z.enum(['Enforce', 'Audit', 'Monitor', 'Ignore']);
export type TaskMode = z.infer<typeof taskModeSchema>;

export const orderingHintSchema = z.enum(['Beginning', 'Unordered', 'End']);
export type OrderingHint = z.infer<typeof orderingHintSchema>;

const parameterValueSchema = z.union([z.string().max(MAX_PARAMETER_TEXT), z.number(), z.boolean()]);
export type ParameterValue = z.infer<typeof parameterValueSchema>;

const commonDeploymentFields = {
  id: entityIdSchema,
  target: deploymentTargetSchema,
  /** Applies only to computers of these classes; absent means every class. */
  deviceClasses: z.array(deviceClassSchema).min(1, 'lists at least one class, or leave it out for all').max(4).optional(),
  enabled: z.boolean().default(true),
  orderingHint: orderingHintSchema.default('Unordered'),
  /** A failure of a non-critical deployment leaves the session PartialPassed instead of Failed. */
  critical: z.boolean().default(true),
};

export const deploymentSchema = z
  .discriminatedUnion('itemKind', [
    z.object({
      ...commonDeploymentFields,
      itemKind: z.literal('Software'),
      softwareId: entityIdSchema,
      desiredState: softwareDesiredStateSchema,
      /** Required for ThisVersion and NewerOrEqualVersion. */
      version: versionSchema.optional(),
    }),
    z.object({
      ...commonDeploymentFields,
      itemKind: z.literal('Task'),
      taskId: entityIdSchema,
      mode: taskModeSchema,
      parameters: z
        .record(parameterNameSchema, parameterValueSchema)
        .refine((values) => Object.keys(values).length <= MAX_PARAMETERS, `at most ${MAX_PARAMETERS} parameters`)
        .default({}),
    }),
  ])
  .superRefine((deployment, ctx) => {
    if (deployment.itemKind !== 'Software') return;
    const needsVersion = deployment.desiredState === 'ThisVersion' || deployment.desiredState === 'NewerOrEqualVersion';
    if (needsVersion && deployment.version === undefined) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: `is required when desiredState is ${deployment.desiredState}` });
    }
    if (!needsVersion && deployment.version !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: `means nothing when desiredState is ${deployment.desiredState}; leave it out` });
    }
  });
export type Deployment = z.infer<typeof deploymentSchema>;
export type SoftwareDeployment = Extract<Deployment, { itemKind: 'Software' }>;
export type TaskDeployment = Extract<Deployment, { itemKind: 'Task' }>;

/** The item a deployment is about: `software:<id>` or `task:<id>`, unique across both catalogs. */
export type ItemKey = `software:${string}` | `task:${string}`;
/** What a session's actions act on: an item, or (for the restart) the computer itself. */
export type ActionTarget = ItemKey | 'computer:restart';
export const itemKeySchema = z.custom<ItemKey>(
  (value) => typeof value === 'string' && /^(software|task):/.test(value) && entityIdSchema.safeParse(value.slice(value.indexOf(':') + 1)).success,
  'must be "software:<id>" or "task:<id>"',
);
export const itemKeyOf = (deployment: Deployment): ItemKey =>
  deployment.itemKind === 'Software' ? `software:${deployment.softwareId}` : `task:${deployment.taskId}`;

/**
 * A software item, task or deployment as stored, with its revision: 1 when
 * it is first created, and at each change the version of the audit entry
 * that records the change (`AuditEntry.version`), so the two always say the
 * same number. A change names the revision it was decided on and is refused
 * when the stored one has moved on. Called revision, not version: a
 * deployment's `version` is the software version it pins, and a software
 * item's `versions` are its releases.
 */
export type Revised<T> = T & { readonly revision: number };
export type StoredSoftware = Revised<Software>;
export type StoredTask = Revised<MaintenanceTask>;
export type StoredDeployment = Revised<Deployment>;
