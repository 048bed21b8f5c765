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

/** Merges `overrides` onto `base`, validates every field, and returns a frozen config. */
export function validateConfig(overrides: Partial<NodeConfig>, base: NodeConfig = defaultConfig): NodeConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged: NodeConfig = { ...base, ...defined };
  // `--host [::1]` is taken as `--host ::1`: sockets bind the bare address.
  const config: NodeConfig = { ...merged, host: merged.host.replace(/^\[(.*)\]$/, '$1') };
  // A dot's actor is the node id plus `~`, the epoch and a suffix (core/actor.ts), and must fit
  // the codecs' id bound.
  const idBytesMax = NODE_ID_BYTES_MAX - ACTOR_ID_EXTRA_BYTES;
  if (!isNodeId(config.nodeId) || Buffer.byteLength(config.nodeId) > idBytesMax) {
    fail('nodeId', `must be 1-${idBytesMax} characters of A-Z a-z 0-9 . _ -`);
  }
  intIn(config, 'httpPort', 0, 65535);
  intIn(config, 'gossipPort', 0, 65535);
  intIn(config, 'n', 1, 16);
  intIn(config, 'keyBytesMax', 1, 64 * 1024);
  intIn(config, 'valueBytesMax', 1, 256 * 1024 * 1024);
  intIn(config, 'siblingsMax', 1, 4096);
  intIn(config, 'clockEntriesMax', config.siblingsMax, 4096);
  intIn(config, 'requestTimeoutMsMax', 1, 3_600_000);
  intIn(config, 'requestTimeoutMsDefault', 1, config.requestTimeoutMsMax);
  intIn(config, 'shutdownGraceMs', 0, 600_000);
  intIn(config, 'tokensPerNode', 1, 4096);
  intIn(config, 'peerTimeoutMs', 1, 600_000);
  intIn(config, 'replicaTimeoutMs', 1, 600_000);
  intIn(config, 'drainMs', 0, 600_000);
  intIn(config, 'peerConnectTimeoutMs', 1, 600_000);
  intIn(config, 'connectionsPerPeer', 1, 1024);
  intIn(config, 'peerInflightBytesMax', 1024, 2 ** 40);
  if (!['stream', 'http'].includes(config.peerTransport)) fail('peerTransport', 'must be stream or http');
  intIn(config, 'batchOpsMax', 1, 1024);
  intIn(config, 'peerInflightMax', 1, 1024);
  intIn(config, 'peerQueueOpsMax', 1, 10_000_000);
  intIn(config, 'batchBytesMax', 1024, 2 ** 31);
  intIn(config, 'peerQueueBytesMax', config.batchBytesMax, 2 ** 40);
  intIn(config, 'internalReplayEntriesMax', 1_024, 100_000_000);
  intIn(config, 'internalBodyBytesMax', 1024, 2 ** 31);
  if (config.internalBodyBytesMax < internalBodyBytesNeeded(config)) {
    fail(
      'internalBodyBytesMax',
      `must be at least ${internalBodyBytesNeeded(config)} for valueBytesMax ${config.valueBytesMax} × siblingsMax ${config.siblingsMax} and batchBytesMax ${config.batchBytesMax} (got ${config.internalBodyBytesMax})`,
    );
  }
  intIn(config, 'quorumFailGraceMs', 0, 60_000);
  intIn(config, 'hintsPerOwnerMax', 0, 100_000_000);
  intIn(config, 'hintBytesPerOwnerMax', 0, 2 ** 40);
  intIn(config, 'hintTtlMs', 1_000, 365 * 86_400_000);
  intIn(config, 'hintDeliveryIntervalMs', 10, 3_600_000);
  intIn(config, 'antiEntropyIntervalMs', 0, 86_400_000);
  intIn(config, 'antiEntropyKeysPerSecond', 1, 1_000_000);
  intIn(config, 'tombstoneGraceMs', 1_000, 365 * 86_400_000);
  intIn(config, 'reapIntervalMs', 100, 86_400_000);
  intIn(config, 'hintDeliveryBatch', 1, 100_000);
  if (typeof config.sloppyQuorum !== 'boolean') fail('sloppyQuorum', 'must be true or false');
  if (typeof config.faultInjection !== 'boolean') fail('faultInjection', 'must be true or false');
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
  if (config.dataDir.length === 0) fail('dataDir', 'must not be empty');
  if (config.secret.length < 8) fail('secret', 'must be at least 8 characters (--secret, --secret-file or RINGKV_SECRET)');
  validateEdge(config);
  if (!['full', 'normal'].includes(config.sqliteSynchronous)) fail('sqliteSynchronous', 'must be full or normal');
  if (!['swim', 'static'].includes(config.membership)) fail('membership', 'must be swim or static');
  for (const seed of config.seeds) {
    if (!isGossipAddress(seed)) fail('seeds', `entry "${seed}" must be host:port (a name, an IPv4 address, or [IPv6]:port)`);
  }
  return Object.freeze({ ...config, seeds: Object.freeze([...config.seeds]), peers: Object.freeze(config.peers.map((p) => Object.freeze({ ...p }))) });
}
