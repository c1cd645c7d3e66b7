import { METRIC_UNITS, type CountMetric, type MetricName, type Metrics, type SecondsMetric } from '../core/ports/metrics.port.js';

/** Values kept per metric for reading back; totals count everything, so a runtime left running for days stays small. */
const RECENT_VALUES_KEPT = 1_000;

interface Series {
  total: number;
  samples: number;
  readonly recent: number[];
}

/**
 * Metrics kept in memory, readable: the local runtime's (its demo and tests
 * assert on them) and the unit tests'. Nothing is flushed; values accumulate
 * for the life of the object.
 */
export class InMemoryMetrics implements Metrics {
  readonly #series = new Map<MetricName, Series>();

  count(name: CountMetric, value = 1): void {
    this.#record(name, value);
  }

  seconds(name: SecondsMetric, valueSeconds: number): void {
    this.#record(name, valueSeconds);
  }

  /** The sum of everything recorded under `name` (a count's total); 0 when nothing was. */
  total(name: MetricName): number {
    return this.#series.get(name)?.total ?? 0;
  }

  /** The values recorded under `name`, oldest first (the latest 1,000). */
  values(name: MetricName): readonly number[] {
    return [...(this.#series.get(name)?.recent ?? [])];
  }

  /** Each metric recorded so far with its unit, its total and how many values made it. */
  summary(): { name: MetricName; unit: (typeof METRIC_UNITS)[MetricName]; total: number; samples: number }[] {
    return [...this.#series.entries()].map(([name, series]) => ({ name, unit: METRIC_UNITS[name], total: series.total, samples: series.samples }));
  }

  #record(name: MetricName, value: number): void {
    let series = this.#series.get(name);
    if (!series) {
      series = { total: 0, samples: 0, recent: [] };
      this.#series.set(name, series);
    }
    series.total += value;
    series.samples += 1;
    series.recent.push(value);
    if (series.recent.length > RECENT_VALUES_KEPT) series.recent.shift();
  }
}
