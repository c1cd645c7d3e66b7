import { describe, expect, it } from 'vitest';
import { inScope, mayDo, requesterOf, scopeTenantIds, seesEveryTenant, tenantScope, type Capability } from '../../functions/core/access/policy.js';
import type { Principal, Role } from '../../functions/core/access/principal.js';

const person = (role: Role, tenantId?: string): Principal => ({ subject: 'sub-1', name: 'ana@msp.example', role, ...(tenantId === undefined ? {} : { tenantId }) });
const CAPABILITIES: readonly Capability[] = ['read', 'operate', 'readCatalog', 'editCatalog', 'editBranding'];

describe('access policy rules: capabilities', () => {
  it('gives an Admin everything, a Technician all but catalog and branding edits, a Viewer only reading', () => {
    const granted = (role: Role): Capability[] => CAPABILITIES.filter((capability) => mayDo(role, capability));
    expect(granted('Admin')).toEqual(['read', 'operate', 'readCatalog', 'editCatalog', 'editBranding']);
    expect(granted('Technician')).toEqual(['read', 'operate', 'readCatalog']);
    expect(granted('Viewer')).toEqual(['read']);
  });

  it('records the token person as the requester, an operator', () => {
    expect(requesterOf(person('Technician'))).toEqual({ kind: 'Operator', name: 'ana@msp.example' });
  });
});

describe('access policy rules: tenant scope', () => {
  // listed children first, so the walk cannot rely on the order parents come in
  const tenants = [
    { id: 'acme-east-lab', parentTenantId: 'acme-east' },
    { id: 'acme-west', parentTenantId: 'acme' },
    { id: 'acme-east', parentTenantId: 'acme' },
    { id: 'acme', parentTenantId: 'msp' },
    { id: 'globex', parentTenantId: 'msp' },
    { id: 'msp' },
  ];

  it('lets Admins and Technicians see every tenant, whatever tenant they carry', () => {
    expect(seesEveryTenant(person('Admin'))).toBe(true);
    expect(seesEveryTenant(person('Technician', 'acme'))).toBe(true);
    expect(seesEveryTenant(person('Viewer', 'acme'))).toBe(false);
    expect(tenantScope(person('Technician', 'acme'), tenants)).toEqual({ all: true });
    expect(scopeTenantIds({ all: true })).toBeUndefined();
  });

  it('gives a Viewer its tenant and every tenant below it, at any depth and with several children, sorted', () => {
    const scope = tenantScope(person('Viewer', 'acme'), tenants);
    expect(scope.all).toBe(false);
    expect(scopeTenantIds(scope)).toEqual(['acme', 'acme-east', 'acme-east-lab', 'acme-west']);
    expect(scopeTenantIds(tenantScope(person('Viewer', 'acme-east-lab'), tenants))).toEqual(['acme-east-lab']);
  });

  it('gives a Viewer without a tenant nothing at all', () => {
    const scope = tenantScope(person('Viewer'), tenants);
    expect(scopeTenantIds(scope)).toEqual([]);
    expect(inScope(scope, 'msp')).toBe(false);
    expect(inScope(scope, undefined)).toBe(false);
  });

  it('shows a tenant inside the scope, not one outside it, and a resource spanning every tenant only to whoever sees them all', () => {
    const scope = tenantScope(person('Viewer', 'acme'), tenants);
    expect(inScope(scope, 'acme-east')).toBe(true);
    expect(inScope(scope, 'globex')).toBe(false);
    expect(inScope(scope, undefined)).toBe(false);
    expect(inScope({ all: true }, undefined)).toBe(true);
    expect(inScope({ all: true }, 'globex')).toBe(true);
  });

  it('ends on a loop of stored parents, each tenant once', () => {
    const looped = [
      { id: 'a', parentTenantId: 'b' },
      { id: 'b', parentTenantId: 'a' },
      { id: 'c', parentTenantId: 'b' },
    ];
    expect(scopeTenantIds(tenantScope(person('Viewer', 'a'), looped))).toEqual(['a', 'b', 'c']);
  });
});
