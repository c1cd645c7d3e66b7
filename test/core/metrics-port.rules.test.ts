import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_UNITS } from '../../functions/core/ports/metrics.port.js';

/** The README's metric table, `| \`A\`, \`B\` | Unit | when |`, as [name, unit] pairs. */
function readmeMetrics(): [string, string][] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('\n');
  const start = readme.findIndex((line) => line.startsWith('| metric | unit |'));
  const rows: string[] = [];
  for (const line of readme.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows.flatMap((row) => {
    const [names = '', unit = ''] = row.split('|').slice(1, 3);
    return [...names.matchAll(/`([A-Za-z]+)`/g)].map((match): [string, string] => [match[1] ?? '', unit.trim()]);
  });
}

describe('the metrics Nightshift emits', () => {
  it('are the ones the README documents, each with the unit it documents', () => {
    const documented = readmeMetrics();
    expect(documented.length).toBeGreaterThan(0);
    expect(Object.entries(METRIC_UNITS).sort()).toEqual(documented.sort());
  });

  it('are counts, but for a lag, which is in seconds: units CloudWatch takes', () => {
    for (const [name, unit] of Object.entries(METRIC_UNITS)) expect(unit, name).toBe(name.endsWith('Seconds') ? 'Seconds' : 'Count');
  });
});
