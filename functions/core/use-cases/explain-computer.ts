import { NotFoundError } from '../errors.js';
import type { ItemKey } from '../model/catalog.js';
import type { Explanation, SessionItem } from '../model/session.js';
import { indexDeployments, resolveComputer } from '../planning/resolution.js';
import type { Dependencies } from './dependencies.js';
import { loadCatalogFor } from './prepare-session.js';

export interface ComputerExplanation {
  readonly computerId: string;
  readonly items: readonly {
    readonly key: ItemKey;
    readonly itemName: string;
    readonly origin: SessionItem['origin'];
    /** What the winning deployment wants: a desired state (with its version) or a task mode. */
    readonly wants: string;
    readonly explanation: Explanation;
  }[];
  readonly problems: readonly string[];
}

/**
 * "Why is Chrome being uninstalled here?": resolves the computer against the
 * catalog as it is now, without starting a session, and answers per item with
 * the winning deployment, the ones it beat and the rule that decided.
 */
export async function explainComputer(deps: Pick<Dependencies, 'catalog'>, computerId: string): Promise<ComputerExplanation> {
  const computer = await deps.catalog.getComputer(computerId);
  if (!computer) throw new NotFoundError('computer', computerId);
  const { catalog, deployments } = await loadCatalogFor(deps);
  const { items, problems } = resolveComputer(computer, indexDeployments(deployments), catalog);
  return {
    computerId,
    items: items.map((item) => ({
      key: item.key,
      itemName: item.itemName,
      origin: item.origin,
      wants: item.kind === 'Software' ? `${item.desiredState}${item.requiredVersion ? ` ${item.requiredVersion}` : ''}` : item.mode,
      explanation: item.explanation,
    })),
    problems,
  };
}
