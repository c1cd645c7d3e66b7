import { describe, expect, it } from 'vitest';
import { CURSOR_NOT_OURS, CURSOR_OF_ANOTHER_QUERY, encodeListCursor, listQueryFingerprint } from '../../functions/core/list-cursor.js';
import {
  auditCursorPosition,
  auditListingKey,
  encodeAuditCursor,
  encodeResourceAuditCursor,
  fieldChanges,
  fitChanges,
  MAX_AUDIT_CHANGE_BYTES,
  resourceAuditCursorPosition,
  type AuditedResource,
  type FieldChange,
} from '../../functions/core/model/audit.js';

const KEY = '2026-11-23T09:00:00.000Z#Schedule#nightly#V#0000000007';
const EVERY_RESOURCE: Record<AuditedResource, true> = { Schedule: true, Tenant: true, Computer: true, Software: true, Task: true, Deployment: true, Branding: true, Session: true, Run: true };

describe('fieldChanges: the top-level fields that differ between two versions', () => {
  it('names the fields that changed, sorted, with their value before and after, and leaves out those that did not', () => {
    expect(fieldChanges({ name: 'a', zone: 'UTC', size: 1 }, { name: 'b', zone: 'UTC', size: 2 })).toEqual([
      { field: 'name', before: 'a', after: 'b' },
      { field: 'size', before: 1, after: 2 },
    ]);
  });

  it('shows a field only on the side it is present: a creation has only afters, a deletion only befores', () => {
    expect(fieldChanges(undefined, { b: 1, a: null })).toStrictEqual([{ field: 'a', after: null }, { field: 'b', after: 1 }]);
    expect(fieldChanges({ b: 1 }, undefined)).toStrictEqual([{ field: 'b', before: 1 }]);
    expect(fieldChanges({ a: 1 }, { b: 2 })).toStrictEqual([{ field: 'a', before: 1 }, { field: 'b', after: 2 }]);
  });

  it('compares nested values whole, whatever order their keys were stored in', () => {
    expect(fieldChanges({ target: { tags: ['x'], tenant: 't' } }, { target: { tenant: 't', tags: ['x'] } })).toEqual([]);
    expect(fieldChanges({ target: { tags: ['x'] } }, { target: { tags: ['y'] } })).toEqual([{ field: 'target', before: { tags: ['x'] }, after: { tags: ['y'] } }]);
  });

  it('leaves out the bookkeeping fields it is told to ignore', () => {
    expect(fieldChanges({ version: 1, updatedAt: 'a', name: 'x' }, { version: 2, updatedAt: 'b', name: 'x' }, ['version', 'updatedAt'])).toEqual([]);
    expect(fieldChanges({ version: 1 }, { version: 2 })).toEqual([{ field: 'version', before: 1, after: 2 }]);
  });
});

describe('fitChanges: an entry that would not fit one item gives up its largest values', () => {
  const bytes = (changes: readonly FieldChange[]): number => Buffer.byteLength(JSON.stringify(changes), 'utf8');

  it('keeps every value of changes that fit, up to the limit itself', () => {
    const changes: FieldChange[] = [{ field: 'name', before: 'a', after: 'b' }, { field: 'zone', after: 'UTC' }];
    expect(fitChanges(changes)).toEqual(changes);
    expect(fitChanges(changes, bytes(changes))).toEqual(changes);
    expect(MAX_AUDIT_CHANGE_BYTES).toBe(256 * 1024);
  });

  it('replaces the largest values first, by a note of their size in KB rounded up, only until the whole fits', () => {
    const large = 'x'.repeat(3000);
    const middle = 'y'.repeat(2050);
    const changes: FieldChange[] = [
      { field: 'a', before: 'small', after: middle },
      { field: 'b', after: large },
    ];
    const fitted = fitChanges(changes, 2500);
    expect(fitted).toEqual([
      { field: 'a', before: 'small', after: middle },
      { field: 'b', after: '(3 KB, too large to keep in the audit trail)' },
    ]);
    // the fields are all still named, and a side that was absent stays absent
    expect(bytes(fitted)).toBeLessThanOrEqual(2500);
    expect('before' in (fitted[1] ?? {})).toBe(false);
    // the input is not changed
    expect(changes[1]?.after).toBe(large);
  });

  it('goes on to the next largest when one is not enough', () => {
    const fitted = fitChanges([{ field: 'a', before: 'x'.repeat(3000), after: 'y'.repeat(2050) }, { field: 'b', after: 'tiny' }], 1000);
    expect(fitted).toEqual([
      { field: 'a', before: '(3 KB, too large to keep in the audit trail)', after: '(3 KB, too large to keep in the audit trail)' },
      { field: 'b', after: 'tiny' },
    ]);
  });

  it('counts what each note takes in place of its value: it replaces the next largest when the first note left the whole too large', () => {
    const changes: FieldChange[] = [{ field: 'a', before: 'x'.repeat(3000), after: 'y'.repeat(2050) }];
    // the limit the entry would meet had the largest value gone without a note
    const fitted = fitChanges(changes, bytes(changes) - Buffer.byteLength(JSON.stringify('x'.repeat(3000)), 'utf8'));
    expect(fitted).toStrictEqual([{ field: 'a', before: '(3 KB, too large to keep in the audit trail)', after: '(3 KB, too large to keep in the audit trail)' }]);
  });

  it('never adds a side a change did not have, however far from fitting the notes leave it', () => {
    expect(fitChanges([{ field: 'a', after: 'x'.repeat(2000) }], 10)).toStrictEqual([{ field: 'a', after: '(2 KB, too large to keep in the audit trail)' }]);
  });

  it('counts a side present but undefined as no bytes', () => {
    expect(fitChanges([{ field: 'a', before: undefined, after: 'x'.repeat(2000) }], 100)).toEqual([{ field: 'a', before: undefined, after: '(2 KB, too large to keep in the audit trail)' }]);
  });
});

describe('the audit listings: keys and cursors', () => {
  it('keys an entry by its canonical time, resource, id and a 10-digit version, so newest first is key order', () => {
    expect(auditListingKey({ at: '2026-11-23T09:00:00Z', resource: 'Schedule', resourceId: 'nightly', version: 7 })).toBe(KEY);
  });

  it('opens the page after an entry of every kind of resource, in the listing the cursor was handed out for', () => {
    for (const resource of Object.keys(EVERY_RESOURCE) as AuditedResource[]) {
      const position = auditListingKey({ at: '2026-11-23T09:00:00.000Z', resource, resourceId: 'x'.repeat(128), version: 12 });
      expect(auditCursorPosition('t1', encodeAuditCursor('t1', position)), resource).toEqual({ position });
      expect(auditCursorPosition(undefined, encodeAuditCursor(undefined, position)), resource).toEqual({ position });
    }
  });

  it('keeps opening cursors handed out before (a page asked for across a deploy)', () => {
    expect(auditCursorPosition('t1', 'eyJxIjoiMDU2Y2ZkZDNmMTFiZTliNiIsImsiOiIyMDI2LTExLTIzVDA5OjAwOjAwLjAwMFojU2NoZWR1bGUjbmlnaHRseSNWIzAwMDAwMDAwMDcifQ')).toEqual({ position: KEY });
    expect(auditCursorPosition(undefined, 'eyJxIjoiZmM0NTM3ZTMxN2I0ODJkYSIsImsiOiIyMDI2LTExLTIzVDA5OjAwOjAwLjAwMFojU2NoZWR1bGUjbmlnaHRseSNWIzAwMDAwMDAwMDcifQ')).toEqual({ position: KEY });
    expect(resourceAuditCursorPosition('Schedule', 'nightly', 'eyJxIjoiMTg5ZDcwY2U3YTdjYTM0MiIsImsiOiJWIzAwMDAwMDAwMDMifQ')).toEqual({ position: 'V#0000000003' });
  });

  it('names a cursor of another tenant\'s listing (or of every tenant\'s) as another query\'s', () => {
    expect(auditCursorPosition('t2', encodeAuditCursor('t1', KEY))).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(auditCursorPosition(undefined, encodeAuditCursor('t1', KEY))).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(auditCursorPosition('t1', encodeAuditCursor(undefined, KEY))).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
  });

  it('refuses as not ours anything whose position is no entry key of the listing, or that carries a range', () => {
    const notOurs = { problem: CURSOR_NOT_OURS };
    expect(auditCursorPosition('t1', 'not-a-cursor')).toEqual(notOurs);
    for (const position of [
      'nightly',
      `x${KEY}`,
      `${KEY}x`,
      '2026-11-23T09:00:00Z#Schedule#nightly#V#0000000007',
      '2026-11-23T09:00:00.000Z#Printer#nightly#V#0000000007',
      '2026-11-23T09:00:00.000Z#ScheduleTenant#nightly#V#0000000007',
      '2026-11-23T09:00:00.000Z#Schedule##V#0000000007',
      `2026-11-23T09:00:00.000Z#Schedule#${'x'.repeat(129)}#V#0000000007`,
      '2026-11-23T09:00:00.000Z#Schedule#night ly#V#0000000007',
      '2026-11-23T09:00:00.000Z#Schedule#nightly#V#000000007',
      '2026-11-23T09:00:00.000Z#Schedule#nightly#0000000007',
      '2026-02-30T09:00:00.000Z#Schedule#nightly#V#0000000007',
    ]) {
      expect(auditCursorPosition('t1', encodeAuditCursor('t1', position)), position).toEqual(notOurs);
    }
    const withRange = encodeListCursor({ query: listQueryFingerprint({ list: 'audit', tenantId: 't1' }), position: KEY, range: { from: '2026-11-23T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z' } });
    expect(auditCursorPosition('t1', withRange)).toEqual(notOurs);
  });

  it('opens a resource\'s next page only with that resource\'s cursor, keyed V#<10 digits>', () => {
    const cursor = encodeResourceAuditCursor('Schedule', 'nightly', 'V#0000000003');
    expect(resourceAuditCursorPosition('Schedule', 'nightly', cursor)).toEqual({ position: 'V#0000000003' });
    expect(resourceAuditCursorPosition('Schedule', 'weekly', cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(resourceAuditCursorPosition('Tenant', 'nightly', cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(resourceAuditCursorPosition('Schedule', 'nightly', 'not-a-cursor')).toEqual({ problem: CURSOR_NOT_OURS });
    for (const position of ['V#3', 'xV#0000000003', 'V#0000000003x', 'W#0000000003']) {
      expect(resourceAuditCursorPosition('Schedule', 'nightly', encodeResourceAuditCursor('Schedule', 'nightly', position)), position).toEqual({ problem: CURSOR_NOT_OURS });
    }
    const withRange = encodeListCursor({ query: listQueryFingerprint({ list: 'audit-resource', resource: 'Schedule', resourceId: 'nightly' }), position: 'V#0000000003', range: { from: '2026-11-23T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z' } });
    expect(resourceAuditCursorPosition('Schedule', 'nightly', withRange)).toEqual({ problem: CURSOR_NOT_OURS });
    // a tenant listing's cursor is no resource's
    expect(resourceAuditCursorPosition('Schedule', 'nightly', encodeAuditCursor('t1', KEY))).toEqual({ problem: CURSOR_NOT_OURS });
  });
});
