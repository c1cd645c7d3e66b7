import { describe, expect, it } from 'vitest';
import { sessionFiltersFrom } from '../../console/src/sessions/filters.js';

/**
 * The Sessions page's filters as its URL carries them: a schedule run's id
 * is kept (the run page links to its sessions that way), with the other
 * filters; anything malformed is dropped before it reaches the API.
 */

describe('sessionFiltersFrom', () => {
  it('keeps a schedule run beside the status, tenant, computer and days', () => {
    expect(sessionFiltersFrom({ runId: 'run_abc', status: 'Failed', tenantId: 'tenant-a', computerId: 'desk-1', from: '2026-11-20', to: '2026-11-27' })).toEqual({
      runId: 'run_abc',
      status: 'Failed',
      tenantId: 'tenant-a',
      computerId: 'desk-1',
      from: '2026-11-20',
      to: '2026-11-27',
    });
  });

  it('drops a run id that is not one (spaces, too long, not text), as it drops the other malformed filters', () => {
    expect(sessionFiltersFrom({ runId: 'run abc' })).toEqual({});
    expect(sessionFiltersFrom({ runId: 'r'.repeat(129) })).toEqual({});
    expect(sessionFiltersFrom({ runId: 42, status: 'Sleeping', from: '20 Nov' })).toEqual({});
  });
});
