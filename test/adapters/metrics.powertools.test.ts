import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { restrictToDeclaredPorts } from '../../functions/adapters/dependencies.js';
import { PowertoolsMetrics } from '../../functions/adapters/metrics.powertools.js';
import { TransientError } from '../../functions/core/errors.js';
import { METRIC_UNITS } from '../../functions/core/ports/metrics.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { defineHandler } from '../../functions/handlers/handler-kit.js';
import { fakeLambdaContext } from '../../local/lambda-context.js';

interface EmfBlob {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  readonly [key: string]: unknown;
}

/** What the process printed to stdout while a test ran, line by line. */
let stdout: string[] = [];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const emfBlobs = (): EmfBlob[] => stdout.map((line) => JSON.parse(line) as Record<string, unknown>).filter((blob): blob is EmfBlob => '_aws' in blob);

/** A step handler recording a count and a lag, or failing after recording when its input says so. */
const recording = defineHandler('recording', z.object({ sessions: z.number(), fail: z.boolean().optional() }), (deps, input) => {
  deps.metrics.count('SessionsStarted', input.sessions);
  deps.metrics.count('SessionsStarted');
  deps.metrics.seconds('ReconcilerLagSeconds', 12.5);
  return input.fail ? Promise.reject(new TransientError('throttled')) : Promise.resolve('ok');
});

function dependencies() {
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined };
  const deps = { logger, metrics: new PowertoolsMetrics({ logger }) } as unknown as Dependencies;
  return { deps, warnings };
}

describe('Powertools Metrics behind the Metrics port', () => {
  it('writes one valid EMF blob per invocation: namespace Nightshift, units from the port, the service dimension (proves CloudWatch can read what is flushed)', async () => {
    const { deps } = dependencies();
    await recording(() => deps)({ sessions: 2 }, fakeLambdaContext('nightshift-recording'));

    const blobs = emfBlobs();
    expect(blobs).toHaveLength(1);
    const blob = blobs[0]!;
    expect(blob._aws.Timestamp).toBeGreaterThan(0);
    expect(blob._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Nightshift',
        Dimensions: [['service']],
        Metrics: expect.arrayContaining([
          { Name: 'SessionsStarted', Unit: METRIC_UNITS.SessionsStarted },
          { Name: 'ReconcilerLagSeconds', Unit: METRIC_UNITS.ReconcilerLagSeconds },
        ]) as unknown,
      },
    ]);
    expect(blob.service).toBe('nightshift');
    // two counts in one invocation travel as the values CloudWatch sums
    expect(blob.SessionsStarted).toEqual([2, 1]);
    expect(blob.ReconcilerLagSeconds).toBe(12.5);
    expect(METRIC_UNITS.ReconcilerLagSeconds).toBe('Seconds');
  });

  it('flushes what a failing invocation recorded, and an invocation that records nothing writes nothing and warns nothing (proves flushed per invocation)', async () => {
    const { deps, warnings } = dependencies();
    const handler = recording(() => deps);
    await expect(handler({ sessions: 1, fail: true }, fakeLambdaContext('nightshift-recording'))).rejects.toBeInstanceOf(TransientError);
    expect(emfBlobs()).toHaveLength(1);

    const quiet = defineHandler('quiet', z.object({}), () => Promise.resolve('nothing recorded'));
    await quiet(() => deps)({}, fakeLambdaContext('nightshift-quiet'));
    // the failing invocation's values are not written again by the next one
    expect(emfBlobs()).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('still flushes when the handler only sees the ports it declared (proves the cloud wiring, where ports are restricted, publishes)', async () => {
    const { deps: used } = dependencies();
    // the other ports are never touched here; the guard only needs something to stand in front of
    const unused = { sessions: {}, sessionLog: {}, catalog: {}, secrets: {}, agent: {}, inventory: {}, workflow: {}, windowTimers: {}, schedules: {}, scheduleTriggers: {}, runWork: {}, audit: {}, events: {}, notifications: {}, branding: {}, mailer: {}, linkKeys: {} };
    const deps: Dependencies = { ...unused, ...used };
    const restricted = restrictToDeclaredPorts(deps, { name: 'recording', ports: ['metrics:write'] });
    await recording(() => restricted)({ sessions: 3 }, fakeLambdaContext('nightshift-recording'));
    expect(emfBlobs().map((blob) => blob.SessionsStarted)).toEqual([[3, 1]]);

    // a handler that did not declare metrics cannot record, as IAM-less as the port is
    const undeclared = restrictToDeclaredPorts(deps, { name: 'recording', ports: [] });
    await expect(recording(() => undeclared)({ sessions: 1 }, fakeLambdaContext('nightshift-recording'))).rejects.toThrow(/metrics:write/);
  });
});
