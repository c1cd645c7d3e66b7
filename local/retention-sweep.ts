import type { DynamoTable } from '../functions/adapters/dynamodb-table.js';
import type { Clock } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';

/** How often the local runtime looks for expired records, in real time: TTL in AWS is lazy too (up to days). */
export const RETENTION_SWEEP_INTERVAL_SECONDS = 600;
/** Deletes per sweep, so a first start on an old data folder does not stall the runtime. */
const DELETES_PER_SWEEP = 1_000;

/**
 * The local runtime's stand-in for DynamoDB TTL, which dynalite lacks: every
 * record whose `expiresAt` has passed on the runtime's clock is deleted, as
 * AWS would. One sweep at start, then every ten minutes while it serves.
 */
export class RetentionSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly table: DynamoTable,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async sweepOnce(): Promise<{ deleted: number; more: boolean }> {
    const result = await this.table.deleteExpired(Math.floor(this.clock.now().getTime() / 1000), DELETES_PER_SWEEP);
    if (result.deleted > 0) this.logger.info('expired records deleted', { deleted: result.deleted, more: result.more });
    return result;
  }

  start(): void {
    if (this.timer) return;
    const sweep = () => {
      this.running = this.sweepOnce().catch((error: unknown) => {
        this.logger.warn('retention sweep failed; trying again later', { error: String(error) });
      });
    };
    sweep();
    this.timer = setInterval(sweep, RETENTION_SWEEP_INTERVAL_SECONDS * 1000);
    // the sweep never keeps the process alive on its own
    this.timer.unref();
  }

  /** Stops sweeping and waits for a sweep under way, so closing the table never cuts one short. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
