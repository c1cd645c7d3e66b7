import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../functions/core/model/catalog.js';
import { indexDeployments } from '../../../functions/core/planning/deployment-index.js';
import { compareCandidates, factsOf, type Candidate } from '../../../functions/core/planning/precedence.js';
import { deploySoftware, deployTask } from '../../support/domain.js';

/**
 * The precedence between two deployments of one item, rule by rule: the
 * winner's order is negative, the loser's positive, and both name the rule
 * that separated them, so ranking a whole list gives the same winner in any
 * input order.
 */

const memo = () => indexDeployments([]).memo;
const candidate = (deployment: Deployment, level = 2, directness = 2, inherited = false): Candidate => ({ deployment, level, directness, inherited });

/** `a` beats `b` by `rule`, whichever side it is asked from. */
function expectWins(a: Candidate, b: Candidate, rule: string): void {
  const m = memo();
  const forward = compareCandidates(m, a, b);
  const backward = compareCandidates(m, b, a);
  expect(forward.rule).toBe(rule);
  expect(backward.rule).toBe(rule);
  expect(forward.order).toBeLessThan(0);
  expect(backward.order).toBeGreaterThan(0);
}

describe('precedence between two deployments of an item', () => {
  it('0: an enabled deployment beats a disabled one, whatever else', () => {
    expectWins(candidate(deploySoftware('z', 'app'), 1), candidate(deploySoftware('a', 'app', { enabled: false }), 3), 'Disabled');
  });

  it('1: the narrower level wins, one step or two apart', () => {
    expectWins(candidate(deploySoftware('z', 'app'), 3), candidate(deploySoftware('a', 'app'), 2), 'TargetLevel');
    expectWins(candidate(deploySoftware('z', 'app'), 3), candidate(deploySoftware('a', 'app'), 1), 'TargetLevel');
    expectWins(candidate(deploySoftware('z', 'app'), 2), candidate(deploySoftware('a', 'app'), 1), 'TargetLevel');
  });

  it('2: at one level, a device-class filter beats none, and a narrower filter a wider one', () => {
    expectWins(candidate(deploySoftware('z', 'app', { deviceClasses: ['Server', 'Workstation'] })), candidate(deploySoftware('a', 'app')), 'DeviceClassFilter');
    expectWins(candidate(deploySoftware('z', 'app', { deviceClasses: ['Server'] })), candidate(deploySoftware('a', 'app', { deviceClasses: ['Server', 'Workstation'] })), 'DeviceClassFilter');
  });

  it('3: then Ignored (or a task’s Ignore) wins the tie', () => {
    expectWins(candidate(deploySoftware('z', 'app', { desiredState: 'Ignored' })), candidate(deploySoftware('a', 'app')), 'IgnoredWinsTie');
    expectWins(candidate(deployTask('z', 'fw', { mode: 'Ignore' })), candidate(deployTask('a', 'fw')), 'IgnoredWinsTie');
  });

  it('4: then the target that names the computer more directly, however far apart', () => {
    expectWins(candidate(deploySoftware('z', 'app'), 2, 3), candidate(deploySoftware('a', 'app'), 2, 2), 'MoreSpecificTarget');
    expectWins(candidate(deploySoftware('z', 'app'), 2, 3), candidate(deploySoftware('a', 'app'), 2, 1), 'MoreSpecificTarget');
  });

  it('5: then the lower id; a deployment against itself is a tie', () => {
    expectWins(candidate(deploySoftware('a', 'app')), candidate(deploySoftware('b', 'app')), 'LowestDeploymentId');
    const same = candidate(deploySoftware('a', 'app'));
    expect(compareCandidates(memo(), same, same)).toEqual({ order: 0, rule: 'LowestDeploymentId' });
  });
});

describe('what precedence and the explanations ask of a deployment', () => {
  it('says what a software deployment wants with its version, and a task deployment its mode', () => {
    const m = memo();
    expect(factsOf(m, deploySoftware('d', 'app', { desiredState: 'ThisVersion', version: '1.2' })).wants).toBe('ThisVersion 1.2');
    expect(factsOf(m, deploySoftware('d', 'app')).wants).toBe('LatestVersion');
    expect(factsOf(m, deployTask('t', 'fw', { mode: 'Audit' })).wants).toBe('Audit');
  });

  it('works it out once per deployment for as long as the index’s memo lives', () => {
    const m = memo();
    const deployment = deploySoftware('d', 'app');
    expect(factsOf(m, deployment)).toBe(factsOf(m, deployment));
    expect(factsOf(memo(), deployment)).not.toBe(factsOf(m, deployment));
  });
});
