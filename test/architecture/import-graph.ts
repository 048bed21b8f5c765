// The import graph of packages/*/src and the cycles in it. A cycle makes module load order
// depend on which file is imported first (an ES module in a cycle can see its partner's
// exports still uninitialised), and it makes two files one concept in all but name: a reader
// cannot understand either alone. `import type` edges count too: a reader follows them the
// same way, and a type-only cycle becomes a load-order cycle the day someone needs a value.
// Dynamic `import()` counts for the same reason.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';
import ts from 'typescript';

/** A directed graph: each module names the modules it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The strongly connected components of more than one module (or one that imports itself):
 * each is a group of modules that reach one another. Tarjan's algorithm, iterative so a deep
 * graph cannot overflow the stack; components and members come out sorted, so a failure
 * message is stable from run to run.
 */
export function cyclicComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: root, edge: 0 }];
    index.set(root, next); low.set(root, next); next += 1; stack.push(root); onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge]!;
        frame.edge += 1;
        if (!index.has(to)) {
          index.set(to, next); low.set(to, next); next += 1; stack.push(to); onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfLoop = component.length === 1 && (graph.get(frame.node) ?? []).includes(frame.node);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  }
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One shortest cycle through the component's first module (breadth-first), as a path. */
export function witnessCycle(graph: ImportGraph, component: readonly string[]): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head += 1) {
    const node = queue[head]!;
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = parent.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!parent.has(to)) { parent.set(to, node); queue.push(to); }
    }
  }
  return [start, start];
}

/** Every .ts source file under dir, tests and declaration files left out. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Workspace package entry points: "@ringkv/node/testing" → packages/node/src/testing/index.ts. */
function workspaceEntries(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const dir of readdirSync(join(root, 'packages'))) {
    const manifestPath = join(root, 'packages', dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; exports?: Record<string, { default?: string }> };
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (target.default === undefined) continue;
      const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      entries.set(subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`, join(root, 'packages', dir, source));
    }
  }
  return entries;
}

function resolveSpecifier(from: string, specifier: string, entries: Map<string, string>): string | undefined {
  if (entries.has(specifier)) return entries.get(specifier);
  if (!specifier.startsWith('.')) return undefined; // a dependency or a node: builtin: outside the graph
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

/**
 * The import graph of every packages/<pkg>/src file, keyed by path relative to root. Every
 * import, export-from and dynamic import() is an edge, type-only ones included (see header).
 */
export function buildImportGraph(root: string): Map<string, string[]> {
  const entries = workspaceEntries(root);
  const graph = new Map<string, string[]>();
  for (const dir of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', dir, 'src');
    if (!existsSync(src)) continue;
    for (const file of sourceFiles(src)) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = new Set<string>();
      for (const imported of info.importedFiles) {
        const target = resolveSpecifier(file, imported.fileName, entries);
        if (target !== undefined) targets.add(relative(root, target));
      }
      graph.set(relative(root, file), [...targets].sort());
    }
  }
  return graph;
}
