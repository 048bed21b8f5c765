// docs/metrics.md is the metrics reference: every family a node exports is in it, every
// deprecated name is there with its replacement, and no doc names a metric that does not exist.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DEPRECATED_METRICS } from '@ringkv/node';
import { scrapeFamilies } from '../helpers/metrics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const reference = read('docs/metrics.md');

t.test('every family a node exports is documented, and so is every deprecated name with its replacement', async (t) => {
  const families = await scrapeFamilies(t);
  const ringkv = [...families.keys()].filter((name) => name.startsWith('ringkv_'));
  t.ok(ringkv.length > 40, `${ringkv.length} ringkv_ families`);
  for (const name of ringkv) t.ok(reference.includes(`\`${name}`), `${name} is in docs/metrics.md`);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
    t.ok(families.has(name) && reference.includes(`\`${name}\``), `${name} is exported and documented`);
  }
  const deprecatedTable = reference.slice(reference.indexOf('## Deprecated and removed names'));
  for (const [old, replacement] of Object.entries(DEPRECATED_METRICS)) {
    t.ok(families.has(old), `${old} is still exported`);
    t.match(deprecatedTable, new RegExp(`^\\| \`${old}(\\{[a-z]+\\})?\` \\| \`${replacement.split(' ')[0]!.replace('*', '\\*')}`, 'm'), `${old} → ${replacement} in the deprecated table`);
  }
});

t.test('every metric name the docs mention is exported, deprecated or documented as removed', async (t) => {
  const families = await scrapeFamilies(t);
  const removed = new Set(['ringkv_process_process_cpu_seconds_total']);
  // Not metrics: the nftables table of the netns tier.
  const notMetrics = new Set(['ringkv_nemesis']);
  const docs = ['README.md', 'BENCHMARKS.md', 'deploy/README.md', ...readdirSync(`${ROOT}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  let checked = 0;
  for (const doc of docs) {
    for (const [name] of read(doc).matchAll(/\bringkv_[a-z0-9_]*[a-z0-9]\b(?![*])/g)) {
      if (notMetrics.has(name!) || removed.has(name!)) continue;
      const base = name!.replace(/_(bucket|sum|count)$/, '');
      const known = families.has(name!) || families.get(base) === 'histogram';
      t.ok(known, `${doc}: ${name} is a metric the node exports`);
      checked++;
    }
  }
  t.ok(checked > 50, `${checked} mentions checked`);
});
