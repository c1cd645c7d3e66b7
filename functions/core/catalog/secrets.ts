import type { FieldProblem } from '../errors.js';
import type { Deployment, DeploymentTarget, MaintenanceTask, ParameterValue } from '../model/catalog.js';
import { utf8Length } from '../validation.js';
import { parameterValue } from './parameters.js';

/**
 * Secret task parameters (passwords, licence keys) live in one place only:
 * the secret store (an SSM Parameter Store SecureString in AWS). The
 * deployment item, the sessions frozen from it, the commands sent to
 * computers, the events and the logs hold this marker instead, and a command
 * carries the secret's reference, which the computer resolves for itself.
 */
export const SECRET_MARKER = '(secret)';

/**
 * Whose computers may read a deployment's secrets. A deployment that reaches
 * the computers of one tenant only (that tenant, a tag in it, one computer)
 * keeps them under that tenant, readable only by nodes whose role carries
 * `nightshift:tenant=<id>`; one that spans tenants (all tenants, a tag
 * everywhere, a person, a tenant with its children) keeps them shared, and
 * every node may read them. The nodes' policy grants exactly that (see the
 * stack's node policy), so a client's computer never reads another client's
 * licence key or password.
 */
export type SecretScope = { readonly kind: 'Tenant'; readonly tenantId: string } | { readonly kind: 'Shared' };

/** The node role's tag that names its tenant, and the tenant path the node policy lets it read. */
export const NODE_TENANT_TAG = 'nightshift:tenant';

/** Whether the deployment's secrets are kept per tenant: it reaches the computers of one tenant only. */
export function keepsSecretsPerTenant(target: DeploymentTarget): boolean {
  switch (target.kind) {
    case 'Tenant':
      return !target.includeChildTenants;
    case 'Tag':
      return target.tenantId !== undefined;
    case 'Computer':
      return true;
    default:
      return false;
  }
}

/**
 * A deployment's secret parameter is stored, and read by the computer, under
 * this name. Tenant ids, deployment ids and parameter names are already
 * limited to characters SSM allows in a parameter name.
 */
export const secretReference = (scope: SecretScope, deploymentId: string, parameterName: string): string =>
  scope.kind === 'Tenant' ? `/nightshift/secrets/tenants/${scope.tenantId}/${deploymentId}/${parameterName}` : `/nightshift/secrets/shared/${deploymentId}/${parameterName}`;

const sameScope = (a: SecretScope, b: SecretScope): boolean => (a.kind === 'Tenant' ? b.kind === 'Tenant' && a.tenantId === b.tenantId : b.kind === 'Shared');

const describeScope = (scope: SecretScope): string => (scope.kind === 'Tenant' ? `tenant ${scope.tenantId}` : 'every tenant');

/** A standard-tier SSM parameter holds at most 4 KB; the advanced tier costs money per parameter per month. */
export const MAX_SECRET_BYTES = 4_096;

export const isSecretParameter = (task: MaintenanceTask, name: string): boolean => task.parameters.some((p) => p.name === name && p.type === 'secret');

/** What saving a deployment does with its secrets, decided before anything is written. */
export interface SecretChanges {
  /** The deployment as it is stored: every secret value replaced by the marker. */
  readonly stored: Deployment;
  /** Values to put in the secret store (overwriting), before the deployment is stored. */
  readonly writes: readonly { readonly reference: string; readonly value: string }[];
  /** References the stored deployment no longer names, removed after it is stored. */
  readonly deletions: readonly string[];
  readonly problems: readonly FieldProblem[];
}

/** The deployment as stored now, and where its secrets are kept. */
export interface StoredSecrets {
  readonly deployment: Deployment;
  readonly scope: SecretScope;
}

/**
 * Separates a deployment's secret values from what is stored of it. A value
 * equal to the marker keeps the secret stored before (what the API showed is
 * what comes back when a deployment is edited and saved again); there must be
 * one, in the same scope: a deployment whose target moves its secrets to
 * another tenant (or to or from every tenant) needs its values again, because
 * Nightshift never reads a secret back. `previous` is the deployment as
 * stored now, if any.
 *
 * Deletions cover the task's secret parameters that are not set, not only
 * those the previous item marked: a save that died after storing the item and
 * before deleting is finished by saving again. After a move, every secret the
 * previous scope held is deleted there.
 */
export function separateSecrets(deployment: Deployment, task: MaintenanceTask | undefined, scope: SecretScope, previous: StoredSecrets | undefined): SecretChanges {
  const previouslyStored = new Set(
    previous?.deployment.itemKind === 'Task' ? Object.entries(previous.deployment.parameters).flatMap(([name, value]) => (value === SECRET_MARKER ? [name] : [])) : [],
  );
  const moved = previous !== undefined && !sameScope(previous.scope, scope);
  const secretNames = deployment.itemKind === 'Task' && task ? task.parameters.filter((p) => p.type === 'secret').map((p) => p.name) : [];
  const problems: FieldProblem[] = [];
  const writes: { reference: string; value: string }[] = [];
  const kept = new Set<string>();
  let stored = deployment;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a task deployment without secret parameters comes out as an equal copy of itself
  if (deployment.itemKind === 'Task' && secretNames.length > 0) {
    const parameters: Record<string, ParameterValue> = { ...deployment.parameters };
    for (const name of secretNames) {
      const value = parameterValue(deployment.parameters, name);
      // the value's own type is checked by validateParameters; only text is a secret to store
      if (typeof value !== 'string') continue;
      const field = `parameters.${name}`;
      if (value === SECRET_MARKER) {
        if (!previouslyStored.has(name)) problems.push({ field, problem: `is "${SECRET_MARKER}", which keeps the stored secret, but deployment ${deployment.id} has none stored; give the value` });
        else if (moved) {
          problems.push({
            field,
            problem: `give the value again: the new target moves deployment ${deployment.id}'s secrets from ${describeScope(previous.scope)} to ${describeScope(scope)}, and Nightshift never reads a secret back`,
          });
        } else kept.add(name);
        continue;
      }
      if (value === '') problems.push({ field, problem: 'must not be empty; leave the parameter out to store no secret' });
      else if (utf8Length(value) > MAX_SECRET_BYTES) problems.push({ field, problem: `must be at most ${MAX_SECRET_BYTES / 1024} KB: secrets are stored as SSM SecureString parameters` });
      else {
        writes.push({ reference: secretReference(scope, deployment.id, name), value });
        kept.add(name);
      }
      parameters[name] = SECRET_MARKER;
    }
    stored = { ...deployment, parameters };
  }
  const here = secretNames.filter((name) => !kept.has(name)).map((name) => secretReference(scope, deployment.id, name));
  const before =
    previous === undefined ? [] : [...previouslyStored].filter((name) => moved || !kept.has(name)).map((name) => secretReference(previous.scope, deployment.id, name));
  return { stored, writes, deletions: [...new Set([...before, ...here])], problems };
}
