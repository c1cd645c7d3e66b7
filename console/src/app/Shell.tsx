import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useRouteContext } from '@tanstack/react-router';
import { useEffect, useSyncExternalStore } from 'react';
import { useMe } from '../auth/me.js';
import { signOut } from '../auth/sign-in.js';
import { tokenStore } from '../auth/token-store.js';
import { CatalogNav } from '../catalog/CatalogNav.js';
import { Problem } from '../components/Problem.js';
import { usePageTitle } from './page-title.js';
import { SignInPage } from './SignInPage.js';

/**
 * Every page's frame: a skip link, the navigation, who is signed in (name,
 * role, tenant) and sign-out. Signed out, the page is the sign-in page,
 * whatever the address; signing in again comes back to the same address.
 */
export function Root() {
  const { token, notice } = useSyncExternalStore(tokenStore.subscribe, tokenStore.snapshot);
  const queryClient = useQueryClient();
  useEffect(() => {
    // nothing one operator read may show for the next one (or for the same one under another role)
    if (token === undefined) queryClient.clear();
  }, [token, queryClient]);
  if (token === undefined) return <SignInPage notice={notice} />;
  return <Shell />;
}

const ROLE_WORDS = { Admin: 'MSP admin', Technician: 'Technician', Viewer: 'Tenant viewer' } as const;

function Shell() {
  const me = useMe();
  const queryClient = useQueryClient();
  const { config } = useRouteContext({ from: '__root__' });
  const leave = async () => {
    queryClient.clear();
    await signOut(config);
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <nav aria-label="Console">
          <Link to="/" className="brand">
            Nightshift
          </Link>
          <Link to="/sessions" activeProps={{ 'aria-current': 'page' }}>
            Sessions
          </Link>
          <Link to="/computers" activeProps={{ 'aria-current': 'page' }}>
            Computers
          </Link>
          <Link to="/schedules" activeProps={{ 'aria-current': 'page' }}>
            Schedules
          </Link>
          <CatalogNav />
          <Link to="/audit" activeProps={{ 'aria-current': 'page' }}>
            Audit
          </Link>
          <Link to="/branding" activeProps={{ 'aria-current': 'page' }}>
            Branding
          </Link>
        </nav>
        <div className="who" aria-live="polite">
          {me.data === undefined ? null : (
            <>
              <span className="who-name">{me.data.name}</span>{' '}
              <span className="who-role">
                {ROLE_WORDS[me.data.role]}
                {me.data.tenantId === undefined ? '' : ` of ${me.data.tenantId}`}
              </span>
            </>
          )}
          <button type="button" className="secondary" onClick={() => void leave()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {me.error ? <Problem error={me.error} title="Who you are could not be read" /> : <Outlet />}
      </main>
    </>
  );
}

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no such page. <Link to="/sessions">Go to the sessions</Link>.
      </p>
    </>
  );
}
