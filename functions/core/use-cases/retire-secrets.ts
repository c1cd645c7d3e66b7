import type { Dependencies } from './dependencies.js';
import { namedSecretReferences } from './save-catalog.js';

export interface RetireSecretsOptions {
  /** Retirements handled in one run; the rest wait for the next (they are a handful a day). */
  readonly limit: number;
}

export interface RetireSecretsResult {
  /** Retirements that came due and were carried out. */
  readonly retirements: number;
  /** Secret values deleted from the secret store. */
  readonly deleted: number;
  /** References left in place because their deployment names them again. */
  readonly kept: number;
}

/**
 * Deletes the secret values deployments stopped naming once their
 * retirement is due (see `RetiredSecrets`), except any reference the
 * deployment names again by now: one made again under the same id, or a
 * value set again, stores its new value at the same reference. Each
 * retirement is forgotten only after its deletions, so a run that dies in
 * between is repeated by the next, and deleting twice is harmless.
 *
 * A save that names a reference again in the instant between this reading
 * the deployment and deleting the value loses the new value; saving it
 * again restores it (the same window as a deletion racing a save, see
 * `deleteCatalogEntity`).
 */
export async function retireDueSecrets(deps: Pick<Dependencies, 'catalog' | 'secrets' | 'clock' | 'logger'>, options: RetireSecretsOptions): Promise<RetireSecretsResult> {
  const due = await deps.catalog.listRetiredSecretsDue(deps.clock.now().toISOString(), options.limit);
  let deleted = 0;
  let kept = 0;
  for (const retired of due) {
    const current = await deps.catalog.getDeployment(retired.deploymentId);
    // Stryker disable next-line ArrayDeclaration: a deployment that is gone names nothing, and a stand-in string is no secret reference a retirement holds
    const named = new Set(current ? await namedSecretReferences(deps, current) : []);
    const doomed = retired.references.filter((reference) => !named.has(reference));
    if (doomed.length > 0) await deps.secrets.delete(doomed);
    await deps.catalog.forgetRetiredSecrets(retired);
    deleted += doomed.length;
    kept += retired.references.length - doomed.length;
  }
  if (due.length > 0) deps.logger.info('retired secrets deleted', { retirements: due.length, deleted, kept });
  return { retirements: due.length, deleted, kept };
}
