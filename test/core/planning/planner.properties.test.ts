import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Deployment, DeviceClass } from '../../../functions/core/model/catalog.js';
import type { ActionType, DetectedItem, SessionItem } from '../../../functions/core/model/session.js';
import { plan, type PlanDecision } from '../../../functions/core/planning/planner.js';
import { indexDeployments, resolveComputer } from '../../../functions/core/planning/resolution.js';
import { catalogOf, computer, deploySoftware, deployTask, software, softwareItem, task, taskItem, tenant } from '../../support/domain.js';

const CLASSES: DeviceClass[] = ['Workstation', 'Portable', 'Server', 'DomainController'];
const TAGS = ['kiosk', 'finance', 'remote'];
const TENANTS = ['t1', 't2', 't3'];
const SOFTWARE_IDS = ['a', 'b', 'c', 'd'];
const version = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([major, minor]) => `${major}.${minor}`);

const targetArb: fc.Arbitrary<Deployment['target']> = fc.oneof(
  fc.constant({ kind: 'AllTenants' as const }),
  fc.record({ kind: fc.constant('Tenant' as const), tenantId: fc.constantFrom(...TENANTS), includeChildTenants: fc.boolean() }),
  fc.record({ kind: fc.constant('Tag' as const), tag: fc.constantFrom(...TAGS) }),
  fc.record({ kind: fc.constant('Tag' as const), tag: fc.constantFrom(...TAGS), tenantId: fc.constantFrom(...TENANTS) }),
  fc.record({ kind: fc.constant('Computer' as const), computerId: fc.constantFrom('pc1', 'pc2') }),
  fc.record({ kind: fc.constant('Person' as const), email: fc.constantFrom('ana@example.com', 'ben@example.com') }),
);

const deploymentArb = fc
  .record({
    softwareId: fc.constantFrom(...SOFTWARE_IDS),
    target: targetArb,
    deviceClasses: fc.option(fc.uniqueArray(fc.constantFrom(...CLASSES), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    enabled: fc.boolean(),
    desiredState: fc.constantFrom('LatestVersion', 'AnyVersion', 'UpdateIfFound', 'NotPresent', 'Ignored' as const),
  })
  .map((d) => d);

const computerArb = fc.record({
  tenantId: fc.constantFrom(...TENANTS),
  deviceClass: fc.constantFrom(...CLASSES),
  tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
  email: fc.constantFrom('ana@example.com', 'ben@example.com', undefined),
});

describe('planner properties (fast-check)', () => {
  it('resolution picks exactly one winner per item, whatever the order deployments come in', () => {
    const catalog = catalogOf({
      tenants: [tenant('t1'), tenant('t2', { parentTenantId: 't1' }), tenant('t3', { excludeFromCrossTenant: true })],
      software: SOFTWARE_IDS.map((id) => software(id)),
    });
    fc.assert(
      fc.property(fc.array(deploymentArb, { maxLength: 25 }), computerArb, fc.integer(), (specs, pc, seed) => {
        const deployments: Deployment[] = specs.map((spec, i) =>
          deploySoftware(`d${String(i).padStart(2, '0')}`, spec.softwareId, {
            target: spec.target,
            enabled: spec.enabled,
            desiredState: spec.desiredState,
            ...(spec.deviceClasses ? { deviceClasses: spec.deviceClasses } : {}),
          }),
        );
        const machine = computer('pc1', {
          tenantId: pc.tenantId,
          deviceClass: pc.deviceClass,
          tags: pc.tags,
          ...(pc.email ? { primaryUser: { name: 'x', email: pc.email } } : {}),
        });
        const { items } = resolveComputer(machine, indexDeployments(deployments), catalog);
        const keys = items.map((i) => i.key);
        expect(new Set(keys).size).toBe(keys.length);
        for (const item of items) {
          const candidates = item.explanation.candidates;
          expect(candidates.length).toBeGreaterThan(0);
          expect(candidates.filter((c) => c.lostBy === undefined)).toHaveLength(1);
          if (item.origin === 'Deployed') expect(item.deploymentId).toBe(candidates[0]?.deploymentId);
          // a disabled deployment wins nothing
          const winner = deployments.find((d) => d.id === item.deploymentId);
          if (winner) expect(winner.enabled).toBe(true);
        }
        const shuffled = [...deployments].sort((x, y) => ((x.id.charCodeAt(2) * seed) % 7) - ((y.id.charCodeAt(2) * seed) % 7));
        const again = resolveComputer(machine, indexDeployments(shuffled), catalog).items;
        expect(again.map((i) => [i.key, i.deploymentId ?? 'none'])).toEqual(items.map((i) => [i.key, i.deploymentId ?? 'none']));
      }),
      { numRuns: 400 },
    );
  });

  /** Random items over a random DAG: item i may depend only on items before it, so there is no cycle. */
  const itemsArb = (withObservers: boolean) =>
    fc
      .array(
        fc.record({
          kind: fc.constantFrom('Software', 'Software', 'Task'),
          desiredState: fc.constantFrom('LatestVersion', 'ThisVersion', 'AnyVersion', 'NewerOrEqualVersion', 'UpdateIfFound', 'NotPresent', 'Ignored' as const),
          mode: withObservers ? fc.constantFrom('Enforce', 'Ignore', 'Audit', 'Monitor' as const) : fc.constantFrom('Enforce', 'Ignore' as const),
          latest: version,
          required: version,
          hasTest: fc.boolean(),
          hint: fc.constantFrom('Beginning', 'Unordered', 'End' as const),
          dependsOn: fc.uniqueArray(fc.nat({ max: 9 }), { maxLength: 3 }),
          requiresAbsent: fc.boolean(),
        }),
        { minLength: 1, maxLength: 10 },
      )
      .map((specs): SessionItem[] =>
        specs.map((spec, i) => {
          if (spec.kind === 'Task') return taskItem(`t${i}`, { mode: spec.mode, orderingHint: spec.hint });
          const dependencies = spec.dependsOn
            .filter((j) => j < i && specs[j]?.kind === 'Software')
            .map((j) => ({ key: `software:s${j}` as const, requires: spec.requiresAbsent && j % 2 === 0 ? ('Absent' as const) : ('Installed' as const) }));
          const pinned = spec.desiredState === 'ThisVersion' ? spec.required : undefined;
          const minimum = spec.desiredState === 'NewerOrEqualVersion' ? spec.required : undefined;
          const target = pinned ?? (minimum && minimum > spec.latest ? minimum : spec.latest);
          return softwareItem(`s${i}`, {
            desiredState: spec.desiredState,
            targetVersion: target,
            ...(pinned ?? minimum ? { requiredVersion: pinned ?? minimum } : {}),
            hasTest: spec.hasTest,
            orderingHint: spec.hint,
            dependencies,
          });
        }),
      );

  const detectedArb = (items: readonly SessionItem[]) =>
    fc.tuple(
      ...items.map((item) =>
        item.kind === 'Task'
          ? fc.constantFrom<DetectedItem>({ state: 'Compliant' }, { state: 'NotCompliant' }, { state: 'Undetermined', reason: 'x' })
          : fc.oneof(
              fc.constant<DetectedItem>({ state: 'Absent' }),
              fc.constant<DetectedItem>({ state: 'Undetermined', reason: 'x' }),
              fc.tuple(version, fc.constantFrom(undefined, 'Passed', 'Failed' as const)).map(([v, test]): DetectedItem => ({ state: 'Present', version: v, ...(test ? { test } : {}) })),
            ),
      ),
    ).map((states) => Object.fromEntries(items.map((item, i) => [item.key, states[i] as DetectedItem])));

  const scenario = (withObservers: boolean) => itemsArb(withObservers).chain((items) => detectedArb(items).map((detected) => ({ items, detected })));

  it('never orders an item before its prerequisite', () => {
    fc.assert(
      fc.property(scenario(true), ({ items, detected }) => {
        const order = plan(items, detected).map((d) => d.key);
        for (const item of items) {
          if (item.kind !== 'Software') continue;
          for (const dependency of item.dependencies) expect(order.indexOf(dependency.key)).toBeLessThan(order.indexOf(item.key));
        }
      }),
      { numRuns: 500 },
    );
  });

  /** What a fully successful execution leaves on the computer. */
  function execute(decisions: readonly PlanDecision[], detected: Readonly<Record<string, DetectedItem>>): Record<string, DetectedItem> {
    const after: Record<string, DetectedItem> = { ...detected };
    for (const decision of decisions) {
      const effects: Partial<Record<ActionType, DetectedItem>> = {
        Install: { state: 'Present', version: decision.toVersion ?? '?', test: 'Passed' },
        Update: { state: 'Present', version: decision.toVersion ?? '?', test: 'Passed' },
        Downgrade: { state: 'Present', version: decision.toVersion ?? '?', test: 'Passed' },
        Reinstall: { state: 'Present', version: decision.toVersion ?? '?', test: 'Passed' },
        Uninstall: { state: 'Absent' },
        TaskEnforce: { state: 'Compliant' },
      };
      const effect = decision.action ? effects[decision.action] : undefined;
      if (effect) after[decision.key] = effect;
    }
    return after;
  }

  it('planning again on what a fully successful execution leaves behind yields only NoAction', () => {
    fc.assert(
      fc.property(scenario(false), ({ items, detected }) => {
        const first = plan(items, detected);
        const second = plan(items, execute(first, detected));
        expect(second.filter((d) => d.action !== undefined).map((d) => `${d.key} ${d.action ?? ''} ${d.reason}`)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('audits and monitoring are observations: they recur, and change nothing a re-plan would act on', () => {
    fc.assert(
      fc.property(scenario(true), ({ items, detected }) => {
        const first = plan(items, detected);
        const second = plan(items, execute(first, detected));
        for (const decision of second) if (decision.action) expect(['TaskAudit', 'TaskMonitor']).toContain(decision.action);
      }),
      { numRuns: 300 },
    );
  });

  it('task deployments resolve too, one winner per task', () => {
    const catalog = catalogOf({ tasks: [task('fw')] });
    fc.assert(
      fc.property(fc.array(fc.tuple(targetArb, fc.constantFrom('Enforce', 'Audit', 'Monitor', 'Ignore' as const), fc.boolean()), { maxLength: 10 }), (specs) => {
        const deployments = specs.map(([target, mode, enabled], i) => deployTask(`d${i}`, 'fw', { target, mode, enabled }));
        const { items } = resolveComputer(computer('pc1', { tags: ['kiosk'] }), indexDeployments(deployments), catalog);
        expect(items.filter((i) => i.key === 'task:fw').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});
