/**
 * The composition root (STYLE.md §6): builds a node's parts from its config and wires them.
 * Nothing else constructs long-lived parts; each part gets only the narrow dependencies it
 * uses. `startNode` returns a handle with an idempotent graceful `close()` (stop taking
 * requests, let in-flight ones finish up to the grace period, commit and close the database)
 * and an abrupt `destroy()`.
 *
 * The parts are built in root/: storage.ts (the SQLite store), edge.ts (the bound client port
 * and the advertised addresses), gossip.ts (SWIM membership, leave and remove), assemble.ts
 * (membership, transport.ts, replication.ts, the HTTP edge app.ts), clock-watch.ts (skew
 * logging) and lifecycle.ts (one ordered list of stops for close, drain and destroy). This
 * file holds what a process needs: the order of start-up and the handle it returns.
 */
import type { Logger } from 'pino';
import { stdoutLog } from './log-destination.js';
import type { NodeConfig } from './config.js';
import { checkNotRemoved, markSelfRemoved } from './membership/removals.js';
import type { MembershipView } from './membership/membership.js';
import type { StaticMembership } from './membership/static-membership.js';
import type { SwimDriver } from './membership/swim/driver.js';
import { ClockSkew } from './membership/clock-skew.js';
import type { MembershipControl } from './membership/control.js';
import { AuthFile } from './access/auth-file.js';
import { loadTls, type TlsMaterial } from './access/tls-files.js';
import type { Store } from './storage/store.js';
import type { AcceptorStats } from './transport/stream-acceptor.js';
import { FaultPlan } from './transport/fault-plan.js';
import { Keyring } from './security/keyring.js';
import { assemble, type Assembled } from './root/assemble.js';
import { watchClockSkew } from './root/clock-watch.js';
import { openEdge, type ListeningEdge } from './root/edge.js';
import { membershipControl, startGossip, swimCounters } from './root/gossip.js';
import { lifecycle, type Lifecycle } from './root/lifecycle.js';
import type { NodeParts } from './root/parts.js';
import { openStore } from './root/storage.js';

export { assemble } from './root/assemble.js';
export type { NodeParts } from './root/parts.js';
export { VERSION } from './root/version.js';

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

/** What a node reads and opens before it binds its port: a bad file is KV_ERR_CONFIG before anything listens. */
interface Opened {
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly random: () => number;
  readonly tls: TlsMaterial | undefined;
  readonly authFile: AuthFile | undefined;
  readonly store: Store;
  readonly keyring: Keyring;
}

/** The one place a process's clock and randomness are picked when none was injected. */
function openLocal(config: NodeConfig, parts: NodeParts): Opened {
  const logger = parts.logger ?? stdoutLog(config.logLevel, { nodeId: config.nodeId }).logger;
  const nowMs = parts.nowMs ?? Date.now;
  const random = parts.random ?? Math.random;
  if (parts.store === undefined) checkNotRemoved(config.dataDir, config.nodeId);
  // Files named by the config are read before anything is opened: a bad one is KV_ERR_CONFIG.
  const tls = parts.tls ?? loadTls(config);
  const authFile = config.authFile === '' ? undefined : new AuthFile(config.authFile);
  const store = parts.store ?? openStore(config, nowMs, logger);
  const keyring = parts.keyring ?? new Keyring([config.secret]);
  return { logger, nowMs, random, tls, authFile, store, keyring };
}

/** Gossip, when membership is SWIM and none was injected; on failure the port and the store are closed. */
async function gossipOf(config: NodeConfig, parts: NodeParts, local: Opened, edge: ListeningEdge, shared: { faults: FaultPlan | undefined; clock: ClockSkew; onSelfRemoved: () => void }) {
  if (config.membership !== 'swim' || parts.membership !== undefined) return undefined;
  try {
    return await startGossip(config, { url: edge.url, gossipAdvertised: edge.gossipAdvertised, keyring: local.keyring, logger: local.logger, nowMs: local.nowMs, random: local.random, ...shared });
  } catch (error) {
    edge.server.close();
    await local.store.close();
    throw error;
  }
}

/** `reloadAuthFile` of the handle: SIGHUP re-reads --auth-file; a bad one leaves the old tokens in force. */
function authReloader(authFile: AuthFile | undefined, logger: Logger): () => boolean {
  return () => {
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
}

/** Starts the background loops, each on its own setting. */
function startLoops(config: NodeConfig, node: Assembled, logger: Logger): void {
  node.handoff.start(config.hintDeliveryIntervalMs);
  if (config.antiEntropyIntervalMs > 0) node.antiEntropy.start(config.antiEntropyIntervalMs);
  node.transfer.start(config.transferIntervalMs);
  node.reaper.start(config.reapIntervalMs);
  if (config.tombstoneGraceMs < 60_000) logger.warn({ tombstoneGraceMs: config.tombstoneGraceMs }, 'tombstone grace under 60 s: safe only for tests (docs/healing.md)');
}

/**
 * What stops once the HTTP server and the streams have, in this order, for close() (each
 * awaited) and destroy() (each started at once): the background loops first, since they use
 * the transport and the store; then the dashboard's peer fetcher, gossip and the transport;
 * the store last, so that nothing writes to it after it closed.
 */
function stopsOf(node: Assembled, swim: SwimDriver | undefined, store: Store) {
  return [
    () => node.handoff.stop(),
    () => node.antiEntropy.stop(),
    () => node.transfer.stop(),
    () => node.reaper.stop(),
    () => node.peerFetch.close(),
    () => swim?.close(),
    () => node.transport.close(),
    () => store.close(),
  ];
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

export async function startNode(config: NodeConfig, parts: NodeParts = {}): Promise<RingkvNode> {
  const local = openLocal(config, parts);
  const { logger, nowMs, store, tls, keyring } = local;
  let edge: ListeningEdge;
  try {
    edge = await openEdge(config, tls);
  } catch (error) {
    await store.close();
    throw error;
  }
  const faults = parts.faults ?? (config.faultInjection ? new FaultPlan() : undefined);
  const clock = parts.clock ?? new ClockSkew();
  // Set once assembled, before any request or gossip event can arrive (nothing awaits in between).
  let life: Lifecycle | undefined;
  let node: Assembled | undefined;
  // Removed by an operator: never serve again under this id (membership/removals.ts).
  const removed = signal();
  const onSelfRemoved = () => {
    logger.error('this node was removed from the ring by an operator; stopping for good');
    markSelfRemoved(config.dataDir, config.nodeId);
    void life!.close().then(removed.resolve);
  };
  const gossip = await gossipOf(config, parts, local, edge, { faults, clock, onSelfRemoved });
  const swim = gossip?.driver;
  const left = signal();
  const control: MembershipControl | undefined =
    swim === undefined ? undefined : membershipControl({ driver: swim, store, logger, node: () => node!, close: () => life!.close(), onLeft: left.resolve });
  const access = { adminToken: config.adminToken, clientTokens: () => local.authFile?.tokens, peerCertificateRequired: tls?.ca !== undefined };
  const gossipParts = gossip === undefined ? {} : { membership: gossip.membership, swimStats: () => swimCounters(gossip.driver) };
  node = assemble(
    config,
    edge.url,
    { access, connections: edge.counts, ...parts, random: local.random, keyring, clock, ...(tls ? { tls } : {}), ...(faults ? { faults } : {}), ...gossipParts, ...(control ? { membershipControl: control } : {}) },
    logger,
    nowMs,
    store,
  );
  const assembled = node;
  edge.attach(assembled.app.fetch, assembled.acceptor);
  startLoops(config, assembled, logger);
  logger.info(
    { url: edge.url, gossipAddress: swim?.gossipAddress ?? null, zone: config.zone === '' ? null : config.zone, dataDir: config.dataDir, n: config.n, membership: config.membership, clientAuth: local.authFile !== undefined, mutualTls: tls?.ca !== undefined },
    'node started',
  );
  const stopSkewWatch = watchClockSkew(clock, nowMs, logger);
  life = lifecycle({
    config,
    server: edge.server,
    acceptor: assembled.acceptor,
    logger,
    halt: () => {
      stopSkewWatch();
      assembled.stop();
    },
    startDraining: () => {
      assembled.startDraining();
      swim?.depart();
    },
    stops: stopsOf(assembled, swim, store),
  });
  const { close, drain, destroy } = life;
  return { config, url: edge.url, port: edge.port, membership: assembled.membership, staticMembership: assembled.staticMembership, swim, streams: assembled.acceptor, close, drain, destroy, left: left.promise, removed: removed.promise, reloadAuthFile: authReloader(local.authFile, logger) };
}
