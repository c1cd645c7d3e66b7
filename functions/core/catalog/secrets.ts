import type { FieldProblem } from '../errors.js';
import type { Deployment, MaintenanceTask, ParameterValue } from '../model/catalog.js';
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
 * A deployment's secret parameter is stored, and read by the computer, under
 * this name. Deployment ids and parameter names are already limited to
 * characters SSM allows in a parameter name.
 */
export const secretReference = (deploymentId: string, parameterName: string): string => `/nightshift/secrets/${deploymentId}/${parameterName}`;

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

/**
 * Separates a deployment's secret values from what is stored of it. A value
 * equal to the marker keeps the secret stored before (what the API showed is
 * what comes back when a deployment is edited and saved again); there must be
 * one. `previous` is the deployment as stored now, if any.
 *
 * Deletions cover the task's secret parameters that are not set, not only
 * those the previous item marked: a save that died after storing the item and
 * before deleting is finished by saving again.
 */
export function separateSecrets(deployment: Deployment, task: MaintenanceTask | undefined, previous: Deployment | undefined): SecretChanges {
  const previouslyStored = new Set(
    previous?.itemKind === 'Task' ? Object.entries(previous.parameters).flatMap(([name, value]) => (value === SECRET_MARKER ? [name] : [])) : [],
  );
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
        if (previouslyStored.has(name)) kept.add(name);
        else problems.push({ field, problem: `is "${SECRET_MARKER}", which keeps the stored secret, but deployment ${deployment.id} has none stored; give the value` });
        continue;
      }
      if (value === '') problems.push({ field, problem: 'must not be empty; leave the parameter out to store no secret' });
      else if (utf8Length(value) > MAX_SECRET_BYTES) problems.push({ field, problem: `must be at most ${MAX_SECRET_BYTES / 1024} KB: secrets are stored as SSM SecureString parameters` });
      else {
        writes.push({ reference: secretReference(deployment.id, name), value });
        kept.add(name);
      }
      parameters[name] = SECRET_MARKER;
    }
    stored = { ...deployment, parameters };
  }
  const deletions = [...new Set([...previouslyStored, ...secretNames])].filter((name) => !kept.has(name)).map((name) => secretReference(deployment.id, name));
  return { stored, writes, deletions, problems };
}
