// No import cycle in packages/*/src (issue 14). The graph counts `import type` and dynamic
// import() edges as well as value imports: see import-graph.ts for why. A failure lists every
// cyclic group with one concrete cycle through it, shortest first found, so the fix is visible.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { buildImportGraph, cyclicComponents, witnessCycle, type ImportGraph } from './import-graph.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function graphOf(edges: Record<string, string[]>): ImportGraph {
  return new Map(Object.entries(edges));
}

t.test('the cycle finder finds a planted cycle and names its path', async (t) => {
  const graph = graphOf({ a: ['b'], b: ['c'], c: ['a', 'd'], d: [], e: ['d'] });
  const components = cyclicComponents(graph);
  t.same(components, [['a', 'b', 'c']]);
  t.same(witnessCycle(graph, components[0]!), ['a', 'b', 'c', 'a']);
});

t.test('the cycle finder reports every cyclic group, self-imports included, and nothing acyclic', async (t) => {
  const graph = graphOf({ a: ['b'], b: ['a'], c: ['c'], d: ['e', 'f'], e: ['f'], f: [], g: ['h'], h: ['i'], i: ['g', 'a'] });
  t.same(cyclicComponents(graph), [['a', 'b'], ['c'], ['g', 'h', 'i']]);
  t.same(witnessCycle(graph, ['c']), ['c', 'c']);
  t.same(cyclicComponents(graphOf({ a: ['b', 'c'], b: ['c'], c: [] })), []);
});

t.test('a long chain does not overflow the stack', async (t) => {
  const edges: Record<string, string[]> = {};
  for (let i = 0; i < 50_000; i += 1) edges[`m${i}`] = [`m${i + 1}`];
  edges['m50000'] = ['m0'];
  const components = cyclicComponents(graphOf(edges));
  t.equal(components.length, 1);
  t.equal(components[0]!.length, 50_001);
});

t.test('the graph sees workspace imports, type-only imports and relative imports', async (t) => {
  const graph = buildImportGraph(root);
  t.ok(graph.size > 50, 'every source file is in the graph');
  // A workspace package import resolves to the package's source entry point.
  t.ok(graph.get('packages/node/src/replication/coordinator.ts')?.includes('packages/protocol/src/index.ts'));
  // A type-only import is an edge (coordinator.ts imports only types from storage/store.ts).
  t.ok(graph.get('packages/node/src/replication/coordinator.ts')?.includes('packages/node/src/storage/store.ts'));
  t.notOk([...graph.keys()].some((file) => file.endsWith('.test.ts')), 'tests are not sources');
});

t.test('no import cycle in packages/*/src', async (t) => {
  const graph = buildImportGraph(root);
  const cycles = cyclicComponents(graph).map((component) => witnessCycle(graph, component).join(' -> '));
  t.same(cycles, [], `import cycles:\n  ${cycles.join('\n  ')}`);
});
