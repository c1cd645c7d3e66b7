import { describe, expect, it } from 'vitest';
import type { DetectedItem, SessionItem } from '../../functions/core/model/session.js';
import { decide, isCompliant } from '../../functions/core/planning/planner.js';

const item = (desiredState: SessionItem['desiredState'], desiredVersion?: string): SessionItem => ({
  itemId: 'app',
  itemName: 'App',
  deploymentId: 'd1',
  desiredState,
  ...(desiredVersion ? { desiredVersion } : {}),
});
const present = (version: string): DetectedItem => ({ state: 'Present', version });
const absent: DetectedItem = { state: 'Absent' };

describe('deciding one item from its detected state', () => {
  it.each([
    ['LatestVersion', '2.0', absent, 'Install', 'SoftwareMissing'],
    ['LatestVersion', '2.0', present('1.9'), 'Update', 'UpdateAvailable'],
    ['LatestVersion', '2.0', present('2.0'), undefined, 'UpToDate'],
    ['LatestVersion', '2.0', present('2.1'), undefined, 'NewerInstalled'],
    ['NotPresent', undefined, present('1.0'), 'Uninstall', 'SoftwareDetected'],
    ['NotPresent', undefined, absent, undefined, 'NotPresent'],
  ] as const)('%s %s with %j → %s (%s)', (state, version, detected, action, reason) => {
    const decision = decide(item(state, version), detected);
    expect(decision.action).toBe(action);
    expect(decision.reason).toBe(reason);
  });

  it('never acts on what it could not determine', () => {
    for (const detected of [{ state: 'Undetermined', reason: 'timed out' } as const, present('garbage')]) {
      const decision = decide(item('LatestVersion', '2.0'), detected);
      expect(decision.action).toBeUndefined();
      expect(decision.reason).toBe('Undetermined');
    }
    expect(isCompliant(item('LatestVersion', '2.0'), { state: 'Undetermined', reason: 'x' })).toBe(false);
  });
});
