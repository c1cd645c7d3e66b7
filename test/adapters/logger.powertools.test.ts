import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PowertoolsLogger } from '../../functions/adapters/logger.powertools.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { RequestRefusedError, TransientError } from '../../functions/core/errors.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { defineHandler, defineOperatorHandler } from '../../functions/handlers/handler-kit.js';
import { fakeLambdaContext } from '../../local/lambda-context.js';
import { createLocalRuntime } from '../../local/runtime.js';

type Line = Record<string, unknown>;

/** A Powertools logger whose lines are kept, parsed, instead of written to stdout. */
function capturedLogger() {
  const lines: Line[] = [];
  const logger = new PowertoolsLogger({ write: (line) => lines.push(JSON.parse(line) as Line) });
  const deps = { logger, metrics: new InMemoryMetrics() } as unknown as Dependencies;
  return { lines, provide: () => deps };
}

/** A step handler whose use case logs one line, or fails when its input says so. */
const probe = defineHandler(
  'probe',
  z.object({ sessionId: z.string().optional(), computerId: z.string().optional(), tenantId: z.string().optional(), fail: z.boolean().optional() }).loose(),
  (deps, input) => {
    deps.logger.info('probe ran', { step: 'one' });
    return input.fail ? Promise.reject(new TransientError('throttled')) : Promise.resolve('ok');
  },
);

describe('Powertools Logger behind the Logger port', () => {
  it('stamps a line of a handler invocation with the keys its input carries and the Lambda context (proves correlation keys on every line)', async () => {
    const { lines, provide } = capturedLogger();
    await probe(provide)({ sessionId: 'ses-1', computerId: 'pc-1', tenantId: 't-1' }, fakeLambdaContext('nightshift-probe'));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'probe ran',
      service: 'nightshift',
      step: 'one',
      handler: 'probe',
      sessionId: 'ses-1',
      computerId: 'pc-1',
      tenantId: 't-1',
      function_name: 'nightshift-probe',
      function_request_id: expect.any(String) as string,
      cold_start: expect.any(Boolean) as boolean,
    });
    expect(typeof lines[0]?.timestamp).toBe('string');
  });

  it("drops an invocation's keys when it ends, also when it throws (proves no line is stamped with the previous session)", async () => {
    const { lines, provide } = capturedLogger();
    const handler = probe(provide);
    await handler({ sessionId: 'ses-first' }, fakeLambdaContext('nightshift-probe'));
    await expect(handler({ sessionId: 'ses-failing', fail: true }, fakeLambdaContext('nightshift-probe'))).rejects.toBeInstanceOf(TransientError);
    await handler({}, fakeLambdaContext('nightshift-probe'));

    const [first, failing, failure, last] = lines;
    expect(first).toMatchObject({ sessionId: 'ses-first' });
    expect(failing).toMatchObject({ sessionId: 'ses-failing' });
    // the handler kit's error line is written before the keys go, so it carries them too
    expect(failure).toMatchObject({ level: 'ERROR', message: 'throttled', sessionId: 'ses-failing', code: 'TRANSIENT', transient: true });
    expect(last).toMatchObject({ message: 'probe ran', handler: 'probe' });
    expect(last).not.toHaveProperty('sessionId');
  });

  it("drops a refused operator call's keys before answering it, so the next call's lines do not carry them", async () => {
    const { lines, provide } = capturedLogger();
    const operator = defineOperatorHandler('operator-probe', z.object({ sessionId: z.string().optional(), refuse: z.boolean().optional() }), (deps, input) => {
      deps.logger.info('probe ran');
      return input.refuse ? Promise.reject(new RequestRefusedError('the session has already ended')) : Promise.resolve('ok');
    })(provide);
    expect(await operator({ sessionId: 'ses-refused', refuse: true }, fakeLambdaContext('nightshift-operator-probe'))).toMatchObject({ error: { code: 'REQUEST_REFUSED' } });
    await operator({}, fakeLambdaContext('nightshift-operator-probe'));

    expect(lines.map((line) => [line.message, line.sessionId])).toEqual([
      ['probe ran', 'ses-refused'],
      ['the session has already ended', 'ses-refused'],
      ['probe ran', undefined],
    ]);
  });

  it('takes an EventBridge event id as the correlation id, and never a step input\'s own "id" (proves correlation_id when known, and only then)', async () => {
    const { lines, provide } = capturedLogger();
    const handler = probe(provide);
    await handler({ 'detail-type': 'Step Functions Execution Status Change', id: 'ev-7f3a', detail: {} }, fakeLambdaContext('nightshift-probe'));
    await handler({ id: 'not-a-correlation-id', sessionId: 'ses-2' }, fakeLambdaContext('nightshift-probe'));
    await handler({ correlationId: 'x'.repeat(10_000) }, fakeLambdaContext('nightshift-probe'));

    expect(lines[0]).toMatchObject({ correlation_id: 'ev-7f3a' });
    expect(lines[1]).not.toHaveProperty('correlation_id');
    // searched in the raw event: a hostile size is not copied onto every line
    expect(lines[2]).not.toHaveProperty('correlation_id');
  });

  it('takes keys a handler names from elsewhere in its input (an execution name inside an event detail)', async () => {
    const { lines, provide } = capturedLogger();
    const ended = defineHandler(
      'ended-probe',
      z.object({ detail: z.object({ name: z.string() }) }),
      (deps) => {
        deps.logger.info('probe ran');
        return Promise.resolve();
      },
      { logKeys: (event) => ({ sessionId: event.detail.name, executionName: event.detail.name }) },
    );
    await ended(provide)({ detail: { name: 'ses-9' } }, fakeLambdaContext('nightshift-ended-probe'));
    expect(lines[0]).toMatchObject({ sessionId: 'ses-9', executionName: 'ses-9', handler: 'ended-probe' });
  });

  it('cuts a long key to an excerpt, so an input cannot make every line huge', async () => {
    const { lines, provide } = capturedLogger();
    await probe(provide)({ computerId: 'c'.repeat(5_000) }, fakeLambdaContext('nightshift-probe'));
    expect(lines[0]?.computerId).toMatch(/^c{20}/);
    expect(String(lines[0]?.computerId).length).toBeLessThan(200);
  });

  it("writes the local runtime's lines to its log file, with the handler's keys and `runtime: local` (proves the same Logger serves both runtimes)", async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'nightshift-log-'));
    const logFile = path.join(folder, 'nightshift.log');
    const runtime = await createLocalRuntime({ logFile, retryIntervalMs: 0 });
    try {
      // refused (no such computer): the operator handler answers an envelope and logs the refusal
      await runtime.invoke('start-session', { computerId: 'pc-nowhere', by: { kind: 'Operator', name: 'test' } });
    } finally {
      await runtime.close();
    }
    const lines = (await readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    await rm(folder, { recursive: true, force: true });

    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'computer pc-nowhere does not exist',
        code: 'NOT_FOUND',
        computerId: 'pc-nowhere',
        handler: 'start-session',
        function_name: 'nightshift-start-session',
        runtime: 'local',
        service: 'nightshift',
      }),
    );
    expect(lines.every((line) => typeof line.timestamp === 'string' && typeof line.level === 'string')).toBe(true);
  });
});
