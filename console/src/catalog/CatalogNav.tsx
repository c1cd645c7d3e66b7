import { Link } from '@tanstack/react-router';
import { useMay } from '../auth/me.js';

/**
 * The console navigation's deployments and catalog links. Every role reads
 * deployments (a tenant viewer those aimed at its tenants); the software and
 * task catalog is offered only to a role that may read it.
 */
export function CatalogNav() {
  const mayReadCatalog = useMay('readCatalog');
  return (
    <>
      <Link to="/deployments" activeProps={{ 'aria-current': 'page' }}>
        Deployments
      </Link>
      {mayReadCatalog ? (
        <>
          <Link to="/software" activeProps={{ 'aria-current': 'page' }}>
            Software
          </Link>
          <Link to="/tasks" activeProps={{ 'aria-current': 'page' }}>
            Tasks
          </Link>
        </>
      ) : null}
    </>
  );
}
