import { z } from 'zod';

/**
 * What an MSP engineer configures: computers, the software catalog and the
 * deployments that say which software each computer should have.
 */

const id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-"');

export const platformSchema = z.enum(['linux', 'windows']);
export type Platform = z.infer<typeof platformSchema>;

/** SSM managed instance ids: EC2 instances `i-…`, hybrid activations `mi-…`. */
export const agentIdSchema = z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'must be an SSM managed instance id (i-… or mi-…)');

export const computerSchema = z.object({
  id,
  agentId: agentIdSchema,
  name: z.string().min(1).max(255),
  tenantId: id,
  platform: platformSchema,
});
export type Computer = z.infer<typeof computerSchema>;

const scriptBody = z.string().min(1, 'must not be empty').max(32_768, 'must be at most 32 KB');

export const softwareSchema = z.object({
  id,
  name: z.string().min(1).max(255),
  platform: platformSchema,
  /**
   * Prints the installed version on stdout and exits 0; prints nothing and
   * exits 0 when the software is absent. A non-zero exit means "could not tell".
   */
  detectionScript: scriptBody,
  installScript: scriptBody,
  uninstallScript: scriptBody,
  /** Runs for updates when present; otherwise the install script installs over the old version. */
  upgradeScript: scriptBody.optional(),
  latestVersion: z.string().min(1).max(64),
});
export type Software = z.infer<typeof softwareSchema>;

export const deploymentTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('AllTenants') }),
  z.object({ kind: z.literal('Tenant'), tenantId: id }),
  z.object({ kind: z.literal('Computer'), computerId: id }),
]);
export type DeploymentTarget = z.infer<typeof deploymentTargetSchema>;

export const softwareDesiredStateSchema = z.enum(['LatestVersion', 'ThisVersion', 'NotPresent']);
export type SoftwareDesiredState = z.infer<typeof softwareDesiredStateSchema>;

export const deploymentSchema = z
  .object({
    id,
    softwareId: id,
    target: deploymentTargetSchema,
    desiredState: softwareDesiredStateSchema,
    desiredVersion: z.string().min(1).max(64).optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((deployment, ctx) => {
    if (deployment.desiredState === 'ThisVersion' && deployment.desiredVersion === undefined) {
      ctx.addIssue({ code: 'custom', path: ['desiredVersion'], message: 'is required when desiredState is ThisVersion' });
    }
  });
export type Deployment = z.infer<typeof deploymentSchema>;
