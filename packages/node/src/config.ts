/**
 * The node's configuration: one typed object, validated once by `validateConfig` and frozen.
 * Presets give every field a documented default; callers override with `??`-merged partials,
 * so an explicit 0 or '' is kept and then validated, never silently replaced (STYLE.md §8).
 * Model: hashicorp/memberlist `config.go` (DefaultLANConfig, DefaultLocalConfig).
 */
import { ACTOR_ID_EXTRA_BYTES } from './core/actor.js';
import { isNodeId, isZoneName, KEY_BYTES_MAX_DEFAULT, NODE_ID_BYTES_MAX, VALUE_BYTES_MAX_DEFAULT } from '@ringkv/protocol';
import { KvError } from './errors.js';
import { CONTENT_TYPE_BYTES_MAX } from './core/object-codec.js';
import type { StaticPeer } from './membership/static-membership.js';
import { adminTokenProblem } from './access/admin-token.js';
import { isGossipAddress } from './membership/swim/packet.js';
import { defaultSwimConfig, type SwimConfig } from './membership/swim/types.js';

export interface NodeConfig {
  /** Unique, stable name of this node in the ring; also the coordinator id in clocks. */
  readonly nodeId: string;
  /** Address the HTTP server and gossip bind to. */
  readonly host: string;
  /**
   * `HOST[:PORT]` other nodes and clients use to reach this node's HTTP port (`--advertise`);
   * '' = the bind address and bound port. Required with a wildcard bind (0.0.0.0, ::).
   */
  readonly advertise: string;
  /** `HOST[:PORT]` other nodes use for gossip (`--gossip-advertise`); '' = the advertised host (or bind address) and the bound gossip port. */
  readonly gossipAdvertise: string;
  /** HTTP port; 0 lets the OS pick (tests do this). */
  readonly httpPort: number;
  /** UDP port for gossip (membership issue); 0 lets the OS pick. */
  readonly gossipPort: number;
  /**
   * Other nodes' gossip addresses (`host:port`, `[v6]:port`) to join through. A host may be a
   * DNS name: it is resolved again at every join attempt, and every address it resolves to is
   * tried (a Kubernetes headless service name lists every pod).
   */
  readonly seeds: readonly string[];
  /**
   * This node's zone (`--zone`: a rack, data centre or availability zone); '' for none. A key's
   * N replicas go to as many distinct zones as the ring has (protocol ring.ts).
   */
  readonly zone: string;
  /**
   * Where membership comes from: `swim` gossip (join through `seeds`), or a `static` list
   * (`peers`, or set through POST /internal/members).
   */
  readonly membership: 'swim' | 'static';
  /** With static membership: the other ring members and their HTTP addresses. */
  readonly peers: readonly StaticPeer[];
  /** Virtual nodes per physical node on the ring; must agree across the ring. */
  readonly tokensPerNode: number;
  /** How long a replica batch to a peer may take before its ops count as failed. */
  readonly peerTimeoutMs: number;
  /** Keep-alive connections per peer (HTTP fallback transport). */
  readonly connectionsPerPeer: number;
  /**
   * What this node dials its peers with (`--peer-transport`): `stream`, one long-lived framed
   * connection per peer (docs/transport.md), or `http`, signed /internal/ requests (the
   * fallback). A node always accepts both.
   */
  readonly peerTransport: 'stream' | 'http';
  /** Stream transport: most bytes in flight to one peer; past it requests fail at once with KV_ERR_OVERLOADED. */
  readonly peerInflightBytesMax: number;
  /** Most replica ops in one request to a peer. */
  readonly batchOpsMax: number;
  /** Most requests in flight to one peer; further ops wait and form bigger batches. */
  readonly peerInflightMax: number;
  /** Most ops waiting for one peer; past it requests fail with KV_ERR_OVERLOADED. */
  readonly peerQueueOpsMax: number;
  /**
   * Most estimated bytes (key + each sibling's value + 64 per sibling) in one request to a peer;
   * a single larger op travels alone.
   */
  readonly batchBytesMax: number;
  /** Most estimated bytes waiting for one peer; past it requests fail with KV_ERR_OVERLOADED. */
  readonly peerQueueBytesMax: number;
  /** Most signed /internal/ requests remembered against replays (about 130 bytes each). */
  readonly internalReplayEntriesMax: number;
  /** After a quorum failed, how long to wait for replicas still in flight (fail fast, count right). */
  readonly quorumFailGraceMs: number;
  /**
   * How long one replica may take to answer a request's op before it counts as failed for that
   * request (a write's fallback then stands in; a quorum that cannot be met fails fast with 503).
   * Well below the request timeout; see replication/peer-health.ts.
   */
  readonly replicaTimeoutMs: number;
  /** A new connection to a peer must be established within this, else the peer counts as unreachable. */
  readonly peerConnectTimeoutMs: number;
  /**
   * Largest /internal/ request or response body; must hold one object of siblingsMax values of
   * valueBytesMax bytes, and a full batch (validateConfig checks both).
   */
  readonly internalBodyBytesMax: number;
  /** Writes replace unreachable primaries by fallbacks that keep hints (Dynamo's sloppy quorum). */
  readonly sloppyQuorum: boolean;
  /** Enables POST /internal/faults (partitions for the fault harness). Never on in production. */
  readonly faultInjection: boolean;
  /** Bounds of the hints this node keeps for one unreachable owner. */
  readonly hintsPerOwnerMax: number;
  readonly hintBytesPerOwnerMax: number;
  /** Hints older than this are dropped (counted); anti-entropy repairs what they held. */
  readonly hintTtlMs: number;
  /** How often hints are offered to owners that are reachable again, and how many per round. */
  readonly hintDeliveryIntervalMs: number;
  readonly hintDeliveryBatch: number;
  /** Anti-entropy: an exchange with the next replica partner this often (0 = only on demand). */
  readonly antiEntropyIntervalMs: number;
  /** Most keys anti-entropy moves per second (both ways), so a rebuild cannot starve clients. */
  readonly antiEntropyKeysPerSecond: number;
  /**
   * How long a key must have been dead (tombstones, expired TTLs) before the reaper may drop
   * it. Must exceed the peers' authentication window (30 s), so no older message is in flight.
   */
  readonly tombstoneGraceMs: number;
  /** How often the reaper looks for dead keys past the grace. */
  readonly reapIntervalMs: number;
  /**
   * Most dead keys the reaper handles per step of a round (ms-free: a count). Its own setting,
   * not the hint loop's: reaping asks every replica before it drops a key, a different cost.
   */
  readonly reapBatch: number;
  /**
   * Ownership transfer (join, leave, remove hand keys to their new owners): how often, in ms,
   * the loop looks for keys this node no longer owns. Its own setting, not the hint loop's, so
   * the two can be tuned apart; a leaving node waits for this loop (docs/healing.md).
   */
  readonly transferIntervalMs: number;
  /** Ownership transfer: most keys handed off per step of a round (they also draw on antiEntropyKeysPerSecond). */
  readonly transferBatch: number;
  /**
   * SWIM (SWIM §4, Lifeguard; membership/swim/types.ts, docs/membership.md). The protocol
   * period in ms: one probe per period, scaled up by local health. Shorter detects failures
   * sooner at the cost of more packets; every member of a ring should use the same value.
   */
  readonly swimProbeIntervalMs: number;
  /** SWIM: ms to wait for a direct ack before asking others to probe indirectly; below the period. */
  readonly swimProbeTimeoutMs: number;
  /** SWIM's k: members asked to probe a silent member indirectly (more survive more lossy paths). */
  readonly swimIndirectChecks: number;
  /** An update is retransmitted swimRetransmitMult × ceil(log10(n + 1)) times (reach vs. traffic). */
  readonly swimRetransmitMult: number;
  /**
   * Lifeguard: the least suspicion timeout is swimSuspicionMult × max(1, log10 n) ×
   * swimProbeIntervalMs (a ratio, not ms); lower declares deaths sooner and risks false ones.
   */
  readonly swimSuspicionMult: number;
  /** Lifeguard: the most suspicion timeout, as a multiple of the least (a ratio ≥ 1). */
  readonly swimSuspicionMaxMult: number;
  /** Lifeguard: ceiling of the local-health score that slows this node's probing when it is itself slow (0 = off). */
  readonly swimAwarenessMax: number;
  /** While updates are pending, push them every swimGossipIntervalMs ms to swimGossipNodes random members (fan-out). */
  readonly swimGossipIntervalMs: number;
  readonly swimGossipNodes: number;
  /** Full state exchange with a random live member every this many ms (0 = never): heals what piggybacking missed. */
  readonly swimPushPullIntervalMs: number;
  /** Push/pull with a random dead member every this many ms, so a healed partition rejoins by itself. */
  readonly swimDeadProbeIntervalMs: number;
  /** How long, in ms, dead and left members are remembered (dead ones keep their ring place meanwhile). */
  readonly swimLeftRetainMs: number;
  /** Largest gossip datagram in bytes (below the path MTU, so no IP fragmentation); piggybacked updates are cut to fit. */
  readonly swimPacketBytesMax: number;
  /** Most updates piggybacked on one gossip message. */
  readonly swimPiggybackMax: number;
  /** Export Node.js process metrics (CPU, memory, event loop) on /metrics. */
  readonly processMetrics: boolean;
  /** Directory for the node's database; created when missing. */
  readonly dataDir: string;
  /** Replicas per key (Dynamo's N). Must agree across the ring. */
  readonly n: number;
  /** Cluster secret: keys the context tags now, and peer authentication later. */
  readonly secret: string;
  /** Largest key in UTF-8 bytes after percent-decoding. */
  readonly keyBytesMax: number;
  /** Largest value in bytes; larger bodies get 413 before they are read in full. */
  readonly valueBytesMax: number;
  /** Most siblings a write may leave on a key (KV_ERR_TOO_MANY_SIBLINGS past it). */
  readonly siblingsMax: number;
  /** Most entries a key's clock keeps (pruning rule: docs/versioning.md); ≥ siblingsMax. */
  readonly clockEntriesMax: number;
  /** Timeout of a client request that sends no timeout_ms. */
  readonly requestTimeoutMsDefault: number;
  /** Largest timeout_ms a client may ask for. */
  readonly requestTimeoutMsMax: number;
  /** SQLite `synchronous`: `full` fsyncs each group commit, `normal` survives process crashes only. */
  readonly sqliteSynchronous: 'full' | 'normal';
  /** Run SQLite's quick_check on the database at start-up (cost grows with its size). */
  readonly integrityCheckOnStart: boolean;
  /** How long a graceful stop waits for in-flight requests before closing anyway. */
  readonly shutdownGraceMs: number;
  /**
   * SIGTERM drain (node.drain): how long the node keeps serving after it told its peers it is
   * going, so that requests routed before they heard are served rather than refused.
   */
  readonly drainMs: number;
  /** pino level. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Bearer token of the admin-only routes (every non-GET /admin/ route, /admin/local/). '' in a
   * config given to startNode refuses them all; `ringkv node` always resolves one (flag, env,
   * or `<dataDir>/admin-token`). docs/security.md "Admin token".
   */
  readonly adminToken: string;
  /** Client tokens and grants (`--auth-file`, JSON); '' leaves /kv/ open. Reloaded on SIGHUP. */
  readonly authFile: string;
  /** PEM certificate chain and private key of this node: with both, the port serves HTTPS only. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  /**
   * PEM CA bundle that peers' certificates must chain to. With it the server asks every
   * connection for a client certificate and /internal/ requires a verified one (mutual TLS);
   * without it, peers are verified against the system's CAs.
   */
  readonly tlsCa: string;
  /** A file holding the cluster secret (`--secret-file`), read at start-up by main.ts; '' = none. */
  readonly secretFile: string;
  /** Most open connections on the HTTP port; past it new connections are closed at once (counted). */
  readonly connectionsMax: number;
  /** A connection must send its request headers (and finish a TLS handshake) within this. */
  readonly headersTimeoutMs: number;
  /** Most watches (GET /kv/{key}?changed_since=) parked on this node at once; KV_ERR_TOO_MANY_WATCHERS past it (docs/watch.md). */
  readonly watchersMax: number;
  /** A watch's timeout when it sends no timeout_ms. */
  readonly watchTimeoutMsDefault: number;
  /** Largest timeout_ms a watch may ask for (a watch is a long poll: its own cap, not requestTimeoutMsMax). */
  readonly watchTimeoutMsMax: number;
  /** Mean delay between re-reads of a watched key that no local commit woke (jittered ±50 %). */
  readonly watchPollIntervalMs: number;
}

/** Defaults for a production node. */
export const defaultConfig: NodeConfig = Object.freeze({
  nodeId: 'node1',
  host: '127.0.0.1',
  advertise: '',
  gossipAdvertise: '',
  httpPort: 7070,
  gossipPort: 7946,
  seeds: [],
  zone: '',
  membership: 'swim',
  peers: [],
  tokensPerNode: 256,
  peerTimeoutMs: 10_000,
  connectionsPerPeer: 8,
  peerTransport: 'stream',
  peerInflightBytesMax: 128 * 1024 * 1024,
  batchOpsMax: 256,
  peerInflightMax: 4,
  peerQueueOpsMax: 10_000,
  batchBytesMax: 8 * 1024 * 1024,
  peerQueueBytesMax: 256 * 1024 * 1024,
  internalReplayEntriesMax: 262_144,
  internalBodyBytesMax: 80 * 1024 * 1024,
  quorumFailGraceMs: 200,
  replicaTimeoutMs: 500,
  peerConnectTimeoutMs: 1_000,
  sloppyQuorum: true,
  faultInjection: false,
  hintsPerOwnerMax: 1_000_000,
  hintBytesPerOwnerMax: 1024 * 1024 * 1024,
  hintTtlMs: 24 * 3_600_000,
  hintDeliveryIntervalMs: 1_000,
  hintDeliveryBatch: 256,
  antiEntropyIntervalMs: 30_000,
  antiEntropyKeysPerSecond: 2_000,
  tombstoneGraceMs: 3_600_000,
  reapIntervalMs: 60_000,
  // The next three were the hint loop's batch and interval until they got their own settings:
  // the same values, so nothing changed for a ring that did not set them.
  reapBatch: 256,
  transferIntervalMs: 1_000,
  transferBatch: 256,
  // SWIM: the membership package's LAN defaults (membership/swim/types.ts, docs/membership.md).
  swimProbeIntervalMs: defaultSwimConfig.probeIntervalMs,
  swimProbeTimeoutMs: defaultSwimConfig.probeTimeoutMs,
  swimIndirectChecks: defaultSwimConfig.indirectChecks,
  swimRetransmitMult: defaultSwimConfig.retransmitMult,
  swimSuspicionMult: defaultSwimConfig.suspicionMult,
  swimSuspicionMaxMult: defaultSwimConfig.suspicionMaxMult,
  swimAwarenessMax: defaultSwimConfig.awarenessMax,
  swimGossipIntervalMs: defaultSwimConfig.gossipIntervalMs,
  swimGossipNodes: defaultSwimConfig.gossipNodes,
  swimPushPullIntervalMs: defaultSwimConfig.pushPullIntervalMs,
  swimDeadProbeIntervalMs: defaultSwimConfig.deadProbeIntervalMs,
  swimLeftRetainMs: defaultSwimConfig.leftRetainMs,
  swimPacketBytesMax: defaultSwimConfig.packetBytesMax,
  swimPiggybackMax: defaultSwimConfig.piggybackMax,
  processMetrics: true,
  dataDir: './data/node1',
  n: 3,
  secret: '',
  keyBytesMax: KEY_BYTES_MAX_DEFAULT,
  valueBytesMax: VALUE_BYTES_MAX_DEFAULT,
  siblingsMax: 64,
  clockEntriesMax: 64,
  requestTimeoutMsDefault: 5_000,
  requestTimeoutMsMax: 60_000,
  sqliteSynchronous: 'full',
  integrityCheckOnStart: true,
  shutdownGraceMs: 10_000,
  drainMs: 750,
  logLevel: 'info',
  adminToken: '',
  authFile: '',
  tlsCert: '',
  tlsKey: '',
  tlsCa: '',
  secretFile: '',
  connectionsMax: 1_000,
  headersTimeoutMs: 10_000,
  watchersMax: 10_000,
  watchTimeoutMsDefault: 30_000,
  watchTimeoutMsMax: 300_000,
  watchPollIntervalMs: 1_000,
});

/** A ring on one laptop: same safety, OS-chosen gossip ports, quieter logs. */
export const localConfig: NodeConfig = Object.freeze({ ...defaultConfig, gossipPort: 0, logLevel: 'warn' });

/** Tests and the simulation: OS-chosen ports, small limits so bounds are reachable quickly. */
export const testConfig: NodeConfig = Object.freeze({
  ...defaultConfig,
  httpPort: 0,
  gossipPort: 0,
  n: 1,
  secret: 'test-secret',
  requestTimeoutMsDefault: 2_000,
  integrityCheckOnStart: true,
  shutdownGraceMs: 2_000,
  tokensPerNode: 64,
  processMetrics: false,
  membership: 'static',
  logLevel: 'silent',
  adminToken: 'test-admin-token-0123456789',
});

/**
 * Bytes an op can take in a batch frame beyond what `estimateOpBytes` (transport/peer-queue.ts)
 * counts (the key and each sibling's value): the op's framing, the object's clock, and per
 * sibling the dot, flags, timestamp and content type.
 */
function opOverheadBytes(config: NodeConfig): number {
  const clockEntryBytes = NODE_ID_BYTES_MAX + 2 * 9 + 1;
  const siblingBytes = NODE_ID_BYTES_MAX + CONTENT_TYPE_BYTES_MAX + 3 * 9 + 4;
  // A clock may outgrow clockEntriesMax until pruning catches up: up to the versioning core's
  // default hard bound of 4 × clockEntriesMax (core/versioned.ts).
  return 32 + 4 * config.clockEntriesMax * clockEntryBytes + config.siblingsMax * siblingBytes;
}

/**
 * The largest /internal/ body a ring with this config can need: one put of a key holding
 * siblingsMax values of valueBytesMax bytes (it travels alone), or a full batch (batchBytesMax
 * of estimated bytes plus what the estimate leaves out for each of its ops).
 */
export function internalBodyBytesNeeded(config: NodeConfig): number {
  const overhead = opOverheadBytes(config);
  const singleOp = config.keyBytesMax + config.valueBytesMax * config.siblingsMax + overhead;
  const fullBatch = config.batchBytesMax + config.batchOpsMax * overhead;
  return Math.max(singleOp, fullBatch) + 16;
}


function fail(field: string, message: string): never {
  throw new KvError('KV_ERR_CONFIG', `invalid config: ${field} ${message}`, { field });
}

function intIn(config: NodeConfig, field: keyof NodeConfig, min: number, max: number): void {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
}

/** A ratio (not necessarily an integer), finite and within [min, max]. */
function numberIn(config: NodeConfig, field: keyof NodeConfig, min: number, max: number): void {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(field, `must be a number from ${min} to ${max} (got ${String(value)})`);
  }
}

/** An integer field's bounds; a bound may depend on another field, checked before it. */
type IntBound = readonly [field: keyof NodeConfig, min: number | ((config: NodeConfig) => number), max: number | ((config: NodeConfig) => number)];

function checkInts(config: NodeConfig, bounds: readonly IntBound[]): void {
  for (const [field, min, max] of bounds) intIn(config, field, typeof min === 'number' ? min : min(config), typeof max === 'number' ? max : max(config));
}

/** Sizes, deadlines and the ring's shape. */
const CORE_INTS: readonly IntBound[] = [
  ['httpPort', 0, 65535],
  ['gossipPort', 0, 65535],
  ['n', 1, 16],
  ['keyBytesMax', 1, 64 * 1024],
  ['valueBytesMax', 1, 256 * 1024 * 1024],
  ['siblingsMax', 1, 4096],
  ['clockEntriesMax', (c) => c.siblingsMax, 4096],
  ['requestTimeoutMsMax', 1, 3_600_000],
  ['requestTimeoutMsDefault', 1, (c) => c.requestTimeoutMsMax],
  ['shutdownGraceMs', 0, 600_000],
  ['tokensPerNode', 1, 4096],
  ['peerTimeoutMs', 1, 600_000],
  ['replicaTimeoutMs', 1, 600_000],
  ['drainMs', 0, 600_000],
  ['peerConnectTimeoutMs', 1, 600_000],
  ['connectionsPerPeer', 1, 1024],
  ['peerInflightBytesMax', 1024, 2 ** 40],
];

/** The peer queues and batches (transport/peer-queue.ts). */
const PEER_INTS: readonly IntBound[] = [
  ['batchOpsMax', 1, 1024],
  ['peerInflightMax', 1, 1024],
  ['peerQueueOpsMax', 1, 10_000_000],
  ['batchBytesMax', 1024, 2 ** 31],
  ['peerQueueBytesMax', (c) => c.batchBytesMax, 2 ** 40],
  ['internalReplayEntriesMax', 1_024, 100_000_000],
  ['internalBodyBytesMax', 1024, 2 ** 31],
];

/** The background loops: hints, anti-entropy, the reaper, ownership transfer. */
const BACKGROUND_INTS: readonly IntBound[] = [
  ['quorumFailGraceMs', 0, 60_000],
  ['hintsPerOwnerMax', 0, 100_000_000],
  ['hintBytesPerOwnerMax', 0, 2 ** 40],
  ['hintTtlMs', 1_000, 365 * 86_400_000],
  ['hintDeliveryIntervalMs', 10, 3_600_000],
  ['antiEntropyIntervalMs', 0, 86_400_000],
  ['antiEntropyKeysPerSecond', 1, 1_000_000],
  ['tombstoneGraceMs', 1_000, 365 * 86_400_000],
  ['reapIntervalMs', 100, 86_400_000],
  ['hintDeliveryBatch', 1, 100_000],
  ['reapBatch', 1, 100_000],
  ['transferIntervalMs', 10, 3_600_000],
  ['transferBatch', 1, 100_000],
];

/**
 * SWIM (membership/swim/types.ts). The timeout must leave room for indirect probes within the
 * period; a datagram must stay under the largest UDP payload and hold at least one update.
 */
const SWIM_INTS: readonly IntBound[] = [
  ['swimProbeIntervalMs', 10, 60_000],
  ['swimProbeTimeoutMs', 1, (c) => c.swimProbeIntervalMs - 1],
  ['swimIndirectChecks', 0, 16],
  ['swimRetransmitMult', 1, 64],
  ['swimAwarenessMax', 0, 64],
  ['swimGossipIntervalMs', 10, 60_000],
  ['swimGossipNodes', 1, 64],
  ['swimPushPullIntervalMs', 0, 86_400_000],
  ['swimDeadProbeIntervalMs', 100, 86_400_000],
  ['swimLeftRetainMs', 1_000, 7 * 86_400_000],
  ['swimPacketBytesMax', 512, 65_000],
  ['swimPiggybackMax', 1, 1024],
];

function validateSwim(config: NodeConfig): void {
  checkInts(config, SWIM_INTS);
  numberIn(config, 'swimSuspicionMult', 0.5, 100);
  numberIn(config, 'swimSuspicionMaxMult', 1, 100);
}

/** The SWIM machine's settings, from the node's config (the one place they are set). */
export function swimConfigOf(config: NodeConfig): SwimConfig {
  return Object.freeze({
    probeIntervalMs: config.swimProbeIntervalMs,
    probeTimeoutMs: config.swimProbeTimeoutMs,
    indirectChecks: config.swimIndirectChecks,
    retransmitMult: config.swimRetransmitMult,
    suspicionMult: config.swimSuspicionMult,
    suspicionMaxMult: config.swimSuspicionMaxMult,
    awarenessMax: config.swimAwarenessMax,
    gossipIntervalMs: config.swimGossipIntervalMs,
    gossipNodes: config.swimGossipNodes,
    pushPullIntervalMs: config.swimPushPullIntervalMs,
    deadProbeIntervalMs: config.swimDeadProbeIntervalMs,
    leftRetainMs: config.swimLeftRetainMs,
    packetBytesMax: config.swimPacketBytesMax,
    piggybackMax: config.swimPiggybackMax,
  });
}

/** The replica transport: queues, batches, and a body bound that holds the largest op and a full batch. */
function validatePeerTransport(config: NodeConfig): void {
  if (!['stream', 'http'].includes(config.peerTransport)) fail('peerTransport', 'must be stream or http');
  checkInts(config, PEER_INTS);
  if (config.internalBodyBytesMax < internalBodyBytesNeeded(config)) {
    fail(
      'internalBodyBytesMax',
      `must be at least ${internalBodyBytesNeeded(config)} for valueBytesMax ${config.valueBytesMax} × siblingsMax ${config.siblingsMax} and batchBytesMax ${config.batchBytesMax} (got ${config.internalBodyBytesMax})`,
    );
  }
}

/** The client-port settings: tokens, TLS files and connection bounds (docs/security.md). */
function validateEdge(config: NodeConfig): void {
  const tokenProblem = config.adminToken === '' ? undefined : adminTokenProblem(config.adminToken);
  if (tokenProblem !== undefined) fail('adminToken', `${tokenProblem} (--admin-token or RINGKV_ADMIN_TOKEN)`);
  if ((config.tlsCert === '') !== (config.tlsKey === '')) fail('tlsCert', 'and tlsKey must be given together (--tls-cert and --tls-key)');
  if (config.tlsCa !== '' && config.tlsCert === '') fail('tlsCa', 'needs --tls-cert and --tls-key (a node verifying peers must present its own certificate)');
  intIn(config, 'connectionsMax', 1, 1_000_000);
  intIn(config, 'headersTimeoutMs', 100, 600_000);
}

/** True for the wildcard bind addresses, which no other node can dial. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** `HOST[:PORT]` (IPv6 in brackets) parsed, or undefined when malformed. */
export function parseHostPort(text: string): { host: string; port?: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: match[1]!, ...(port === undefined ? {} : { port }) };
}

/** The node's id: a dot's actor is the id plus `~`, the epoch and a suffix (core/actor.ts), and must fit the codecs' id bound. */
function validateNodeId(config: NodeConfig): void {
  const idBytesMax = NODE_ID_BYTES_MAX - ACTOR_ID_EXTRA_BYTES;
  if (!isNodeId(config.nodeId) || Buffer.byteLength(config.nodeId) > idBytesMax) {
    fail('nodeId', `must be 1-${idBytesMax} characters of A-Z a-z 0-9 . _ -`);
  }
}

/** Who this node is and whom it meets: static peers, zone, bind and advertised addresses, seeds. */
function validateAddresses(config: NodeConfig): void {
  for (const peer of config.peers) {
    if (!isNodeId(peer.id) || !/^https?:\/\/[^\s/@]+$/.test(peer.address) || !(peer.zone === undefined || peer.zone === '' || isZoneName(peer.zone))) {
      fail('peers', `entry ${JSON.stringify(peer)} must be {id, address: "http://host:port", zone?: NAME}`);
    }
  }
  if (config.zone !== '' && !isZoneName(config.zone)) fail('zone', `must be 1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit (got ${JSON.stringify(config.zone)})`);
  if (config.host.length === 0) fail('host', 'must not be empty');
  for (const field of ['advertise', 'gossipAdvertise'] as const) {
    // The same rule peers apply to every address in gossip (packet.ts): one they would drop
    // (an underscore, a 64-character label) is refused here rather than never heard of.
    const parsed = config[field] === '' ? undefined : parseHostPort(config[field]);
    if (config[field] !== '' && (parsed === undefined || !isGossipAddress(`${parsed.host}:${parsed.port ?? 1}`))) {
      fail(field, `must be HOST or HOST:PORT: a DNS name, an IPv4 address or [IPv6] (got ${JSON.stringify(config[field])})`);
    }
  }
  if (isWildcard(config.host) && config.advertise === '') {
    fail('advertise', `is required when --host is the wildcard ${config.host}: other nodes cannot reach ${config.host}; give the address they should use (--advertise HOST[:PORT])`);
  }
  for (const seed of config.seeds) {
    if (!isGossipAddress(seed)) fail('seeds', `entry "${seed}" must be host:port (a name, an IPv4 address, or [IPv6]:port)`);
  }
}

/** The switches and the enumerations. */
function validateChoices(config: NodeConfig): void {
  if (typeof config.sloppyQuorum !== 'boolean') fail('sloppyQuorum', 'must be true or false');
  if (typeof config.faultInjection !== 'boolean') fail('faultInjection', 'must be true or false');
  if (!['full', 'normal'].includes(config.sqliteSynchronous)) fail('sqliteSynchronous', 'must be full or normal');
  if (!['swim', 'static'].includes(config.membership)) fail('membership', 'must be swim or static');
}

/** Watches of keys (docs/watch.md). */
const WATCH_INTS: readonly IntBound[] = [
  ['watchersMax', 0, 1_000_000],
  ['watchTimeoutMsMax', 1, 3_600_000],
  ['watchTimeoutMsDefault', 1, (c) => c.watchTimeoutMsMax],
  ['watchPollIntervalMs', 10, 600_000],
];

/** Merges `overrides` onto `base`, validates every field, and returns a frozen config. */
export function validateConfig(overrides: Partial<NodeConfig>, base: NodeConfig = defaultConfig): NodeConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged: NodeConfig = { ...base, ...defined };
  // `--host [::1]` is taken as `--host ::1`: sockets bind the bare address.
  const config: NodeConfig = { ...merged, host: merged.host.replace(/^\[(.*)\]$/, '$1') };
  validateNodeId(config);
  checkInts(config, CORE_INTS);
  validatePeerTransport(config);
  checkInts(config, BACKGROUND_INTS);
  validateSwim(config);
  validateChoices(config);
  validateAddresses(config);
  if (config.dataDir.length === 0) fail('dataDir', 'must not be empty');
  if (config.secret.length < 8) fail('secret', 'must be at least 8 characters (--secret, --secret-file or RINGKV_SECRET)');
  validateEdge(config);
  checkInts(config, WATCH_INTS);
  return Object.freeze({ ...config, seeds: Object.freeze([...config.seeds]), peers: Object.freeze(config.peers.map((p) => Object.freeze({ ...p }))) });
}
