import { describe, expect, it } from 'vitest';
import { detectionTimeOf, rolloutSchema, scheduleInputSchema, scheduleSchema } from '../../functions/core/model/schedule.js';
import { parseCronExpression } from '../../functions/core/schedules/cron.js';

const base = { name: 'Tuesday nights', target: { kind: 'AllComputers' }, recurrence: { kind: 'Weekly', days: ['TUE'] }, detectionTime: '14:00', maintenanceTime: '22:00' };
/** Each refusal of `base` with `overrides`, as `path: message`. */
const problems = (overrides: Record<string, unknown>): string[] => {
  const parsed = scheduleInputSchema.safeParse({ ...base, ...overrides });
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};
const ring = (name: string, percent: number) => ({ name, percent });
const computers = (count: number): string[] => Array.from({ length: count }, (_, index) => `pc-${String(index)}`);

describe('a schedule\'s recurrence', () => {
  it('names at least one weekday, each once', () => {
    expect(problems({ recurrence: { kind: 'Weekly', days: [] } })).toEqual(['recurrence.days: name at least one day']);
    expect(problems({ recurrence: { kind: 'Weekly', days: ['TUE', 'TUE'] } })).toEqual(['recurrence.days: must not repeat a day']);
    expect(problems({ recurrence: { kind: 'Weekly', days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] } })).toEqual([]);
  });

  it('names days of the month from 1 to 31, each once, or the last day alone', () => {
    expect(problems({ recurrence: { kind: 'Monthly', days: [1, 15, 31] } })).toEqual([]);
    expect(problems({ recurrence: { kind: 'Monthly', days: ['Last'] } })).toEqual([]);
    expect(problems({ recurrence: { kind: 'Monthly', days: [0] } })).toEqual(['recurrence.days.0: days of the month run from 1']);
    expect(problems({ recurrence: { kind: 'Monthly', days: [32] } })).toEqual(['recurrence.days.0: days of the month end at 31']);
    expect(problems({ recurrence: { kind: 'Monthly', days: [] } })).toEqual(['recurrence.days: name at least one day']);
    expect(problems({ recurrence: { kind: 'Monthly', days: [3, 3] } })).toEqual(['recurrence.days: must not repeat a day']);
    expect(problems({ recurrence: { kind: 'Monthly', days: [15, 'Last'] } })).toEqual(['recurrence.days: Last stands alone (cron has no "the 15th and the last day")']);
  });

  it('keeps each recurrence and target as given, its kind included', () => {
    for (const recurrence of [{ kind: 'Daily' }, { kind: 'Weekly', days: ['TUE'] }, { kind: 'Monthly', days: ['Last'] }]) {
      expect(scheduleInputSchema.parse({ ...base, recurrence }).recurrence).toEqual(recurrence);
    }
    expect(scheduleInputSchema.parse({ ...base, detectionTime: undefined, recurrence: { kind: 'Cron', expression: '0 14 * * 2' } }).recurrence).toEqual({ kind: 'Cron', expression: '0 14 * * 2' });
    for (const target of [{ kind: 'AllComputers' }, { kind: 'Tag', tag: 'kiosk' }, { kind: 'Computers', computerIds: ['pc-1'] }]) {
      expect(scheduleInputSchema.parse({ ...base, target }).target).toEqual(target);
    }
    for (const amount of [{ kind: 'Count', value: 3 }, { kind: 'Percent', value: 10 }]) {
      expect(rolloutSchema.parse({ maxConcurrent: amount, errorBudget: amount })).toEqual({ maxConcurrent: amount, errorBudget: amount, rings: [] });
    }
  });

  it('takes a daily recurrence, and a cron expression of at most 100 characters that the cron rules accept', () => {
    expect(problems({ recurrence: { kind: 'Daily' } })).toEqual([]);
    expect(problems({ detectionTime: undefined, recurrence: { kind: 'Cron', expression: `0 14 * * 2${' '.repeat(95)}` } })).toEqual(['recurrence.expression: must be at most 100 characters']);
    const cron = parseCronExpression('*/15 * * * *');
    if (cron.ok) throw new Error('the cron rules take an expression more often than daily');
    expect(problems({ detectionTime: undefined, recurrence: { kind: 'Cron', expression: '*/15 * * * *' } })).toEqual([`recurrence.expression: ${cron.problem}`]);
    const parsed = scheduleInputSchema.safeParse({ ...base, detectionTime: undefined, recurrence: { kind: 'Cron', expression: '*/15 * * * *' } });
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => issue.code)).toEqual(['custom']);
  });
});

describe('a schedule\'s target', () => {
  it('lists 1 to 1,000 computers, each once', () => {
    expect(problems({ target: { kind: 'Computers', computerIds: computers(1000) } })).toEqual([]);
    expect(problems({ target: { kind: 'Computers', computerIds: [] } })).toEqual(['target.computerIds: name at least one computer']);
    expect(problems({ target: { kind: 'Computers', computerIds: computers(1001) } })).toEqual(['target.computerIds: at most 1,000 computers; use a tag for more']);
    expect(problems({ target: { kind: 'Computers', computerIds: ['pc-1', 'pc-1'] } })).toEqual(['target.computerIds: must not repeat a computer']);
  });

  it('takes a tag, and device classes each once', () => {
    expect(problems({ target: { kind: 'Tag', tag: 'kiosk' } })).toEqual([]);
    expect(problems({ deviceClasses: ['Server', 'Server'] })).toEqual(['deviceClasses: must not repeat a device class']);
  });
});

describe('a schedule\'s name and the defaults of its choices', () => {
  it('takes a trimmed name of 1 to 255 characters', () => {
    expect(scheduleInputSchema.parse({ ...base, name: '  Nightly  ' }).name).toBe('Nightly');
    expect(problems({ name: '   ' })).toEqual(['name: must not be empty']);
    expect(problems({ name: 'n'.repeat(255) })).toEqual([]);
    expect(problems({ name: 'n'.repeat(256) })).toEqual(['name: must be at most 255 characters']);
  });

  it('fills every choice left out: normal reboots, waiting a day for an offline computer, two hour-long postpones within a day, no rollout', () => {
    expect(scheduleInputSchema.parse(base)).toMatchObject({
      reboot: { preference: 'Normal', promptTimeoutMinutes: 60, timeoutAction: 'Reboot' },
      offline: { behaviour: 'ApplyOnConnect', waitHours: 24 },
      postpone: { delayMinutes: 60, maxCount: 2, maxDelayHours: 24 },
      rollout: { rings: [] },
    });
    // a choice given in part is filled the same way
    expect(scheduleInputSchema.parse({ ...base, reboot: { preference: 'Prompt' }, offline: { behaviour: 'Skip' }, postpone: { maxCount: 0 } })).toMatchObject({
      reboot: { preference: 'Prompt', promptTimeoutMinutes: 60, timeoutAction: 'Reboot' },
      offline: { behaviour: 'Skip', waitHours: 24 },
      postpone: { delayMinutes: 60, maxCount: 0, maxDelayHours: 24 },
    });
  });

  it('fills the rest of a reboot or offline choice given in part, and bounds a prompt\'s timeout to 5 minutes..24 hours', () => {
    expect(scheduleInputSchema.parse({ ...base, reboot: { promptTimeoutMinutes: 5 }, offline: { waitHours: 1 } })).toMatchObject({
      reboot: { preference: 'Normal', promptTimeoutMinutes: 5, timeoutAction: 'Reboot' },
      offline: { behaviour: 'ApplyOnConnect', waitHours: 1 },
    });
    expect(problems({ reboot: { promptTimeoutMinutes: 1440 } })).toEqual([]);
    expect(problems({ reboot: { promptTimeoutMinutes: 4 } })).toHaveLength(1);
    expect(problems({ reboot: { promptTimeoutMinutes: 1441 } })).toHaveLength(1);
  });

  it('refuses fields it does not know, in the schedule, its postpone policy and its rollout', () => {
    expect(problems({ colour: 'blue' })).toHaveLength(1);
    expect(problems({ postpone: { delayMinutes: 60, forever: true } })).toHaveLength(1);
    expect(problems({ rollout: { rings: [], canary: true } })).toHaveLength(1);
    expect(problems({ rollout: { rings: [{ ...ring('all', 100), soak: 5 }] } })).toHaveLength(1);
  });
});

describe('a schedule\'s rollout rings', () => {
  it('fills a ring\'s threshold (95 %) and soak (an hour), and trims its name', () => {
    expect(rolloutSchema.parse({ rings: [{ name: ' canary ', percent: 100 }] }).rings).toEqual([{ name: 'canary', percent: 100, successThresholdPercent: 95, soakMinutes: 60 }]);
    expect(rolloutSchema.parse(undefined)).toEqual({ rings: [] });
  });

  it('keeps a ring\'s own threshold (0..100 %) and soak (up to a week), and takes no rings at all', () => {
    const own = { name: 'all', percent: 100, successThresholdPercent: 50, soakMinutes: 10_080 };
    expect(rolloutSchema.parse({ rings: [own] }).rings).toEqual([own]);
    expect(rolloutSchema.parse({ rings: [{ ...own, successThresholdPercent: 0, soakMinutes: 0 }] }).rings).toEqual([{ ...own, successThresholdPercent: 0, soakMinutes: 0 }]);
    expect(problems({ rollout: { rings: [{ ...own, successThresholdPercent: 101 }] } })).toHaveLength(1);
    expect(problems({ rollout: { rings: [{ ...own, soakMinutes: 10_081 }] } })).toHaveLength(1);
    expect(problems({ rollout: { rings: [{ ...own, percent: 0 }] } })).not.toEqual([]);
    expect(problems({ rollout: { rings: [] } })).toEqual([]);
    expect(rolloutSchema.parse({})).toEqual({ rings: [] });
  });

  it('bounds how many sessions execute at once (at least one) and the failures it accepts (none or more), as a count or a percentage', () => {
    const rollout = { maxConcurrent: { kind: 'Count', value: 1 }, errorBudget: { kind: 'Percent', value: 0 } };
    expect(rolloutSchema.parse(rollout)).toEqual({ ...rollout, rings: [] });
    expect(rolloutSchema.parse({ maxConcurrent: { kind: 'Percent', value: 100 }, errorBudget: { kind: 'Count', value: 0 } })).toMatchObject({ errorBudget: { kind: 'Count', value: 0 } });
    expect(problems({ rollout: { maxConcurrent: { kind: 'Count', value: 0 } } })).toHaveLength(1);
    expect(problems({ rollout: { maxConcurrent: { kind: 'Percent', value: 101 } } })).toHaveLength(1);
    expect(problems({ rollout: { errorBudget: { kind: 'Count', value: 100_001 } } })).toHaveLength(1);
    expect(problems({ rollout: { errorBudget: { kind: 'Count', value: 100_000 } } })).toEqual([]);
  });

  it('names each ring with 1 to 40 characters', () => {
    expect(problems({ rollout: { rings: [ring('', 100)] } })).toEqual(['rollout.rings.0.name: must not be empty']);
    expect(problems({ rollout: { rings: [ring('r'.repeat(40), 100)] } })).toEqual([]);
    expect(problems({ rollout: { rings: [ring('r'.repeat(41), 100)] } })).toEqual(['rollout.rings.0.name: must be at most 40 characters']);
  });

  it('takes at most 5 rings, each reaching a larger share than the one before, the last all of them', () => {
    expect(problems({ rollout: { rings: [ring('a', 10), ring('b', 30), ring('c', 50), ring('d', 70), ring('e', 100)] } })).toEqual([]);
    expect(problems({ rollout: { rings: [ring('a', 10), ring('b', 30), ring('c', 50), ring('d', 70), ring('e', 90), ring('f', 100)] } })).toEqual(['rollout.rings: at most 5 rings']);
    expect(problems({ rollout: { rings: [ring('a', 50), ring('b', 50), ring('c', 100)] } })).toEqual(['rollout.rings: each ring must reach a larger share than the one before']);
    expect(problems({ rollout: { rings: [ring('a', 60), ring('b', 40), ring('c', 100)] } })).toEqual(['rollout.rings: each ring must reach a larger share than the one before']);
    expect(problems({ rollout: { rings: [ring('a', 10), ring('b', 90)] } })).toEqual(['rollout.rings: the last ring must reach 100 percent']);
  });
});

describe('when a schedule detects and executes', () => {
  it('takes its detection time from a cron expression, and refuses one given beside it', () => {
    expect(problems({ detectionTime: undefined, recurrence: { kind: 'Cron', expression: '0 14 * * 2' } })).toEqual([]);
    expect(problems({ recurrence: { kind: 'Cron', expression: '0 14 * * 2' } })).toEqual(['detectionTime: comes from the cron expression; leave it out']);
    expect(problems({ detectionTime: undefined })).toEqual(['detectionTime: is required (HH:MM), unless the recurrence is a cron expression']);
  });

  it('needs a maintenance time unless it executes right after detection or not at all, and then refuses one', () => {
    expect(problems({ maintenanceTime: undefined })).toEqual(['maintenanceTime: is required (HH:MM), unless executeImmediatelyAfterDetection or detectionOnly is set']);
    expect(problems({ detectionOnly: true })).toEqual(['maintenanceTime: a detection-only schedule executes nothing; leave it out']);
    expect(problems({ detectionOnly: true, maintenanceTime: undefined })).toEqual([]);
    expect(problems({ executeImmediatelyAfterDetection: true })).toEqual(['maintenanceTime: leave it out when execution follows detection at once']);
    expect(problems({ executeImmediatelyAfterDetection: true, maintenanceTime: undefined })).toEqual([]);
    // detection only says nothing about the gap either
    expect(problems({ detectionOnly: true, maintenanceTime: undefined, detectionTime: '21:59' })).toEqual([]);
  });

  it('executes at least 60 minutes after detection, counted forward across midnight, naming the detection time', () => {
    expect(problems({ detectionTime: '21:00', maintenanceTime: '22:00' })).toEqual([]);
    expect(problems({ detectionTime: '21:01', maintenanceTime: '22:00' })).toEqual([
      'maintenanceTime: must be at least 60 minutes after the detection time (21:01), or set executeImmediatelyAfterDetection',
    ]);
    expect(problems({ detectionTime: '23:30', maintenanceTime: '00:30' })).toEqual([]);
    expect(problems({ detectionTime: '23:30', maintenanceTime: '00:29' })).toHaveLength(1);
    // a cron's minute and hour are its detection time
    expect(problems({ detectionTime: undefined, recurrence: { kind: 'Cron', expression: '30 21 * * 2' } })).toEqual([
      'maintenanceTime: must be at least 60 minutes after the detection time (21:30), or set executeImmediatelyAfterDetection',
    ]);
    expect(problems({ detectionTime: '21:30', maintenanceTime: '22:00', useComputerTimeZone: true })).toEqual([]);
  });

  it('reports each of these refusals as a custom issue of the schedule\'s own rules', () => {
    const codes = (overrides: Record<string, unknown>): string[] => {
      const parsed = scheduleInputSchema.safeParse({ ...base, ...overrides });
      return parsed.success ? [] : parsed.error.issues.map((issue) => issue.code);
    };
    for (const overrides of [
      { recurrence: { kind: 'Cron', expression: '0 14 * * 2' } },
      { detectionTime: undefined },
      { detectionOnly: true },
      { executeImmediatelyAfterDetection: true },
      { maintenanceTime: undefined },
      { detectionTime: '21:01' },
    ]) {
      expect(codes(overrides), JSON.stringify(overrides)).toEqual(['custom']);
    }
  });

  it('reads the detection time from the field, or from a cron expression, and none from an expression the cron rules refuse', () => {
    expect(detectionTimeOf({ recurrence: { kind: 'Daily' }, detectionTime: '14:00' })).toBe('14:00');
    expect(detectionTimeOf({ recurrence: { kind: 'Cron', expression: '5 3 * * *' } })).toBe('03:05');
    expect(detectionTimeOf({ recurrence: { kind: 'Cron', expression: '*/15 * * * *' } })).toBeUndefined();
  });
});

describe('a stored schedule', () => {
  const stored = {
    ...scheduleInputSchema.parse(base),
    id: 'sch-1',
    version: 1,
    createdAt: '2026-11-23T09:00:00.000Z',
    createdBy: { kind: 'Operator', name: 'ana' },
    updatedAt: '2026-11-23T09:00:00+01:00',
    updatedBy: { kind: 'Api', name: 'psa' },
  };

  it('is the input with its id, a version from 1, and who made and changed it when', () => {
    expect(scheduleSchema.parse(stored)).toEqual(stored);
    expect(scheduleSchema.safeParse({ ...stored, version: 0 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ ...stored, version: 7, createdAt: '2026-11-23T10:00:00+01:00' }).success).toBe(true);
    expect(scheduleSchema.safeParse({ ...stored, createdAt: 'yesterday' }).success).toBe(false);
    expect(scheduleSchema.safeParse({ ...stored, id: '' }).success).toBe(false);
  });
});
