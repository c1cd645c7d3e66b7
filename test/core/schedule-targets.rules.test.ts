import { describe, expect, it } from 'vitest';
import { scheduleInputSchema, type ScheduleInput } from '../../functions/core/model/schedule.js';
import { indexDeployments } from '../../functions/core/planning/resolution.js';
import { decideTarget, selectTargets, sessionOptionsFor, tenantsInScope } from '../../functions/core/schedules/targets.js';
import { catalogOf, computer, deploySoftware, software, tenant } from '../support/domain.js';

const base = { name: 'nightly', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '12:00', maintenanceTime: '22:00' };
const valid = (overrides: Record<string, unknown> = {}): ScheduleInput => scheduleInputSchema.parse({ ...base, ...overrides });

describe('schedule targets: tenant scope', () => {
  // the child is listed before its parent, so one pass over the tenants would miss the grandchild
  const tenants = new Map([
    ['eu-paris', tenant('eu-paris', { parentTenantId: 'eu' })],
    ['eu', tenant('eu', { parentTenantId: 'group' })],
    ['group', tenant('group', { parentTenantId: 'msp' })],
    ['msp', tenant('msp')],
    ['other', tenant('other', { parentTenantId: 'msp' })],
  ]);

  it('takes descendants at any depth, whatever order the tenants come in, and never the tenants above or beside', () => {
    expect([...tenantsInScope({ tenantId: 'group', includeChildTenants: true }, tenants)].sort()).toEqual(['eu', 'eu-paris', 'group']);
    expect([...tenantsInScope({ tenantId: 'eu-paris', includeChildTenants: true }, tenants)]).toEqual(['eu-paris']);
    expect([...tenantsInScope({ tenantId: 'group', includeChildTenants: false }, tenants)]).toEqual(['group']);
  });
});

describe('schedule targets: which computers', () => {
  const tenants = new Map([['t1', tenant('t1')]]);
  const fleet = [
    computer('c3', { tags: ['HR'], deviceClass: 'Server' }),
    computer('c1', { tags: ['Finance', 'HR'] }),
    computer('c2', { tags: ['hr'], deviceClass: 'Server' }),
  ];
  const select = (overrides: Record<string, unknown>) => selectTargets(valid(overrides), fleet, tenants);

  it('answers computers in id order, with nothing unknown, for every target but a list', () => {
    expect(select({})).toEqual({ computers: [fleet[1], fleet[2], fleet[0]], unknownComputerIds: [] });
  });

  it('matches a tag by its name only, in any case', () => {
    expect(select({ target: { kind: 'Tag', tag: 'finance' } }).computers.map((c) => c.id)).toEqual(['c1']);
    expect(select({ target: { kind: 'Tag', tag: 'Hr' } }).computers.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
  });

  it('keeps a listed computer in its list order, and applies the device classes to a list too', () => {
    expect(select({ target: { kind: 'Computers', computerIds: ['c3', 'c1'] } }).computers.map((c) => c.id)).toEqual(['c3', 'c1']);
    const servers = select({ target: { kind: 'Computers', computerIds: ['c3', 'c1', 'c2'] }, deviceClasses: ['Server'] });
    expect(servers).toEqual({ computers: [fleet[0], fleet[2]], unknownComputerIds: [] });
  });
});

describe('schedule targets: what a fire does with one computer', () => {
  const catalog = catalogOf({ tenants: [tenant('t1', { name: 'Contoso' })], software: [software('app'), software('tool')] });
  const index = indexDeployments([deploySoftware('d-app', 'app')]);
  const context = { catalog, index, scheduleZone: 'Europe/Paris' };

  it('starts a computer with something deployed, with its window rule', () => {
    expect(decideTarget(valid(), computer('pc'), context)).toEqual({ start: true, window: { time: '22:00', zone: 'Europe/Paris' } });
    expect(decideTarget(valid({ maintenanceTime: undefined, executeImmediatelyAfterDetection: true }), computer('pc'), context)).toEqual({ start: true });
  });

  it('skips a computer of a disabled tenant, naming the tenant', () => {
    const disabled = { ...context, catalog: catalogOf({ tenants: [tenant('t1', { name: 'Contoso', enabled: false })], software: [software('app')] }) };
    expect(decideTarget(valid(), computer('pc'), disabled)).toEqual({ start: false, skipped: 'TenantDisabled', detail: 'tenant Contoso is disabled' });
    // a tenant the catalog does not know is not a disabled one (what reaches it is for resolution to say)
    expect(decideTarget(valid(), computer('pc', { tenantId: 'gone' }), context)).toMatchObject({ start: true });
  });

  it('skips an offline computer only when the schedule skips offline computers', () => {
    const offline = computer('pc', { online: false });
    expect(decideTarget(valid({ offline: { behaviour: 'Skip' } }), offline, context)).toEqual({
      start: false,
      skipped: 'Offline',
      detail: 'pc is offline, and this schedule skips offline computers',
    });
    expect(decideTarget(valid(), offline, context)).toMatchObject({ start: true });
    expect(decideTarget(valid({ offline: { behaviour: 'Skip' } }), computer('pc'), context)).toMatchObject({ start: true });
  });

  it('skips a computer with nothing deployed, or without the one item the schedule is limited to, saying which', () => {
    expect(decideTarget(valid(), computer('pc'), { ...context, index: indexDeployments([]) })).toEqual({
      start: false,
      skipped: 'NoApplicableDeployments',
      detail: 'nothing is deployed to pc',
    });
    expect(decideTarget(valid({ limitTo: 'software:tool' }), computer('pc'), context)).toEqual({
      start: false,
      skipped: 'NoApplicableDeployments',
      detail: 'software:tool is not deployed to pc',
    });
    expect(decideTarget(valid({ limitTo: 'software:app' }), computer('pc'), context)).toMatchObject({ start: true });
  });

  it('counts only what is deployed, not the prerequisites it pulls in', () => {
    // a fresh index: resolution caches items per index, whatever the catalog
    const withRuntime = {
      ...context,
      catalog: catalogOf({ tenants: [tenant('t1')], software: [software('app', { dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] }), software('runtime')] }),
      index: indexDeployments([deploySoftware('d-app', 'app')]),
    };
    expect(decideTarget(valid({ limitTo: 'software:runtime' }), computer('pc'), withRuntime)).toMatchObject({ start: false, skipped: 'NoApplicableDeployments' });
    expect(decideTarget(valid(), computer('pc'), { ...withRuntime, index: indexDeployments([]) })).toMatchObject({ start: false });
  });
});

describe('schedule targets: session options', () => {
  it('ends a reboot prompt as its timeout action would: Suppress suppresses, Reboot restarts when needed', () => {
    const reboot = (preference: string, timeoutAction: string) => sessionOptionsFor(valid({ reboot: { preference, timeoutAction } }), undefined).reboot;
    expect(reboot('Prompt', 'Suppress')).toBe('Suppress');
    expect(reboot('Prompt', 'Reboot')).toBe('IfNecessary');
    expect(reboot('Normal', 'Suppress')).toBe('IfNecessary');
    expect(reboot('Suppress', 'Reboot')).toBe('Suppress');
    expect(reboot('Force', 'Suppress')).toBe('Force');
  });

  it('gives a session that waits for its offline computer the wait in seconds, and none to one that skips', () => {
    expect(sessionOptionsFor(valid({ offline: { behaviour: 'ApplyOnConnect', waitHours: 2 } }), undefined)).toMatchObject({ offline: 'ApplyOnConnect', offlineWaitSeconds: 7_200 });
    expect(sessionOptionsFor(valid({ offline: { behaviour: 'Skip' } }), undefined)).not.toHaveProperty('offlineWaitSeconds');
  });

  it('leaves out what the schedule leaves out: no execution time, no limit', () => {
    const options = sessionOptionsFor(valid(), undefined);
    expect(options).not.toHaveProperty('executeAt');
    expect(options).not.toHaveProperty('limitTo');
    expect(options.mode).toBe('Full');
  });
});
