import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { concurrentInvocations, PowertoolsLogger } from '../../functions/adapters/logger.powertools.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { defineHandler, type LambdaHandler } from '../../functions/handlers/handler-kit.js';
import { fakeLambdaContext } from '../../local/lambda-context.js';

/**
 * The local runtime runs many invocations at once in one process, with one
 * logger, as Lambda Managed Instances do. Its own file: opting in to
 * concurrent invocations is process-wide.
 */
describe('log keys of invocations running side by side', () => {
  it("keeps each invocation's keys on its own lines while another runs and ends (proves no line names another session)", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new PowertoolsLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const deps = { logger, metrics: new InMemoryMetrics() } as unknown as Dependencies;

    // each invocation logs, waits until told, then logs again: the second starts and ends in between
    const releases = new Map<string, () => void>();
    const started = new Map<string, Promise<void>>();
    const startedSignals = new Map<string, () => void>();
    for (const id of ['ses-a', 'ses-b']) started.set(id, new Promise<void>((resolve) => startedSignals.set(id, resolve)));
    const handler = defineHandler('interleaved', z.object({ sessionId: z.string() }), async (d, input) => {
      d.logger.info('before');
      startedSignals.get(input.sessionId)?.();
      await new Promise<void>((resolve) => releases.set(input.sessionId, resolve));
      d.logger.info('after');
    })(() => deps);

    const inInvocation = concurrentInvocations();
    const invoke: LambdaHandler<unknown, unknown> = (event, context) => inInvocation(context.awsRequestId, () => handler(event, context));
    const a = invoke({ sessionId: 'ses-a' }, fakeLambdaContext('nightshift-interleaved'));
    await started.get('ses-a');
    const b = invoke({ sessionId: 'ses-b' }, fakeLambdaContext('nightshift-interleaved'));
    await started.get('ses-b');
    releases.get('ses-b')?.();
    await b;
    releases.get('ses-a')?.();
    await a;

    expect(lines.map((line) => [line.message, line.sessionId])).toEqual([
      ['before', 'ses-a'],
      ['before', 'ses-b'],
      ['after', 'ses-b'],
      // ses-b's keys were appended and then dropped in the meantime; ses-a keeps its own
      ['after', 'ses-a'],
    ]);
    const requestIds = new Set(lines.map((line) => line.function_request_id));
    expect(requestIds.size).toBe(2);
  });
});
