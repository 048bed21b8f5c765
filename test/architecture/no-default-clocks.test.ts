// No silent default for time, randomness or timers in packages/*/src outside the composition
// root (issue 14; STYLE.md §2): a failure lists each default as file:line, what defaults, and
// to what, so the fix (make it a required dependency) is visible.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { defaultClocks, defaultClocksUnder } from './default-clocks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the process's clock, randomness and timers are picked, once, for every part built
 * there: startNode and assemble, and memory-cluster.ts, which wires in-memory nodes for tests
 * the way assemble does (on the process's clock unless a test passes one).
 */
const COMPOSITION_ROOTS: ReadonlySet<string> = new Set(['packages/node/src/node.ts', 'packages/node/src/root/assemble.ts', 'packages/node/src/testing/memory-cluster.ts']);

/**
 * Helpers for tools, not parts of a node: they sign one request for the CLI or a test at the
 * process's present time, and never run inside a node or under the simulation.
 */
const TOOL_EDGES: ReadonlySet<string> = new Set(['packages/node/src/transport/internal-client.ts']);

t.test('planted defaults of every form are found; explicit dependencies are not', async (t) => {
  const text = [
    'export class A {',
    '  private readonly clock = Date.now;',
    '  constructor(private readonly nowMs: () => number = Date.now, random = Math.random) {}',
    '}',
    'export function b(options: { timers?: Timers }, at = Date.now()) {',
    '  const timers = options.timers ?? realTimers;',
    '  const elapsed = options.elapsed || (() => performance.now());',
    '  const { random = Math.random } = options;',
    '  let tick: (() => number) | undefined;',
    '  tick ??= function () { return Date.now(); };',
    '  return (options.now ?? (Date.now)) as unknown;',
    '}',
    'export function fine(nowMs: () => number, random: () => number, timers: Timers, n = 3) {',
    '  const store = options.store ?? new Store(nowMs);',
    '  return Date.now() - nowMs() + random() + n;',
    '}',
  ].join('\n');
  t.same(
    defaultClocks('planted.ts', text).map((d) => `${d.line} ${d.kind}: ${d.text}`),
    [
      '2 property clock: Date.now',
      '3 parameter nowMs: Date.now',
      '3 parameter random: Math.random',
      '5 parameter at: Date.now()',
      '6 ?? fallback: realTimers',
      '7 || fallback: (() => performance.now())',
      '8 destructured random: Math.random',
      '10 ??= fallback: function () { return Date.now(); }',
      '11 ?? fallback: (Date.now)',
    ],
  );
});

t.test('a fallback that only contains one is not reported twice', async (t) => {
  const found = defaultClocks('nested.ts', 'const s = options.store ?? new MemoryStore(undefined, options.nowMs ?? Date.now);');
  t.same(found.map((d) => d.text), ['Date.now']);
});

t.test('no silent default for time, randomness or timers in packages/*/src outside the composition root', async (t) => {
  const exempt = new Set([...COMPOSITION_ROOTS, ...TOOL_EDGES]);
  const found = defaultClocksUnder(root, exempt).map((d) => `${d.file}:${d.line} ${d.kind}: ${d.text}`);
  t.same(found, [], `silent defaults (make them required; pick them in the composition root):\n  ${found.join('\n  ')}`);
  // The composition roots do pick the defaults: the check would be vacuous if they moved.
  t.ok(defaultClocksUnder(root, new Set()).some((d) => d.file === 'packages/node/src/root/assemble.ts' && d.text === 'realTimers'), 'assemble picks the real timers');
});
