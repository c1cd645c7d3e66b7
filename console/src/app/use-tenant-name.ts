import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { tenantsQuery } from '../sessions/queries.js';

/**
 * A tenant's name for a table cell: what an MSP technician knows its customers
 * by. The id stands in until the names are read, and for a tenant the viewer
 * cannot list (a Viewer sees its own tenant tree only).
 */
export function useTenantName(): (tenantId: string) => string {
  const tenants = useQuery(tenantsQuery);
  return useMemo(() => {
    const names = new Map((tenants.data?.items ?? []).map((tenant) => [tenant.id, tenant.name]));
    return (tenantId: string) => names.get(tenantId) ?? tenantId;
  }, [tenants.data]);
}
