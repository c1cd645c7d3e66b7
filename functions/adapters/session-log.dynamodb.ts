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
        SK: `LOG#${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`,
        entity: 'LogEntry',
        expiresAt,
        ...entry,
      },
      'attribute_not_exists(PK)',
    );
  }

  async read(sessionId: string, options: { cursor?: string; limit: number }): Promise<LogPage> {
    const after = options.cursor === undefined ? undefined : Buffer.from(options.cursor, 'base64url').toString('utf8');
    const page = await this.table.page({
      pk: `SESSION#${sessionId}`,
      skPrefix: 'LOG#',
      limit: options.limit,
      ...(after === undefined ? {} : { startAfter: { PK: `SESSION#${sessionId}`, SK: after } }),
    });
    const entries = page.items.map((item) => toEntity<SessionLogEntry>(item));
    const last = page.lastKey?.SK;
    return { entries, ...(typeof last === 'string' ? { cursor: Buffer.from(last, 'utf8').toString('base64url') } : {}) };
  }
}
