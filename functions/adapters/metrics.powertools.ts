import { Metrics as PowertoolsMetricsCore } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';
import type { Logger } from '../core/ports/logger.port.js';
import { METRIC_UNITS, type CountMetric, type Metrics, type SecondsMetric } from '../core/ports/metrics.port.js';

export const METRICS_NAMESPACE = 'Nightshift';

/**
 * Where the handler kit finds the Powertools instance to flush per
 * invocation. A symbol, not a port method: a handler's dependencies are
 * restricted to the port methods it declared, and flushing is the runtime's
 * duty, not the handler's.
 */
const POWERTOOLS_INSTANCE = Symbol('nightshift.metrics.powertools');

/**
 * Powertools' own warnings (a dimension overwritten, a metric CloudWatch would
 * skip) as our log lines. Most invocations record no metric and Powertools
 * warns about each of them when it flushes: that one warning is dropped.
 */
const warningsTo = (logger: Logger): NonNullable<MetricsOptions['logger']> => ({
  debug: () => undefined,
  info: (...content: unknown[]) => logger.info(String(content[0]), { source: 'metrics' }),
  warn: (...content: unknown[]) => {
    const message = String(content[0]);
    if (!message.startsWith('No application metrics to publish')) logger.warn(message, { source: 'metrics' });
  },
  error: (...content: unknown[]) => logger.error(String(content[0]), { source: 'metrics' }),
});

export interface PowertoolsMetricsOptions {
  /** Where Powertools' own warnings go; the EMF blobs always go to stdout, where CloudWatch reads them. */
  readonly logger: Logger;
  /** The `service` dimension. @default 'nightshift' */
  readonly serviceName?: string;
}

/**
 * The Metrics port on Powertools for AWS Lambda: what an invocation records is
 * buffered and written to stdout as one CloudWatch Embedded Metric Format blob
 * when the handler kit's `logMetrics` middleware flushes it at the end of the
 * invocation; CloudWatch turns it into metrics in the `Nightshift` namespace
 * with the `service` dimension.
 */
export class PowertoolsMetrics implements Metrics {
  readonly powertools: PowertoolsMetricsCore;
  readonly [POWERTOOLS_INSTANCE]: PowertoolsMetricsCore;

  constructor(options: PowertoolsMetricsOptions) {
    this.powertools = new PowertoolsMetricsCore({
      namespace: METRICS_NAMESPACE,
      serviceName: options.serviceName ?? 'nightshift',
      logger: warningsTo(options.logger),
    });
    this[POWERTOOLS_INSTANCE] = this.powertools;
  }

  count(name: CountMetric, value = 1): void {
    this.powertools.addMetric(name, METRIC_UNITS[name], value);
  }

  seconds(name: SecondsMetric, valueSeconds: number): void {
    this.powertools.addMetric(name, METRIC_UNITS[name], valueSeconds);
  }
}

/** The Powertools instance behind a Metrics port (also one restricted to a handler's declaration), if there is one. */
export function powertoolsMetricsOf(metrics: unknown): PowertoolsMetricsCore | undefined {
  if (typeof metrics !== 'object' || metrics === null) return undefined;
  const instance: unknown = Reflect.get(metrics, POWERTOOLS_INSTANCE);
  return instance instanceof PowertoolsMetricsCore ? instance : undefined;
}
