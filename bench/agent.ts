/**
 * `npm run bench:agent`: how long one batched detection takes on a sandbox
 * machine, from sending the command to its completion event, for 20 and for
 * 200 software items (half of them installed). The script is the real one the
 * sessions send; each item runs in its own bash with its own time limit.
 * Prints the median of five runs each.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Software } from '../functions/core/model/catalog.js';
import { buildDetectionScript, detectionEntry } from '../functions/core/scripts/commands.js';
import { SandboxAgent, type CommandStatusEvent } from '../local/sandbox-agent.js';

const RUNS = 5;
const agentId = 'i-0000000000000be01';

const software = (i: number): Software => ({
  id: `app${i}`,
  name: `App ${i}`,
  platform: 'linux',
  detection: { method: 'Script', script: `f="$NIGHTSHIFT_ROOT/opt/app${i}/VERSION"; [ -f "$f" ] && cat "$f"; exit 0\n` },
  installScript: 'true',
  uninstallScript: 'true',
  versions: [],
  latestVersion: '1.0',
  dependencies: [],
});

const dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-bench-'));
const waiting = new Map<string, (event: CommandStatusEvent) => void>();
const agent = new SandboxAgent({
  machinesDir: path.join(dataDir, 'machines'),
  onEvent: (event) => {
    waiting.get(event.detail['command-id'])?.(event);
    return Promise.resolve();
  },
  pollMs: 5,
});
const { root } = await agent.addMachine({ agentId, name: 'bench', platform: 'linux', online: true, latencyMs: 0 });
for (let i = 0; i < 200; i += 2) {
  await mkdir(path.join(root, 'opt', `app${i}`), { recursive: true });
  await writeFile(path.join(root, 'opt', `app${i}`, 'VERSION'), '1.0\n');
}

async function detectOnce(items: number): Promise<number> {
  const entries = Array.from({ length: items }, (_, i) => detectionEntry({ key: `software:app${i}`, platform: 'linux', software: software(i) }, 30));
  const script = buildDetectionScript('linux', entries, 'bench');
  const startedAt = performance.now();
  const { commandId } = await agent.send({ agentId, platform: 'linux', script, comment: 'bench', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 600 });
  const event = await new Promise<CommandStatusEvent>((resolve) => waiting.set(commandId, resolve));
  const tookMs = performance.now() - startedAt;
  if (event.detail.status !== 'Success') throw new Error(`detection of ${items} items ended ${event.detail.status}`);
  const records = (await agent.getInvocation(commandId, agentId)).stdout.split('\n').filter((line) => line.startsWith('NIGHTSHIFT-ITEM bench ')).length;
  if (records !== items) throw new Error(`expected ${items} records, got ${records}`);
  return tookMs;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const results: Record<number, number> = {};
for (const items of [20, 200]) {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) times.push(await detectOnce(items));
  results[items] = median(times);
  process.stdout.write(`${items} items: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(times).toFixed(0)} ms, ${(median(times) / items).toFixed(1)} ms per item)\n`);
}
await agent.idle();
await rm(dataDir, { recursive: true, force: true });
process.stdout.write(`agent: detect 20 items ${Math.round(results[20] ?? 0)} ms, 200 items ${Math.round(results[200] ?? 0)} ms\n`);
