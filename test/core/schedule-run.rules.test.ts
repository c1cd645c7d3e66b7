import { describe, expect, it } from 'vitest';
import { EMPTY_OUTCOME, SKIP_REASONS, type RunOutcome, type SkipReason } from '../../functions/core/model/schedule-run.js';

describe('a schedule run\'s fixed values', () => {
  it('lists every reason a run skips a computer, once each (the API\'s enum and the run\'s counts are built from it)', () => {
    const every: Record<SkipReason, true> = { Offline: true, NoApplicableDeployments: true, ActiveSession: true, TenantDisabled: true, StartFailed: true };
    expect([...SKIP_REASONS].sort()).toEqual(Object.keys(every).sort());
    expect(new Set(SKIP_REASONS).size).toBe(SKIP_REASONS.length);
  });

  it('starts a run\'s outcome at zero in every count', () => {
    const zero: RunOutcome = { queued: 0, running: 0, passed: 0, partiallyPassed: 0, failed: 0, cancelled: 0 };
    expect(EMPTY_OUTCOME).toMatchObject(zero);
    expect(Object.values(EMPTY_OUTCOME).filter((count) => count !== 0)).toEqual([]);
  });
});
