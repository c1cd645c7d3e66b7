import { RequestRefusedError, ValidationError } from '../errors.js';
import { computerSchema, type Computer } from '../model/catalog.js';
import type { ImportReport, ImportRequest, ImportRule, ImportedComputer, ManagedNode } from '../model/inventory.js';
import type { Requester } from '../model/session.js';
import type { ManagedNodeInventory } from '../ports/inventory.port.js';
import type { Dependencies } from './dependencies.js';
import { saveCatalogEntity } from './save-catalog.js';

/** One request maps at most this many nodes: the whole import runs inside one API call (29 s). */
export const MAX_IMPORTED_NODES = 2_000;
/** Catalog writes in flight at once: a first import of 2,000 nodes takes seconds, not a minute. */
const WRITES_AT_ONCE = 16;

type ImportDeps = Pick<Dependencies, 'catalog' | 'secrets' | 'audit' | 'clock'> & { readonly inventory: ManagedNodeInventory };

interface Matched {
  readonly node: ManagedNode;
  readonly rules: { readonly rule: ImportRule; readonly index: number }[];
}

/**
 * Brings the computers SSM manages into the catalog, each in the tenant its
 * tag maps to. A known computer (same agent) keeps what an engineer set on it
 * (primary user, active hours, tags, time zone) and takes the node's name,
 * platform and connectivity; a rule's device class, time zone and tags apply
 * to computers it creates, and its tags are added to known ones. A node two
 * rules put in different tenants is skipped and named, never guessed.
 */
export async function importComputers(deps: ImportDeps, request: ImportRequest, by: Requester): Promise<ImportReport> {
  const missing: { field: string; problem: string }[] = [];
  for (const [index, rule] of request.rules.entries()) {
    if (!(await deps.catalog.getTenant(rule.tenantId))) missing.push({ field: `rules.${index}.tenantId`, problem: `tenant ${rule.tenantId} does not exist` });
  }
  if (missing.length > 0) throw new ValidationError('import', missing);

  const matched = new Map<string, Matched>();
  for (const [index, rule] of request.rules.entries()) {
    const { nodes, truncated } = await deps.inventory.listByTag(rule.tag.key, rule.tag.value, MAX_IMPORTED_NODES);
    if (truncated) throw tooMany(`rule ${index + 1} (${rule.tag.key}=${rule.tag.value}) alone matches`);
    for (const node of nodes) {
      const entry = matched.get(node.agentId) ?? { node, rules: [] };
      entry.rules.push({ rule, index });
      matched.set(node.agentId, entry);
    }
    if (matched.size > MAX_IMPORTED_NODES) throw tooMany('the rules together match');
  }

  const known = new Map((await deps.catalog.listComputers()).map((computer) => [computer.agentId, computer]));
  const skipped: ImportReport['skipped'][number][] = [];
  const planned: { computer: Computer; outcome: ImportedComputer['outcome'] }[] = [];
  for (const { node, rules } of [...matched.values()].sort((a, b) => a.node.agentId.localeCompare(b.node.agentId))) {
    const tenants = [...new Set(rules.map(({ rule }) => rule.tenantId))];
    if (tenants.length > 1) {
      skipped.push({ agentId: node.agentId, reason: 'AmbiguousTenant', detail: `rules ${rules.map(({ index }) => index + 1).join(', ')} put it in tenants ${tenants.join(', ')}` });
      continue;
    }
    if (node.platform === undefined) {
      skipped.push({ agentId: node.agentId, reason: 'UnsupportedPlatform', detail: 'Nightshift runs on Linux and Windows computers' });
      continue;
    }
    // Stryker disable next-line OptionalChaining: a matched node has at least one rule; this narrows the type
    const first = rules[0]?.rule;
    // Stryker disable next-line ConditionalExpression: as above
    if (!first) continue;
    const addTags = [...new Set(rules.flatMap(({ rule }) => rule.addTags))];
    const existing = known.get(node.agentId);
    const computer = existing ? updated(existing, node, first.tenantId, addTags) : created(node, first, addTags);
    // a name SSM reports can break the catalog's rules (too long, say): that node is named, the others still import
    const problem = computerSchema.safeParse(computer).error?.issues[0];
    if (problem) {
      skipped.push({ agentId: node.agentId, reason: 'InvalidRecord', detail: `${problem.path.join('.')} ${problem.message}` });
      continue;
    }
    planned.push({ computer, outcome: outcomeOf(existing, computer) });
  }

  if (!request.dryRun) {
    const changed = planned.filter((p) => p.outcome !== 'Unchanged');
    // Stryker disable next-line EqualityOperator: one more turn at start === length writes an empty batch, which changes nothing
    for (let start = 0; start < changed.length; start += WRITES_AT_ONCE) {
      await Promise.all(changed.slice(start, start + WRITES_AT_ONCE).map(({ computer }) => saveCatalogEntity(deps, { kind: 'Computer', entity: computer }, by)));
    }
  }

  const computers = planned.map(({ computer, outcome }) => ({ computerId: computer.id, agentId: computer.agentId, name: computer.name, tenantId: computer.tenantId, outcome }));
  const count = (outcome: ImportedComputer['outcome']) => computers.filter((c) => c.outcome === outcome).length;
  return {
    dryRun: request.dryRun,
    computers,
    skipped,
    counts: { Created: count('Created'), Updated: count('Updated'), Moved: count('Moved'), Unchanged: count('Unchanged'), skipped: skipped.length },
  };
}

const tooMany = (what: string): RequestRefusedError =>
  new RequestRefusedError(`${what} more than ${MAX_IMPORTED_NODES} managed nodes; split the import into narrower rules (one tenant or device class each)`);

/** SSM reports a name only once the agent has; the instance id stands in until then. */
const nameOf = (node: ManagedNode): string => node.computerName?.trim() || node.agentId;

function created(node: ManagedNode, rule: ImportRule, addTags: readonly string[]): Computer {
  return {
    // the agent id is unique in the account and already a valid catalog id
    id: node.agentId,
    agentId: node.agentId,
    name: nameOf(node),
    tenantId: rule.tenantId,
    // Stryker disable next-line StringLiteral: a node without a platform is skipped before a computer is made of it
    platform: node.platform ?? 'linux',
    deviceClass: rule.deviceClass ?? 'Workstation',
    tags: [...addTags],
    timeZone: rule.timeZone ?? 'UTC',
    online: node.online,
  };
}

function updated(existing: Computer, node: ManagedNode, tenantId: string, addTags: readonly string[]): Computer {
  return {
    ...existing,
    name: nameOf(node),
    tenantId,
    platform: node.platform ?? existing.platform,
    tags: [...new Set([...existing.tags, ...addTags])],
    online: node.online,
  };
}

function outcomeOf(existing: Computer | undefined, computer: Computer): ImportedComputer['outcome'] {
  if (!existing) return 'Created';
  if (existing.tenantId !== computer.tenantId) return 'Moved';
  const same =
    existing.name === computer.name &&
    existing.platform === computer.platform &&
    existing.online === computer.online &&
    existing.tags.length === computer.tags.length;
  return same ? 'Unchanged' : 'Updated';
}
