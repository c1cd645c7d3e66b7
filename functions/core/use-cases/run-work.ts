import { ConfigurationError } from '../errors.js';
import type { Dependencies } from './dependencies.js';

/**
 * Asks the run worker for a step on the run. A request that fails is left
 * to the controller's minute sweep, which steps every active run: the ask
 * the caller made is recorded already, so it is not refused for this. A
 * wiring mistake (the port not declared, the worker not configured) is not
 * weather: it is thrown, so tests and the first deploy show it.
 */
export async function requestRunWork(deps: Dependencies, runId: string): Promise<void> {
  try {
    await deps.runWork.request(runId);
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    deps.logger.warn('run worker not reached; the minute controller will step the run', { runId, error: error instanceof Error ? error.message : String(error) });
  }
}
