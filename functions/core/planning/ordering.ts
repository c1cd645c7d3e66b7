import { ConfigurationError } from '../errors.js';
import type { OrderingHint } from '../model/catalog.js';

export interface OrderNode<K extends string> {
  readonly key: K;
  readonly name: string;
  readonly hint: OrderingHint;
}

const HINT_RANK: Readonly<Record<OrderingHint, number>> = { Beginning: 0, Unordered: 1, End: 2 };

/**
 * Groups of nodes that depend on each other in a circle (strongly connected
 * components of two or more, or a node that depends on itself), each in a
 * stable order. Tarjan's algorithm, iterative so deep chains cannot overflow.
 */
export function findCycles<K extends string>(keys: readonly K[], edges: readonly (readonly [K, K])[]): K[][] {
  const successors = new Map<K, K[]>();
  for (const key of keys) successors.set(key, []);
  for (const [from, to] of edges) successors.get(from)?.push(to);

  let counter = 0;
  const index = new Map<K, number>();
  const lowLink = new Map<K, number>();
  const onStack = new Set<K>();
  const stack: K[] = [];
  const cycles: K[][] = [];

  for (const root of keys) {
    if (index.has(root)) continue;
    const work: { node: K; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    lowLink.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (!frame) break;
      const next = successors.get(frame.node)?.[frame.next];
      if (next !== undefined) {
        frame.next++;
        if (!index.has(next)) {
          index.set(next, counter);
          lowLink.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ node: next, next: 0 });
        } else if (onStack.has(next)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node) ?? 0, index.get(next) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.node, Math.min(lowLink.get(parent.node) ?? 0, lowLink.get(frame.node) ?? 0));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: K[] = [];
        for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        const selfLoop = component.length === 1 && (successors.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/**
 * A topological order (every edge `[before, after]` respected) that, among
 * the nodes free to go next, takes Beginning before Unordered before End,
 * then the input order. A cycle is a configuration error naming its items.
 */
export function orderByDependencies<K extends string>(nodes: readonly OrderNode<K>[], edges: readonly (readonly [K, K])[]): K[] {
  const count = nodes.length;
  const indexOf = new Map<K, number>();
  nodes.forEach((node, i) => indexOf.set(node.key, i));
  // one number per node: hint first, then input position; unique, so the order is total
  const priority = nodes.map((node, i) => HINT_RANK[node.hint] * count + i);
  if (edges.length === 0) return nodes.map((_, i) => i).sort((a, b) => (priority[a] ?? 0) - (priority[b] ?? 0)).map((i) => (nodes[i] as OrderNode<K>).key);

  const waitingFor = new Array<number>(count).fill(0);
  const successors: number[][] = nodes.map(() => []);
  for (const [before, after] of edges) {
    const from = indexOf.get(before);
    const to = indexOf.get(after);
    if (from === undefined || to === undefined) continue;
    waitingFor[to] = (waitingFor[to] ?? 0) + 1;
    successors[from]?.push(to);
  }
  const ready: number[] = [];
  for (let i = 0; i < count; i++) if (waitingFor[i] === 0) ready.push(i);
  const ordered: K[] = [];
  while (ready.length > 0) {
    // plans hold tens of items: a scan for the best ready node beats a heap at this size
    let best = 0;
    for (let i = 1; i < ready.length; i++) if ((priority[ready[i] ?? 0] ?? 0) < (priority[ready[best] ?? 0] ?? 0)) best = i;
    const next = ready[best];
    if (next === undefined) break;
    // the ready list is scanned, not kept sorted, so removal can swap in the last entry
    ready[best] = ready[ready.length - 1] ?? next;
    ready.pop();
    ordered.push((nodes[next] as OrderNode<K>).key);
    for (const after of successors[next] ?? []) {
      const remaining = (waitingFor[after] ?? 0) - 1;
      waitingFor[after] = remaining;
      if (remaining === 0) ready.push(after);
    }
  }
  if (ordered.length < count) {
    const byKey = new Map<K, OrderNode<K>>(nodes.map((node) => [node.key, node]));
    const cycles = findCycles(
      nodes.map((n) => n.key),
      edges,
    );
    const names = cycles.map((cycle) => cycle.map((key) => byKey.get(key)?.name ?? key).join(' → ')).join('; ');
    throw new ConfigurationError(`dependency cycle: ${names} depend on each other, so none can go first`);
  }
  return ordered;
}
