import { createHash, randomInt } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import { decodeLogCursor, encodeLogCursor, LOG_POSITION, logCursorProblem } from '../core/log-cursor.js';
import type { SessionLogEntry } from '../core/model/session.js';
import type { LogPage, SessionLog } from '../core/ports/session-log.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/**
 * Log lines live in the session's partition under `LOG#<at>#<writer>-<count>`
 * (`LOG_POSITION`): the line's time, fixed width, then this process's writer
 * id (random, drawn once per process) and its running count of lines, zero
 * padded. One Query reads them in time order, and the lines of one process in
 * the order it wrote them, even within one millisecond. `expiresAt` lets
 * DynamoDB drop lines after the retention time.
 *
 * Why no per-session counter: it made every line two writes (take a number,
 * then write the line) for an order no reader needs. The log is read in time
 * order; the trade is that lines written by different Lambdas in the same
 * millisecond (or within their clocks' skew) may come back in either order.
 */
const WRITER_CHARS = 8;
const COUNT_DIGITS = 12;
const newWriter = (): string => randomInt(36 ** WRITER_CHARS).toString(36).padStart(WRITER_CHARS, '0');
let writer = newWriter();
let count = 0;

/** The next `<writer>-<count>`; taken synchronously, so lines appended concurrently keep their call order. */
function nextTag(): string {
  count += 1;
  if (count >= 10 ** COUNT_DIGITS) {
    writer = newWriter();
    count = 1;
  }
  return `${writer}-${String(count).padStart(COUNT_DIGITS, '0')}`;
}

/**
 * The `<writer>-<count>` of a line that stands for one event: drawn from the
 * event's key, in the same form as a process's own, so the position stays one
 * a cursor can name. A process's random writer id meeting it is as likely as
 * two processes drawing the same one.
 */
function tagOnce(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  const writerPart = (digest.readUIntBE(0, 6) % 36 ** WRITER_CHARS).toString(36).padStart(WRITER_CHARS, '0');
  const countPart = String(digest.readUIntBE(6, 6) % 10 ** COUNT_DIGITS).padStart(COUNT_DIGITS, '0');
  return `${writerPart}-${countPart}`;
}

/** A key is taken only if another process drew the same writer id; a fresh one is tried, a few times at most. */
const MAX_PUT_ATTEMPTS = 3;

/**
 * A line is one item, and an item holds at most 400 KB. Lines are written by
 * the engine, mid-step: a line too long is cut (and says so) rather than
 * refused, since refusing would fail the step over a log line. Output keeps
 * its end, where scripts print what went wrong.
 */
const MAX_MESSAGE_CHARS = 2_000;
const MAX_OUTPUT_CHARS = 8_000;
const CUT = '…';

const keepStart = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - CUT.length)}${CUT}`);
const keepEnd = (text: string, max: number): string => (text.length <= max ? text : `${CUT}${text.slice(text.length - max + CUT.length)}`);

export class DynamoSessionLog implements SessionLog {
  constructor(
    private readonly table: DynamoTable,
    private readonly retentionDays: number,
  ) {}

  async append(entry: SessionLogEntry, options: { readonly once?: string } = {}): Promise<void> {
    const time = Date.parse(entry.at);
    if (Number.isNaN(time)) throw new ValidationError('session log line', [{ field: 'at', problem: `is not a time: ${entry.at.slice(0, 40)}` }]);
    // toISOString is fixed width (for years 0–9999), so the key's byte order is time order
    const at = new Date(time).toISOString();
    const line = {
      PK: `SESSION#${entry.sessionId}`,
      entity: 'LogEntry',
      expiresAt: Math.floor(time / 1000) + this.retentionDays * 86_400,
      ...entry,
      message: keepStart(entry.message, MAX_MESSAGE_CHARS),
      ...(entry.output === undefined ? {} : { output: keepEnd(entry.output, MAX_OUTPUT_CHARS) }),
    };
    if (options.once !== undefined) {
      // written already (a retried event) when its key is taken: nothing more to write
      await this.table.putIf({ ...line, SK: `LOG#${at}#${tagOnce(options.once)}` }, 'attribute_not_exists(PK)');
      return;
    }
    let sortKey = `LOG#${at}#${nextTag()}`;
    for (let attempt = 1; !(await this.table.putIf({ ...line, SK: sortKey }, 'attribute_not_exists(PK)')); attempt++) {
      if (attempt === MAX_PUT_ATTEMPTS) throw new Error(`log line of session ${entry.sessionId}: ${sortKey} and ${attempt - 1} others were taken`);
      writer = newWriter();
      sortKey = `LOG#${at}#${nextTag()}`;
    }
  }

  async read(sessionId: string, options: { cursor?: string; limit: number }): Promise<LogPage> {
    // the handler checked the cursor already; this keeps any other caller from sending DynamoDB a made-up key
    const problem = options.cursor === undefined ? undefined : logCursorProblem(sessionId, options.cursor);
    if (problem !== undefined) throw new ValidationError('session log page request', [{ field: 'cursor', problem }]);
    const after = options.cursor === undefined ? undefined : decodeLogCursor(options.cursor);
    const page = await this.table.page({
      pk: `SESSION#${sessionId}`,
      skPrefix: 'LOG#',
      limit: options.limit,
      ...(after === undefined ? {} : { startAfter: { PK: `SESSION#${sessionId}`, SK: `LOG#${after.position}` } }),
    });
    const entries = page.items.map((item) => toEntity<SessionLogEntry>(item));
    if (page.lastKey === undefined) return { entries };
    const last = page.lastKey.SK;
    const position = typeof last === 'string' ? last.slice('LOG#'.length) : '';
    // a page never ends without a cursor to read on: a key this adapter did not write is said, not skipped
    if (!LOG_POSITION.test(position)) throw new Error(`session ${sessionId}'s log holds a line under ${String(last)}, not a key this log writes`);
    return { entries, cursor: encodeLogCursor({ sessionId, position }) };
  }
}
