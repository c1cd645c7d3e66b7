/**
 * `npm run bench:planner`: resolve and plan every computer of a large fleet.
 *
 * 10,000 computers in 200 tenants with tags from a pool of 50, 1,000
 * deployments (software and tasks, every kind of target, device-class
 * filters, some disabled) over a catalog of 500 software items (some with
 * prerequisites) and 100 tasks. Each computer gets a detected state for every
 * item, then one resolution and one plan. Deterministic (seeded).
 * Target: under 2 s and under 500 MB on one core.
 *
 * The npm script bundles this file with esbuild first and runs the bundle,
 * because that is what runs in Lambda (NodejsFunction bundles with esbuild).
 */
import type { Computer, Deployment, DeviceClass, MaintenanceTask, Software, Tenant } from '../functions/core/model/catalog.js';
import type { DetectedItem } from '../functions/core/model/session.js';
import { plan } from '../functions/core/planning/planner.js';
import { indexDeployments, resolveComputer, type Catalog } from '../functions/core/planning/resolution.js';

const COMPUTERS = 10_000;
const DEPLOYMENTS = 1_000;
const TENANTS = 200;
const TAGS = 50;
const SOFTWARE = 500;
const TASKS = 100;

/** mulberry32: small, fast, seeded, good enough to spread a benchmark. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rnd = random(20261123);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const CLASSES: DeviceClass[] = ['Workstation', 'Portable', 'Server', 'DomainController'];
const tagName = (i: number) => `tag-${i}`;

const tenants: Tenant[] = Array.from({ length: TENANTS }, (_, i) => ({
  id: `t${i}`,
  name: `Tenant ${i}`,
  ...(i % 20 === 0 || i < 10 ? {} : { parentTenantId: `t${i - (i % 20)}` }),
  excludeFromCrossTenant: i % 50 === 7,
}));

const software: Software[] = Array.from({ length: SOFTWARE }, (_, i) => ({
  id: `s${i}`,
  name: `Software ${String(i).padStart(3, '0')}`,
  platform: i % 10 === 9 ? 'windows' : 'linux',
  detection: { method: 'Script', script: 'true' },
  installScript: 'true',
  uninstallScript: 'true',
  versions: [],
  latestVersion: `${1 + (i % 7)}.${i % 13}.${i % 3}`,
  // one in ten needs an earlier item: prerequisites without cycles
  dependencies: i > 10 && i % 10 === 3 ? [{ softwareId: `s${i - 1 - (i % 7)}`, requires: 'Installed' as const }] : [],
}));

const tasks: MaintenanceTask[] = Array.from({ length: TASKS }, (_, i) => ({
  id: `k${i}`,
  name: `Task ${i}`,
  platform: 'linux',
  scripts: { style: 'Combined', script: 'true' },
  parameters: [{ name: 'value', type: 'string', required: false, default: 'x' }],
}));

function target(): Deployment['target'] {
  const roll = rnd();
  if (roll < 0.1) return { kind: 'AllTenants' };
  if (roll < 0.45) return { kind: 'Tenant', tenantId: `t${Math.floor(rnd() * TENANTS)}`, includeChildTenants: rnd() < 0.2 };
  if (roll < 0.6) return { kind: 'Tag', tag: tagName(Math.floor(rnd() * TAGS)) };
  if (roll < 0.8) return { kind: 'Tag', tag: tagName(Math.floor(rnd() * TAGS)), tenantId: `t${Math.floor(rnd() * TENANTS)}` };
  if (roll < 0.93) return { kind: 'Computer', computerId: `c${Math.floor(rnd() * COMPUTERS)}` };
  return { kind: 'Person', email: `user${Math.floor(rnd() * 3_000)}@example.com` };
}

const deployments: Deployment[] = Array.from({ length: DEPLOYMENTS }, (_, i): Deployment => {
  const common = {
    id: `d${String(i).padStart(4, '0')}`,
    target: target(),
    enabled: rnd() > 0.05,
    critical: rnd() > 0.1,
    orderingHint: pick(['Beginning', 'Unordered', 'Unordered', 'End'] as const),
    ...(rnd() < 0.2 ? { deviceClasses: [pick(CLASSES)] } : {}),
  };
  if (rnd() < 0.8) {
    const state = pick(['LatestVersion', 'LatestVersion', 'AnyVersion', 'UpdateIfFound', 'NotPresent', 'Ignored', 'ThisVersion', 'NewerOrEqualVersion'] as const);
    const needsVersion = state === 'ThisVersion' || state === 'NewerOrEqualVersion';
    return { ...common, itemKind: 'Software', softwareId: `s${Math.floor(rnd() * SOFTWARE)}`, desiredState: state, ...(needsVersion ? { version: '2.1.0' } : {}) };
  }
  return { ...common, itemKind: 'Task', taskId: `k${Math.floor(rnd() * TASKS)}`, mode: pick(['Enforce', 'Audit', 'Monitor', 'Ignore'] as const), parameters: {} };
});

const computers: Computer[] = Array.from({ length: COMPUTERS }, (_, i) => ({
  id: `c${i}`,
  agentId: `i-${i.toString(16).padStart(17, '0')}`,
  name: `Computer ${i}`,
  tenantId: `t${i % TENANTS}`,
  platform: i % 10 === 0 ? 'windows' : 'linux',
  deviceClass: pick(CLASSES),
  tags: Array.from({ length: Math.floor(rnd() * 4) }, () => tagName(Math.floor(rnd() * TAGS))),
  ...(rnd() < 0.7 ? { primaryUser: { name: 'User', email: `user${Math.floor(rnd() * 3_000)}@example.com` } } : {}),
  timeZone: 'UTC',
  online: true,
}));

/** Detected states come from a fixed pool, so the benchmark measures planning rather than building its input. */
const TASK_STATES: DetectedItem[] = [
  ...Array.from({ length: 6 }, (): DetectedItem => ({ state: 'Compliant' })),
  ...Array.from({ length: 3 }, (): DetectedItem => ({ state: 'NotCompliant' })),
  { state: 'Undetermined', reason: 'x' },
];
const SOFTWARE_STATES: DetectedItem[] = Array.from({ length: 10 }, (_, roll): DetectedItem =>
  roll < 3 ? { state: 'Absent' } : roll < 9 ? { state: 'Present', version: `${1 + (roll % 7)}.${roll}.0` } : { state: 'Undetermined', reason: 'x' },
);

/** A detected state per item key, varied by computer so plans differ. */
function detectedFor(computerIndex: number, keys: readonly string[]): Record<string, DetectedItem> {
  const states: Record<string, DetectedItem> = {};
  keys.forEach((key, i) => {
    const roll = (computerIndex * 31 + i * 17) % 10;
    states[key] = (key.startsWith('task:') ? TASK_STATES[roll] : SOFTWARE_STATES[roll]) as DetectedItem;
  });
  return states;
}

const catalog: Catalog = {
  tenants: new Map(tenants.map((t) => [t.id, t])),
  software: new Map(software.map((s) => [s.id, s])),
  tasks: new Map(tasks.map((t) => [t.id, t])),
};

const mb = (bytes: number) => bytes / 1024 / 1024;
let peakRss = process.memoryUsage().rss;
const startedAt = performance.now();
const index = indexDeployments(deployments);
let items = 0;
let actions = 0;
let slowestMs = 0;
for (let i = 0; i < COMPUTERS; i++) {
  const computerStart = performance.now();
  const machine = computers[i] as Computer;
  const resolved = resolveComputer(machine, index, catalog);
  const decisions = plan(resolved.items, detectedFor(i, resolved.items.map((item) => item.key)));
  items += decisions.length;
  actions += decisions.filter((d) => d.action !== undefined).length;
  slowestMs = Math.max(slowestMs, performance.now() - computerStart);
  if (i % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
const totalMs = performance.now() - startedAt;
peakRss = Math.max(peakRss, process.memoryUsage().rss);

process.stdout.write(
  [
    `fleet: ${COMPUTERS} computers, ${DEPLOYMENTS} deployments, ${TENANTS} tenants, ${TAGS} tags, ${SOFTWARE} software, ${TASKS} tasks`,
    `resolved ${items} items (${(items / COMPUTERS).toFixed(1)} per computer), planned ${actions} actions`,
    `${(totalMs / COMPUTERS).toFixed(3)} ms per computer (slowest ${slowestMs.toFixed(2)} ms)`,
    `planner: ${Math.round(totalMs)} ms total, ${Math.round(mb(peakRss))} MB peak`,
    '',
  ].join('\n'),
);
