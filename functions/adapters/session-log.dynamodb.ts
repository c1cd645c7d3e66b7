import { ValidationError } from '../core/errors.js';
import { decodeLogCursor, encodeLogCursor, logCursorProblem } from '../core/log-cursor.js';
import type { SessionLogEntry } from '../core/model/session.js';
import type { LogPage, SessionLog } from '../core/ports/session-log.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/**
 * Log lines live in the session's partition under `LOG#<sequence>`, the
 * sequence taken from an atomic counter item of the session: one Query reads
 * them in the order they were written, whichever Lambda wrote them and
 * whatever their clocks said. (A counter taken by a writer that then failed
 * leaves a gap, never a clash.) `expiresAt` lets DynamoDB drop lines after
 * the retention time.
 */
const SEQUENCE_DIGITS = 8;
const sortKey = (sequence: number): string => `LOG#${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;

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

  async append(entry: SessionLogEntry): Promise<void> {
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400;
    const counter = await this.table.update({
      key: { PK: `SESSION#${entry.sessionId}`, SK: 'LOGSEQ' },
      set: { expiresAt },
      increment: { sequence: 1 },
      condition: 'attribute_exists(PK) OR attribute_not_exists(PK)',
      conflict: 'unreachable: the log counter has no condition',
    });
    const sequence = typeof counter.sequence === 'number' ? counter.sequence : 0;
    await this.table.putIf(
      {
        PK: `SESSION#${entry.sessionId}`,
        SK: sortKey(sequence),
        entity: 'LogEntry',
        expiresAt,
        ...entry,
        message: keepStart(entry.message, MAX_MESSAGE_CHARS),
        ...(entry.output === undefined ? {} : { output: keepEnd(entry.output, MAX_OUTPUT_CHARS) }),
      },
      'attribute_not_exists(PK)',
    );
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
      ...(after === undefined ? {} : { startAfter: { PK: `SESSION#${sessionId}`, SK: sortKey(after.sequence) } }),
    });
    const entries = page.items.map((item) => toEntity<SessionLogEntry>(item));
    const last = page.lastKey?.SK;
    const sequence = typeof last === 'string' ? /^LOG#(\d+)$/.exec(last)?.[1] : undefined;
    return { entries, ...(sequence === undefined ? {} : { cursor: encodeLogCursor({ sessionId, sequence: Number(sequence) }) }) };
  }
}
