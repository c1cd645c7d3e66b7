import type { CandidateExplanation, Explanation, ResolutionRule } from '../model/session.js';
import type { ResolutionMemo } from './deployment-index.js';
import { compareCandidates, factsOf, LEVEL_NAMES, type Candidate } from './precedence.js';

const targetText = (memo: ResolutionMemo, candidate: Candidate): string => {
  const facts = factsOf(memo, candidate.deployment);
  return candidate.inherited ? facts.inheritedTarget : facts.target;
};

const RULE_WORDS: Readonly<Record<ResolutionRule, string>> = {
  OnlyCandidate: 'it is the only deployment that applies',
  TargetLevel: 'it targets the computer more narrowly',
  DeviceClassFilter: 'its device-class filter is more specific',
  IgnoredWinsTie: 'Ignored wins a tie at the same level',
  MoreSpecificTarget: 'its target is more specific',
  LowestDeploymentId: 'everything else being equal, the lower deployment id wins',
  Disabled: 'every deployment of it is disabled',
};

/**
 * Why the winner won, in a sentence and per candidate (the rule each loser
 * lost by), `ranked` winner first. A lone candidate's explanation depends
 * only on the deployment and how it reached the computer: it is built once
 * per index (`memo`).
 */
export function explain(memo: ResolutionMemo, itemName: string, ranked: readonly Candidate[], decidingRule: ResolutionRule): Explanation {
  const [winner] = ranked;
  if (ranked.length === 1 && winner) {
    let byShape = memo.soloExplanations.get(winner.deployment);
    if (!byShape) {
      byShape = new Map();
      memo.soloExplanations.set(winner.deployment, byShape);
    }
    const shape = winner.level * 2 + (winner.inherited ? 1 : 0);
    const known = byShape.get(shape);
    if (known && known.summary.startsWith(`${itemName}: `)) return known;
    const built = buildExplanation(memo, itemName, ranked, decidingRule);
    byShape.set(shape, built);
    return built;
  }
  return buildExplanation(memo, itemName, ranked, decidingRule);
}

function buildExplanation(memo: ResolutionMemo, itemName: string, ranked: readonly Candidate[], decidingRule: ResolutionRule): Explanation {
  const [winner] = ranked;
  const candidates: CandidateExplanation[] = ranked.map((candidate, position) => ({
    deploymentId: candidate.deployment.id,
    level: LEVEL_NAMES[candidate.level] ?? 'CrossTenant',
    target: targetText(memo, candidate),
    ...(candidate.deployment.deviceClasses ? { deviceClasses: candidate.deployment.deviceClasses } : {}),
    wants: factsOf(memo, candidate.deployment).wants,
    ...(position > 0 && winner ? { lostBy: compareCandidates(memo, winner, candidate).rule } : {}),
  }));
  if (!winner?.deployment.enabled) {
    return { rule: 'Disabled', candidates, summary: `${itemName}: not managed here, because ${RULE_WORDS.Disabled}` };
  }
  const others = ranked.length > 1 ? `, over ${ranked.slice(1).map((c) => c.deployment.id).join(', ')}` : '';
  return {
    winner: winner.deployment.id,
    rule: decidingRule,
    candidates,
    summary: `${itemName}: ${factsOf(memo, winner.deployment).wants} from deployment ${winner.deployment.id} (${targetText(memo, winner)})${others}, because ${RULE_WORDS[decidingRule]}`,
  };
}
