import { ConfigurationError } from '../errors.js';
import type { OrderingHint } from '../model/catalog.js';

export interface OrderNode<K extends string> {
  readonly key: K;
  readonly name: string;
  readonly hint: OrderingHint;
}

const HINT_RANK: Readonly<Record<OrderingHint, number>> = { Beginning: 0, Unordered: 1, End: 2 };

/** Tarjan's bookkeeping for one node. */
interface Visit {
  readonly index: number;
  lowLink: number;
}

/**
 * Groups of nodes that depend on each other in a circle (strongly connected
 * components of two or more, or a node that depends on itself), each in a
 * stable order. Tarjan's algorithm, iterative so deep chains cannot overflow.
 * An edge from a node not in `keys` is ignored; one to such a node leads nowhere.
 */
export function findCycles<K extends string>(keys: readonly K[], edges: readonly (readonly [K, K])[]): K[][] {
  const successors = new Map<K, K[]>(keys.map((key) => [key, []]));
  for (const [from, to] of edges) successors.get(from)?.push(to);
  const successorsOf = (node: K): readonly K[] => successors.get(node) ?? [];

  const visits = new Map<K, Visit>();
  /** The nodes visited whose component is not closed yet, in visiting order. */
  const stack: K[] = [];
  const open = new Set<K>();
  const cycles: K[][] = [];
  const enter = (node: K) => {
    const visit: Visit = { index: visits.size, lowLink: visits.size };
    visits.set(node, visit);
    stack.push(node);
    open.add(node);
    return { node, visit, next: 0 };
  };

  for (const root of keys) {
    if (visits.has(root)) continue;
    const work = [enter(root)];
    for (let frame = work.at(-1); frame; frame = work.at(-1)) {
      const next = successorsOf(frame.node)[frame.next];
      if (next !== undefined) {
        frame.next++;
        const seen = visits.get(next);
        if (!seen) work.push(enter(next));
        else if (open.has(next)) frame.visit.lowLink = Math.min(frame.visit.lowLink, seen.index);
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) parent.visit.lowLink = Math.min(parent.visit.lowLink, frame.visit.lowLink);
      // not the first node of its component: the component closes further up
      if (frame.visit.lowLink !== frame.visit.index) continue;
      const component = stack.splice(stack.lastIndexOf(frame.node));
      for (const member of component) open.delete(member);
      if (component.length > 1 || successorsOf(frame.node).includes(frame.node)) cycles.push(component.sort());
    }
  }
  return cycles;
}

interface Entry<K extends string> {
  readonly node: OrderNode<K>;
  /** Hint first, then input position: unique, so the order is total. */
  readonly priority: number;
  /** How many of its prerequisites are not placed yet. */
  waitingFor: number;
  readonly successors: Entry<K>[];
}

/**
 * A topological order (every edge `[before, after]` respected) that, among
 * the nodes free to go next, takes Beginning before Unordered before End,
 * then the input order. An edge naming a node outside `nodes` is ignored. A
 * cycle is a configuration error naming its items.
 */
export function orderByDependencies<K extends string>(nodes: readonly OrderNode<K>[], edges: readonly (readonly [K, K])[]): K[] {
  const entries = nodes.map((node, i): Entry<K> => ({ node, priority: HINT_RANK[node.hint] * nodes.length + i, waitingFor: 0, successors: [] }));
  const byKey = new Map(entries.map((entry) => [entry.node.key, entry]));
  const known: (readonly [K, K])[] = [];
  for (const edge of edges) {
    const from = byKey.get(edge[0]);
    const to = byKey.get(edge[1]);
    if (!from || !to) continue;
    known.push(edge);
    from.successors.push(to);
    to.waitingFor++;
  }
  const ready = entries.filter((entry) => entry.waitingFor === 0);
  const ordered: K[] = [];
  while (ready.length > 0) {
    // plans hold tens of items: a scan for the best ready node beats a heap at this size
    const next = ready.reduce((best, entry) => (entry.priority < best.priority ? entry : best));
    ready.splice(ready.indexOf(next), 1);
    ordered.push(next.node.key);
    for (const after of next.successors) if (--after.waitingFor === 0) ready.push(after);
  }
  if (ordered.length < nodes.length) {
    const names = findCycles([...byKey.keys()], known)
      .map((cycle) => cycle.map((key) => byKey.get(key)?.node.name ?? key).join(' → '))
      .join('; ');
    throw new ConfigurationError(`dependency cycle: ${names} depend on each other, so none can go first`);
  }
  return ordered;
}
