import type { Computer, ItemKey } from '../model/catalog.js';
import type { SessionItem } from '../model/session.js';
import { candidatesFor, push, type Catalog, type DeploymentIndex } from './deployment-index.js';
import { explain } from './explanations.js';
import { compareCandidates, factsOf, type Candidate } from './precedence.js';
import { addPrerequisites, toSessionItem } from './session-items.js';

export { indexDeployments, tenantLineage, type Catalog, type DeploymentIndex } from './deployment-index.js';

/**
 * Resolution: which deployment of each item applies to a computer, by the
 * precedence rules in `precedence.ts`, explained (`explanations.ts`), as the
 * session items the session freezes (`session-items.ts`). The deployments
 * are indexed by target once for a fleet (`deployment-index.ts`); the index
 * also holds what is worked out once and reused across its computers, for as
 * long as its caller keeps it.
 */

export interface ResolvedComputer {
  readonly items: SessionItem[];
  /** Things resolution noticed but could not use (a deployment's item missing from the catalog). */
  readonly problems: string[];
}

/**
 * Every item that applies to the computer with its one winning deployment
 * and the explanation, plus the prerequisites those items need (recursively),
 * sorted by item name.
 */
export function resolveComputer(computer: Computer, index: DeploymentIndex, catalog: Catalog): ResolvedComputer {
  const problems: string[] = [];
  const memo = index.memo;
  const byItem = new Map<ItemKey, Candidate[]>();
  for (const candidate of candidatesFor(computer, index, catalog)) push(byItem, factsOf(memo, candidate.deployment).key, candidate);

  const items = new Map<ItemKey, SessionItem>();
  for (const [key, candidates] of byItem) {
    // one pass for the winner (the comparison is a total order), a sort only to list the losers in order
    let winner = candidates[0];
    for (const candidate of candidates) if (winner && compareCandidates(memo, candidate, winner).order < 0) winner = candidate;
    if (!winner) continue;
    const ranked = candidates.length === 1 ? candidates : [winner, ...candidates.filter((c) => c !== winner).sort((a, b) => compareCandidates(memo, a, b).order)];
    const decidingRule = ranked.length === 1 ? 'OnlyCandidate' : compareCandidates(memo, winner, ranked[1] ?? winner).rule;
    const item = toSessionItem(winner.deployment, catalog, index, (name) => explain(memo, name, ranked, decidingRule));
    if (item) items.set(key, item);
    else problems.push(`deployment ${winner.deployment.id} names an item that is not in the catalog`);
  }
  addPrerequisites(items, catalog, problems);
  // plain code-unit order: stable across machines and locales, and fast enough for fleets (a collator is not)
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { items: [...items.values()].sort((a, b) => order(a.itemName, b.itemName) || order(a.key, b.key)), problems };
}
