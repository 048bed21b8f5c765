// createMetrics: counts read at scrape are counters named _total; the deprecated names carry the
// same values and say what replaces them; gossip is split by meaning; the key space by replicas
// alive follows the ring and who is reachable, scrape by scrape.
import t from 'tap';
import { buildRing, replicaHealth } from '@ringkv/protocol';
import { DEPRECATED_METRICS, createMetrics, type GossipStats } from './metrics.js';
import { MemoryStore } from './storage/memory-store.js';
import type { Transport, TransportStats } from './transport/transport.js';

/** `# TYPE` of every family in an exposition. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The value of the first sample of `name` whose labels include `labels` (`k="v"` pairs). */
function sample(text: string, name: string, ...labels: string[]): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

function fixture() {
  const store = new MemoryStore({ nowMs: Date.now });
  let transportStats: TransportStats = { opsSent: 7, batchesSent: 3, batchesFailed: 1, forwards: 0, probes: 2 };
  const transport = { stats: () => transportStats } as unknown as Transport;
  const gossip: GossipStats = { probes: 11, probeFailures: 2, indirectProbes: 4, suspicions: 3, refutations: 1, deaths: 1, packetsIn: 40, packetsOut: 50, pushPulls: 6, handlerErrors: 0, dropped: { stale: 5, malformed: 1 }, localHealth: 2 };
  const metrics = createMetrics('n1', store, transport, false, () => gossip, () => ({ open: 4, dropped: 9 }));
  return { metrics, store, setTransport: (s: TransportStats) => (transportStats = s) };
}

t.test('counts kept elsewhere are counters named _total, read at each scrape', async (t) => {
  const { metrics, store, setTransport } = fixture();
  t.teardown(() => store.close());
  let text = await metrics.registry.metrics();
  const type = types(text);
  for (const name of ['ringkv_store_commits_total', 'ringkv_store_writes_total', 'ringkv_store_failed_commits_total', 'ringkv_transport_ops_sent_total', 'ringkv_transport_batches_sent_total', 'ringkv_transport_batches_failed_total', 'ringkv_transport_probes_sent_total', 'ringkv_connections_dropped_total']) {
    t.equal(type.get(name), 'counter', `${name} is a counter`);
  }
  t.equal(sample(text, 'ringkv_transport_ops_sent_total'), 7);
  t.equal(sample(text, 'ringkv_connections_dropped_total'), 9);
  t.equal(sample(text, 'ringkv_connections_open'), 4);
  setTransport({ opsSent: 70, batchesSent: 30, batchesFailed: 1, forwards: 0, probes: 2 });
  text = await metrics.registry.metrics();
  t.equal(sample(text, 'ringkv_transport_ops_sent_total'), 70, 'the next scrape reads the source again');
  t.equal(sample(text, 'ringkv_transport_batches_sent_total'), 30);
  for (const [name, kind] of types(text)) {
    if (name.endsWith('_total')) t.equal(kind, 'counter', `${name}: only counters end in _total`);
    if (kind === 'counter') t.ok(name.endsWith('_total'), `${name}: every counter ends in _total`);
  }
});

t.test('every deprecated name is still exported, with its replacement\'s value and a HELP naming it', async (t) => {
  const { metrics, store } = fixture();
  t.teardown(() => store.close());
  metrics.counter('ringkv_peer_trips_total', 'Times a peer was routed around.', () => 12);
  metrics.antiEntropyEvents.exchanged({ peer: 'n2', startedMs: 1_000_000, durationMs: 500, keysIn: 1, keysOut: 2, bytes: 300, keysFailed: 0, sharedRanges: 1, setsCompared: 1, keysCompared: 3 });
  const text = await metrics.registry.metrics();
  const type = types(text);
  for (const [old, replacement] of Object.entries(DEPRECATED_METRICS)) {
    t.equal(type.get(old), 'gauge', `${old} is still exported`);
    t.match(text, new RegExp(`^# HELP ${old} Deprecated: use ${replacement.replace(/[*]/g, '\\*')} \\(docs/metrics.md\\)`, 'm'), `${old} names ${replacement}`);
    const single = replacement.split(' ')[0]!;
    if (!single.includes('*')) t.equal(sample(text, old), sample(text, single), `${old} equals ${single}`);
  }
  t.equal(sample(text, 'ringkv_anti_entropy_last_completed_timestamp_seconds', 'peer="n2"'), 1000.5, 'Unix seconds');
  t.equal(sample(text, 'ringkv_peer_trips_total'), 12);
});

t.test('gossip: one counter per meaning, the health score a gauge of its own', async (t) => {
  const { metrics, store } = fixture();
  t.teardown(() => store.close());
  const text = await metrics.registry.metrics();
  const type = types(text);
  t.equal(type.get('ringkv_gossip_local_health_score'), 'gauge');
  t.equal(sample(text, 'ringkv_gossip_local_health_score'), 2);
  t.equal(type.get('ringkv_gossip_suspicions_total'), 'counter');
  t.equal(sample(text, 'ringkv_gossip_suspicions_total'), 3);
  t.equal(sample(text, 'ringkv_gossip_deaths_total'), 1);
  t.equal(sample(text, 'ringkv_gossip_packets_total', 'direction="in"'), 40);
  t.equal(sample(text, 'ringkv_gossip_packets_total', 'direction="out"'), 50);
  t.equal(sample(text, 'ringkv_gossip_packets_dropped_total', 'reason="stale"'), 5);
  t.equal(sample(text, 'ringkv_gossip', 'counter="dropped_stale"'), 5, 'the deprecated gauge keeps its old series');
  t.equal(sample(text, 'ringkv_gossip', 'counter="local_health"'), 2);
});

t.test('key space by replicas alive: the ring and reachability at each scrape', async (t) => {
  const { metrics, store } = fixture();
  t.teardown(() => store.close());
  const ring = buildRing(['a', 'b', 'c', 'd', 'e'], 32);
  const dead = new Set<string>();
  metrics.watchRing(() => ring, 3, (id) => !dead.has(id));
  let text = await metrics.registry.metrics();
  t.equal(sample(text, 'ringkv_ring_replicas_share', 'replicas="all"'), 1);
  t.equal(sample(text, 'ringkv_ring_replicas_share', 'replicas="fewer"'), 0);
  t.equal(sample(text, 'ringkv_ring_arcs', 'replicas="all"'), replicaHealth(ring, 3, () => true).arcs.all);
  dead.add('b').add('d');
  text = await metrics.registry.metrics();
  const expected = replicaHealth(ring, 3, (id) => !dead.has(id));
  t.ok(expected.share.fewer > 0 && expected.share.quorum > 0, 'two of five dead: some arcs at a quorum, some below');
  for (const group of ['all', 'quorum', 'fewer'] as const) {
    t.ok(Math.abs(sample(text, 'ringkv_ring_replicas_share', `replicas="${group}"`) - expected.share[group]) < 1e-9, `share ${group} follows the next scrape`);
    t.equal(sample(text, 'ringkv_ring_arcs', `replicas="${group}"`), expected.arcs[group], `arcs ${group}`);
  }
});
