import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../functions/core/model/schedule.js';
import { assignRings } from '../../functions/core/schedules/rollout.js';

const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => `pc-${i}`);
const ring = (name: string, percent: number): Rollout['rings'][number] => ({ name, percent, successThresholdPercent: 95, soakMinutes: 60 });

describe('rollout rings: no computer is left without a ring', () => {
  it('puts computers past the last ring share in the last ring (rings saved before they had to end at 100 %)', () => {
    // validation now makes the last ring 100 %, but a stored rollout may predate that rule: its tail still runs, in the last ring
    const rings = assignRings('weekly', ids(10), [ring('canary', 10), ring('early', 50)]);
    expect([...rings.values()].filter((r) => r === 0)).toHaveLength(1);
    expect([...rings.values()].filter((r) => r === 1)).toHaveLength(9);
    expect([...assignRings('weekly', ids(4), [ring('only', 50)]).values()]).toEqual([0, 0, 0, 0]);
  });
});
