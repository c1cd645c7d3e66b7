import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inScope, mayDo, requesterOf, scopeTenantIds, tenantScope, type Capability } from '../../functions/core/access/policy.js';
import { groupsOf, principalFromClaims, type Principal, type Role } from '../../functions/core/access/principal.js';

const admin: Principal = { subject: 's1', name: 'ana@msp.example', role: 'Admin' };
const viewer = (tenantId: string): Principal => ({ subject: 's2', name: 'bo@acme.example', role: 'Viewer', tenantId });

describe('principalFromClaims: one mapping from verified claims to who is calling', () => {
  it('takes the highest Nightshift group, the email as name and the tenant claim (proves role precedence)', () => {
    const result = principalFromClaims({ sub: 'u-1', email: 'ana@msp.example', 'cognito:groups': ['nightshift-viewer', 'nightshift-admin', 'staff'], 'custom:tenantId': 'acme' });
    expect(result).toEqual({ ok: true, principal: { subject: 'u-1', name: 'ana@msp.example', role: 'Admin', tenantId: 'acme' } });
  });

  it('reads groups as API Gateway flattens them (`[a b]`), as JSON text, or as one comma-separated string (proves both runtimes read the same roles)', () => {
    expect(groupsOf('[nightshift-technician other]')).toEqual(['nightshift-technician', 'other']);
    expect(groupsOf('["nightshift-technician","other"]')).toEqual(['nightshift-technician', 'other']);
    expect(groupsOf('nightshift-viewer, x')).toEqual(['nightshift-viewer', 'x']);
    expect(groupsOf(['a', 3, 'b'])).toEqual(['a', 'b']);
    expect(groupsOf(undefined)).toEqual([]);
    const claims = { sub: 'u', 'cognito:groups': '[nightshift-technician other]' };
    expect(principalFromClaims(claims)).toMatchObject({ ok: true, principal: { role: 'Technician', name: 'u' } });
  });

  it('reads configured claim names for other issuers (proves Entra ID or Okta groups work)', () => {
    const result = principalFromClaims({ sub: 'u', preferred_username: 'bo', roles: ['nightshift-viewer'], tid: 'acme' }, { groups: 'roles', tenant: 'tid' });
    expect(result).toEqual({ ok: true, principal: { subject: 'u', name: 'bo', role: 'Viewer', tenantId: 'acme' } });
  });

  it('refuses a token in no Nightshift group, a viewer without a tenant, a missing subject and an impossible tenant id (proves no default role)', () => {
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': ['staff'] })).toMatchObject({ ok: false });
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': ['nightshift-viewer'] })).toEqual({ ok: false, reason: 'a viewer token must name its tenant' });
    expect(principalFromClaims({ 'cognito:groups': ['nightshift-admin'] })).toMatchObject({ ok: false });
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': ['nightshift-viewer'], 'custom:tenantId': '../etc' })).toMatchObject({ ok: false });
  });

  it('never throws and never grants a role without its group, whatever the claims hold (proves the mapping is total)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (claims) => {
        const result = principalFromClaims(claims);
        if (!result.ok) return;
        const groups = groupsOf(claims['cognito:groups']);
        expect(groups.some((group) => group.startsWith('nightshift-'))).toBe(true);
        expect(result.principal.name.length).toBeLessThanOrEqual(254);
      }),
    );
  });
});

describe('access policy: what each role may do', () => {
  const table: readonly [Role, Capability, boolean][] = [
    ['Admin', 'read', true],
    ['Admin', 'operate', true],
    ['Admin', 'readCatalog', true],
    ['Admin', 'editCatalog', true],
    ['Admin', 'editBranding', true],
    ['Technician', 'read', true],
    ['Technician', 'operate', true],
    ['Technician', 'readCatalog', true],
    ['Technician', 'editCatalog', false],
    ['Technician', 'editBranding', false],
    ['Viewer', 'read', true],
    ['Viewer', 'operate', false],
    ['Viewer', 'readCatalog', false],
    ['Viewer', 'editCatalog', false],
    ['Viewer', 'editBranding', false],
  ];
  it.each(table)('%s may %s: %s', (role, capability, allowed) => {
    expect(mayDo(role, capability)).toBe(allowed);
  });

  it('records the token person as the requester (proves `by` never comes from a body)', () => {
    expect(requesterOf(admin)).toEqual({ kind: 'Operator', name: 'ana@msp.example' });
  });
});

describe('tenant scope: a viewer sees its tenant and every tenant below it', () => {
  const tenants = [
    { id: 'msp' },
    { id: 'acme', parentTenantId: 'msp' },
    { id: 'acme-east', parentTenantId: 'acme' },
    { id: 'acme-east-lab', parentTenantId: 'acme-east' },
    { id: 'globex', parentTenantId: 'msp' },
  ];

  it('includes children and grandchildren, not parents or siblings (proves the tree walk)', () => {
    const scope = tenantScope(viewer('acme'), tenants);
    expect(scopeTenantIds(scope)).toEqual(['acme', 'acme-east', 'acme-east-lab']);
    expect(inScope(scope, 'msp')).toBe(false);
    expect(inScope(scope, 'globex')).toBe(false);
  });

  it('keeps resources spanning every tenant to those who see every tenant (proves a cross-tenant schedule is the MSP’s)', () => {
    expect(inScope(tenantScope(viewer('acme'), tenants), undefined)).toBe(false);
    expect(inScope(tenantScope(admin, tenants), undefined)).toBe(true);
    expect(scopeTenantIds(tenantScope({ ...admin, role: 'Technician' }, tenants))).toBeUndefined();
  });

  it('ends on a loop of stored parents (proves bad data cannot hang a request)', () => {
    const looped = [
      { id: 'a', parentTenantId: 'b' },
      { id: 'b', parentTenantId: 'a' },
    ];
    expect(scopeTenantIds(tenantScope(viewer('a'), looped))).toEqual(['a', 'b']);
  });
});
