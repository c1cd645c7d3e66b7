import { describe, expect, it, vi } from 'vitest';
import { RequestRefusedError, ValidationError } from '../../functions/core/errors.js';
import { importRequestSchema, type ImportReport, type ManagedNode } from '../../functions/core/model/inventory.js';
import type { Requester } from '../../functions/core/model/session.js';
import type { ManagedNodeInventory } from '../../functions/core/ports/inventory.port.js';
import { importComputers } from '../../functions/core/use-cases/import-computers.js';
import { parseInput } from '../../functions/core/validation.js';
import { computer, tenant } from '../support/domain.js';
import { useCaseHarness } from './harness.js';

/**
 * The import's rules (dynalite catalog, an inventory that answers each tag
 * from a table the test writes): what a created and a known computer take
 * from the node and the rules, when a known one counts as unchanged, the
 * node limit per rule and in all, and the report's order and counts.
 */

const BY: Requester = { kind: 'Operator', name: 'ops@msp.example' };

/** Nodes by `key=value`; records each ask, and answers `truncated` for the tags listed in `truncating`. */
class TagInventory implements ManagedNodeInventory {
  readonly byTag = new Map<string, ManagedNode[]>();
  readonly asked: [string, string, number][] = [];
  readonly truncating = new Set<string>();
  listByTag(key: string, value: string, limit: number): Promise<{ nodes: ManagedNode[]; truncated: boolean }> {
    this.asked.push([key, value, limit]);
    return Promise.resolve({ nodes: this.byTag.get(`${key}=${value}`) ?? [], truncated: this.truncating.has(`${key}=${value}`) });
  }
}

const node = (agentId: string, overrides: Partial<ManagedNode> = {}): ManagedNode => ({ agentId, computerName: agentId, platform: 'linux', online: true, ...overrides });
/** An agent id (the catalog id of an imported computer) unique to this test file run. */
const agent = (prefix: number, index: number): string => `i-${prefix.toString(16)}${index.toString(16).padStart(12, '0')}`;

describe('importing computers: the rules', () => {
  const harness = useCaseHarness();
  let n = 0;
  async function setup() {
    const h = harness();
    const inventory = new TagInventory();
    const prefix = 0x1000 + ++n;
    const tenantId = `imp${String(n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId));
    await h.catalog.putTenant(tenant(`${tenantId}-b`));
    const run = (input: unknown): Promise<ImportReport> => importComputers({ ...h.deps, inventory }, parseInput(importRequestSchema, input, 'import'), BY);
    return { h, inventory, tenantId, prefix, run };
  }

  it('creates a computer with a workstation class, UTC and only the rules’ tags when the rule names none, taking the trimmed name or else the agent id', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const [named, unnamed, blank] = [agent(prefix, 1), agent(prefix, 2), agent(prefix, 3)];
    inventory.byTag.set('Customer=c', [node(named, { computerName: '  web-01  ', platform: 'windows', online: false }), node(unnamed, { computerName: undefined }), node(blank, { computerName: '   ' })]);
    inventory.byTag.set('Role=web', [node(named, { computerName: '  web-01  ', platform: 'windows', online: false })]);
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId, addTags: ['imported', 'fleet'] }, { tag: { key: 'Role', value: 'web' }, tenantId, addTags: ['fleet', 'web'] }] });
    expect(inventory.asked).toEqual([
      ['Customer', 'c', 2_000],
      ['Role', 'web', 2_000],
    ]);
    expect(await h.catalog.getComputer(named)).toStrictEqual({
      id: named,
      agentId: named,
      name: 'web-01',
      tenantId,
      platform: 'windows',
      deviceClass: 'Workstation',
      tags: ['imported', 'fleet', 'web'],
      timeZone: 'UTC',
      online: false,
    });
    expect((await h.catalog.getComputer(unnamed))?.name).toBe(unnamed);
    expect((await h.catalog.getComputer(blank))?.name).toBe(blank);
    expect(report).toStrictEqual({
      dryRun: false,
      computers: [named, unnamed, blank].map((id) => ({ computerId: id, agentId: id, name: id === named ? 'web-01' : id, tenantId, outcome: 'Created' })),
      skipped: [],
      counts: { Created: 3, Updated: 0, Moved: 0, Unchanged: 0, skipped: 0 },
    });
  });

  it('reports computers in agent-id order, whatever order the inventory answers in', async () => {
    const { inventory, tenantId, prefix, run } = await setup();
    const ids = [agent(prefix, 3), agent(prefix, 1), agent(prefix, 2)];
    inventory.byTag.set('Customer=c', ids.map((id) => node(id)));
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }], dryRun: true });
    expect(report.computers.map((c) => c.agentId)).toEqual([...ids].sort());
    expect(report.dryRun).toBe(true);
  });

  it('skips a node on a platform Nightshift does not run on, by name and reason, and imports the rest', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const [mac, pc] = [agent(prefix, 1), agent(prefix, 2)];
    inventory.byTag.set('Customer=c', [node(mac, { platform: undefined }), node(pc)]);
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }] });
    expect(report.skipped).toEqual([{ agentId: mac, reason: 'UnsupportedPlatform', detail: 'Nightshift runs on Linux and Windows computers' }]);
    expect(report.counts).toEqual({ Created: 1, Updated: 0, Moved: 0, Unchanged: 0, skipped: 1 });
    expect(await h.catalog.getComputer(mac)).toBeUndefined();
  });

  it('updates a known computer from the node (name, platform, connectivity, added tags) and keeps its class, zone and tags; unchanged only when none of those moved', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const id = agent(prefix, 1);
    await h.catalog.putComputer(computer(id, { agentId: id, name: 'desk', tenantId, platform: 'linux', deviceClass: 'Server', timeZone: 'Asia/Tokyo', tags: ['keep'], online: true }));
    const rule = (addTags: string[] = []) => ({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId, deviceClass: 'Portable', timeZone: 'UTC', addTags }] });
    const outcome = async (found: ManagedNode, addTags?: string[]) => {
      inventory.byTag.set('Customer=c', [found]);
      return (await run(rule(addTags))).computers[0]?.outcome;
    };
    expect(await outcome(node(id, { computerName: 'desk' }))).toBe('Unchanged');
    expect(await outcome(node(id, { computerName: 'desk', online: false }))).toBe('Updated');
    expect(await outcome(node(id, { computerName: 'desk', online: false }))).toBe('Unchanged');
    expect(await outcome(node(id, { computerName: 'desk', online: false, platform: 'windows' }))).toBe('Updated');
    expect(await outcome(node(id, { computerName: 'desk-2', online: false, platform: 'windows' }))).toBe('Updated');
    expect(await outcome(node(id, { computerName: 'desk-2', online: false, platform: 'windows' }), ['keep', 'new'])).toBe('Updated');
    expect(await h.catalog.getComputer(id)).toStrictEqual({ id, agentId: id, name: 'desk-2', tenantId, platform: 'windows', deviceClass: 'Server', timeZone: 'Asia/Tokyo', tags: ['keep', 'new'], online: false });
    // a tag the computer already has adds nothing
    expect(await outcome(node(id, { computerName: 'desk-2', online: false, platform: 'windows' }), ['keep'])).toBe('Unchanged');
  });

  it('counts a known computer a rule puts in another tenant as moved', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const id = agent(prefix, 1);
    await h.catalog.putComputer(computer(id, { agentId: id, name: id, tenantId }));
    inventory.byTag.set('Customer=b', [node(id)]);
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'b' }, tenantId: `${tenantId}-b` }] });
    expect(report.counts).toEqual({ Created: 0, Updated: 0, Moved: 1, Unchanged: 0, skipped: 0 });
  });

  it('names the field of a record the catalog refuses by its full path', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const id = agent(prefix, 1);
    // written before the catalog's rules were what they are now
    await h.catalog.putComputer(computer(id, { agentId: id, name: id, tenantId, tags: ['not a tag!'] }));
    inventory.byTag.set('Customer=c', [node(id)]);
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }] });
    expect(report.skipped.map((skip) => [skip.agentId, skip.reason, skip.detail.split(' ')[0]])).toEqual([[id, 'InvalidRecord', 'tags.0']]);
  });

  it('writes only what changed: an unchanged computer is not saved again', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const [same, renamed] = [agent(prefix, 1), agent(prefix, 2)];
    inventory.byTag.set('Customer=c', [node(same), node(renamed)]);
    const rules = { rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }] };
    await run(rules);
    const puts = vi.spyOn(h.catalog, 'putComputer');
    inventory.byTag.set('Customer=c', [node(same), node(renamed, { computerName: 'renamed' })]);
    const report = await run(rules);
    expect(report.counts).toEqual({ Created: 0, Updated: 1, Moved: 0, Unchanged: 1, skipped: 0 });
    expect(puts.mock.calls.map(([stored]) => stored.id)).toEqual([renamed]);
  });

  it('writes every computer of an import larger than one batch of writes', async () => {
    const { h, inventory, tenantId, prefix, run } = await setup();
    const ids = Array.from({ length: 35 }, (_, index) => agent(prefix, index));
    inventory.byTag.set('Customer=c', ids.map((id) => node(id)));
    const puts = vi.spyOn(h.catalog, 'putComputer');
    expect((await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }] })).counts.Created).toBe(35);
    const stored = await Promise.all(ids.map((id) => h.catalog.getComputer(id)));
    expect(stored.filter((c) => c === undefined)).toEqual([]);
    // each written once, batch after batch
    expect(puts).toHaveBeenCalledTimes(35);
  });

  it('refuses every rule naming a missing tenant, each by its index, before asking the inventory', async () => {
    const { inventory, tenantId, run } = await setup();
    const error = await run({
      rules: [
        { tag: { key: 'A', value: '1' }, tenantId: 'ghost-1' },
        { tag: { key: 'B', value: '2' }, tenantId },
        { tag: { key: 'C', value: '3' }, tenantId: 'ghost-2' },
      ],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError ? error.entity : '').toBe('import');
    expect(error instanceof ValidationError ? error.problems : []).toEqual([
      { field: 'rules.0.tenantId', problem: 'tenant ghost-1 does not exist' },
      { field: 'rules.2.tenantId', problem: 'tenant ghost-2 does not exist' },
    ]);
    expect(inventory.asked).toEqual([]);
  });

  it('refuses a rule the inventory truncates, naming it by number and tag', async () => {
    const { inventory, tenantId, run } = await setup();
    inventory.truncating.add('Site=hq');
    const error = await run({ rules: [{ tag: { key: 'Customer', value: 'c' }, tenantId }, { tag: { key: 'Site', value: 'hq' }, tenantId }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect(error instanceof Error ? error.message : '').toBe(
      'rule 2 (Site=hq) alone matches more than 2000 managed nodes; split the import into narrower rules (one tenant or device class each)',
    );
  });

  it('takes 2,000 distinct nodes over several rules, a node two rules share counted once, and refuses the 2,001st', async () => {
    const { inventory, tenantId, prefix, run } = await setup();
    const ids = Array.from({ length: 2_001 }, (_, index) => agent(prefix, index));
    const nodes = ids.map((id) => node(id));
    inventory.byTag.set('Half=1', nodes.slice(0, 1_000));
    // the first node again: it is one node
    inventory.byTag.set('Half=2', nodes.slice(999, 2_000));
    const rules = [
      { tag: { key: 'Half', value: '1' }, tenantId },
      { tag: { key: 'Half', value: '2' }, tenantId },
    ];
    expect((await run({ rules, dryRun: true })).counts.Created).toBe(2_000);
    inventory.byTag.set('Half=2', nodes.slice(1_000, 2_001));
    const error = await run({ rules, dryRun: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect(error instanceof Error ? error.message : '').toMatch(/^the rules together match more than 2000 managed nodes; split/);
  });
});
