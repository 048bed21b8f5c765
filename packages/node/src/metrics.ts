/**
 * Prometheus metrics of one node (GET /metrics), on a registry of its own so several nodes in
 * one process (tests) do not collide. prom-client does the exposition format and histograms.
 *
 * Names follow the Prometheus conventions (https://prometheus.io/docs/practices/naming/):
 * base units (seconds, bytes), `_total` on counters, one meaning per metric name (labels
 * only split a quantity whose sum means something). A count kept elsewhere (the store's
 * commits, the transport's sends, gossip's probes) is exported as a counter whose value is
 * read at scrape time: the sources only ever grow, which is all a Prometheus counter promises.
 * The reference, with the deprecated names and their replacements, is docs/metrics.md.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { replicaHealth, type ReplicaHealth, type Ring } from '@ringkv/protocol';
import type { CoordinatorEvents } from './replication/coordinator.js';
import type { ExchangeReport } from './replication/anti-entropy.js';
import type { Store } from './storage/store.js';
import { costBounded } from './cost-bounded.js';
import { RequestMetrics } from './request-metrics.js';
import type { Transport } from './transport/transport.js';

export interface NodeMetrics {
  readonly registry: Registry;
  /** A gauge read at each scrape, for parts built after the metrics (node.ts). */
  gauge(name: string, help: string, read: () => number): void;
  /**
   * A counter read at each scrape from a count that only grows (node.ts); `name` ends in
   * `_total`. The deprecated gauge it replaces (DEPRECATED_METRICS) is registered with it.
   */
  counter(name: string, help: string, read: () => number): void;
  /**
   * The key space by replicas alive (`ringkv_ring_replicas_share`, `ringkv_ring_arcs`),
   * computed at each scrape from the node's current ring and its membership's reachability.
   */
  watchRing(ring: () => Ring, n: number, isAlive: (id: string) => boolean): void;
  readonly events: CoordinatorEvents;
  readonly hintEvents: { delivered(count: number): void; dropped(count: number): void };
  readonly antiEntropyEvents: { exchanged(report: ExchangeReport): void };
  readonly transferEvents: { handedOff(count: number): void };
  readonly reaperEvents: { reaped(count: number): void };
  /** Records one client request: op, HTTP status, and seconds taken. */
  observeRequest(op: string, status: number, seconds: number): void;
  /** Counts a refused /internal/ request by reason. */
  internalRefused(reason: string): void;
  /** Counts a request the access checks refused (area: admin, kv, metrics, internal; the code). */
  accessRefused(area: string, code: string): void;
}

/** Connection counts of the HTTP port (node.ts keeps them). */
export interface ConnectionCounts {
  readonly open: number;
  /** Connections closed at once because connectionsMax were open. */
  readonly dropped: number;
}

/** SWIM's counts since start (node.ts reads them from the driver) and Lifeguard's health score. */
export interface GossipStats {
  readonly probes: number;
  readonly probeFailures: number;
  readonly indirectProbes: number;
  readonly suspicions: number;
  readonly refutations: number;
  /** Members marked dead in this node's view (its own finding or gossip's). */
  readonly deaths: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly pushPulls: number;
  readonly handlerErrors: number;
  /** Packets dropped, by reason (unauthenticated, stale, replayed, oversize, malformed). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Lifeguard's local health score: 0 is healthy; probe timeouts scale by score + 1. */
  readonly localHealth: number;
}

/**
 * Names exported before issue 13 that broke the conventions (counts as gauges without
 * `_total`, several meanings under one name), each with its replacement. They are still
 * exported, with the same values, for the 0.2 releases, and will be removed after: an
 * operator's dashboards and alerts keep working while they move (docs/metrics.md).
 */
export const DEPRECATED_METRICS: Readonly<Record<string, string>> = {
  ringkv_store_commits: 'ringkv_store_commits_total',
  ringkv_store_writes: 'ringkv_store_writes_total',
  ringkv_store_failed_commits: 'ringkv_store_failed_commits_total',
  ringkv_transport_ops_sent: 'ringkv_transport_ops_sent_total',
  ringkv_transport_batches_sent: 'ringkv_transport_batches_sent_total',
  ringkv_transport_batches_failed: 'ringkv_transport_batches_failed_total',
  ringkv_transport_probes_sent: 'ringkv_transport_probes_sent_total',
  ringkv_connections_dropped: 'ringkv_connections_dropped_total',
  ringkv_peer_trips: 'ringkv_peer_trips_total',
  ringkv_anti_entropy_last_completed_seconds: 'ringkv_anti_entropy_last_completed_timestamp_seconds',
  ringkv_gossip: 'ringkv_gossip_*_total and ringkv_gossip_local_health_score',
};

/**
 * The node's registry and the hooks its parts report through. `gossipStats` and `connections`
 * are absent when the node has no SWIM membership or no HTTP port of its own (in-process tests);
 * their metrics are then not exported.
 */
export function createMetrics(
  nodeId: string,
  store: Store,
  transport: Transport,
  processMetrics: boolean,
  gossipStats?: () => GossipStats,
  connections?: () => ConnectionCounts,
): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  // The standard process_* and nodejs_* names, which stock dashboards and alerts expect.
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics();
  requests.register(registry);
  const counters = eventCounters(registry);
  const gauge = (name: string, help: string, read: () => number) =>
    void new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  const counter = (name: string, help: string, read: () => number) => {
    readCounter(registry, name, help, read);
    // The gauge this counter replaces, if any, with the same value until it is removed.
    const old = Object.keys(DEPRECATED_METRICS).find((oldName) => DEPRECATED_METRICS[oldName] === name);
    if (old !== undefined) gauge(old, `Deprecated: use ${name} (docs/metrics.md). ${help} Since start.`, read);
  };
  // A count of the hints table: reused for 100 times its cost, so /metrics in a loop cannot stall the node.
  const hintCount = costBounded(() => store.hints.count(), { nowMs: () => performance.now(), elapsedMs: () => performance.now(), minAgeMs: 0, costFactor: 100 });
  gauge('ringkv_hints_stored', 'Hints this node holds for unreachable owners.', hintCount);
  const counts: Array<[string, string, () => number]> = [
    ['ringkv_store_commits_total', 'Group-commit transactions.', () => store.stats().commits],
    ['ringkv_store_writes_total', 'Writes committed (a key written twice in one transaction counts once).', () => store.stats().writes],
    ['ringkv_store_failed_commits_total', 'Group commits that failed (every write in them was rejected).', () => store.stats().failedCommits],
    ['ringkv_transport_ops_sent_total', 'Replica ops sent to peers.', () => transport.stats().opsSent],
    ['ringkv_transport_batches_sent_total', 'Batches (frames or requests) that carried replica ops to peers.', () => transport.stats().batchesSent],
    ['ringkv_transport_batches_failed_total', 'Replica batches that failed as a whole (peer unreachable, timeout, refused).', () => transport.stats().batchesFailed],
    ['ringkv_transport_probes_sent_total', 'Liveness probes sent to late peers (replication/liveness.ts).', () => transport.stats().probes],
  ];
  if (connections !== undefined) {
    gauge('ringkv_connections_open', 'Open connections on the HTTP port.', () => connections().open);
    counts.push(['ringkv_connections_dropped_total', 'Connections closed at once because connectionsMax were open.', () => connections().dropped]);
  }
  for (const [name, help, read] of counts) counter(name, help, read);
  if (gossipStats !== undefined) gossipMetrics(registry, gossipStats);
  return {
    registry,
    gauge,
    counter,
    watchRing: (ring, n, isAlive) => ringMetrics(registry, () => replicaHealth(ring(), n, isAlive, 0)),
    events: {
      readRepair: (targets) => counters.readRepairs.inc(targets),
      quorumFailed: (op, code) => counters.quorumFailures.inc({ op, code }),
      forwarded: (op) => counters.forwards.inc({ op }),
      hintSent: () => counters.hintsSent.inc(),
      hintKept: () => counters.hintsKept.inc(),
    },
    hintEvents: { delivered: (count) => counters.hintsDelivered.inc(count), dropped: (count) => counters.hintsDropped.inc(count) },
    observeRequest: (op, status, seconds) => requests.observe(op, status, seconds),
    internalRefused: (reason) => counters.refused.inc({ reason }),
    accessRefused: (area, code) => counters.accessRefused.inc({ area, code }),
    transferEvents: { handedOff: (count) => counters.handedOff.inc(count) },
    reaperEvents: { reaped: (count) => counters.reaped.inc(count) },
    antiEntropyEvents: { exchanged: (report) => counters.exchanged(report) },
  };
}

/** The counters that events increment (rare next to requests: prom-client's own are fine). */
function eventCounters(registry: Registry) {
  const registers = [registry];
  const exchanges = new Counter({ name: 'ringkv_anti_entropy_exchanges_total', help: 'Anti-entropy exchanges run by this node, by peer and result (ok or the error code).', labelNames: ['peer', 'result'], registers });
  const repaired = new Counter({ name: 'ringkv_anti_entropy_keys_total', help: 'Keys anti-entropy moved: fetched and merged here (in) or pushed to a peer (out).', labelNames: ['direction'], registers });
  const exchangedBytes = new Counter({ name: 'ringkv_anti_entropy_bytes_total', help: 'Bytes of tree messages and objects anti-entropy exchanged, both ways.', registers });
  const lastCompleted = new Gauge({ name: 'ringkv_anti_entropy_last_completed_timestamp_seconds', help: 'When the last successful exchange with each peer ended, in Unix seconds.', labelNames: ['peer'], registers });
  const lastCompletedOld = new Gauge({ name: 'ringkv_anti_entropy_last_completed_seconds', help: `Deprecated: use ${DEPRECATED_METRICS.ringkv_anti_entropy_last_completed_seconds} (docs/metrics.md).`, labelNames: ['peer'], registers });
  return {
    readRepairs: new Counter({ name: 'ringkv_read_repairs_total', help: 'Stale replicas sent the merged object after a read.', registers }),
    quorumFailures: new Counter({ name: 'ringkv_quorum_failures_total', help: 'Requests that missed their quorum, by operation and code.', labelNames: ['op', 'code'], registers }),
    forwards: new Counter({ name: 'ringkv_forwarded_total', help: 'Writes forwarded to a preference-list node, by operation.', labelNames: ['op'], registers }),
    hintsSent: new Counter({ name: 'ringkv_hints_sent_total', help: 'Writes sent to a fallback as a hint for an unreachable primary.', registers }),
    hintsKept: new Counter({ name: 'ringkv_hints_kept_total', help: 'Hints a coordinator kept for a replica that did not acknowledge a write in time (refused, reset or timed out).', registers }),
    hintsDelivered: new Counter({ name: 'ringkv_hints_delivered_total', help: 'Hints delivered to their owner and deleted.', registers }),
    hintsDropped: new Counter({ name: 'ringkv_hints_dropped_total', help: 'Hints dropped unsent (older than hintTtlMs).', registers }),
    reaped: new Counter({ name: 'ringkv_reaped_total', help: 'Dead keys (tombstones, expired TTLs) reaped past their grace.', registers }),
    handedOff: new Counter({ name: 'ringkv_transfer_keys_total', help: 'Keys this node no longer owns, handed to their owners and dropped here.', registers }),
    refused: new Counter({ name: 'ringkv_internal_refused_total', help: 'Refused /internal/ requests by reason.', labelNames: ['reason'], registers }),
    accessRefused: new Counter({ name: 'ringkv_access_refused_total', help: 'Requests refused for a missing or wrong token or peer certificate (401) or an operation not granted (403), by area and code.', labelNames: ['area', 'code'], registers }),
    exchanged(report: ExchangeReport): void {
      exchanges.inc({ peer: report.peer, result: report.error ?? 'ok' });
      repaired.inc({ direction: 'in' }, report.keysIn);
      repaired.inc({ direction: 'out' }, report.keysOut);
      exchangedBytes.inc(report.bytes);
      if (report.error !== undefined) return;
      const endedS = (report.startedMs + report.durationMs) / 1000;
      lastCompleted.set({ peer: report.peer }, endedS);
      lastCompletedOld.set({ peer: report.peer }, endedS);
    },
  };
}

/**
 * A counter whose value is read from a count kept elsewhere, at scrape time. With labels,
 * `read` returns the value per label value (one label name).
 */
function readCounter(registry: Registry, name: string, help: string, read: () => number): Counter;
function readCounter(registry: Registry, name: string, help: string, read: () => Readonly<Record<string, number>>, label: string): Counter;
function readCounter(registry: Registry, name: string, help: string, read: () => number | Readonly<Record<string, number>>, label?: string): Counter {
  return new Counter({
    name,
    help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
    collect() {
      // reset() then inc(): the exported value is the source's, whatever was exported before.
      this.reset();
      const value = read();
      if (typeof value === 'number') this.inc(value);
      else for (const [labelValue, count] of Object.entries(value)) this.inc({ [label!]: labelValue }, count);
    },
  });
}

/** SWIM's counts as counters of their own, Lifeguard's score as a gauge, and the old mixed gauge. */
function gossipMetrics(registry: Registry, stats: () => GossipStats): void {
  const plain: Array<[string, string, (s: GossipStats) => number]> = [
    ['probes', 'Direct probes (pings) this node sent.', (s) => s.probes],
    ['probe_failures', 'Probes that got no ack, directly or through helpers.', (s) => s.probeFailures],
    ['indirect_probes', 'Indirect probe requests (ping-req) this node sent to helpers.', (s) => s.indirectProbes],
    ['suspicions', 'Suspicions of a member this node started, on its own evidence or from gossip.', (s) => s.suspicions],
    ['refutations', 'Times this node refuted a suspicion or death of itself.', (s) => s.refutations],
    ['deaths', 'Members this node marked dead, on its own evidence or from gossip.', (s) => s.deaths],
    ['push_pulls', 'Full state exchanges (TCP push/pull) this node started.', (s) => s.pushPulls],
    ['handler_errors', 'Errors caught at a gossip socket callback (a bug; the packet or connection was dropped).', (s) => s.handlerErrors],
  ];
  for (const [key, help, pick] of plain) readCounter(registry, `ringkv_gossip_${key}_total`, help, () => pick(stats()));
  readCounter(registry, 'ringkv_gossip_packets_total', 'Gossip packets received (in) and sent (out).', () => ({ in: stats().packetsIn, out: stats().packetsOut }), 'direction');
  readCounter(registry, 'ringkv_gossip_packets_dropped_total', 'Gossip packets dropped unread, by reason.', () => stats().dropped, 'reason');
  new Gauge({ name: 'ringkv_gossip_local_health_score', help: "Lifeguard's local health score: 0 is healthy; probe timeouts scale by score + 1.", registers: [registry], collect() { this.set(stats().localHealth); } });
  new Gauge({
    name: 'ringkv_gossip',
    help: `Deprecated: use ${DEPRECATED_METRICS.ringkv_gossip} (docs/metrics.md). SWIM counters since start and the Lifeguard health score, by counter.`,
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      const s = stats();
      for (const [key, , pick] of plain) this.set({ counter: key }, pick(s));
      this.set({ counter: 'packets_in' }, s.packetsIn);
      this.set({ counter: 'packets_out' }, s.packetsOut);
      this.set({ counter: 'local_health' }, s.localHealth);
      for (const [reason, count] of Object.entries(s.dropped)) this.set({ counter: `dropped_${reason}` }, count);
    },
  });
}

/** The key space by replicas alive: shares (0..1) and arc counts in three groups. */
function ringMetrics(registry: Registry, compute: () => ReplicaHealth): void {
  // Computed once per scrape for both gauges: a scrape collects every metric in one
  // synchronous pass, so the value is dropped at the next microtask and never goes stale.
  let cached: ReplicaHealth | undefined;
  const health = () => {
    if (cached === undefined) {
      cached = compute();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  const groups = ['all', 'quorum', 'fewer'] as const;
  new Gauge({
    name: 'ringkv_ring_replicas_share',
    help: 'Fraction of the key space (0..1) whose N replicas are all reachable (all), a majority but not all (quorum), or fewer than a majority (fewer), as this node sees the ring.',
    labelNames: ['replicas'],
    registers: [registry],
    collect() {
      const { share } = health();
      for (const group of groups) this.set({ replicas: group }, share[group]);
    },
  });
  new Gauge({
    name: 'ringkv_ring_arcs',
    help: 'Ring arcs (ranges between adjacent tokens) by replicas reachable: all N, a majority (quorum), or fewer.',
    labelNames: ['replicas'],
    registers: [registry],
    collect() {
      const { arcs } = health();
      for (const group of groups) this.set({ replicas: group }, arcs[group]);
    },
  });
}
