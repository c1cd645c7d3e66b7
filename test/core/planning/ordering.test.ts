import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../functions/core/errors.js';
import type { OrderingHint } from '../../../functions/core/model/catalog.js';
import { findCycles, orderByDependencies, type OrderNode } from '../../../functions/core/planning/ordering.js';

const node = (key: string, hint: OrderingHint = 'Unordered'): OrderNode<string> => ({ key, name: key.toUpperCase(), hint });

describe('ordering without dependency edges', () => {
  it('still honours Beginning and End hints, keeping the input order within each', () => {
    const nodes = [node('u1'), node('e1', 'End'), node('b1', 'Beginning'), node('u2'), node('e2', 'End'), node('b2', 'Beginning')];
    expect(orderByDependencies(nodes, [])).toEqual(['b1', 'b2', 'u1', 'u2', 'e1', 'e2']);
  });

  it('keeps the input order when no hints are given', () => {
    expect(orderByDependencies([node('c'), node('a'), node('b')], [])).toEqual(['c', 'a', 'b']);
  });

  it('orders nothing as nothing', () => {
    expect(orderByDependencies([], [])).toEqual([]);
  });
});

describe('ordering with dependency edges', () => {
  it('puts what is needed first, and among the free nodes follows hints, then input order', () => {
    // d needs a; the rest are free: b (Beginning) first, then the Unordered in input order, then End
    const nodes = [node('a'), node('b', 'Beginning'), node('c', 'End'), node('d', 'Beginning'), node('e')];
    expect(orderByDependencies(nodes, [['a', 'd']])).toEqual(['b', 'a', 'd', 'e', 'c']);
  });

  it('lets a Beginning node that needs an End node wait for it, and no longer', () => {
    const nodes = [node('late', 'End'), node('eager', 'Beginning'), node('plain')];
    expect(orderByDependencies(nodes, [['late', 'eager']])).toEqual(['plain', 'late', 'eager']);
  });

  it('keeps input order among many free nodes as nodes are taken from the middle of the ready list', () => {
    const nodes = [node('n1'), node('n2'), node('n3'), node('n4'), node('n5'), node('first', 'Beginning')];
    expect(orderByDependencies(nodes, [['n5', 'n1']])).toEqual(['first', 'n2', 'n3', 'n4', 'n5', 'n1']);
  });

  it('waits for every prerequisite of a node, not just the first', () => {
    const nodes = [node('app'), node('x'), node('y'), node('z')];
    expect(orderByDependencies(nodes, [['z', 'app'], ['y', 'app'], ['x', 'y']])).toEqual(['x', 'y', 'z', 'app']);
  });

  it('ignores edges that name nodes outside the plan', () => {
    expect(orderByDependencies([node('b'), node('a')], [['ghost', 'a'], ['b', 'phantom']])).toEqual(['b', 'a']);
  });

  it('refuses a cycle as a configuration error naming the items in it by name, and only them', () => {
    const nodes = [node('free'), node('a'), node('b'), node('c')];
    const attempt = () => orderByDependencies(nodes, [['a', 'b'], ['b', 'c'], ['c', 'a']]);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow('dependency cycle: A → B → C depend on each other, so none can go first');
  });

  it('refuses an item that depends on itself', () => {
    expect(() => orderByDependencies([node('a'), node('b')], [['a', 'a']])).toThrow('dependency cycle: A depend on each other');
  });

  it('names only the circles among the plan\'s items, not one through an item outside it', () => {
    const nodes = [node('a'), node('b'), node('c')];
    expect(() => orderByDependencies(nodes, [['a', 'b'], ['b', 'a'], ['c', 'ghost'], ['ghost', 'c']])).toThrow(/^dependency cycle: A → B depend on each other/);
  });

  it('names every cycle when there are several, separated', () => {
    const nodes = [node('a'), node('b'), node('c'), node('d')];
    expect(() => orderByDependencies(nodes, [['a', 'b'], ['b', 'a'], ['c', 'd'], ['d', 'c']])).toThrow('dependency cycle: A → B; C → D depend on each other');
  });
});

describe('finding cycles', () => {
  it('finds nothing in a graph without cycles, however it branches', () => {
    expect(findCycles(['a', 'b', 'c', 'd'], [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']])).toEqual([]);
  });

  it('finds a node that depends on itself, and not its free neighbours', () => {
    expect(findCycles(['a', 'b'], [['a', 'a'], ['a', 'b']])).toEqual([['a']]);
  });

  it('finds each circle once, members sorted, leaving out what only hangs off a circle', () => {
    const cycles = findCycles(['e', 'a', 'b', 'c', 'd', 'x'], [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['c', 'x'],
      ['d', 'e'],
      ['e', 'd'],
      ['x', 'e'],
    ]);
    expect(cycles.map((c) => c.join(',')).sort()).toEqual(['a,b,c', 'd,e']);
  });

  it('finds a circle reached through a back edge deep in the search (low links flow back to the root)', () => {
    // a → b → c → d → b: the circle b,c,d is closed from d, two levels below where it starts
    expect(findCycles(['a', 'b', 'c', 'd'], [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'b']])).toEqual([['b', 'c', 'd']]);
  });

  it('finds two circles that share an entry point as one group', () => {
    expect(findCycles(['a', 'b', 'c'], [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a']])).toEqual([['a', 'b', 'c']]);
  });

  it('reports a circle once, though the search meets it again from a later root', () => {
    expect(findCycles(['b', 'a'], [['b', 'a'], ['a', 'a']])).toEqual([['a']]);
    expect(findCycles(['c', 'a', 'b'], [['c', 'a'], ['a', 'b'], ['b', 'a']])).toEqual([['a', 'b']]);
  });

  it('follows an edge to a node outside the list as a dead end, not a circle', () => {
    expect(findCycles(['a', 'b'], [['a', 'ghost'], ['b', 'a']])).toEqual([]);
  });

  it('ignores edges from unknown nodes and handles a chain too deep for recursion', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    const edges = keys.slice(1).map((key, i) => [keys[i] ?? '', key] as const);
    expect(findCycles(keys, [...edges, ['ghost', 'n0']])).toEqual([]);
    expect(findCycles(keys, [...edges, ['n19999', 'n0']])[0]).toHaveLength(20_000);
  });
});
