import { z } from 'zod';
import { deviceClassSchema, entityIdSchema, tagSchema, timeZoneSchema, type Platform } from './catalog.js';

/** A computer as SSM Fleet Manager knows it: what an import reads, before Nightshift knows the computer. */
export interface ManagedNode {
  readonly agentId: string;
  /** The computer name the agent reports; SSM may not know it yet for a node that never reported. */
  readonly computerName?: string;
  /** Undefined for a platform Nightshift does not run on (macOS). */
  readonly platform?: Platform;
  readonly online: boolean;
}

/** SSM tag keys and values: 128 and 256 characters (SSM's own limits), no control characters. */
const ssmTagKeySchema = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').regex(/^[^\p{Cc}]+$/u, 'may not contain control characters');
const ssmTagValueSchema = z.string().max(256, 'must be at most 256 characters').regex(/^[^\p{Cc}]*$/u, 'may not contain control characters');

/**
 * "Managed nodes tagged Customer=contoso belong to tenant contoso": one rule
 * per tenant (or per device class within one). A rule's tag is matched by SSM
 * itself (DescribeInstanceInformation's `tag:` filter), so an import reads
 * only the nodes it maps.
 */
export const importRuleSchema = z.object({
  tag: z.object({ key: ssmTagKeySchema, value: ssmTagValueSchema }),
  tenantId: entityIdSchema,
  deviceClass: deviceClassSchema.optional(),
  timeZone: timeZoneSchema.optional(),
  /** Nightshift tags (targets of deployments and schedules) that the imported computers get, beside those they have. */
  addTags: z.array(tagSchema).max(10, 'at most 10 tags').default([]),
});
export type ImportRule = z.infer<typeof importRuleSchema>;

export const MAX_IMPORT_RULES = 50;

export const importRequestSchema = z.object({
  rules: z.array(importRuleSchema).min(1, 'lists at least one rule').max(MAX_IMPORT_RULES, `at most ${MAX_IMPORT_RULES} rules`),
  /** Answers what the import would do and changes nothing. */
  dryRun: z.boolean().default(false),
});
export type ImportRequest = z.infer<typeof importRequestSchema>;

export type ImportSkipReason = 'AmbiguousTenant' | 'UnsupportedPlatform' | 'InvalidRecord';

export interface ImportedComputer {
  readonly computerId: string;
  readonly agentId: string;
  readonly name: string;
  readonly tenantId: string;
  /** `Moved`: it was known under another tenant, and its rule now puts it in this one. */
  readonly outcome: 'Created' | 'Updated' | 'Moved' | 'Unchanged';
}

export interface ImportReport {
  readonly dryRun: boolean;
  readonly computers: readonly ImportedComputer[];
  readonly skipped: readonly { readonly agentId: string; readonly reason: ImportSkipReason; readonly detail: string }[];
  readonly counts: Readonly<Record<ImportedComputer['outcome'], number>> & { readonly skipped: number };
}
