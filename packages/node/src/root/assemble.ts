/**
 * `assemble`: wires every part of a node whose address is known, in one order: membership,
 * transport and metrics; the replication part (root/replication.ts); the HTTP edge
 * (root/app.ts). Tests and the cluster simulation call it with in-memory twins to drive a
 * fully wired node through `app.request()`; startNode calls it once the port is bound.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import { createMetrics } from '../metrics.js';
import type { MembershipView } from '../membership/membership.js';
import { StaticMembership } from '../membership/static-membership.js';
import { ClockSkew } from '../membership/clock-skew.js';
import type { Store } from '../storage/store.js';
import { realTimers } from '../timers.js';
import { Keyring } from '../security/keyring.js';
import { RequestWindow } from '../dashboard/request-window.js';
import { ExchangeLog } from '../dashboard/exchange-log.js';
import { Gauge } from 'prom-client';
import { KeyWatchService } from '../replication/key-watch.js';
import { buildEdge, DASHBOARD_SLOT_MS, DASHBOARD_SLOTS } from './app.js';
import type { NodeParts } from './parts.js';
import { buildReplication } from './replication.js';
import { openTransport } from './transport.js';

/**
 * Wires every part of a node whose address is known; returns the app and its closers. Tests
 * call it with in-memory twins to drive a fully wired node through `app.request()`.
 */
export function assemble(config: NodeConfig, url: string, parts: NodeParts, logger: Logger, nowMs: () => number, store: Store) {
  const startedMs = nowMs();
  // The one place timers and randomness get their defaults: every part below takes them as
  // required dependencies, so none can fall back to the process's own behind a simulation.
  const timers = parts.timers ?? realTimers;
  const random = parts.random ?? Math.random;
  const keyring = parts.keyring ?? new Keyring([config.secret]);
  const staticMembership = parts.membership === undefined ? new StaticMembership(config.nodeId, url, config.peers, config.zone) : undefined;
  const membership: MembershipView = parts.membership ?? staticMembership!;
  const clock = parts.clock ?? new ClockSkew();
  const transport = parts.transport ?? openTransport(config, { nowMs, random, faults: parts.faults, keyring, tls: parts.tls, logger, clock });
  const metrics = createMetrics(config.nodeId, store, transport, config.processMetrics, parts.swimStats, parts.connections);
  // The dashboard's own recent figures, fed from the same places /metrics is (docs/dashboard.md).
  const requestWindow = new RequestWindow({ slotMs: DASHBOARD_SLOT_MS, slots: DASHBOARD_SLOTS, nowMs });
  const exchangeLog = new ExchangeLog();
  const replication = buildReplication({ config, store, membership, transport, logger, nowMs, timers, random, metrics, clock, faults: parts.faults, onExchange: (report) => exchangeLog.record(report) });
  let stopping = false;
  let draining = false;
  const watch = new KeyWatchService({
    kv: replication.coordinator,
    ...(store.onCommit ? { onCommit: store.onCommit.bind(store) } : {}),
    timers,
    random,
    watchersMax: config.watchersMax,
    pollIntervalMs: config.watchPollIntervalMs,
    readTimeoutMs: config.requestTimeoutMsDefault,
  });
  // The parked watches, read at each scrape (docs/metrics.md).
  void new Gauge({ name: 'ringkv_watchers_parked', help: 'Watches (GET /kv/{key}?changed_since=) parked on this node now; watchersMax bounds it.', registers: [metrics.registry], collect() { this.set(watch.parked); } });
  const edge = buildEdge({
    config,
    parts,
    logger,
    nowMs,
    monotonicMs: timers.monotonicMs,
    startedMs,
    store,
    membership,
    staticMembership,
    keyring,
    clock,
    metrics,
    replication,
    requestWindow,
    exchangeLog,
    isStopping: () => stopping,
    isDraining: () => draining,
    watch,
    random,
  });
  const stopEdge = () => {
    stopping = true;
    // Parked watches end now with KV_ERR_SHUTTING_DOWN: their clients resume on another node.
    watch.close();
  };
  const { coordinator, replica, handoff, antiEntropy, transfer, reaper } = replication;
  return { app: edge.app, membership, staticMembership, transport, acceptor: edge.acceptor, coordinator, replica, handoff, antiEntropy, transfer, reaper, peerFetch: edge.peerFetch, watch, stop: () => stopEdge(), startDraining: () => (draining = true) };
}

/** A node's wired parts, as `assemble` returns them. */
export type Assembled = ReturnType<typeof assemble>;
