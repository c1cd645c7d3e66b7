import { excerpt } from '../validation.js';

/**
 * Who is calling the operator API, from the claims of a token that was
 * already verified (by API Gateway's JWT authorizer in AWS, by the local
 * verifier in the embedded runtime). One pure mapping for both, so a role or
 * a tenant means the same thing whichever runtime answers.
 */

export const ROLES = ['Admin', 'Technician', 'Viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's `sub`: stable, never shown. */
  readonly subject: string;
  /** What logs and audit entries show: the email, else the username, else the subject. */
  readonly name: string;
  readonly role: Role;
  /** A Viewer's own tenant (required for one); an Admin or Technician may carry one, which limits nothing. */
  readonly tenantId?: string;
}

/** Which claims carry the groups and the tenant: Cognito's by default, configurable for Entra ID or Okta. */
export interface ClaimNames {
  readonly groups: string;
  readonly tenant: string;
}

export const DEFAULT_CLAIM_NAMES: ClaimNames = { groups: 'cognito:groups', tenant: 'custom:tenantId' };

/** The groups that grant a role; a token in several gets the highest. */
export const ROLE_GROUPS: Readonly<Record<Role, string>> = {
  Admin: 'nightshift-admin',
  Technician: 'nightshift-technician',
  Viewer: 'nightshift-viewer',
};

export type PrincipalResult = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/** Names and ids longer than this are not a person's; they are cut, not trusted whole. */
const MAX_NAME_LENGTH = 254;
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A claim that lists groups arrives in several shapes: a JSON array (a
 * verified token read locally), or a string, because API Gateway's HTTP API
 * flattens array claims to `[a b c]`; some issuers send one group, or a
 * comma-separated list.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((group): group is string => typeof group === 'string').map((group) => group.trim());
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return groupsOf(parsed);
    } catch {
      // API Gateway's `[a b]` is not JSON: split it below
    }
    return groupsOf(text.slice(1, -1));
  }
  return text.split(/[\s,]+/).filter((group) => group !== '');
}

const stringClaim = (claims: Readonly<Record<string, unknown>>, name: string): string | undefined => {
  const value = claims[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};

/**
 * The principal the claims stand for, or why they stand for none: no
 * subject, no Nightshift group, or a Viewer without a tenant (a Viewer with no
 * tenant would see nothing, or, worse, be mistaken for one who sees all).
 */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>, names: ClaimNames = DEFAULT_CLAIM_NAMES): PrincipalResult {
  const subject = stringClaim(claims, 'sub');
  if (subject === undefined) return { ok: false, reason: 'the token names no subject' };
  const groups = new Set(groupsOf(claims[names.groups]));
  const role = ROLES.find((candidate) => groups.has(ROLE_GROUPS[candidate]));
  if (role === undefined) return { ok: false, reason: `the token is in no Nightshift group (${Object.values(ROLE_GROUPS).join(', ')})` };
  const tenantId = stringClaim(claims, names.tenant);
  if (tenantId !== undefined && !TENANT_ID.test(tenantId)) return { ok: false, reason: 'the token names a tenant id that cannot exist' };
  if (role === 'Viewer' && tenantId === undefined) return { ok: false, reason: 'a viewer token must name its tenant' };
  const name = stringClaim(claims, 'email') ?? stringClaim(claims, 'cognito:username') ?? stringClaim(claims, 'preferred_username') ?? stringClaim(claims, 'username') ?? subject;
  return {
    ok: true,
    principal: { subject: excerpt(subject, MAX_NAME_LENGTH), name: excerpt(name, MAX_NAME_LENGTH), role, ...(tenantId === undefined ? {} : { tenantId }) },
  };
}
