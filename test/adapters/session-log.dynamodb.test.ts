import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionLog } from '../../functions/adapters/session-log.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import type { SessionLogEntry } from '../../functions/core/model/session.js';
import { dynamoTable } from '../support/dynamo.js';

const line = (sessionId: string, at: string, message: string): SessionLogEntry => ({ sessionId, at, kind: 'Stage', message });

describe('the DynamoDB session log', () => {
  let log: DynamoSessionLog;
  let table: DynamoTable;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    log = new DynamoSessionLog(table, 90);
    close = dynamo.close;
  });

  const messages = async (sessionId: string): Promise<string[]> => (await log.read(sessionId, { limit: 500 })).entries.map((e) => e.message);
  const sortKeys = async (sessionId: string): Promise<string[]> =>
    (await table.page({ pk: `SESSION#${sessionId}`, skPrefix: 'LOG#', limit: 500 })).items.map((item) => String(item.SK));
  afterAll(() => close());

  it('keeps a line inside one item however long its message and output (proves no raw 400 KB failure mid-step)', async () => {
    const output = `${'x'.repeat(600_000)}\nthe error at the end`;
    await log.append({ sessionId: 'ses_big', at: '2026-11-23T09:00:00.000Z', kind: 'Problem', message: 'é'.repeat(300_000), output });
    const [line] = (await log.read('ses_big', { limit: 10 })).entries;
    expect(line?.message.length).toBeLessThanOrEqual(2_000);
    expect(line?.message.endsWith('…')).toBe(true);
    expect(line?.output?.length).toBeLessThanOrEqual(8_000);
    // the end of the output is what says what went wrong
    expect(line?.output?.endsWith('the error at the end')).toBe(true);
    expect(line?.output?.startsWith('…')).toBe(true);
  });

  it('writes a line appended once per event one time however often it is appended, at a position a cursor pages past like any other', async () => {
    const report = { sessionId: 'ses_once', at: '2026-11-23T09:00:01.000Z', kind: 'Problem', message: 'the detection email bounced' } as const;
    await log.append(line('ses_once', '2026-11-23T09:00:00.000Z', 'before'));
    await log.append(report, { once: 'ses-report:feedback-1' });
    await log.append(report, { once: 'ses-report:feedback-1' });
    await log.append({ ...report, message: 'another report' }, { once: 'ses-report:feedback-2' });
    await log.append(line('ses_once', '2026-11-23T09:00:02.000Z', 'after'));
    const written = await messages('ses_once');
    // two lines of one millisecond come in the order of their tags, which the keys decide
    expect([written[0], new Set(written.slice(1, 3)), written[3], written.length]).toEqual(['before', new Set(['the detection email bounced', 'another report']), 'after', 4]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.read('ses_once', { limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.entries.map((entry) => entry.message));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual(['after', 'another report', 'before', 'the detection email bounced']);
  });

  it('refuses a cursor it did not hand out, naming it, even when called without the handler (proves the store never sees a made-up key)', async () => {
    await log.append({ sessionId: 'ses_small', at: '2026-11-23T09:00:00.000Z', kind: 'Stage', message: 'one' });
    await log.append({ sessionId: 'ses_small', at: '2026-11-23T09:00:01.000Z', kind: 'Stage', message: 'two' });
    const first = await log.read('ses_small', { limit: 1 });
    expect(first.cursor).toBeDefined();
    expect((await log.read('ses_small', { limit: 1, ...(first.cursor ? { cursor: first.cursor } : {}) })).entries.map((e) => e.message)).toEqual(['two']);
    for (const cursor of ['LOG#00000001', Buffer.from('LOG#').toString('base64url'), first.cursor ?? '']) {
      const error: unknown = await log.read('ses_big', { limit: 1, cursor }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems.map((p) => p.field)).toEqual(['cursor']);
    }
  });

  it('reads back lines one process wrote in the same millisecond in the order it wrote them, awaited or not (proves the per-process count orders a millisecond)', async () => {
    const at = '2026-11-23T09:00:00.000Z';
    for (let i = 0; i < 15; i++) await log.append(line('ses_same_ms', at, `awaited ${i}`));
    // started together, written in whatever order the calls complete: the key is taken when append is called
    await Promise.all(Array.from({ length: 15 }, (_, i) => log.append(line('ses_same_ms', at, `together ${i}`))));
    // another instance in the same process shares the writer id and the count
    await new DynamoSessionLog(table, 90).append(line('ses_same_ms', at, 'other instance'));
    expect(await messages('ses_same_ms')).toEqual([
      ...Array.from({ length: 15 }, (_, i) => `awaited ${i}`),
      ...Array.from({ length: 15 }, (_, i) => `together ${i}`),
      'other instance',
    ]);
    const keys = await sortKeys('ses_same_ms');
    expect(keys.every((key) => /^LOG#2026-11-23T09:00:00\.000Z#[0-9a-z]{8}-\d{12}$/.test(key))).toBe(true);
    expect(new Set(keys.map((key) => key.slice(0, -12))).size).toBe(1);
  });

  it('reads lines in time order, not arrival order (documents the trade: the line\'s own time orders the log)', async () => {
    await log.append(line('ses_time', '2026-11-23T09:00:02.000Z', 'second'));
    await log.append(line('ses_time', '2026-11-23T09:00:01.000Z', 'first'));
    await log.append(line('ses_time', '2026-11-23T09:00:01.001Z', 'first and a millisecond'));
    expect(await messages('ses_time')).toEqual(['first', 'first and a millisecond', 'second']);
  });

  it('pages through every line exactly once, in order, whatever the page size (proves the cursor resumes just after the last line read)', async () => {
    const written: string[] = [];
    for (let i = 0; i < 23; i++) {
      // several lines per millisecond, and whole seconds between some
      const at = `2026-11-23T09:00:${String(Math.floor(i / 8)).padStart(2, '0')}.00${Math.floor((i % 8) / 3)}Z`;
      written.push(`paged ${i}`);
      await log.append(line('ses_paged', at, `paged ${i}`));
    }
    for (const limit of [1, 2, 3, 5, 7, 22, 23, 24, 500]) {
      const read: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await log.read('ses_paged', { limit, ...(cursor === undefined ? {} : { cursor }) });
        read.push(...page.entries.map((e) => e.message));
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect([limit, read]).toEqual([limit, written]);
    }
  });

  it('writes under a fresh writer id when its key is already taken (proves two processes drawing one id lose no line)', async () => {
    const at = '2026-11-23T09:00:00.000Z';
    await log.append(line('ses_clash', at, 'mine'));
    const [mine = ''] = await sortKeys('ses_clash');
    // what another process with the same writer id would have written next
    const count = Number(mine.slice(-12));
    const taken = `${mine.slice(0, -12)}${String(count + 1).padStart(12, '0')}`;
    expect(await table.putIf({ PK: 'SESSION#ses_clash', SK: taken, entity: 'LogEntry', ...line('ses_clash', at, 'theirs') }, undefined)).toBe(true);
    await log.append(line('ses_clash', at, 'mine again'));
    expect((await messages('ses_clash')).sort()).toEqual(['mine', 'mine again', 'theirs']);
    const keys = await sortKeys('ses_clash');
    expect(keys).toHaveLength(3);
    expect(new Set(keys.map((key) => key.slice(0, -12))).size).toBe(2);
  });

  it('fails naming the key rather than ending the log early when a page ends on a key it does not write (proves no silently short log)', async () => {
    expect(await table.putIf({ PK: 'SESSION#ses_legacy', SK: 'LOG#00000001', entity: 'LogEntry', ...line('ses_legacy', '2026-11-23T09:00:00.000Z', 'old') }, undefined)).toBe(true);
    await log.append(line('ses_legacy', '2026-11-23T09:00:01.000Z', 'new'));
    await expect(log.read('ses_legacy', { limit: 1 })).rejects.toThrow(/LOG#00000001/);
    expect(await messages('ses_legacy')).toEqual(['old', 'new']);
  });

  it('refuses a line whose time is not a time (proves no key out of time order)', async () => {
    await expect(log.append(line('ses_bad_time', 'yesterday', 'x'))).rejects.toBeInstanceOf(ValidationError);
    expect(await sortKeys('ses_bad_time')).toEqual([]);
  });
});
