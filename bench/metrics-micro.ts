/**
 * What one client request costs the node's metrics: `--calls` calls of `observeRequest(op,
 * status, seconds)` (the request counter and the latency histogram, as the /kv/ routes record
 * every request) over a realistic mix of operations and statuses, in one process. Three ways,
 * each on a registry of its own: the node's (request-metrics.ts), and for comparison
 * prom-client's Counter and Histogram as the node used them before (`inc({op, status})`,
 * `observe({op}, s)`), and the same with the labelled children cached per label combination
 * (`labels(op, status)` looked up once). Prints nanoseconds per call (median of `--rounds`
 * rounds) and checks each exposition counted every call, so a fast path that lost counts
 * cannot pass.
 *
 *   tsx bench/metrics-micro.ts [--calls 1000000] [--rounds 5]
 */
import { createRequire } from 'node:module';
import type * as PromClient from '../packages/node/node_modules/prom-client/index.js';
import { MemoryStore } from '@ringkv/node';
import type { Transport } from '../packages/node/dist/transport/transport.js';
import { createMetrics } from '../packages/node/dist/metrics.js';
import { REQUEST_BUCKETS_SECONDS } from '../packages/node/dist/request-metrics.js';
import { benchArgs } from './lib/cli.js';
// prom-client is the node package's dependency, not the bench's: load it from there.
const { Counter, Histogram, Registry } = createRequire(new URL('../packages/node/package.json', import.meta.url))('prom-client') as typeof PromClient;
type Registry = PromClient.Registry;
const USAGE = `usage: tsx bench/metrics-micro.ts [--calls 1000000] [--rounds 5]\n\nThe per-request cost of the node's metrics: ns per observeRequest call (request counter + latency histogram), median of the rounds.`;

const { values } = benchArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
  },
}, USAGE);
const calls = Number(values.calls);
const rounds = Number(values.rounds);
if (!(calls > 0) || !(rounds > 0) || calls > 1e8 || rounds > 100) throw new Error('usage: --calls N (1..1e8) --rounds R (1..100)');

const transport = { stats: () => ({ opsSent: 0, batchesSent: 0, batchesFailed: 0, forwards: 0, probes: 0 }) } as unknown as Transport;
const store = new MemoryStore({ nowMs: Date.now });
const metrics = createMetrics('node-a', store, transport, false);
// What a read-heavy ring sees: mostly gets and puts that succeed, some 404s, 300s and failures.
const mix: Array<[string, number]> = [['get', 200], ['get', 200], ['get', 404], ['put', 204], ['put', 204], ['get', 300], ['delete', 204], ['put', 503]];
const latencies = Array.from({ length: 64 }, (_, i) => 0.0003 * (1 + (i % 17)) ** 1.5);

type Observe = (op: string, status: number, seconds: number) => void;

/** prom-client's Counter and Histogram on a registry of their own, as metrics.ts used them before issue 13. */
function promClient(cached: boolean): { observe: Observe; registry: Registry } {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'node-a' });
  const requests = new Counter({ name: 'ringkv_requests_total', help: 'h', labelNames: ['op', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'ringkv_request_duration_seconds', help: 'h', labelNames: ['op'], buckets: [...REQUEST_BUCKETS_SECONDS], registers: [registry] });
  if (!cached) return { registry, observe: (op, status, seconds) => { requests.inc({ op, status: String(status) }); latency.observe({ op }, seconds); } };
  const counters = new Map<string, { inc(): void }>();
  const histograms = new Map<string, { observe(s: number): void }>();
  return {
    registry,
    observe(op, status, seconds) {
      const key = `${op} ${status}`;
      let counter = counters.get(key);
      if (counter === undefined) counters.set(key, (counter = requests.labels(op, String(status))));
      counter.inc();
      let histogram = histograms.get(op);
      if (histogram === undefined) histograms.set(op, (histogram = latency.labels(op)));
      histogram.observe(seconds);
    },
  };
}

async function measure(label: string, observe: Observe, registry: Registry): Promise<void> {
  const perCallNs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const [op, status] = mix[i & 7]!;
      observe(op, status, latencies[i & 63]!);
    }
    perCallNs.push(Number(process.hrtime.bigint() - started) / calls);
  }
  perCallNs.sort((a, b) => a - b);
  const text = await registry.metrics();
  let counted = 0;
  for (const line of text.split('\n')) if (line.startsWith('ringkv_request_duration_seconds_count{')) counted += Number(line.split(' ').at(-1));
  if (counted !== calls * rounds) throw new Error(`${label}: the histogram counted ${counted} requests, not ${calls * rounds}`);
  console.log(`| ${label} | ${perCallNs[Math.floor(rounds / 2)]!.toFixed(1)} | ${perCallNs[0]!.toFixed(1)} | ${perCallNs.at(-1)!.toFixed(1)} |`);
}

console.log(`${calls} calls x ${rounds} rounds\n\n| observeRequest | median ns/call | min | max |\n|---|---|---|---|`);
const before = promClient(false);
await measure('prom-client inc/observe (before)', before.observe, before.registry);
const cached = promClient(true);
await measure('prom-client, cached labels() children', cached.observe, cached.registry);
await measure('node (request-metrics.ts)', (op, status, seconds) => metrics.observeRequest(op, status, seconds), metrics.registry);
await store.close();
