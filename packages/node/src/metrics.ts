/**
 * Prometheus metrics of one node (GET /metrics), on a registry of its own so several nodes in
 * one process (tests) do not collide. prom-client does the exposition format and histograms.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoordinatorEvents } from './replication/coordinator.js';
import type { ExchangeReport } from './replication/anti-entropy.js';
import type { Store } from './storage/store.js';
import { costBounded } from './cost-bounded.js';
import type { Transport } from './transport/transport.js';

export interface NodeMetrics {
  readonly registry: Registry;
  /** A gauge read at each scrape, for parts built after the metrics (node.ts). */
  gauge(name: string, help: string, read: () => number): void;
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

export function createMetrics(
  nodeId: string,
  store: Store,
  transport: Transport,
  processMetrics: boolean,
  swimStats?: () => Record<string, number>,
  connections?: () => ConnectionCounts,
): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'ringkv_process_' });
  const requests = new Counter({ name: 'ringkv_requests_total', help: 'Client requests by operation and HTTP status.', labelNames: ['op', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'ringkv_request_duration_seconds',
    help: 'Client request latency by operation.',
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const readRepairs = new Counter({ name: 'ringkv_read_repairs_total', help: 'Stale replicas sent the merged object after a read.', registers: [registry] });
  const quorumFailures = new Counter({ name: 'ringkv_quorum_failures_total', help: 'Requests that missed their quorum, by operation and code.', labelNames: ['op', 'code'], registers: [registry] });
  const forwards = new Counter({ name: 'ringkv_forwarded_total', help: 'Requests forwarded to a preference-list node.', labelNames: ['op'], registers: [registry] });
  const hintsSent = new Counter({ name: 'ringkv_hints_sent_total', help: 'Writes sent to a fallback as a hint for an unreachable primary.', registers: [registry] });
  const hintsKept = new Counter({ name: 'ringkv_hints_kept_total', help: 'Hints a coordinator kept for a replica that did not acknowledge a write in time (refused, reset or timed out).', registers: [registry] });
  const hintsDelivered = new Counter({ name: 'ringkv_hints_delivered_total', help: 'Hints delivered to their owner and deleted.', registers: [registry] });
  const hintsDropped = new Counter({ name: 'ringkv_hints_dropped_total', help: 'Hints dropped unsent (older than hintTtlMs).', registers: [registry] });
  const exchanges = new Counter({ name: 'ringkv_anti_entropy_exchanges_total', help: 'Anti-entropy exchanges run by this node, by peer and result (ok or the error code).', labelNames: ['peer', 'result'], registers: [registry] });
  const repaired = new Counter({ name: 'ringkv_anti_entropy_keys_total', help: 'Keys anti-entropy moved: fetched and merged here (in) or pushed to a peer (out).', labelNames: ['direction'], registers: [registry] });
  const exchangedBytes = new Counter({ name: 'ringkv_anti_entropy_bytes_total', help: 'Bytes of tree messages and objects anti-entropy exchanged, both ways.', registers: [registry] });
  const lastCompleted = new Gauge({ name: 'ringkv_anti_entropy_last_completed_seconds', help: 'When the last successful exchange with each peer ended (Unix time).', labelNames: ['peer'], registers: [registry] });
  const reaped = new Counter({ name: 'ringkv_reaped_total', help: 'Dead keys (tombstones, expired TTLs) reaped past their grace.', registers: [registry] });
  const handedOff = new Counter({ name: 'ringkv_transfer_keys_total', help: 'Keys this node no longer owns, handed to their owners and dropped here.', registers: [registry] });
  const refused = new Counter({ name: 'ringkv_internal_refused_total', help: 'Refused /internal/ requests by reason.', labelNames: ['reason'], registers: [registry] });
  const accessRefused = new Counter({ name: 'ringkv_access_refused_total', help: 'Requests refused for a missing or wrong token or peer certificate (401) or an operation not granted (403), by area and code.', labelNames: ['area', 'code'], registers: [registry] });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  // A count of the hints table: reused for 100 times its cost, so /metrics in a loop cannot stall the node.
  const hintCount = costBounded(() => store.hints.count(), { nowMs: () => performance.now(), minAgeMs: 0, costFactor: 100 });
  gauge('ringkv_hints_stored', 'Hints this node holds for unreachable owners.', hintCount);
  gauge('ringkv_store_commits', 'Group-commit transactions since start.', () => store.stats().commits);
  gauge('ringkv_store_writes', 'Writes committed since start.', () => store.stats().writes);
  gauge('ringkv_store_failed_commits', 'Group commits that failed since start.', () => store.stats().failedCommits);
  gauge('ringkv_transport_ops_sent', 'Replica ops sent to peers since start.', () => transport.stats().opsSent);
  gauge('ringkv_transport_batches_sent', 'Requests that carried replica ops since start.', () => transport.stats().batchesSent);
  gauge('ringkv_transport_batches_failed', 'Replica batches that failed as a whole since start.', () => transport.stats().batchesFailed);
  gauge('ringkv_transport_probes_sent', 'Liveness probes sent to late peers since start (replication/liveness.ts).', () => transport.stats().probes);
  if (connections !== undefined) {
    gauge('ringkv_connections_open', 'Open connections on the HTTP port.', () => connections().open);
    gauge('ringkv_connections_dropped', 'Connections closed at once since start because connectionsMax were open.', () => connections().dropped);
  }
  if (swimStats !== undefined) {
    new Gauge({
      name: 'ringkv_gossip',
      help: 'SWIM gossip counters since start (probes, suspicions, refutations, deaths declared, packets, drops by reason) and the Lifeguard local health score.',
      labelNames: ['counter'],
      registers: [registry],
      collect() {
        for (const [counter, value] of Object.entries(swimStats())) this.set({ counter }, value);
      },
    });
  }
  return {
    registry,
    gauge,
    events: {
      readRepair: (targets) => readRepairs.inc(targets),
      quorumFailed: (op, code) => quorumFailures.inc({ op, code }),
      forwarded: (op) => forwards.inc({ op }),
      hintSent: () => hintsSent.inc(),
      hintKept: () => hintsKept.inc(),
    },
    hintEvents: { delivered: (count) => hintsDelivered.inc(count), dropped: (count) => hintsDropped.inc(count) },
    observeRequest(op, status, seconds) {
      requests.inc({ op, status: String(status) });
      latency.observe({ op }, seconds);
    },
    internalRefused: (reason) => refused.inc({ reason }),
    accessRefused: (area, code) => accessRefused.inc({ area, code }),
    transferEvents: { handedOff: (count) => handedOff.inc(count) },
    reaperEvents: { reaped: (count) => reaped.inc(count) },
    antiEntropyEvents: {
      exchanged(report) {
        exchanges.inc({ peer: report.peer, result: report.error ?? 'ok' });
        repaired.inc({ direction: 'in' }, report.keysIn);
        repaired.inc({ direction: 'out' }, report.keysOut);
        exchangedBytes.inc(report.bytes);
        if (report.error === undefined) lastCompleted.set({ peer: report.peer }, (report.startedMs + report.durationMs) / 1000);
      },
    },
  };
}
