import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScheduleTriggerSpec } from '../../functions/core/ports/schedule-trigger.port.js';
import { LocalScheduleTriggers, type LocalScheduleTriggersOptions } from '../../local/schedule-triggers.js';
import { manualClock } from '../support/fleet.js';

const daily: ScheduleTriggerSpec = { scheduleId: 'contoso-daily', expression: 'cron(0 14 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 };

describe('local schedule triggers hold their delivery as Scheduler does, for the reconcile sweep to compare', () => {
  let dir: string | undefined;
  const opened: LocalScheduleTriggers[] = [];
  afterEach(async () => {
    for (const triggers of opened.splice(0)) await triggers.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A trigger store over one file, as one start of the runtime with these options; it delivers only when a test calls fireDue. */
  async function runtime(options: Partial<LocalScheduleTriggersOptions> = {}) {
    dir ??= await mkdtemp(path.join(tmpdir(), 'nightshift-triggers-'));
    const errors: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (message: string, fields?: Record<string, unknown>) => void errors.push({ message, ...(fields ? { fields } : {}) }) };
    const triggers = new LocalScheduleTriggers({ file: path.join(dir, 'schedule-triggers.json'), clock: manualClock(new Date('2026-12-01T13:59:00Z')), logger, pollMs: 3_600_000, ...options });
    opened.push(triggers);
    await triggers.load();
    return { triggers, errors, file: path.join(dir, 'schedule-triggers.json') };
  }

  it('lists a trigger put by this runtime without drift, and one put by a runtime with other retry options as a retryPolicy drift', async () => {
    const first = await runtime({ maxAttempts: 5, maxEventAgeSeconds: 3600 });
    await first.triggers.put(daily);
    expect(await first.triggers.list()).toEqual([daily]);
    await first.triggers.close();

    expect(await (await runtime({ maxAttempts: 3, maxEventAgeSeconds: 3600 })).triggers.list()).toEqual([{ ...daily, deliveryDrift: ['retryPolicy'] }]);
    expect(await (await runtime({ maxAttempts: 5, maxEventAgeSeconds: 600 })).triggers.list()).toEqual([{ ...daily, deliveryDrift: ['retryPolicy'] }]);
    expect(await (await runtime({ maxAttempts: 5, maxEventAgeSeconds: 3600 })).triggers.list()).toEqual([daily]);
  });

  it('lists a trigger from a file written before triggers held their delivery without drift: it delivers by the runtime\'s options', async () => {
    const { file } = await runtime();
    await writeFile(file, JSON.stringify([{ spec: daily, dueAt: '2026-12-01T14:00:00.000Z', attempts: 0 }]));
    expect(await (await runtime({ maxAttempts: 3 })).triggers.list()).toEqual([daily]);
  });

  it('delivers by the retry policy the trigger holds until it is put again, as Scheduler does', async () => {
    const first = await runtime({ maxAttempts: 2 });
    await first.triggers.put(daily);
    await first.triggers.close();

    const clock = manualClock(new Date('2026-12-01T13:59:00Z'));
    const { triggers, errors } = await runtime({ maxAttempts: 4, clock });
    const delivered: string[] = [];
    triggers.start((event) => {
      delivered.push(event.scheduledTime);
      return Promise.reject(new Error('fire-schedule is down'));
    });
    clock.advance(60_000);
    await triggers.fireDue();
    await triggers.fireDue();
    // the held policy (2 attempts), not this runtime's (4): given up after the second
    expect(delivered).toEqual(['2026-12-01T14:00:00.000Z', '2026-12-01T14:00:00.000Z']);
    expect(errors).toEqual([{ message: 'schedule occurrence dead-lettered', fields: expect.objectContaining({ scheduleId: daily.scheduleId, attempts: 2 }) as unknown }]);
    expect(triggers.upcoming()).toEqual([{ scheduleId: daily.scheduleId, dueAt: '2026-12-02T14:00:00.000Z' }]);

    // put again (what the sweep does): from then on this runtime's 4 attempts
    await triggers.put(daily);
    clock.advance(24 * 3600_000);
    for (let attempt = 0; attempt < 4; attempt++) await triggers.fireDue();
    expect(delivered.filter((at) => at === '2026-12-02T14:00:00.000Z')).toHaveLength(4);
    expect(errors).toHaveLength(2);
    expect(errors[1]?.fields).toMatchObject({ attempts: 4 });
  });
});
