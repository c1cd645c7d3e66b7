import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionLog } from '../../functions/adapters/session-log.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import { dynamoTable } from '../support/dynamo.js';

describe('the DynamoDB session log', () => {
  let log: DynamoSessionLog;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    log = new DynamoSessionLog(dynamo.table, 90);
    close = dynamo.close;
  });
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
});
