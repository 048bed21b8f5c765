/**
 * The composition root (STYLE.md §6): builds a node's parts from its config and wires them.
 * Nothing else constructs long-lived parts; each part gets only the narrow dependencies it
 * uses. `startNode` returns a handle with an idempotent graceful `close()` (stop taking
 * requests, let in-flight ones finish up to the grace period, commit and close the database)
 * and an abrupt `destroy()`.
 */
import { leaveStep } from './replication/leave.js';
import { checkNotRemoved, loadRemovals, markSelfRemoved, recordRemoval } from './membership/removals.js';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import type { Hono } from 'hono';
import type { StatusBody } from '@ringkv/protocol';
import { parseHostPort, type NodeConfig } from './config.js';
import { CONTEXT_ENTRIES_MAX, decodeContext, encodeContext } from './core/context-codec.js';
import { contextOf, type VersionedObject } from './core/versioned.js';
import { createApp } from './http/app.js';
import type { AccessDeps } from './http/access.js';
import { createEdgeServer } from './http/edge-server.js';
import { AuthFile } from './access/auth-file.js';
import { loadTls, peerConnectOptions, type TlsMaterial } from './access/tls-files.js';
import { costBounded } from './cost-bounded.js';
import { createMetrics, type ConnectionCounts, type GossipStats } from './metrics.js';
import { countByStatus } from './membership/membership.js';
import { StaticMembership } from './membership/static-membership.js';
import type { MembershipView } from './membership/membership.js';
import type { MembershipControl } from './membership/control.js';
import { SwimMembership } from './membership/swim-membership.js';
import { SwimDriver } from './membership/swim/driver.js';
import { defaultSwimConfig } from './membership/swim/types.js';
import { RingView } from './membership/ring-view.js';
import { Coordinator } from './replication/coordinator.js';
import { PeerHealth } from './replication/peer-health.js';
import { ClockSkew, SKEW_READY_MAX_MS } from './membership/clock-skew.js';
import { ReplicaService } from './replication/replica-service.js';
import { HintedHandoff } from './replication/hinted-handoff.js';
import { AntiEntropy } from './replication/anti-entropy.js';
import { RateLimiter } from './replication/rate-limiter.js';
import { OwnershipTransfer } from './replication/ownership-transfer.js';
import { Reaper } from './replication/reaper.js';
import { SqliteStore } from './storage/sqlite-store.js';
import type { Store } from './storage/store.js';
import { HttpTransport } from './transport/http-transport.js';
import { StreamTransport } from './transport/stream-transport.js';
import { StreamAcceptor, type AcceptorStats } from './transport/stream-acceptor.js';
import { ChallengeTable } from './transport/stream-auth.js';
import type { Transport } from './transport/transport.js';
import { FaultPlan } from './transport/fault-plan.js';
import { realTimers, type Timers } from './timers.js';
import { Keyring } from './security/keyring.js';
import { newEpoch, newNonce } from './transport/auth.js';
import { bearerToken, sameToken } from './access/bearer.js';
import { RequestWindow } from './dashboard/request-window.js';
import { ExchangeLog } from './dashboard/exchange-log.js';
import { PeerFetch } from './dashboard/peer-fetch.js';
import type { DashboardDeps } from './http/dashboard-routes.js';

/** The dashboard's request window: 5 s slots over 5 minutes (dashboard/request-window.ts). */
const DASHBOARD_SLOT_MS = 5_000;
const DASHBOARD_SLOTS = 60;
/** How long the dashboard waits for a peer's figures, and how much of an answer it reads. */
const DASHBOARD_PEER_TIMEOUT_MS = 2_000;
const DASHBOARD_PEER_BYTES_MAX = 1 << 20;

/** This package's version, reported by /admin/status. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface RingkvNode {
  readonly config: NodeConfig;
  /** Base URL of the HTTP API, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** The membership view (static list or SWIM gossip). */
  readonly membership: MembershipView;
  /** The static member list when `config.membership` is static (replace it to change the ring). */
  readonly staticMembership: StaticMembership | undefined;
  /** The gossip driver when `config.membership` is swim. */
  readonly swim: SwimDriver | undefined;
  /** Peer streams accepted by this node, and why they closed (docs/transport.md). */
  readonly streams: { readonly stats: AcceptorStats };
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
  /**
   * Drain, then stop (SIGTERM): readiness turns false and responses ask clients to close their
   * connections, peers are told (gossip: this node announces itself dead, keeping its ring
   * place), requests keep being served for `drainMs` while peers stop routing here, then
   * close(). Idempotent.
   */
  drain(): Promise<void>;
  /** Abrupt stop: drop connections, close the database without waiting. Idempotent. */
  destroy(): void;
  /** Resolves when the node left the ring (POST /admin/leave), handed off its data and stopped. */
  readonly left: Promise<void>;
  /** Resolves when the node learned an operator removed it (issue 19.5) and stopped. */
  readonly removed: Promise<void>;
  /**
   * Re-reads `--auth-file` (main.ts calls it on SIGHUP): true when the new tokens are in force;
   * false when there is no auth file or the new one is invalid (the old tokens stay, the error
   * is logged).
   */
  reloadAuthFile(): boolean;
}

export interface NodeParts {
  /** Injected for tests; a SqliteStore under `config.dataDir` otherwise. */
  readonly store?: Store;
  /** Injected for tests; an HttpTransport otherwise. */
  readonly transport?: Transport;
  /** A membership source other than the static list (startNode passes SWIM's here). */
  readonly membership?: MembershipView;
  /** Injected partitions, when the node runs with fault injection. */
  readonly faults?: FaultPlan;
  /** Gossip counters for /metrics, when membership is SWIM. */
  readonly swimStats?: () => GossipStats;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
  /** Injected by the simulation (a manual clock); the process's timers otherwise. */
  readonly timers?: Timers;
  /** Graceful leave and operator removal, when membership is SWIM (startNode passes them). */
  readonly membershipControl?: MembershipControl;
  /** Uniform in [0, 1) (fresh actors, core/actor.ts); the simulation passes its seeded one. */
  readonly random?: () => number;
  /**
   * Token and peer-certificate checks of the HTTP routes; startNode builds them from the
   * config. Absent, every route is open: in-process tests drive `app.request()` without them.
   */
  readonly access?: Omit<AccessDeps, 'keyBytesMax' | 'refused'>;
  /** Open and dropped connections of the HTTP port, for /metrics. */
  readonly connections?: () => ConnectionCounts;
  /** This node's TLS identity: its connections to peers use it (startNode loads it). */
  readonly tls?: TlsMaterial;
  /**
   * The cluster keys (security/keyring.ts); main.ts passes one loaded from a secret file and
   * reloads it on SIGHUP. Absent: a keyring of `config.secret` alone.
   */
  readonly keyring?: Keyring;
  /** This boot's epoch (transport/auth.ts); a fresh random one unless a test fixes it. */
  readonly bootEpoch?: string;
  /** How far this node's clock is from its peers' (fed by gossip and hellos); a fresh one unless given. */
  readonly clock?: ClockSkew;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function openStore(config: NodeConfig, nowMs: () => number): Store {
  return new SqliteStore({
    dir: config.dataDir,
    nodeId: config.nodeId,
    synchronous: config.sqliteSynchronous,
    integrityCheck: config.integrityCheckOnStart,
    nowMs,
    hintLimits: {
      hintsPerOwnerMax: config.hintsPerOwnerMax,
      hintBytesPerOwnerMax: config.hintBytesPerOwnerMax,
      siblingsMax: config.siblingsMax,
      clockEntriesMax: config.clockEntriesMax,
    },
  });
}

function openTransport(config: NodeConfig, nowMs: () => number, faults: FaultPlan | undefined, keyring: Keyring, tls: TlsMaterial | undefined, logger: Logger, clock: ClockSkew): Transport {
  const common = {
    ...(faults ? { faults } : {}),
    ...(tls ? { tls: peerConnectOptions(tls) } : {}),
    selfId: config.nodeId,
    nowMs,
    peerTimeoutMs: config.peerTimeoutMs,
    batchOpsMax: config.batchOpsMax,
    inflightMax: config.peerInflightMax,
    queueOpsMax: config.peerQueueOpsMax,
    batchBytesMax: config.batchBytesMax,
    queueBytesMax: config.peerQueueBytesMax,
  };
  if (config.peerTransport === 'http') {
    return new HttpTransport({
      ...common,
      keys: () => keyring.internalKeys,
      connectionsPerPeer: config.connectionsPerPeer,
      responseBytesMax: config.internalBodyBytesMax,
      connectTimeoutMs: config.peerConnectTimeoutMs,
      onPeerClock: (peer, peerTimeMs, atMs) => clock.observe(peer, peerTimeMs, atMs),
    });
  }
  return new StreamTransport({
    ...common,
    keys: () => keyring.streamKeys,
    frameBytesMax: config.internalBodyBytesMax,
    inflightBytesMax: config.peerInflightBytesMax,
    onConnectionClosed: (peer, reason, error) => {
      if (reason === 'closed' || reason === 'closing') logger.debug({ peer, reason }, 'stream to a peer closed');
      else logger.warn({ peer, reason, err: error.message }, 'stream to a peer closed');
    },
  });
}

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
  const limits = { siblingsMax: config.siblingsMax, clockEntriesMax: config.clockEntriesMax };
  const keyring = parts.keyring ?? new Keyring([config.secret]);
  // A getter: a reloaded keyring (SIGHUP) takes effect on the next request.
  const codec = {
    get tagKeys() {
      return keyring.contextKeys;
    },
    entriesMax: CONTEXT_ENTRIES_MAX,
  };
  const staticMembership = parts.membership === undefined ? new StaticMembership(config.nodeId, url, config.peers, config.zone) : undefined;
  const membership: MembershipView = parts.membership ?? staticMembership!;
  const clock = parts.clock ?? new ClockSkew();
  const transport = parts.transport ?? openTransport(config, nowMs, parts.faults, keyring, parts.tls, logger, clock);
  const metrics = createMetrics(config.nodeId, store, transport, config.processMetrics, parts.swimStats, parts.connections);
  // The dashboard's own recent figures, fed from the same places /metrics is (docs/dashboard.md).
  const requestWindow = new RequestWindow({ slotMs: DASHBOARD_SLOT_MS, slots: DASHBOARD_SLOTS, nowMs });
  const exchangeLog = new ExchangeLog();
  const observeRequest = (op: string, status: number, seconds: number) => {
    metrics.observeRequest(op, status, seconds);
    requestWindow.record(op, status, seconds);
  };
  const replica = new ReplicaService(store, limits, () => coordinator, (id) => membership.isRemoved(id));
  // What peers are served: the replica service, behind the fault layer's slow store if any.
  const served = parts.faults ? parts.faults.delaying(replica) : replica;
  const peerHealth = new PeerHealth();
  const ringView = new RingView(membership, config.tokensPerNode, config.n);
  const coordinator = new Coordinator({
    selfId: config.nodeId,
    n: config.n,
    ringView,
    membership,
    transport,
    store,
    limits,
    nowMs,
    logger,
    events: metrics.events,
    failGraceMs: config.quorumFailGraceMs,
    sloppyQuorum: config.sloppyQuorum,
    health: peerHealth,
    replicaTimeoutMs: config.replicaTimeoutMs,
    timers,
    tombstoneGraceMs: config.tombstoneGraceMs,
    random,
  });
  metrics.gauge('ringkv_clock_skew_seconds', "This node's clock minus the median of its peers' (membership/clock-skew.ts).", () => clock.estimate(nowMs()).skewMs / 1000);
  metrics.gauge('ringkv_peers_avoided', 'Peers this node currently routes around because they left its requests unanswered (replication/peer-health.ts).', () => coordinator.peerHealth().filter((p) => !p.usable).length);
  metrics.counter('ringkv_peer_trips_total', 'Times a peer was found silent or unreachable and routed around.', () => peerHealth.trips);
  metrics.watchRing(() => ringView.ring(), config.n, (id) => membership.isReachable(id));
  // What every background loop (hints, handoff, anti-entropy, reaping) works with.
  const background = { store, membership, transport, logger, nowMs, timers };
  const ring = { selfId: config.nodeId, n: config.n, ring: () => ringView.ring() };
  const handoff = new HintedHandoff({
    ...background,
    batch: config.hintDeliveryBatch,
    ttlMs: config.hintTtlMs,
    events: metrics.hintEvents,
    ownersOf: (key: string) => ringView.preferenceList(key),
    limits,
  });
  const repairLimiter = new RateLimiter(config.antiEntropyKeysPerSecond, nowMs, (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms)));
  const transfer = new OwnershipTransfer({ ...background, ...ring, limiter: repairLimiter, batch: config.hintDeliveryBatch, events: metrics.transferEvents });
  const antiEntropy = new AntiEntropy({
    ...background,
    ...ring,
    limits,
    limiter: repairLimiter,
    requestTimeoutMs: config.peerTimeoutMs,
    events: {
      exchanged: (report) => {
        metrics.antiEntropyEvents.exchanged(report);
        exchangeLog.record(report);
      },
    },
    tombstoneGraceMs: config.tombstoneGraceMs,
  });
  const reaper = new Reaper({
    ...background,
    graceMs: config.tombstoneGraceMs,
    batch: config.hintDeliveryBatch,
    requestTimeoutMs: config.peerTimeoutMs,
    events: metrics.reaperEvents,
  });
  const encode = (object: VersionedObject, key: string) => encodeContext(contextOf(object), key, codec);
  let stopping = false;
  let draining = false;
  const self = { id: config.nodeId, epoch: parts.bootEpoch ?? newEpoch() };
  // Peers' streams (docs/transport.md): accepted whatever this node dials with itself.
  const challenges = new ChallengeTable(nowMs, newNonce);
  const acceptor = new StreamAcceptor({
    keys: () => keyring.streamKeys,
    self,
    challenges,
    peer: served,
    isRemoved: (id) => membership.isRemoved(id),
    peerCertificateRequired: parts.access?.peerCertificateRequired ?? false,
    refused: metrics.internalRefused,
    log: logger,
    isStopping: () => stopping,
    nowMs,
    frameBytesMax: config.internalBodyBytesMax,
    frameTimeoutMs: config.peerTimeoutMs,
  });
  // Hints by owner is a scan of the hints table: reused for 100 times what it last cost
  // (cost-bounded.ts), so asking /admin/status in a loop cannot stall the event loop. The key
  // count is kept incrementally by the store.
  const hintOwners = costBounded(() => store.hints.owners(), { nowMs, minAgeMs: 0, costFactor: 100 });
  const status = (): StatusBody => ({
    nodeId: config.nodeId,
    pid: process.pid,
    version: VERSION,
    uptimeMs: nowMs() - startedMs,
    ringSize: membership.ringMembers().length,
    n: config.n,
    members: countByStatus(membership.members()),
    keys: store.keyCount(),
    hints: Object.fromEntries(hintOwners().map(({ owner, count }) => [owner, count])),
    storage: { engine: 'sqlite', synchronous: config.sqliteSynchronous },
    antiEntropy: { intervalMs: config.antiEntropyIntervalMs, keysPerSecond: config.antiEntropyKeysPerSecond, ...antiEntropy.snapshot() },
    transfers: transfer.status(),
    reaper: reaper.status(),
    clock: clock.estimate(nowMs()),
    avoidedPeers: coordinator.peerHealth().filter((p) => !p.usable).map((p) => p.id),
  });
  const peerFetch = new PeerFetch({ timeoutMs: DASHBOARD_PEER_TIMEOUT_MS, responseBytesMax: DASHBOARD_PEER_BYTES_MAX, ...(parts.tls ? { tls: peerConnectOptions(parts.tls) } : {}) });
  const adminToken = parts.access?.adminToken;
  const dashboard: DashboardDeps = {
    figures: {
      selfId: config.nodeId,
      n: config.n,
      membership,
      ring: () => ringView.ring(),
      nowMs,
      startedMs,
      keyCount: () => store.keyCount(),
      hintOwners,
      transfers: () => transfer.status(),
      exchangeRunning: () => antiEntropy.snapshot().running,
      requests: requestWindow,
      requestSlotMs: DASHBOARD_SLOT_MS,
      exchanges: exchangeLog,
    },
    keyBytesMax: config.keyBytesMax,
    store,
    encodeContext: encode,
    peers: peerFetch,
    ...(adminToken === undefined ? {} : { isAdmin: (authorization: string | undefined) => sameToken(bearerToken(authorization), adminToken) }),
  };
  const app: Hono = createApp({
    client: { ...config, kv: coordinator, contexts: { encode, decode: (token, key) => decodeContext(token, key, codec) }, observe: observeRequest, nowMs },
    dashboard,
    admin: { n: config.n, keyBytesMax: config.keyBytesMax, store, membership, ring: () => ringView.ring(), status, encodeContext: encode, registry: metrics.registry, antiEntropy, transfer, nowMs, ...(parts.membershipControl ? { control: parts.membershipControl } : {}) },
    internal: {
      keys: () => keyring.internalKeys,
      self,
      stream: { keys: () => keyring.streamKeys, challenges },
      nowMs,
      bodyBytesMax: config.internalBodyBytesMax,
      replayEntriesMax: config.internalReplayEntriesMax,
      peer: served,
      ...(parts.faults ? { faults: parts.faults } : {}),
      ...(staticMembership ? { setMembers: (members: Parameters<StaticMembership['replace']>[0]) => staticMembership.replace(members) } : {}),
      refused: metrics.internalRefused,
    },
    ...(parts.access ? { access: { ...parts.access, keyBytesMax: config.keyBytesMax, refused: metrics.accessRefused } } : {}),
    logger,
    isStopping: () => stopping,
    isDraining: () => draining,
    clock: () => clock.estimate(nowMs()),
    answers: (id: string) => peerHealth.usable(id, nowMs()),
  });
  return { app, membership, staticMembership, transport, acceptor, coordinator, replica, handoff, antiEntropy, transfer, reaper, peerFetch, stop: () => (stopping = true), startDraining: () => (draining = true) };
}

/** The gossip counters /metrics exports. */
function swimCounters(driver: SwimDriver): GossipStats {
  const { stats } = driver.swim;
  return {
    probes: stats.probes,
    probeFailures: stats.probeFailures,
    indirectProbes: stats.indirectProbes,
    suspicions: stats.suspicions,
    refutations: stats.refutations,
    deaths: stats.deaths,
    packetsIn: driver.stats.packetsIn,
    packetsOut: driver.stats.packetsOut,
    pushPulls: driver.stats.pushPulls,
    localHealth: driver.swim.health,
    handlerErrors: driver.stats.handlerErrors,
    dropped: driver.stats.dropped,
  };
}

export async function startNode(config: NodeConfig, parts: NodeParts = {}): Promise<RingkvNode> {
  const logger = parts.logger ?? pino({ level: config.logLevel, base: { nodeId: config.nodeId } });
  const nowMs = parts.nowMs ?? Date.now;
  if (parts.store === undefined) checkNotRemoved(config.dataDir, config.nodeId);
  // Files named by the config are read before anything is opened: a bad one is KV_ERR_CONFIG.
  const tls = parts.tls ?? loadTls(config);
  const authFile = config.authFile === '' ? undefined : new AuthFile(config.authFile);
  const store = parts.store ?? openStore(config, nowMs);
  const keyring = parts.keyring ?? new Keyring([config.secret]);
  // The app needs the node's own URL (for the member list), known only once the port is
  // bound; requests cannot arrive before `assemble` runs, as nothing awaits in between.
  let fetch: Hono['fetch'] | undefined;
  const edge = createEdgeServer((request, env) => fetch!(request, env), {
    connectionsMax: config.connectionsMax,
    headersTimeoutMs: config.headersTimeoutMs, // a client that trickles its headers is cut off (slowloris)
    requestTimeoutMs: Math.max(config.requestTimeoutMsMax + 5_000, 30_000),
    keepAliveTimeoutMs: 65_000,
    ...(tls ? { tls } : {}),
  });
  const server = edge.server;
  // Peer streams arrive as HTTP upgrades on the client port (docs/transport.md); anything that
  // comes before the node is assembled is hung up.
  let acceptor: StreamAcceptor | undefined;
  server.on('upgrade', (req, socket: Socket, head: Buffer) => (acceptor === undefined ? socket.destroy() : acceptor.upgrade(req, socket, head)));
  let port: number;
  try {
    port = await listen(server, config.httpPort, config.host);
  } catch (error) {
    await store.close();
    throw error;
  }
  // What others dial (--advertise), else the bind address and the bound port.
  const advertised = config.advertise === '' ? undefined : parseHostPort(config.advertise)!;
  const bindHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${edge.scheme}://${advertised?.host ?? bindHost}:${advertised?.port ?? port}`;
  const gossipAdvertised = config.gossipAdvertise !== '' ? parseHostPort(config.gossipAdvertise)! : advertised === undefined ? undefined : { host: advertised.host };
  let swim: SwimDriver | undefined;
  let swimMembership: SwimMembership | undefined;
  const faults = parts.faults ?? (config.faultInjection ? new FaultPlan() : undefined);
  const clock = parts.clock ?? new ClockSkew();
  if (config.membership === 'swim' && parts.membership === undefined) {
    try {
      swim = await SwimDriver.start({
        selfId: config.nodeId,
        host: config.host,
        ...(gossipAdvertised === undefined ? {} : { advertise: gossipAdvertised }),
        port: config.gossipPort,
        httpAddress: url,
        ...(config.zone === '' ? {} : { zone: config.zone }),
        keys: () => keyring.gossipKeys,
        seeds: config.seeds,
        config: defaultSwimConfig,
        logger,
        nowMs,
        onPeerClock: (peer, peerTimeMs, atMs) => clock.observe(peer, peerTimeMs, atMs),
        ...(faults ? { faults } : {}),
      });
    } catch (error) {
      server.close();
      await store.close();
      throw error;
    }
    const driver = swim;
    driver.swim.restoreRemoved(loadRemovals(config.dataDir));
    swimMembership = new SwimMembership(driver.swim);
    driver.onEvents((events) => {
      swimMembership!.changed();
      for (const event of events) {
        if (event.kind === 'removed') {
          try {
            recordRemoval(config.dataDir, event.id);
          } catch (error) {
            logger.warn({ err: error, id: event.id }, 'could not record a removal on disk (gossip still carries it)');
          }
        }
        if (event.kind === 'self-removed') onSelfRemoved();
      }
    });
  }
  // Removed by an operator: never serve again under this id (membership/removals.ts).
  let resolveRemoved: () => void = () => {};
  const removed = new Promise<void>((resolve) => (resolveRemoved = resolve));
  const onSelfRemoved = () => {
    logger.error('this node was removed from the ring by an operator; stopping for good');
    markSelfRemoved(config.dataDir, config.nodeId);
    void close().then(resolveRemoved);
  };
  // Leaving: announce it, then wait until every key this node held lives on its new owners
  // (the transfer loop hands them off), then stop. `left` resolves once stopped.
  let leaving: Promise<void> | undefined;
  let resolveLeft: () => void = () => {};
  const left = new Promise<void>((resolve) => (resolveLeft = resolve));
  const membershipControl: MembershipControl | undefined =
    swim === undefined
      ? undefined
      : {
          leave: async () => {
            leaving ??= (async () => {
              await swim!.leave();
              logger.info({ pending: node.transfer.status().pending }, 'left the ring; handing off data');
              void waitHandedOff().then(async () => {
                logger.info('data handed off; stopping');
                await close();
                resolveLeft();
              });
            })();
            await leaving;
          },
          remove: (id) => swim!.remove(id),
        };
  // Done when no key is left to hand off and no hint is left: hints whose owner is reachable
  // are delivered by the hint loop, the others handed to another live node (issue 19.6).
  const waitHandedOff = async (): Promise<void> => {
    for (;;) {
      const done = await leaveStep({ store, handoff: node.handoff, transfer: node.transfer }).catch((error: unknown) => {
        logger.warn({ err: error }, 'a leave step failed; retrying');
        return false;
      });
      if (done) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const access = {
    adminToken: config.adminToken,
    clientTokens: () => authFile?.tokens,
    peerCertificateRequired: tls?.ca !== undefined,
  };
  const node = assemble(
    config,
    url,
    { access, connections: edge.counts, ...parts, keyring, clock, ...(tls ? { tls } : {}), ...(faults ? { faults } : {}), ...(swimMembership ? { membership: swimMembership, swimStats: () => swimCounters(swim!) } : {}), ...(membershipControl ? { membershipControl } : {}) },
    logger,
    nowMs,
    store,
  );
  fetch = node.app.fetch;
  acceptor = node.acceptor;
  node.handoff.start(config.hintDeliveryIntervalMs);
  if (config.antiEntropyIntervalMs > 0) node.antiEntropy.start(config.antiEntropyIntervalMs);
  node.transfer.start(config.hintDeliveryIntervalMs);
  node.reaper.start(config.reapIntervalMs);
  if (config.tombstoneGraceMs < 60_000) logger.warn({ tombstoneGraceMs: config.tombstoneGraceMs }, 'tombstone grace under 60 s: safe only for tests (docs/healing.md)');
  logger.info(
    { url, gossipAddress: swim?.gossipAddress ?? null, zone: config.zone === '' ? null : config.zone, dataDir: config.dataDir, n: config.n, membership: config.membership, clientAuth: authFile !== undefined, mutualTls: tls?.ca !== undefined },
    'node started',
  );
  // Clock skew against the peers (membership/clock-skew.ts): logged when it first passes the
  // warning threshold, every minute while it stays there, and when it is back within it.
  let skewLoggedMs = -Infinity;
  let skewed = false;
  const skewCheck = setInterval(() => {
    const estimate = clock.estimate(nowMs());
    if (estimate.warning !== undefined && (!skewed || nowMs() - skewLoggedMs >= 60_000)) {
      const level = Math.abs(estimate.skewMs) > SKEW_READY_MAX_MS ? 'error' : 'warn';
      logger[level]({ skewMs: estimate.skewMs, peers: estimate.peers }, `clock skew: ${estimate.warning}${level === 'error' ? '; /readyz reports not ready' : ''}`);
      skewLoggedMs = nowMs();
    } else if (estimate.warning === undefined && skewed) {
      logger.info({ skewMs: estimate.skewMs, peers: estimate.peers }, 'clock skew back within bounds');
    }
    skewed = estimate.warning !== undefined;
  }, 2_000);
  skewCheck.unref();
  const reloadAuthFile = (): boolean => {
    if (authFile === undefined) {
      logger.info('reload asked (SIGHUP): no --auth-file to reload');
      return false;
    }
    try {
      logger.info({ path: authFile.path, tokens: authFile.reload() }, 'auth file reloaded');
      return true;
    } catch (error) {
      logger.error({ err: error, path: authFile.path }, 'auth file not reloaded: the previous tokens stay in force');
      return false;
    }
  };

  // What stops once the HTTP server and the streams have, in this order, for close() (each
  // awaited) and destroy() (each started at once): the background loops first, since they use
  // the transport and the store; then the dashboard's peer fetcher, gossip and the transport;
  // the store last, so that nothing writes to it after it closed.
  const stops: ReadonlyArray<() => Promise<void> | undefined> = [
    () => node.handoff.stop(),
    () => node.antiEntropy.stop(),
    () => node.transfer.stop(),
    () => node.reaper.stop(),
    () => node.peerFetch.close(),
    () => swim?.close(),
    () => node.transport.close(),
    () => store.close(),
  ];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    clearInterval(skewCheck);
    closing ??= (async () => {
      node.stop();
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      // Upgraded sockets still count for server.close(): the streams must end too.
      await Promise.all([drained, node.acceptor.close(config.shutdownGraceMs)]);
      clearTimeout(grace);
      for (const stop of stops) await stop();
      logger.info('node stopped');
    })();
    return closing;
  };
  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      if (closing === undefined) {
        node.startDraining();
        swim?.depart();
        logger.info({ drainMs: config.drainMs }, 'draining: not ready, peers told; serving what is already routed here, then stopping');
        // Not a synchronisation sleep: the drain period itself, during which peers that have
        // not yet heard the notice may still route requests here and have them served.
        await new Promise((resolve) => setTimeout(resolve, config.drainMs));
      }
      await close();
    })();
    return draining;
  };
  const destroy = (): void => {
    clearInterval(skewCheck);
    node.stop();
    node.acceptor.destroy();
    server.closeAllConnections();
    server.close();
    for (const stop of stops) void stop();
  };
  return { config, url, port, membership: node.membership, staticMembership: node.staticMembership, swim, streams: node.acceptor, close, drain, destroy, left, removed, reloadAuthFile };
}
