import type { Logger } from '../functions/core/ports/logger.port.js';
import type { RunWorkPort } from '../functions/core/ports/run-work.port.js';

/**
 * The local twin of an asynchronous Lambda invocation of the run worker:
 * the request is accepted at once and the same `advance-runs` handler runs
 * on this process's event loop, as Lambda runs it after answering 202. A
 * failed step is logged, as Lambda would log it before its retries; the
 * minute controller steps the run again either way. The runtime waits for
 * steps in flight before it closes its table.
 */
export class LocalRunWork implements RunWorkPort {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly invokeWorker: (event: { readonly runId: string }) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  request(runId: string): Promise<void> {
    const step = this.invokeWorker({ runId }).then(
      () => undefined,
      (error: unknown) => {
        this.logger.error('run worker step failed', { runId, error: error instanceof Error ? error.message : String(error) });
      },
    );
    this.inFlight.add(step);
    void step.finally(() => this.inFlight.delete(step));
    return Promise.resolve();
  }

  /** Resolves once every step asked for so far has ended (the runtime's close, and tests that wait for the worker). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
