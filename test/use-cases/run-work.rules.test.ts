import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/core/errors.js';
import type { RunWorkPort } from '../../functions/core/ports/run-work.port.js';
import { requestRunWork } from '../../functions/core/use-cases/run-work.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * Asking the run worker for a step: weather is logged and left to the
 * minute sweep, a wiring mistake is thrown.
 */
describe('asking the run worker for a step', () => {
  const harness = useCaseHarness();

  const withWorker = (request: RunWorkPort['request']): { h: Harness; asked: string[] } => {
    const h = harness();
    const asked: string[] = [];
    h.deps = {
      ...h.deps,
      runWork: {
        request: (runId) => {
          asked.push(runId);
          return request(runId);
        },
      },
    };
    return { h, asked };
  };

  it('asks for the run named and logs nothing when the worker accepts', async () => {
    const { h, asked } = withWorker(() => Promise.resolve());
    await requestRunWork(h.deps, 'run-1');
    expect(asked).toEqual(['run-1']);
    expect(h.logged).toEqual([]);
  });

  it('logs a worker that cannot be reached as a warning with the run and the reason, and does not refuse the caller (proves the sweep is trusted)', async () => {
    const { h } = withWorker(() => Promise.reject(new Error('Rate exceeded')));
    await expect(requestRunWork(h.deps, 'run-2')).resolves.toBeUndefined();
    expect(h.logged).toEqual([{ level: 'warn', message: 'run worker not reached; the minute controller will step the run', fields: { runId: 'run-2', error: 'Rate exceeded' } }]);
  });

  it('logs a thrown value that is not an Error in words', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a port may reject with anything; the words must still be logged
    const { h } = withWorker(() => Promise.reject('socket hang up'));
    await requestRunWork(h.deps, 'run-3');
    expect(h.logged).toEqual([{ level: 'warn', message: 'run worker not reached; the minute controller will step the run', fields: { runId: 'run-3', error: 'socket hang up' } }]);
  });

  it('throws a wiring mistake (the worker not configured) instead of logging it', async () => {
    const wiring = new ConfigurationError('RUN_WORKER_FUNCTION is not set');
    const { h } = withWorker(() => Promise.reject(wiring));
    await expect(requestRunWork(h.deps, 'run-4')).rejects.toBe(wiring);
    expect(h.logged).toEqual([]);
  });
});
