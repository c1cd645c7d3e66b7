import { describe, expect, it } from 'vitest';
import { DEFAULT_CLAIM_NAMES, groupsOf, principalFromClaims, ROLE_GROUPS, ROLES, type PrincipalResult } from '../../functions/core/access/principal.js';

const SUB = 'b1e2c3d4-0000-4000-8000-000000000001';
const refusal = (result: PrincipalResult): string | undefined => (result.ok ? undefined : result.reason);
const principal = (result: PrincipalResult) => {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.principal;
};

describe('groupsOf: a groups claim in every shape issuers and API Gateway send', () => {
  it('takes a JSON array of strings, trimmed, dropping anything that is not a string', () => {
    expect(groupsOf([' nightshift-admin ', 5, null, 'b'])).toEqual(['nightshift-admin', 'b']);
    expect(groupsOf('["a", "b", 5]')).toEqual(['a', 'b']);
    expect(groupsOf('[]')).toEqual([]);
  });

  it('splits API Gateway\'s flattened `[a b]`, and a plain string on spaces or commas', () => {
    expect(groupsOf('[a b]')).toEqual(['a', 'b']);
    expect(groupsOf(' [a, b] ')).toEqual(['a', 'b']);
    expect(groupsOf('a,b  c')).toEqual(['a', 'b', 'c']);
    expect(groupsOf(' nightshift-viewer ')).toEqual(['nightshift-viewer']);
  });

  it('keeps a bracket that does not enclose the whole claim as part of a name', () => {
    expect(groupsOf('[a')).toEqual(['[a']);
    expect(groupsOf('a]')).toEqual(['a]']);
  });

  it('finds no group in an empty claim, or one that is no string or array', () => {
    expect(groupsOf('')).toEqual([]);
    expect(groupsOf('   ')).toEqual([]);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf(42)).toEqual([]);
    expect(groupsOf({ 0: 'nightshift-admin' })).toEqual([]);
  });
});

describe('principalFromClaims: who is calling, from a verified token', () => {
  it('maps the three Nightshift groups to the three roles, by Cognito\'s claim names by default', () => {
    expect(ROLES).toEqual(['Admin', 'Technician', 'Viewer']);
    expect(DEFAULT_CLAIM_NAMES).toEqual({ groups: 'cognito:groups', tenant: 'custom:tenantId' });
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-admin'] }))).toEqual({ subject: SUB, name: SUB, role: 'Admin' });
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': 'nightshift-technician' })).role).toBe('Technician');
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer'], 'custom:tenantId': 'contoso' }))).toEqual({ subject: SUB, name: SUB, role: 'Viewer', tenantId: 'contoso' });
  });

  it('gives a token in several groups the highest role', () => {
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer', 'nightshift-admin', 'nightshift-technician'], 'custom:tenantId': 't' })).role).toBe('Admin');
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer', 'nightshift-technician'], 'custom:tenantId': 't' })).role).toBe('Technician');
  });

  it('reads the groups and the tenant from the claims it is configured with (Entra ID, Okta)', () => {
    const names = { groups: 'roles', tenant: 'tid' };
    expect(principal(principalFromClaims({ sub: SUB, roles: ['nightshift-viewer'], tid: 'fabrikam' }, names))).toMatchObject({ role: 'Viewer', tenantId: 'fabrikam' });
    expect(refusal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-admin'] }, names))).toBe(
      'the token is in no Nightshift group (nightshift-admin, nightshift-technician, nightshift-viewer)',
    );
  });

  it('refuses a token without a subject, or in no Nightshift group, naming the groups that would do', () => {
    for (const sub of [undefined, '', '   ', 7]) expect(refusal(principalFromClaims({ sub, 'cognito:groups': ['nightshift-admin'] })), String(sub)).toBe('the token names no subject');
    expect(refusal(principalFromClaims({ sub: SUB, 'cognito:groups': ['admins'] }))).toBe(
      `the token is in no Nightshift group (${[ROLE_GROUPS.Admin, ROLE_GROUPS.Technician, ROLE_GROUPS.Viewer].join(', ')})`,
    );
    expect(ROLE_GROUPS).toEqual({ Admin: 'nightshift-admin', Technician: 'nightshift-technician', Viewer: 'nightshift-viewer' });
  });

  it('refuses a viewer without a tenant, and any token naming a tenant id that cannot exist', () => {
    expect(refusal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer'] }))).toBe('a viewer token must name its tenant');
    expect(refusal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer'], 'custom:tenantId': '  ' }))).toBe('a viewer token must name its tenant');
    for (const tenantId of ['bad tenant', '-leading', `a${'b'.repeat(128)}`, 'x/y', 'é']) {
      expect(refusal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-admin'], 'custom:tenantId': tenantId })), tenantId).toBe('the token names a tenant id that cannot exist');
    }
    for (const tenantId of ['a', `a${'b'.repeat(127)}`, 'A0._-z']) {
      expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-viewer'], 'custom:tenantId': ` ${tenantId} ` })).tenantId, tenantId).toBe(tenantId);
    }
  });

  it('lets an admin or technician carry a tenant, and leaves the tenant out when the token names none', () => {
    expect(principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-admin'], 'custom:tenantId': 'contoso' })).tenantId).toBe('contoso');
    expect('tenantId' in principal(principalFromClaims({ sub: SUB, 'cognito:groups': ['nightshift-technician'] }))).toBe(false);
  });

  it('names the caller by email, else the Cognito username, else the preferred username, else the username, else the subject, trimmed', () => {
    const claims = { sub: ` ${SUB} `, 'cognito:groups': ['nightshift-admin'], email: ' ana@contoso.example ', 'cognito:username': 'ana-c', preferred_username: 'ana-p', username: 'ana-u' };
    expect(principal(principalFromClaims(claims))).toMatchObject({ subject: SUB, name: 'ana@contoso.example' });
    expect(principal(principalFromClaims({ ...claims, email: ' ' })).name).toBe('ana-c');
    expect(principal(principalFromClaims({ ...claims, email: undefined, 'cognito:username': undefined })).name).toBe('ana-p');
    expect(principal(principalFromClaims({ ...claims, email: undefined, 'cognito:username': undefined, preferred_username: undefined })).name).toBe('ana-u');
    expect(principal(principalFromClaims({ ...claims, email: undefined, 'cognito:username': undefined, preferred_username: undefined, username: 5 })).name).toBe(SUB);
  });

  it('cuts a subject or name longer than 254 characters, marked, rather than trust it whole', () => {
    const long = 's'.repeat(300);
    const cut = principal(principalFromClaims({ sub: long, 'cognito:groups': ['nightshift-admin'], email: 'e'.repeat(254) }));
    expect(cut.subject).toBe(`${'s'.repeat(253)}…`);
    expect(cut.name).toBe('e'.repeat(254));
  });
});
