import { describe, expect, it } from 'vitest';
import type { Deployment, Software } from '../../../functions/core/model/catalog.js';
import type { SessionItem, SoftwareSessionItem } from '../../../functions/core/model/session.js';
import { indexDeployments, resolveComputer, tenantLineage, type Catalog } from '../../../functions/core/planning/resolution.js';
import { catalogOf, computer, deploySoftware, deployTask, software, task, tenant } from '../../support/domain.js';

const tenants = [tenant('msp'), tenant('reseller', { parentTenantId: 'msp' }), tenant('t1', { parentTenantId: 'reseller' })];
const chrome = software('chrome', { name: 'Chrome', latestVersion: '142.0' });
const baseCatalog = catalogOf({ tenants, software: [chrome], tasks: [task('fw', { name: 'Firewall' })] });
const pc = computer('pc1', { tenantId: 't1', tags: ['Kiosk'], deviceClass: 'Server', primaryUser: { name: 'Ana', email: 'ana@example.com' } });

const resolve = (deployments: Deployment[], on = pc, catalog: Catalog = baseCatalog) => resolveComputer(on, indexDeployments(deployments), catalog);
const itemOf = (deployments: Deployment[], key = 'software:chrome', on = pc, catalog: Catalog = baseCatalog): SessionItem | undefined =>
  resolve(deployments, on, catalog).items.find((item) => item.key === key);
const softwareOf = (deployments: Deployment[], key = 'software:chrome', catalog: Catalog = baseCatalog): SoftwareSessionItem | undefined => {
  const item = itemOf(deployments, key, pc, catalog);
  return item?.kind === 'Software' ? item : undefined;
};

describe('explanations: what an operator reads for "why this one?"', () => {
  it('names each candidate with its level, target in words, device classes and what it wants, losers in rank order', () => {
    const item = itemOf([
      deploySoftware('d-all', 'chrome'),
      deploySoftware('c-tenant', 'chrome', { target: { kind: 'Tenant', tenantId: 't1', includeChildTenants: false }, deviceClasses: ['Server'] }),
      deploySoftware('b-pc', 'chrome', { target: { kind: 'Computer', computerId: 'pc1' }, desiredState: 'ThisVersion', version: '141.0' }),
      deploySoftware('a-tag', 'chrome', { target: { kind: 'Tag', tag: 'kiosk' } }),
    ]);
    expect(item?.explanation.candidates).toEqual([
      { deploymentId: 'b-pc', level: 'Individual', target: 'computer pc1', wants: 'ThisVersion 141.0' },
      { deploymentId: 'c-tenant', level: 'SingleTenant', target: 'tenant t1', deviceClasses: ['Server'], wants: 'LatestVersion', lostBy: 'TargetLevel' },
      { deploymentId: 'a-tag', level: 'CrossTenant', target: 'tag "kiosk" in every tenant', wants: 'LatestVersion', lostBy: 'TargetLevel' },
      { deploymentId: 'd-all', level: 'CrossTenant', target: 'all tenants', wants: 'LatestVersion', lostBy: 'TargetLevel' },
    ]);
    expect(item?.explanation.summary).toBe('Chrome: ThisVersion 141.0 from deployment b-pc (computer pc1), over c-tenant, a-tag, d-all, because it targets the computer more narrowly');
  });

  it.each([
    [[deploySoftware('a', 'chrome', { deviceClasses: ['Server'] }), deploySoftware('b', 'chrome')], 'a', 'its device-class filter is more specific'],
    [[deploySoftware('a', 'chrome'), deploySoftware('b', 'chrome', { desiredState: 'Ignored' })], 'b', 'Ignored wins a tie at the same level'],
    [[deploySoftware('a', 'chrome'), deploySoftware('b', 'chrome', { target: { kind: 'Tag', tag: 'kiosk' } })], 'b', 'its target is more specific'],
    [[deploySoftware('b', 'chrome'), deploySoftware('a', 'chrome')], 'a', 'everything else being equal, the lower deployment id wins'],
  ])('says which rule decided, in words (%#)', (deployments, winner, words) => {
    const item = itemOf(deployments);
    expect(item?.deploymentId).toBe(winner);
    expect(item?.explanation.summary.endsWith(`, because ${words}`)).toBe(true);
  });

  it('describes every kind of target in words', () => {
    const targets: [Deployment['target'], string][] = [
      [{ kind: 'Person', email: 'ana@example.com' }, 'the computers of ana@example.com'],
      [{ kind: 'Tag', tag: 'Kiosk', tenantId: 't1' }, 'tag "Kiosk" in tenant t1'],
      [{ kind: 'Tenant', tenantId: 'reseller', includeChildTenants: true }, 'parent tenant reseller (with child tenants)'],
    ];
    for (const [target, words] of targets) expect(itemOf([deploySoftware('d', 'chrome', { target })])?.explanation.candidates[0]?.target).toBe(words);
  });

  it('explains a lone deployment right for each computer it reaches, directly or through a parent tenant', () => {
    const deployments = [deploySoftware('msp-wide', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true } })];
    const index = indexDeployments(deployments);
    const inMsp = resolveComputer(computer('a', { tenantId: 'msp' }), index, baseCatalog).items[0];
    const inChild = resolveComputer(computer('b', { tenantId: 't1' }), index, baseCatalog).items[0];
    const inMspAgain = resolveComputer(computer('c', { tenantId: 'msp' }), index, baseCatalog).items[0];
    expect(inMsp?.explanation.summary).toBe('Chrome: LatestVersion from deployment msp-wide (tenant msp), because it is the only deployment that applies');
    expect(inChild?.explanation.summary).toBe('Chrome: LatestVersion from deployment msp-wide (parent tenant msp (with child tenants)), because it is the only deployment that applies');
    expect(inChild?.explanation.candidates[0]?.level).toBe('SingleTenant');
    expect(inMspAgain?.explanation).toEqual(inMsp?.explanation);
  });

  it('names the item as the catalog calls it now, even for a deployment explained before under another name', () => {
    const deployments = [deploySoftware('d', 'chrome')];
    expect(itemOf(deployments)?.explanation.summary).toMatch(/^Chrome: /);
    const renamed = catalogOf({ tenants, software: [software('chrome', { name: 'Google Chrome' })] });
    expect(itemOf(deployments, 'software:chrome', pc, renamed)?.explanation.summary).toMatch(/^Google Chrome: /);
  });

  it('keeps what it works out once on the index its caller holds: the same index read against a changed catalog answers from the catalog as it is now', () => {
    const deployments = [deploySoftware('d', 'chrome'), deploySoftware('everywhere', 'chrome', { target: { kind: 'AllTenants' } })];
    const index = indexDeployments(deployments);
    const before = resolveComputer(pc, index, baseCatalog).items[0];
    expect(before).toMatchObject({ itemName: 'Chrome', targetVersion: '142.0' });
    // a new release and a new name in the catalog, the deployments (and so the index) unchanged
    const released = catalogOf({ tenants, software: [software('chrome', { name: 'Google Chrome', latestVersion: '143.0' })] });
    expect(resolveComputer(pc, index, released).items[0]).toMatchObject({ itemName: 'Google Chrome', targetVersion: '143.0' });
    expect(resolveComputer(pc, index, released).items[0]?.explanation.summary).toMatch(/^Google Chrome: /);
    // and the item gone from the catalog: reported, not answered from what the index worked out before
    const gone = resolveComputer(pc, index, catalogOf({ tenants, software: [] }));
    expect(gone.items).toEqual([]);
    expect(gone.problems).toEqual(['deployment d names an item that is not in the catalog']);
  });

  it('builds a lone deployment’s explanation once per index and reach, and afresh for a new index', () => {
    const deployments = [deploySoftware('msp-wide', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true } })];
    const index = indexDeployments(deployments);
    const first = resolveComputer(computer('a', { tenantId: 'msp' }), index, baseCatalog).items[0]?.explanation;
    expect(resolveComputer(computer('c', { tenantId: 'msp' }), index, baseCatalog).items[0]?.explanation).toBe(first);
    expect(resolveComputer(computer('b', { tenantId: 't1' }), index, baseCatalog).items[0]?.explanation).not.toBe(first);
    expect(resolveComputer(computer('c', { tenantId: 'msp' }), indexDeployments(deployments), baseCatalog).items[0]?.explanation).not.toBe(first);
  });

  it('lists the losers in rank order, whatever order they reached the computer in', () => {
    const item = itemOf([
      deploySoftware('winner', 'chrome', { target: { kind: 'Computer', computerId: 'pc1' } }),
      deploySoftware('z-tenant', 'chrome', { target: { kind: 'Tenant', tenantId: 't1', includeChildTenants: false } }),
      deploySoftware('b-tenant', 'chrome', { target: { kind: 'Tenant', tenantId: 't1', includeChildTenants: false } }),
    ]);
    expect(item?.explanation.candidates.map((c) => [c.deploymentId, c.lostBy])).toEqual([
      ['winner', undefined],
      ['b-tenant', 'TargetLevel'],
      ['z-tenant', 'TargetLevel'],
    ]);
  });

  it('sorts items of the same name by their key, whatever order their deployments came in', () => {
    const catalog = catalogOf({ tenants, software: [software('backup', { name: 'Backup' })], tasks: [task('backup', { name: 'Backup' })] });
    for (const deployments of [[deployTask('t', 'backup'), deploySoftware('s', 'backup')], [deploySoftware('s', 'backup'), deployTask('t', 'backup')]]) {
      expect(resolve(deployments, pc, catalog).items.map((item) => item.key)).toEqual(['software:backup', 'task:backup']);
    }
  });

  it('explains a disabled winner as not managed, listing the disabled ones after the enabled', () => {
    const item = itemOf([deploySoftware('a-off', 'chrome', { enabled: false }), deploySoftware('b-off', 'chrome', { enabled: false })]);
    expect(item).toMatchObject({ origin: 'Unassigned', explanation: { rule: 'Disabled', summary: 'Chrome: not managed here, because every deployment of it is disabled' } });
    expect(item?.explanation.winner).toBeUndefined();
  });
});

describe('which deployments reach a computer', () => {
  it('follows include-child-tenants through every ancestor, but not a parent that does not include them', () => {
    expect(itemOf([deploySoftware('top', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true } })])?.deploymentId).toBe('top');
    expect(itemOf([deploySoftware('top', 'chrome', { target: { kind: 'Tenant', tenantId: 'msp', includeChildTenants: false } })])).toBeUndefined();
    // a tag deployment in an ancestor tenant is that tenant's tag, not this computer's
    expect(itemOf([deploySoftware('tag', 'chrome', { target: { kind: 'Tag', tag: 'kiosk', tenantId: 'msp' } })])).toBeUndefined();
  });

  it('matches tags without regard to case, in the tenant and across tenants', () => {
    expect(itemOf([deploySoftware('x', 'chrome', { target: { kind: 'Tag', tag: 'KIOSK', tenantId: 't1' } })])?.deploymentId).toBe('x');
    expect(itemOf([deploySoftware('y', 'chrome', { target: { kind: 'Tag', tag: 'kiosk' } })])?.deploymentId).toBe('y');
    expect(itemOf([deploySoftware('z', 'chrome', { target: { kind: 'Tag', tag: 'lab' } })])).toBeUndefined();
  });

  it('reaches the computers of a person only through their primary user', () => {
    const deployment = deploySoftware('ana', 'chrome', { target: { kind: 'Person', email: 'ana@example.com' } });
    expect(itemOf([deployment])?.deploymentId).toBe('ana');
    expect(itemOf([deployment], 'software:chrome', computer('shared', { tenantId: 't1' }))).toBeUndefined();
  });

  it('applies a device-class filter to every kind of target', () => {
    const onlyLaptops = { deviceClasses: ['Portable' as const] };
    for (const target of [
      { kind: 'Computer', computerId: 'pc1' },
      { kind: 'Person', email: 'ana@example.com' },
      { kind: 'Tenant', tenantId: 't1', includeChildTenants: false },
      { kind: 'Tenant', tenantId: 'msp', includeChildTenants: true },
      { kind: 'Tag', tag: 'kiosk', tenantId: 't1' },
      { kind: 'Tag', tag: 'kiosk' },
      { kind: 'AllTenants' },
    ] as const) {
      expect(itemOf([deploySoftware('d', 'chrome', { target, ...onlyLaptops })]), target.kind).toBeUndefined();
    }
  });

  it('filters all-tenant deployments per kind of computer, even when many computers share one index', () => {
    const index = indexDeployments([deploySoftware('servers', 'chrome', { deviceClasses: ['Server'] }), deploySoftware('win', 'winonly')]);
    const catalog = catalogOf({ tenants, software: [chrome, software('winonly', { platform: 'windows' })] });
    const keys = (on: Parameters<typeof resolveComputer>[0]) => resolveComputer(on, index, catalog).items.map((item) => item.key);
    expect(keys(computer('s', { tenantId: 't1', deviceClass: 'Server' }))).toEqual(['software:chrome']);
    expect(keys(computer('w', { tenantId: 't1', deviceClass: 'Workstation' }))).toEqual([]);
    expect(keys(computer('s2', { tenantId: 't1', deviceClass: 'Server' }))).toEqual(['software:chrome']);
    expect(keys(computer('ws', { tenantId: 't1', deviceClass: 'Server', platform: 'windows' }))).toEqual(['software:winonly']);
    // the same index against another catalog filters again rather than reusing the first catalog's answer
    const linuxOnly = catalogOf({ tenants, software: [chrome, software('winonly', { platform: 'linux' })] });
    expect(resolveComputer(computer('s3', { tenantId: 't1', deviceClass: 'Server' }), index, linuxOnly).items.map((item) => item.key)).toEqual([
      'software:chrome',
      'software:winonly',
    ]);
  });

  it('applies a task only on its platform, and reports a task deployment whose task is gone', () => {
    const catalog = catalogOf({ tenants, tasks: [task('fw', { name: 'Firewall', platform: 'windows' })] });
    expect(resolve([deployTask('fw', 'fw')], pc, catalog).items).toEqual([]);
    expect(resolve([deployTask('ghost', 'gone')], pc, catalog)).toEqual({ items: [], problems: ['deployment ghost names an item that is not in the catalog'] });
  });

  it('stops at a cycle in parent links instead of looping', () => {
    const looped = new Map([
      ['a', tenant('a', { parentTenantId: 'b' })],
      ['b', tenant('b', { parentTenantId: 'a' })],
    ]);
    expect(tenantLineage('a', looped).map((t) => t.id)).toEqual(['a', 'b']);
    expect(tenantLineage('missing', looped)).toEqual([]);
  });
});

describe('the resolved items', () => {
  it('come sorted by item name, then key, each once', () => {
    const catalog = catalogOf({ tenants, software: [software('b', { name: 'Same' }), software('a', { name: 'Same' }), software('z', { name: 'Alpha' })] });
    const { items } = resolve([deploySoftware('1', 'b'), deploySoftware('2', 'a'), deploySoftware('3', 'z'), deploySoftware('4', 'a')], pc, catalog);
    expect(items.map((item) => item.key)).toEqual(['software:z', 'software:a', 'software:b']);
  });

  it('carry the deployment\'s settings: critical, ordering hint, health check, versions', () => {
    const catalog = catalogOf({ tenants, software: [software('app', { latestVersion: '3.0', testScript: 'true' })] });
    const item = softwareOf([deploySoftware('d', 'app', { critical: false, orderingHint: 'End', desiredState: 'AnyVersion' })], 'software:app', catalog);
    expect(item).toMatchObject({ critical: false, orderingHint: 'End', hasTest: true, targetVersion: '3.0', origin: 'Deployed', deploymentId: 'd' });
    expect(item).not.toHaveProperty('requiredVersion');
    expect(softwareOf([deploySoftware('d', 'chrome')])?.hasTest).toBe(false);
  });

  it.each([
    ['ThisVersion', '141.0', '141.0'],
    ['NewerOrEqualVersion', '141.0', '142.0'],
    // a minimum above the catalog's latest can only be met by installing the minimum itself
    ['NewerOrEqualVersion', '143.1', '143.1'],
    ['NewerOrEqualVersion', '142.0', '142.0'],
    // equal to the latest, though spelled otherwise: the catalog's spelling is what gets installed
    ['NewerOrEqualVersion', '142', '142.0'],
    ['LatestVersion', '150.0', '142.0'],
    ['LatestVersion', undefined, '142.0'],
    ['UpdateIfFound', undefined, '142.0'],
  ] as const)('%s %s targets %s', (desiredState, version, targetVersion) => {
    const item = softwareOf([deploySoftware('d', 'chrome', { desiredState, ...(version ? { version } : {}) })]);
    expect(item?.targetVersion).toBe(targetVersion);
    expect(item?.requiredVersion).toBe(version);
  });

  it('fills task parameters with defaults, leaves out the unset ones, and never copies a secret', () => {
    const catalog = catalogOf({
      tenants,
      tasks: [
        task('fw', {
          parameters: [
            { name: 'level', type: 'string', required: false, default: 'high' },
            { name: 'port', type: 'number', required: false },
            { name: 'token', type: 'secret', required: false },
          ],
        }),
      ],
    });
    const item = itemOf([deployTask('d', 'fw', { parameters: { port: 8443, token: 'hunter2' } })], 'task:fw', pc, catalog);
    expect(item).toMatchObject({ kind: 'Task', parameters: { level: 'high', port: 8443, token: '(secret)' } });
    const unset = itemOf([deployTask('d', 'fw')], 'task:fw', pc, catalog);
    expect(unset?.kind === 'Task' ? unset.parameters : undefined).toEqual({ level: 'high' });
  });
});

describe('prerequisites', () => {
  const lib = software('lib', { name: 'Lib', latestVersion: '5.0', testScript: 'true' });
  const needsLib: Software['dependencies'] = [{ softwareId: 'lib', requires: 'Installed' }];
  const catalogWith = (...extra: Software[]) => catalogOf({ tenants, software: [lib, software('old', { name: 'Old' }), ...extra] });

  it.each(['LatestVersion', 'ThisVersion', 'AnyVersion', 'NewerOrEqualVersion', 'UpdateIfFound'] as const)('are added for software deployed as %s', (desiredState) => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: needsLib }));
    const { items } = resolve([deploySoftware('d', 'app', { desiredState, version: '2.0' })], pc, catalog);
    expect(items.map((item) => item.key)).toEqual(['software:app', 'software:lib']);
  });

  it('are not added for software that is ignored, removed or not assigned', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: needsLib }));
    for (const overrides of [{ desiredState: 'Ignored' as const }, { desiredState: 'NotPresent' as const }, { enabled: false }]) {
      expect(resolve([deploySoftware('d', 'app', overrides)], pc, catalog).items.map((item) => item.key)).toEqual(['software:app']);
    }
  });

  it('are critical, unordered, any version of the latest, with the health check their software has', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: [...needsLib, { softwareId: 'old', requires: 'Absent' }] }));
    const { items } = resolve([deploySoftware('d', 'app', { critical: false, orderingHint: 'Beginning' })], pc, catalog);
    expect(items.find((item) => item.key === 'software:lib')).toEqual({
      kind: 'Software',
      key: 'software:lib',
      itemId: 'lib',
      itemName: 'Lib',
      origin: 'Prerequisite',
      critical: true,
      orderingHint: 'Unordered',
      explanation: { rule: 'OnlyCandidate', candidates: [], requiredBy: ['software:app'], summary: 'Lib: installed because App requires it installed' },
      desiredState: 'AnyVersion',
      targetVersion: '5.0',
      dependencies: [],
      hasTest: true,
    });
    expect(items.find((item) => item.key === 'software:old')).toMatchObject({
      origin: 'Prerequisite',
      desiredState: 'NotPresent',
      hasTest: false,
      explanation: { summary: 'Old: removed because App requires it absent' },
    });
  });

  it('list every item that needs a prerequisite, and follow only what must be installed', () => {
    const catalog = catalogWith(
      software('a', { name: 'A', dependencies: needsLib }),
      software('b', { name: 'B', dependencies: needsLib }),
      software('old', { name: 'Old', dependencies: [{ softwareId: 'lib', requires: 'Absent' }] }),
      software('c', { name: 'C', dependencies: [{ softwareId: 'old', requires: 'Absent' }] }),
    );
    const { items, problems } = resolve([deploySoftware('1', 'a'), deploySoftware('2', 'b'), deploySoftware('3', 'c')], pc, catalog);
    expect(items.find((item) => item.key === 'software:lib')?.explanation.requiredBy).toEqual(['software:a', 'software:b']);
    // Old is to be removed: what Old itself needs does not matter, so Lib is not also wanted absent
    expect(items.find((item) => item.key === 'software:lib')?.conflict).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('leave an item depending on software that is deployed anyway as it is: no conflict, no second entry', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: needsLib }));
    for (const desiredState of ['LatestVersion', 'AnyVersion', 'ThisVersion', 'UpdateIfFound', 'NewerOrEqualVersion'] as const) {
      const { items } = resolve([deploySoftware('app', 'app'), deploySoftware('lib', 'lib', { desiredState, version: '5.0' })], pc, catalog);
      expect(items.filter((item) => item.conflict).map((item) => item.key), desiredState).toEqual([]);
      const libItem = items.find((item) => item.key === 'software:lib');
      expect(libItem, desiredState).toMatchObject({ origin: 'Deployed', deploymentId: 'lib', desiredState });
      expect(libItem?.explanation.requiredBy, desiredState).toBeUndefined();
    }
  });

  it('add a prerequisite whose only deployment is disabled, as they would if there were none', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: needsLib }));
    const { items } = resolve([deploySoftware('app', 'app'), deploySoftware('lib-off', 'lib', { enabled: false })], pc, catalog);
    expect(items.find((item) => item.key === 'software:lib')).toMatchObject({ origin: 'Prerequisite', desiredState: 'AnyVersion', explanation: { requiredBy: ['software:app'] } });
  });

  it('say so when an item needs installed what another item needs absent', () => {
    const catalog = catalogWith(software('c', { name: 'C', dependencies: [{ softwareId: 'lib', requires: 'Absent' }] }), software('a', { name: 'A', dependencies: needsLib }));
    const { items } = resolve([deploySoftware('1', 'c'), deploySoftware('2', 'a')], pc, catalog);
    expect(items.find((item) => item.key === 'software:a')?.conflict).toBe('A needs Lib installed, but another item needs it absent');
  });

  it('leave software wanted absent alone when the deployment removes or ignores it too', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: [{ softwareId: 'old', requires: 'Absent' }] }));
    for (const desiredState of ['NotPresent', 'Ignored'] as const) {
      const { items } = resolve([deploySoftware('app', 'app'), deploySoftware('old', 'old', { desiredState })], pc, catalog);
      expect(items.filter((item) => item.conflict), desiredState).toEqual([]);
    }
  });

  it('mark both sides when an item needs installed what a deployment removes, saying why', () => {
    const catalog = catalogWith(software('app', { name: 'App', dependencies: needsLib }));
    const { items } = resolve([deploySoftware('app', 'app'), deploySoftware('no-lib', 'lib', { desiredState: 'NotPresent' })], pc, catalog);
    const why = 'App needs Lib installed, but deployment no-lib wants it NotPresent';
    expect(items.map((item) => [item.key, item.conflict])).toEqual([
      ['software:app', why],
      ['software:lib', why],
    ]);
  });

  it('mark both sides when two items disagree about a prerequisite, keeping who else needs it', () => {
    const catalog = catalogWith(
      software('a', { name: 'A', dependencies: needsLib }),
      software('b', { name: 'B', dependencies: needsLib }),
      software('c', { name: 'C', dependencies: [{ softwareId: 'lib', requires: 'Absent' }] }),
    );
    const { items } = resolve([deploySoftware('1', 'a'), deploySoftware('2', 'b'), deploySoftware('3', 'c')], pc, catalog);
    const libItem = items.find((item) => item.key === 'software:lib');
    expect(libItem?.conflict).toBe('C needs Lib absent, but another item needs it installed');
    expect(items.find((item) => item.key === 'software:c')?.conflict).toBe('C needs Lib absent, but another item needs it installed');
    expect(libItem?.explanation.requiredBy).toEqual(['software:a', 'software:b']);
  });

  it('keep who needs a prerequisite when the prerequisite itself turns out to conflict', () => {
    const catalog = catalogWith(
      software('a', { name: 'A', dependencies: [{ softwareId: 'mid', requires: 'Installed' }] }),
      software('b', { name: 'B', dependencies: [{ softwareId: 'mid', requires: 'Installed' }] }),
      software('mid', { name: 'Mid', dependencies: needsLib }),
    );
    const { items } = resolve([deploySoftware('1', 'a'), deploySoftware('2', 'b'), deploySoftware('no-lib', 'lib', { desiredState: 'NotPresent' })], pc, catalog);
    const mid = items.find((item) => item.key === 'software:mid');
    expect(mid?.conflict).toBe('Mid needs Lib installed, but deployment no-lib wants it NotPresent');
    expect(mid?.explanation.requiredBy).toEqual(['software:a', 'software:b']);
  });

  it('report a prerequisite missing from the catalog, once per item that needs it', () => {
    const catalog = catalogOf({ tenants, software: [software('app', { name: 'App', dependencies: [{ softwareId: 'gone', requires: 'Installed' }] })] });
    expect(resolve([deploySoftware('d', 'app')], pc, catalog).problems).toEqual(['App depends on software:gone, which is not in the catalog']);
  });
});
