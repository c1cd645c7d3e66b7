import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../functions/core/model/catalog.js';
import { indexDeployments, resolveComputer } from '../../../functions/core/planning/resolution.js';
import { catalogOf, computer, deploySoftware, deployTask, software, task, tenant } from '../../support/domain.js';

const chrome = software('chrome', { name: 'Chrome', latestVersion: '142.0' });
const catalog = catalogOf({
  tenants: [tenant('msp'), tenant('t1', { parentTenantId: 'msp' }), tenant('private', { excludeFromCrossTenant: true })],
  software: [chrome, software('winapp', { platform: 'windows' })],
  tasks: [task('firewall', { parameters: [{ name: 'level', type: 'string', required: false, default: 'high' }, { name: 'key', type: 'secret', required: false }] })],
});
const pc = computer('pc1', { tags: ['kiosk'], deviceClass: 'Server', primaryUser: { name: 'Ana', email: 'ana@example.com' } });

function resolveChrome(deployments: Deployment[], on = pc) {
  const { items } = resolveComputer(on, indexDeployments(deployments), catalog);
  return items.find((item) => item.key === 'software:chrome');
}

describe('resolution: exactly one winning deployment per item, with the reason', () => {
  it('a single applicable deployment wins as the only candidate', () => {
    const item = resolveChrome([deploySoftware('all', 'chrome')]);
    expect(item).toMatchObject({ origin: 'Deployed', deploymentId: 'all', explanation: { winner: 'all', rule: 'OnlyCandidate' } });
    expect(item?.explanation.summary).toBe('Chrome: LatestVersion from deployment all (all tenants), because it is the only deployment that applies');
  });

  it.each([
    ['computer beats single tenant', { kind: 'Computer', computerId: 'pc1' }, { kind: 'Tenant', tenantId: 't1', includeChildTenants: false }],
    ['person beats single tenant', { kind: 'Person', email: 'ana@example.com' }, { kind: 'Tag', tag: 'kiosk', tenantId: 't1' }],
    ['single tenant beats cross tenant', { kind: 'Tenant', tenantId: 't1', includeChildTenants: false }, { kind: 'AllTenants' }],
    ['a tag in the tenant beats a tag across tenants', { kind: 'Tag', tag: 'kiosk', tenantId: 't1' }, { kind: 'Tag', tag: 'kiosk' }],
  ] as const)('TargetLevel: %s', (_name, winning, losing) => {
    const item = resolveChrome([
      deploySoftware('a-narrow', 'chrome', { target: winning, desiredState: 'NotPresent' }),
      deploySoftware('b-broad', 'chrome', { target: losing }),
    ]);
    expect(item).toMatchObject({ deploymentId: 'a-narrow', explanation: { winner: 'a-narrow', rule: 'TargetLevel' } });
    expect(item?.explanation.candidates.map((c) => [c.deploymentId, c.lostBy])).toEqual([
      ['a-narrow', undefined],
      ['b-broad', 'TargetLevel'],
    ]);
  });

  it('DeviceClassFilter: within a level a filter beats none, and a narrower filter beats a wider one', () => {
    const deployments = [
      deploySoftware('a-none', 'chrome'),
      deploySoftware('b-wide', 'chrome', { deviceClasses: ['Server', 'Workstation'] }),
      deploySoftware('c-narrow', 'chrome', { deviceClasses: ['Server'], desiredState: 'NotPresent' }),
    ];
    const item = resolveChrome(deployments);
    expect(item).toMatchObject({ deploymentId: 'c-narrow', desiredState: 'NotPresent', explanation: { rule: 'DeviceClassFilter' } });
    expect(item?.explanation.candidates.map((c) => c.lostBy)).toEqual([undefined, 'DeviceClassFilter', 'DeviceClassFilter']);
  });

  it('a device-class filter that excludes the computer makes the deployment not apply at all', () => {
    const item = resolveChrome([deploySoftware('laptops', 'chrome', { deviceClasses: ['Portable'] })]);
    expect(item).toBeUndefined();
  });

  it('IgnoredWinsTie: at the same level and filter, Ignored beats any other desired state', () => {
    const item = resolveChrome([deploySoftware('a-install', 'chrome'), deploySoftware('b-ignore', 'chrome', { desiredState: 'Ignored' })]);
    expect(item).toMatchObject({ deploymentId: 'b-ignore', desiredState: 'Ignored', explanation: { rule: 'IgnoredWinsTie' } });
  });

  it('IgnoredWinsTie does not reach across levels: a narrower target still wins', () => {
    const item = resolveChrome([
      deploySoftware('a-ignore', 'chrome', { desiredState: 'Ignored' }),
      deploySoftware('b-computer', 'chrome', { target: { kind: 'Computer', computerId: 'pc1' } }),
    ]);
    expect(item).toMatchObject({ deploymentId: 'b-computer', explanation: { rule: 'TargetLevel' } });
  });

  it('Ignore (task mode) wins a tie the same way', () => {
    const { items } = resolveComputer(pc, indexDeployments([deployTask('a-enforce', 'firewall'), deployTask('b-ignore', 'firewall', { mode: 'Ignore' })]), catalog);
    expect(items.find((i) => i.key === 'task:firewall')).toMatchObject({ deploymentId: 'b-ignore', mode: 'Ignore', explanation: { rule: 'IgnoredWinsTie' } });
  });

  it.each([
    ['the computer over its person', { kind: 'Computer', computerId: 'pc1' }, { kind: 'Person', email: 'ana@example.com' }],
    ['a tag in the tenant over the whole tenant', { kind: 'Tag', tag: 'kiosk', tenantId: 't1' }, { kind: 'Tenant', tenantId: 't1', includeChildTenants: false }],
    ['the tenant over a parent that includes its children', { kind: 'Tenant', tenantId: 't1', includeChildTenants: false }, { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true }],
    ['a tag across tenants over all tenants', { kind: 'Tag', tag: 'kiosk' }, { kind: 'AllTenants' }],
  ] as const)('MoreSpecificTarget: %s', (_name, winning, losing) => {
    const item = resolveChrome([
      deploySoftware('a-general', 'chrome', { target: losing }),
      deploySoftware('b-specific', 'chrome', { target: winning, desiredState: 'NotPresent' }),
    ]);
    expect(item).toMatchObject({ deploymentId: 'b-specific', explanation: { rule: 'MoreSpecificTarget' } });
  });

  it('LowestDeploymentId: when nothing else separates them, the lower id wins, every time', () => {
    const deployments = [deploySoftware('zeta', 'chrome'), deploySoftware('alpha', 'chrome', { desiredState: 'AnyVersion' })];
    expect(resolveChrome(deployments)).toMatchObject({ deploymentId: 'alpha', explanation: { rule: 'LowestDeploymentId' } });
    expect(resolveChrome([...deployments].reverse())).toMatchObject({ deploymentId: 'alpha' });
  });

  it('Disabled: a disabled deployment never wins, even against a broader one, and alone leaves the item unassigned', () => {
    const item = resolveChrome([
      deploySoftware('a-computer-off', 'chrome', { target: { kind: 'Computer', computerId: 'pc1' }, enabled: false }),
      deploySoftware('b-all', 'chrome'),
    ]);
    expect(item).toMatchObject({ deploymentId: 'b-all', explanation: { rule: 'Disabled' } });
    expect(item?.explanation.candidates.find((c) => c.deploymentId === 'a-computer-off')?.lostBy).toBe('Disabled');

    const alone = resolveChrome([deploySoftware('only-off', 'chrome', { enabled: false })]);
    expect(alone).toMatchObject({ origin: 'Unassigned', explanation: { rule: 'Disabled' } });
    expect(alone?.deploymentId).toBeUndefined();
    expect(alone?.explanation.summary).toContain('not managed here');
  });

  it('a parent tenant deployment reaches child tenants only when it includes them', () => {
    expect(resolveChrome([deploySoftware('msp', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: false } })])).toBeUndefined();
    expect(resolveChrome([deploySoftware('msp', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true } })])?.explanation.candidates[0]?.target).toBe(
      'parent tenant msp (with child tenants)',
    );
  });

  it('a tenant that opted out of cross-tenant deployments gets only its own', () => {
    const own = computer('pc2', { tenantId: 'private', tags: ['kiosk'] });
    expect(resolveChrome([deploySoftware('all', 'chrome'), deploySoftware('tag', 'chrome', { target: { kind: 'Tag', tag: 'kiosk' } })], own)).toBeUndefined();
    expect(resolveChrome([deploySoftware('own', 'chrome', { target: { kind: 'Tenant', tenantId: 'private', includeChildTenants: false } })], own)?.deploymentId).toBe('own');
  });

  it('software for another platform never applies', () => {
    const { items } = resolveComputer(pc, indexDeployments([deploySoftware('w', 'winapp')]), catalog);
    expect(items).toEqual([]);
  });

  it('task parameters get their defaults and secrets stay out of the session', () => {
    const { items } = resolveComputer(pc, indexDeployments([deployTask('fw', 'firewall', { parameters: { key: 'hunter2' } })]), catalog);
    expect(items[0]).toMatchObject({ kind: 'Task', parameters: { level: 'high', key: '(secret)' } });
    expect(JSON.stringify(items)).not.toContain('hunter2');
  });

  it('reports a deployment whose item left the catalog instead of failing', () => {
    const { items, problems } = resolveComputer(pc, indexDeployments([deploySoftware('ghost', 'nope')]), catalog);
    expect(items).toEqual([]);
    expect(problems).toEqual(['deployment ghost names an item that is not in the catalog']);
  });
});

describe('resolution: prerequisites', () => {
  const runtime = software('runtime', { name: 'Runtime', latestVersion: '8.0' });
  const driver = software('driver', { name: 'Driver', dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] });
  const app = software('app', { name: 'App', dependencies: [{ softwareId: 'driver', requires: 'Installed' }, { softwareId: 'legacy', requires: 'Absent' }] });
  const legacy = software('legacy', { name: 'Legacy' });
  const withDeps = catalogOf({ software: [runtime, driver, app, legacy] });

  it('adds undeployed prerequisites recursively, and software that must be absent, explaining who needs them', () => {
    const { items } = resolveComputer(pc, indexDeployments([deploySoftware('app', 'app')]), withDeps);
    expect(items.map((i) => [i.key, i.origin, i.kind === 'Software' ? i.desiredState : ''])).toEqual([
      ['software:app', 'Deployed', 'LatestVersion'],
      ['software:driver', 'Prerequisite', 'AnyVersion'],
      ['software:legacy', 'Prerequisite', 'NotPresent'],
      ['software:runtime', 'Prerequisite', 'AnyVersion'],
    ]);
    expect(items.find((i) => i.key === 'software:runtime')?.explanation).toMatchObject({
      requiredBy: ['software:driver'],
      summary: 'Runtime: installed because Driver requires it installed',
    });
  });

  it('does not add prerequisites of software that is to be removed', () => {
    const { items } = resolveComputer(pc, indexDeployments([deploySoftware('app', 'app', { desiredState: 'NotPresent' })]), withDeps);
    expect(items.map((i) => i.key)).toEqual(['software:app']);
  });

  it('marks a requirement that contradicts a deployment as a conflict on both items', () => {
    const { items } = resolveComputer(pc, indexDeployments([deploySoftware('app', 'app'), deploySoftware('legacy', 'legacy')]), withDeps);
    const conflicted = items.filter((i) => i.conflict).map((i) => i.key);
    expect(conflicted).toEqual(['software:app', 'software:legacy']);
    expect(items.find((i) => i.key === 'software:app')?.conflict).toBe('App needs Legacy absent, but deployment legacy wants it LatestVersion');
  });
});
