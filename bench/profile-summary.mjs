/**
 * Reads V8 .cpuprofile files (from `--profile DIR` of the bench scripts, or `node --cpu-prof`)
 * and prints where the time went, summed over all files given: the top functions by self time
 * and by inclusive time (time with the function on the stack, counted once per sample even
 * when it recurses), and self time by source file (node_modules packages grouped), each as a
 * percentage of all samples. A flame graph of one file: open it in Chrome DevTools or
 * https://www.speedscope.app.
 *
 *   node bench/profile-summary.mjs [--top 30] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = `usage: node bench/profile-summary.mjs [--top 30] FILE.cpuprofile...

Where the time went in V8 CPU profiles (--profile DIR of the bench scripts), summed over the files.

flags:
  --top N (default 30)   rows per table
  --help, -h             this text`;
if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
  console.log(USAGE);
  process.exit(0);
}
let parsed;
try {
  parsed = parseArgs({ options: { top: { type: 'string', default: '30' } }, allowPositionals: true });
} catch (error) {
  console.error(`${error.message}\n\n${USAGE.split('\n')[0]}`);
  process.exit(64);
}
const { values, positionals } = parsed;
const top = Number(values.top);
if (positionals.length === 0) {
  console.error(USAGE.split('\n')[0]);
  process.exit(64);
}

/** Short location of a call frame: package name for dependencies, path tail for our code. */
function place(frame) {
  const url = frame.url ?? '';
  if (url === '') return '(native)';
  const dep = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (dep) return dep[1];
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

const self = new Map();
const inclusive = new Map();
const byFile = new Map();
let total = 0;
let wallMs = 0;

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node) => `${node.callFrame.functionName || '(anonymous)'} ${place(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
  wallMs += (profile.endTime - profile.startTime) / 1000;
  for (const id of profile.samples) {
    const node = nodes.get(id);
    total++;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + 1);
    const where = place(node.callFrame);
    byFile.set(where, (byFile.get(where) ?? 0) + 1);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frameName = label(nodes.get(at));
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + 1);
    }
  }
}

const pct = (count) => `${((100 * count) / total).toFixed(1)}%`.padStart(6);
function print(title, map) {
  console.log(`\n## ${title}`);
  for (const [name, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(count)}  ${name}`);
}
console.log(`${positionals.length} profile(s), ${total} samples, ${(wallMs / 1000).toFixed(1)} s of wall time summed`);
print('self time by function', self);
print('inclusive time by function', inclusive);
print('self time by file or package', byFile);
