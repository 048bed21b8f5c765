/**
 * Reading a node's Prometheus exposition in tests: the families it declares (`# TYPE`) and the
 * value of one sample. Names are the ones docs/metrics.md lists.
 */
import type { Test } from 'tap';
import { MemoryStore, startNode, testConfig, validateConfig } from '@ringkv/node';

/** `# TYPE` of every metric family in `text`: name → counter, gauge, histogram, ... */
export function metricFamilies(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The value of the first sample named `name` whose labels include every one of `labels`;
 * NaN when there is none.
 */
export function sampleValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const present = labelText.split(/,(?=[a-zA-Z_]+=")/);
    if (wanted.every((pair) => present.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/**
 * The families (`# TYPE`) of a node started here with every source of metrics (SWIM gossip, the
 * HTTP port's connections, process metrics) after one client request; stopped at teardown.
 */
export async function scrapeFamilies(t: Test): Promise<Map<string, string>> {
  const config = validateConfig({ nodeId: 'node-1', host: '127.0.0.1', httpPort: 0, membership: 'swim', processMetrics: true, n: 3 }, testConfig);
  const node = await startNode(config, { store: new MemoryStore({ nowMs: Date.now }) });
  t.teardown(() => node.close());
  const auth = { authorization: `Bearer ${config.adminToken}` };
  await (await fetch(`${node.url}/kv/k`, { method: 'PUT', body: 'v', headers: auth })).arrayBuffer();
  const response = await fetch(`${node.url}/metrics`, { headers: auth });
  t.equal(response.status, 200, 'the node serves /metrics');
  return metricFamilies(await response.text());
}
