/**
 * The composition root's HTTP edge: the Hono app (client, admin, internal, health and
 * dashboard routes) over the replication part, /admin/status, and the acceptor of peers'
 * streams (HTTP upgrades on the client port, docs/transport.md).
 */
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { StatusBody } from '@ringkv/protocol';
import type { NodeConfig } from '../config.js';
import { CONTEXT_ENTRIES_MAX, decodeContext, encodeContext } from '../core/context-codec.js';
import { contextOf, type VersionedObject } from '../core/versioned.js';
import { createApp } from '../http/app.js';
import type { DashboardDeps } from '../http/dashboard-routes.js';
import { peerConnectOptions } from '../access/tls-files.js';
import { bearerToken, sameToken } from '../access/bearer.js';
import { costBounded } from '../cost-bounded.js';
import type { NodeMetrics } from '../metrics.js';
import { countByStatus, type MembershipView } from '../membership/membership.js';
import type { StaticMembership } from '../membership/static-membership.js';
import type { ClockSkew } from '../membership/clock-skew.js';
import type { Keyring } from '../security/keyring.js';
import type { Store } from '../storage/store.js';
import type { KeyWatchService } from '../replication/key-watch.js';
import { newEpoch, newNonce } from '../transport/auth.js';
import { StreamAcceptor } from '../transport/stream-acceptor.js';
import { ChallengeTable } from '../transport/stream-auth.js';
import type { RequestWindow } from '../dashboard/request-window.js';
import type { ExchangeLog } from '../dashboard/exchange-log.js';
import { PeerFetch } from '../dashboard/peer-fetch.js';
import type { NodeParts } from './parts.js';
import type { Replication } from './replication.js';
import { VERSION } from './version.js';

/** The dashboard's request window: 5 s slots over 5 minutes (dashboard/request-window.ts). */
export const DASHBOARD_SLOT_MS = 5_000;
export const DASHBOARD_SLOTS = 60;
/** How long the dashboard waits for a peer's figures, and how much of an answer it reads. */
const DASHBOARD_PEER_TIMEOUT_MS = 2_000;
const DASHBOARD_PEER_BYTES_MAX = 1 << 20;

/** What the HTTP edge is built over: the replication part and the node's shared state. */
export interface EdgeDeps {
  readonly config: NodeConfig;
  readonly parts: NodeParts;
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** The clock request deadlines are measured on (Timers.monotonicMs). */
  readonly monotonicMs: () => number;
  readonly startedMs: number;
  readonly store: Store;
  readonly membership: MembershipView;
  readonly staticMembership: StaticMembership | undefined;
  readonly keyring: Keyring;
  readonly clock: ClockSkew;
  readonly metrics: NodeMetrics;
  readonly replication: Replication;
  readonly requestWindow: RequestWindow;
  readonly exchangeLog: ExchangeLog;
  /** True once a graceful stop began, and while the node drains (root/lifecycle.ts). */
  readonly isStopping: () => boolean;
  readonly isDraining: () => boolean;
  /** Parked watches of keys (replication/key-watch.ts). */
  readonly watch: KeyWatchService;
  /** The node's one source of randomness (root/assemble.ts picks it). */
  readonly random: () => number;
}

/** Encodes and decodes signed contexts with the keyring's current keys. */
function contextCodec(keyring: Keyring) {
  // A getter: a reloaded keyring (SIGHUP) takes effect on the next request.
  const codec = {
    get tagKeys() {
      return keyring.contextKeys;
    },
    entriesMax: CONTEXT_ENTRIES_MAX,
  };
  return {
    encode: (object: VersionedObject, key: string) => encodeContext(contextOf(object), key, codec),
    decode: (token: string, key: string) => decodeContext(token, key, codec),
  };
}

/** Hints by owner: a scan of the hints table, reused for 100 times what it last cost (cost-bounded.ts). */
function hintOwnersOf(store: Store, nowMs: () => number) {
  return costBounded(() => store.hints.owners(), { nowMs, elapsedMs: () => performance.now(), minAgeMs: 0, costFactor: 100 });
}

/** GET /admin/status. The key count is kept incrementally by the store; hints per owner is bounded in cost. */
function statusOf(deps: EdgeDeps, hintOwners: ReturnType<typeof hintOwnersOf>): () => StatusBody {
  const { config, nowMs, store, membership, replication } = deps;
  return () => ({
    nodeId: config.nodeId,
    pid: process.pid,
    version: VERSION,
    uptimeMs: nowMs() - deps.startedMs,
    ringSize: membership.ringMembers().length,
    n: config.n,
    members: countByStatus(membership.members()),
    keys: store.keyCount(),
    hints: Object.fromEntries(hintOwners().map(({ owner, count }) => [owner, count])),
    storage: { engine: 'sqlite', synchronous: config.sqliteSynchronous },
    antiEntropy: { intervalMs: config.antiEntropyIntervalMs, keysPerSecond: config.antiEntropyKeysPerSecond, ...replication.antiEntropy.snapshot() },
    transfers: replication.transfer.status(),
    reaper: replication.reaper.status(),
    clock: deps.clock.estimate(nowMs()),
    avoidedPeers: replication.coordinator.peerHealth().filter((p) => !p.usable).map((p) => p.id),
  });
}

/** The ring dashboard's sources (docs/dashboard.md). */
function dashboardOf(deps: EdgeDeps, hintOwners: ReturnType<typeof hintOwnersOf>, encode: DashboardDeps['encodeContext'], peerFetch: PeerFetch): DashboardDeps {
  const { config, store, replication } = deps;
  const adminToken = deps.parts.access?.adminToken;
  return {
    figures: {
      selfId: config.nodeId,
      n: config.n,
      membership: deps.membership,
      ring: () => replication.ringView.ring(),
      nowMs: deps.nowMs,
      startedMs: deps.startedMs,
      keyCount: () => store.keyCount(),
      hintOwners,
      transfers: () => replication.transfer.status(),
      exchangeRunning: () => replication.antiEntropy.snapshot().running,
      requests: deps.requestWindow,
      requestSlotMs: DASHBOARD_SLOT_MS,
      exchanges: deps.exchangeLog,
    },
    keyBytesMax: config.keyBytesMax,
    store,
    encodeContext: encode,
    peers: peerFetch,
    ...(adminToken === undefined ? {} : { isAdmin: (authorization: string | undefined) => sameToken(bearerToken(authorization), adminToken) }),
  };
}

/** The HTTP edge of one node: its app, the acceptor of peers' streams, and the dashboard's peer fetcher (closed on stop). */
export function buildEdge(deps: EdgeDeps) {
  const { config, parts, nowMs, keyring, metrics, replication } = deps;
  const contexts = contextCodec(keyring);
  const self = { id: config.nodeId, epoch: parts.bootEpoch ?? newEpoch() };
  // Peers' streams (docs/transport.md): accepted whatever this node dials with itself.
  const challenges = new ChallengeTable(nowMs, newNonce);
  const acceptor = new StreamAcceptor({
    keys: () => keyring.streamKeys,
    self,
    challenges,
    peer: replication.served,
    isRemoved: (id) => deps.membership.isRemoved(id),
    peerCertificateRequired: parts.access?.peerCertificateRequired ?? false,
    refused: metrics.internalRefused,
    log: deps.logger,
    isStopping: deps.isStopping,
    nowMs,
    frameBytesMax: config.internalBodyBytesMax,
    frameTimeoutMs: config.peerTimeoutMs,
  });
  const hintOwners = hintOwnersOf(deps.store, nowMs);
  const status = statusOf(deps, hintOwners);
  const peerFetch = new PeerFetch({ timeoutMs: DASHBOARD_PEER_TIMEOUT_MS, responseBytesMax: DASHBOARD_PEER_BYTES_MAX, ...(parts.tls ? { tls: peerConnectOptions(parts.tls) } : {}) });
  const app = appOf(deps, { contexts, self, challenges, status, dashboard: dashboardOf(deps, hintOwners, contexts.encode, peerFetch) });
  return { app, acceptor, peerFetch };
}

/** createApp over the node's parts. */
function appOf(
  deps: EdgeDeps,
  built: { contexts: ReturnType<typeof contextCodec>; self: { id: string; epoch: string }; challenges: ChallengeTable; status: () => StatusBody; dashboard: DashboardDeps },
): Hono {
  const { config, parts, nowMs, keyring, metrics, replication, store, membership, staticMembership } = deps;
  const { coordinator, peerHealth } = replication;
  const { encode } = built.contexts;
  const observe = (op: string, status: number, seconds: number) => {
    metrics.observeRequest(op, status, seconds);
    deps.requestWindow.record(op, status, seconds);
  };
  return createApp({
    client: { ...config, kv: coordinator, contexts: built.contexts, observe, nowMs, monotonicMs: deps.monotonicMs, cas: replication.cas, random: deps.random },
    dashboard: built.dashboard,
    admin: { n: config.n, keyBytesMax: config.keyBytesMax, store, membership, ring: () => replication.ringView.ring(), status: built.status, encodeContext: encode, registry: metrics.registry, antiEntropy: replication.antiEntropy, transfer: replication.transfer, nowMs, ...(parts.membershipControl ? { control: parts.membershipControl } : {}) },
    internal: {
      keys: () => keyring.internalKeys,
      self: built.self,
      stream: { keys: () => keyring.streamKeys, challenges: built.challenges },
      nowMs,
      bodyBytesMax: config.internalBodyBytesMax,
      replayEntriesMax: config.internalReplayEntriesMax,
      peer: replication.served,
      ...(parts.faults ? { faults: parts.faults } : {}),
      ...(staticMembership ? { setMembers: (members: Parameters<StaticMembership['replace']>[0]) => staticMembership.replace(members) } : {}),
      refused: metrics.internalRefused,
    },
    ...(parts.access ? { access: { ...parts.access, keyBytesMax: config.keyBytesMax, refused: metrics.accessRefused } } : {}),
    logger: deps.logger,
    isStopping: deps.isStopping,
    isDraining: deps.isDraining,
    clock: () => deps.clock.estimate(nowMs()),
    answers: (id: string) => peerHealth.usable(id, nowMs()),
    list: { ...config, lister: replication.lister, observe },
    watch: { service: deps.watch, limits: { timeoutMsDefault: config.watchTimeoutMsDefault, timeoutMsMax: config.watchTimeoutMsMax } },
  });
}
