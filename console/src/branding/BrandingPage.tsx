import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useMay, useMe } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { BrandingEditor } from './BrandingEditor.js';
import { DEFAULT_BRANDING_ID, ownerKey, type Branding, type OwnerChoice } from './fields.js';
import { brandingsQuery, tenantPagesQuery } from './queries.js';
import './branding.css';

/**
 * What end users see in their emails and on the link pages: the MSP's
 * branding, each tenant's override of it, and seasonal ones with a date
 * range. Whose branding and which one are in the address (`?tenant=acme&branding=winter`),
 * so a link opens the same editor. A tenant viewer sees its own tenants only.
 */

const route = getRouteApi('/branding');

/** The editor's choice beside the stored brandings: a seasonal branding not saved yet. */
const NEW_SEASON = '+new';

export function BrandingPage() {
  usePageTitle('Branding');
  const id = useId();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const me = useMe();
  const mayEdit = useMay('editBranding');
  const [creating, setCreating] = useState<string>();
  const tenants = useInfiniteQuery(tenantPagesQuery);

  // the MSP's own branding spans every tenant: a tenant viewer has only its tenants'
  const seesMsp = me.data !== undefined && me.data.role !== 'Viewer';
  const tenantId = search.tenant ?? (seesMsp ? undefined : me.data?.tenantId);
  const owner: OwnerChoice | undefined = tenantId !== undefined ? { kind: 'Tenant', tenantId } : seesMsp ? { kind: 'Msp' } : undefined;
  const brandings = useQuery({ ...brandingsQuery(owner ?? { kind: 'Msp' }), enabled: owner !== undefined });

  if (me.data === undefined || owner === undefined) {
    return (
      <>
        <h1>Branding</h1>
        {me.data === undefined ? <p aria-busy="true">Loading…</p> : <p>Your sign-in names no tenant, so there is no branding for you to see.</p>}
      </>
    );
  }

  const tenantList = tenants.data?.pages.flatMap((page) => page.items) ?? [];
  const nameOf = (tenant: string) => tenantList.find((each) => each.id === tenant)?.name ?? tenant;
  const ownerLabel = owner.kind === 'Msp' ? 'the MSP' : nameOf(owner.tenantId);
  const choice = creating === ownerKey(owner) ? NEW_SEASON : (search.branding ?? DEFAULT_BRANDING_ID);
  const stored: readonly Branding[] = brandings.data ?? [];
  const seasons = stored.filter((branding) => branding.id !== DEFAULT_BRANDING_ID).sort((a, b) => (a.dateRange?.from ?? '').localeCompare(b.dateRange?.from ?? ''));
  const chosen = choice === NEW_SEASON ? undefined : stored.find((branding) => branding.id === choice);

  const open = (next: { tenant?: string | undefined; branding?: string | undefined }) => {
    setCreating(undefined);
    void navigate({ search: { ...(next.tenant === undefined ? {} : { tenant: next.tenant }), ...(next.branding === undefined ? {} : { branding: next.branding }) } });
  };

  return (
    <>
      <h1>Branding</h1>
      <p className="intro">
        What end users see in the maintenance emails and on the pages their buttons open. A tenant’s branding changes only the fields it sets; the rest comes from its parent tenant and
        the MSP. A seasonal branding wins over the default while its dates last.
      </p>
      <div className="filters branding-choice">
        <div className="field">
          <label htmlFor={`${id}-owner`}>Whose branding</label>
          <select
            id={`${id}-owner`}
            value={owner.kind === 'Msp' ? '' : owner.tenantId}
            onChange={(event) => {
              const value = event.currentTarget.value;
              open({ tenant: value === '' ? undefined : value });
            }}
          >
            {seesMsp ? <option value="">The MSP (every tenant’s default)</option> : null}
            {tenantList.map((tenant) => (
              <option key={tenant.id} value={tenant.id}>
                {tenant.parentTenantId === undefined ? tenant.name : `${tenant.name} (under ${nameOf(tenant.parentTenantId)})`}
              </option>
            ))}
            {owner.kind === 'Tenant' && !tenantList.some((tenant) => tenant.id === owner.tenantId) ? <option value={owner.tenantId}>{owner.tenantId}</option> : null}
          </select>
        </div>
        {tenants.hasNextPage ? (
          <button type="button" className="secondary" disabled={tenants.isFetchingNextPage} onClick={() => void tenants.fetchNextPage()}>
            More tenants
          </button>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-which`}>Which branding</label>
          <select
            id={`${id}-which`}
            value={choice}
            onChange={(event) => {
              const value = event.currentTarget.value;
              if (value === NEW_SEASON) setCreating(ownerKey(owner));
              else open({ tenant: tenantId, branding: value === DEFAULT_BRANDING_ID ? undefined : value });
            }}
          >
            <option value={DEFAULT_BRANDING_ID}>Default (all year)</option>
            {seasons.map((season) => (
              <option key={season.id} value={season.id}>
                {season.dateRange === undefined ? season.id : `${season.id}: ${season.dateRange.from} to ${season.dateRange.to}`}
              </option>
            ))}
            {search.branding !== undefined && brandings.data !== undefined && chosen === undefined && choice !== NEW_SEASON ? <option value={search.branding}>{search.branding} (not saved)</option> : null}
            {mayEdit ? <option value={NEW_SEASON}>A new seasonal branding…</option> : null}
          </select>
        </div>
      </div>
      {tenants.error ? <Problem error={tenants.error} title="The tenants could not be read" /> : null}
      {brandings.error ? <Problem error={brandings.error} title="The branding could not be read" /> : null}
      {brandings.data === undefined ? (
        brandings.error ? null : <p aria-busy="true">Loading the branding of {ownerLabel}…</p>
      ) : (
        <BrandingEditor
          // a new owner or branding is a new form, opened at the version read now
          key={`${ownerKey(owner)}/${choice}`}
          owner={owner}
          ownerLabel={ownerLabel}
          stored={chosen}
          brandingId={choice === NEW_SEASON ? undefined : choice}
          onCreated={(created) => {
            open({ tenant: tenantId, branding: created });
          }}
          onDeleted={(deleted) => {
            if (deleted !== DEFAULT_BRANDING_ID) open({ tenant: tenantId });
          }}
        />
      )}
    </>
  );
}
