import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scheduleInputSchema, type ScheduleInput } from '../../functions/core/model/schedule.js';
import { limitItems } from '../../functions/core/model/session.js';
import { executionWindow, upcomingFires } from '../../functions/core/schedules/windows.js';
import { selectTargets, sessionOptionsFor } from '../../functions/core/schedules/targets.js';
import { computer, softwareItem, tenant } from '../support/domain.js';

const base = { name: 'Tuesday nights', target: { kind: 'AllComputers' }, recurrence: { kind: 'Weekly', days: ['TUE'] }, detectionTime: '14:00', maintenanceTime: '22:00' };
const valid = (overrides: Record<string, unknown> = {}): ScheduleInput => scheduleInputSchema.parse({ ...base, ...overrides });
/** The fields a refused input names, as `a.b.c`. */
const refusedFields = (input: unknown): string[] => {
  const result = scheduleInputSchema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return result.error.issues.map((issue) => issue.path.join('.'));
};

describe('schedule validation: an invalid schedule is refused with the field named', () => {
  it('fills the defaults an MSP expects (enabled, apply on connect, normal reboot, emails on, exact time)', () => {
    const schedule = valid();
    expect(schedule).toMatchObject({
      enabled: true,
      includeChildTenants: false,
      deviceClasses: [],
      executeImmediatelyAfterDetection: false,
      useComputerTimeZone: false,
      offline: { behaviour: 'ApplyOnConnect', waitHours: 24 },
      reboot: { preference: 'Normal', promptTimeoutMinutes: 60, timeoutAction: 'Reboot' },
      email: { detectionEmail: true, followUpEmail: true, showPostponeButton: true },
      detectionOnly: false,
      flexibleWindowMinutes: 0,
    });
  });

  it('requires execution at least an hour after detection, unless it follows detection at once', () => {
    expect(refusedFields({ ...base, maintenanceTime: '14:30' })).toEqual(['maintenanceTime']);
    // across midnight the gap counts forward: 23:30 detection, 00:15 execution is 45 minutes
    expect(refusedFields({ ...base, detectionTime: '23:30', maintenanceTime: '00:15' })).toEqual(['maintenanceTime']);
    expect(valid({ detectionTime: '23:30', maintenanceTime: '00:30' }).maintenanceTime).toBe('00:30');
    expect(valid({ maintenanceTime: undefined, executeImmediatelyAfterDetection: true }).executeImmediatelyAfterDetection).toBe(true);
    expect(refusedFields({ ...base, executeImmediatelyAfterDetection: true })).toEqual(['maintenanceTime']);
    expect(refusedFields({ ...base, maintenanceTime: undefined })).toEqual(['maintenanceTime']);
    // in each computer's own zone the gap is applied per computer, so any time is accepted here
    expect(valid({ maintenanceTime: '14:30', useComputerTimeZone: true }).maintenanceTime).toBe('14:30');
    expect(refusedFields({ ...base, detectionOnly: true })).toEqual(['maintenanceTime']);
  });

  it('refuses a cron more often than daily, or one with a detection time beside it, naming the field', () => {
    expect(refusedFields({ ...base, detectionTime: undefined, recurrence: { kind: 'Cron', expression: '*/15 * * * *' } })).toEqual(['recurrence.expression']);
    expect(refusedFields({ ...base, recurrence: { kind: 'Cron', expression: '0 14 * * 2' } })).toEqual(['detectionTime']);
    expect(valid({ detectionTime: undefined, recurrence: { kind: 'Cron', expression: '0 14 * * 2' } }).recurrence.kind).toBe('Cron');
    expect(refusedFields({ ...base, recurrence: { kind: 'Monthly', days: [15, 'Last'] } })).toEqual(['recurrence.days']);
    expect(refusedFields({ ...base, recurrence: { kind: 'Weekly', days: ['TUE', 'TUE'] } })).toEqual(['recurrence.days']);
  });

  it('stores a zone by its canonical name, and refuses abbreviations that are not zones', () => {
    expect(valid({ timeZone: 'US/Eastern' }).timeZone).toBe('America/New_York');
    expect(valid({ timeZone: 'america/new_york' }).timeZone).toBe('America/New_York');
    expect(valid({ timeZone: 'UTC' }).timeZone).toBe('UTC');
    expect(refusedFields({ ...base, timeZone: 'EST' })).toEqual(['timeZone']);
  });

  it('keeps a window out of the user\'s active hours on the computer\'s own clock, whatever zone the schedule reads its time in', () => {
    // 03:00 in New York is 09:00 in Berlin: inside a Berlin user's 08:00-17:00, so it moves to 17:00 Berlin
    const schedule = valid({ maintenanceTime: '03:00', timeZone: 'America/New_York', executeAfterActiveHours: true });
    const berlin = computer('de', { timeZone: 'Europe/Berlin' });
    expect(executionWindow(schedule, berlin, 'America/New_York', new Date('2026-12-01T19:00:00Z'))?.toISOString()).toBe('2026-12-02T16:00:00.000Z');
  });

  it('refuses unknown zones, malformed times, unknown fields and a computer list without computers', () => {
    expect(refusedFields({ ...base, timeZone: 'Mars/Olympus' })).toEqual(['timeZone']);
    expect(refusedFields({ ...base, detectionTime: '24:00' })).toEqual(['detectionTime']);
    expect(refusedFields({ ...base, maintenanceTime: '9pm' })).toEqual(['maintenanceTime']);
    expect(refusedFields({ ...base, colour: 'red' })).toEqual(['']);
    expect(refusedFields({ ...base, target: { kind: 'Computers', computerIds: [] } })).toEqual(['target.computerIds']);
    expect(refusedFields({ ...base, flexibleWindowMinutes: 1440 })).toEqual(['flexibleWindowMinutes']);
  });

  it('never throws on hostile input: every refusal names a path and a message (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('name', 'recurrence', 'detectionTime', 'maintenanceTime', 'timeZone', 'target', 'offline', 'reboot', 'tenantId'), fc.anything()), (junk) => {
        const result = scheduleInputSchema.safeParse({ ...base, ...junk });
        if (!result.success) for (const issue of result.error.issues) expect(issue.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('schedule windows: when each computer is maintained', () => {
  const tuesday1400Lisbon = new Date('2026-12-01T14:00:00Z');

  it('opens at the maintenance time in the schedule zone, the same evening', () => {
    const window = executionWindow(valid(), computer('pc'), 'Europe/Lisbon', tuesday1400Lisbon);
    expect(window?.toISOString()).toBe('2026-12-01T22:00:00.000Z');
  });

  it('reads the maintenance time in each computer zone, across the date line, at least an hour after the fire', () => {
    const schedule = valid({ useComputerTimeZone: true });
    // Kiritimati (UTC+14) is already on Wednesday 04:00 at the fire: its 22:00 comes that Wednesday evening local time
    const kiritimati = executionWindow(schedule, computer('ki', { timeZone: 'Pacific/Kiritimati' }), 'Europe/Lisbon', tuesday1400Lisbon);
    expect(kiritimati?.toISOString()).toBe('2026-12-02T08:00:00.000Z');
    // Pago Pago (UTC-11) is on Tuesday 03:00: its 22:00 is the same Tuesday, local
    const pagoPago = executionWindow(schedule, computer('pp', { timeZone: 'Pacific/Pago_Pago' }), 'Europe/Lisbon', tuesday1400Lisbon);
    expect(pagoPago?.toISOString()).toBe('2026-12-02T09:00:00.000Z');
    // Tokyo's 22:00 Tuesday (13:00Z) is before the fire plus an hour: the window is Wednesday's
    const tokyo = executionWindow(schedule, computer('tk', { timeZone: 'Asia/Tokyo' }), 'Europe/Lisbon', tuesday1400Lisbon);
    expect(tokyo?.toISOString()).toBe('2026-12-02T13:00:00.000Z');
    for (const window of [kiritimati, pagoPago, tokyo]) expect((window?.getTime() ?? 0) - tuesday1400Lisbon.getTime()).toBeGreaterThanOrEqual(3_600_000);
  });

  it('moves a window out of the computer active hours when asked (its own, else 08:00-17:00)', () => {
    const early = valid({ maintenanceTime: '16:00', executeAfterActiveHours: true });
    expect(executionWindow(early, computer('pc'), 'UTC', new Date('2026-12-01T14:00:00Z'))?.toISOString()).toBe('2026-12-01T17:00:00.000Z');
    const ownHours = computer('pc', { activeHours: { start: '07:00', end: '19:30' } });
    expect(executionWindow(early, ownHours, 'UTC', new Date('2026-12-01T14:00:00Z'))?.toISOString()).toBe('2026-12-01T19:30:00.000Z');
    const outside = valid({ maintenanceTime: '22:00', executeAfterActiveHours: true });
    expect(executionWindow(outside, computer('pc'), 'UTC', new Date('2026-12-01T14:00:00Z'))?.toISOString()).toBe('2026-12-01T22:00:00.000Z');
  });

  it('has no window for detection only or for execution right after detection', () => {
    expect(executionWindow(valid({ maintenanceTime: undefined, detectionOnly: true }), computer('pc'), 'UTC', tuesday1400Lisbon)).toBeUndefined();
    expect(executionWindow(valid({ maintenanceTime: undefined, executeImmediatelyAfterDetection: true }), computer('pc'), 'UTC', tuesday1400Lisbon)).toBeUndefined();
  });

  it('lists the next fires in the schedule zone (Tuesdays 14:00 Lisbon)', () => {
    const fires = upcomingFires(valid(), 'Europe/Lisbon', new Date('2026-11-30T00:00:00Z'), 2);
    expect(fires.map((f) => f.toISOString())).toEqual(['2026-12-01T14:00:00.000Z', '2026-12-08T14:00:00.000Z']);
  });
});

describe('schedule targets and session options', () => {
  const tenants = new Map([
    ['msp', tenant('msp')],
    ['contoso', tenant('contoso', { parentTenantId: 'msp' })],
    ['contoso-eu', tenant('contoso-eu', { parentTenantId: 'contoso' })],
    ['private', tenant('private', { excludeFromCrossTenant: true })],
  ]);
  const fleet = [
    computer('c1', { tenantId: 'contoso', tags: ['Finance'] }),
    computer('c2', { tenantId: 'contoso-eu', deviceClass: 'Server' }),
    computer('c3', { tenantId: 'msp', tags: ['finance'] }),
    computer('p1', { tenantId: 'private', tags: ['finance'] }),
  ];
  const ids = (input: Partial<ScheduleInput>): string[] => selectTargets({ ...valid(), ...input }, fleet, tenants).computers.map((c) => c.id);

  it('scopes to a tenant, its children when asked, or every tenant that takes cross-tenant work', () => {
    expect(ids({ tenantId: 'contoso' })).toEqual(['c1']);
    expect(ids({ tenantId: 'contoso', includeChildTenants: true })).toEqual(['c1', 'c2']);
    expect(ids({})).toEqual(['c1', 'c2', 'c3']);
  });

  it('targets by tag (any case) and by device class, and reports listed computers it cannot reach', () => {
    expect(ids({ target: { kind: 'Tag', tag: 'FINANCE' } })).toEqual(['c1', 'c3']);
    expect(ids({ deviceClasses: ['Server'] })).toEqual(['c2']);
    const listed = selectTargets({ ...valid(), tenantId: 'contoso', target: { kind: 'Computers', computerIds: ['c1', 'c3', 'gone'] } }, fleet, tenants);
    expect(listed.computers.map((c) => c.id)).toEqual(['c1']);
    expect(listed.unknownComputerIds).toEqual(['c3', 'gone']);
  });

  it('gives sessions the schedule reboot, offline, limit, mode, email and postpone choices', () => {
    const window = new Date('2026-12-01T22:00:00Z');
    const email = { ...valid().email, showRunNowButton: false, additionalRecipients: ['office@contoso.example'] };
    expect(
      sessionOptionsFor(
        valid({ reboot: { preference: 'Suppress' }, offline: { behaviour: 'Skip' }, limitTo: 'software:app', email, postpone: { delayMinutes: 30, maxCount: 3, maxDelayHours: 8 } }),
        window,
      ),
    ).toEqual({
      mode: 'Full',
      executeAt: '2026-12-01T22:00:00.000Z',
      reboot: 'Suppress',
      offline: 'Skip',
      postpone: { delayMinutes: 30, maxCount: 3, maxDelayMinutes: 480 },
      notify: email,
      limitTo: 'software:app',
    });
    expect(sessionOptionsFor(valid({ reboot: { preference: 'Prompt', timeoutAction: 'Suppress' } }), undefined).reboot).toBe('Suppress');
    expect(sessionOptionsFor(valid({ reboot: { preference: 'Force' } }), undefined).reboot).toBe('Force');
    expect(sessionOptionsFor(valid({ maintenanceTime: undefined, detectionOnly: true }), undefined).mode).toBe('DetectionOnly');
  });

  it('limits a session to one item and what it needs, following dependencies', () => {
    const items = [
      softwareItem('app', { dependencies: [{ key: 'software:runtime', requires: 'Installed' }] }),
      softwareItem('runtime', { origin: 'Prerequisite', dependencies: [{ key: 'software:base', requires: 'Installed' }] }),
      softwareItem('base', { origin: 'Prerequisite' }),
      softwareItem('other'),
    ];
    expect(limitItems(items, 'software:app').map((i) => i.key)).toEqual(['software:app', 'software:runtime', 'software:base']);
    expect(limitItems(items, 'software:missing')).toEqual([]);
  });
});
