/** `ringkv node`: one node in the foreground (the fixed CLI contract in SPEC.md). */
import { runNodeProcess, type NodeConfig } from '@ringkv/node';
import { intOption, parse, UsageError } from '../args.js';

/**
 * `--peers id=http://host:port[@zone],...`: a static member list instead of gossip (an
 * extension of the fixed CLI, for setups without UDP between nodes), each peer optionally with
 * its zone after an `@` (a peer URL has no user part, so the `@` is free). The config checks
 * ids, addresses and zones.
 */
function parsePeers(raw: string | undefined): Array<{ id: string; address: string; zone?: string }> | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const match = /^([^=]+)=([^@]+)(?:@(.*))?$/.exec(entry);
      if (match === null) throw new UsageError(`--peers entry "${entry}" must be id=http://host:port or id=http://host:port@zone`);
      return { id: match[1]!, address: match[2]!, ...(match[3] === undefined ? {} : { zone: match[3] }) };
    });
}

/**
 * The options `ringkv node` takes, exported so that tests can check deployment recipes
 * (deploy/, docs/deploy.md) against the flags the CLI really parses.
 */
export const nodeOptions = {
  id: { type: 'string' },
  port: { type: 'string' },
  'gossip-port': { type: 'string' },
  dir: { type: 'string' },
  seeds: { type: 'string' },
  peers: { type: 'string' },
  membership: { type: 'string' },
  'fault-injection': { type: 'boolean' },
  'peer-transport': { type: 'string' },
  n: { type: 'string' },
  secret: { type: 'string' },
  host: { type: 'string' },
  advertise: { type: 'string' },
  'gossip-advertise': { type: 'string' },
  zone: { type: 'string' },
  sync: { type: 'string' },
  'log-level': { type: 'string' },
  'anti-entropy-interval-ms': { type: 'string' },
  'anti-entropy-keys-per-second': { type: 'string' },
  'tombstone-grace-ms': { type: 'string' },
  'reap-interval-ms': { type: 'string' },
  'admin-token': { type: 'string' },
  'auth-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'secret-file': { type: 'string' },
  'connections-max': { type: 'string' },
  'headers-timeout-ms': { type: 'string' },
  'replica-timeout-ms': { type: 'string' },
  'drain-ms': { type: 'string' },
} as const;

/**
 * The node config `argv` asks for; a UsageError for an unknown flag, a missing required one or
 * a malformed value. Pure (reads no file, starts nothing), so recipes can be checked with it.
 */
export function parseNodeArgs(argv: string[]): Partial<NodeConfig> {
  const { values } = parse(argv, nodeOptions);
  if (values.secret !== undefined && values['secret-file'] !== undefined) throw new UsageError('give --secret or --secret-file, not both');
  if (values.id === undefined) throw new UsageError('--id is required');
  if (values.port === undefined) throw new UsageError('--port is required');
  if (values.dir === undefined) throw new UsageError('--dir is required');
  if (values.sync !== undefined && values.sync !== 'full' && values.sync !== 'normal') throw new UsageError('--sync must be full or normal');
  if (values.membership !== undefined && values.membership !== 'swim' && values.membership !== 'static') throw new UsageError('--membership must be swim or static');
  const peerTransport = values['peer-transport'];
  if (peerTransport !== undefined && peerTransport !== 'stream' && peerTransport !== 'http') throw new UsageError('--peer-transport must be stream or http');
  const peers = parsePeers(values.peers);
  return {
    peers,
    faultInjection: Boolean(values['fault-injection']),
    // How this node dials its peers: the framed stream (default) or the HTTP /internal/ fallback.
    peerTransport: peerTransport as 'stream' | 'http' | undefined,
    // An explicit peer list means static membership; otherwise gossip, unless told.
    membership: (values.membership as 'swim' | 'static' | undefined) ?? (peers === undefined ? 'swim' : 'static'),
    nodeId: values.id,
    httpPort: intOption(values.port, 'port', undefined, 0, 65535),
    gossipPort: intOption(values['gossip-port'], 'gossip-port', undefined, 0, 65535),
    dataDir: values.dir,
    seeds: values.seeds?.split(',').filter((s) => s.length > 0),
    n: intOption(values.n, 'n', undefined, 1, 16),
    secret: values.secret,
    host: values.host,
    advertise: values.advertise,
    gossipAdvertise: values['gossip-advertise'],
    zone: values.zone,
    sqliteSynchronous: values.sync as 'full' | 'normal' | undefined,
    logLevel: values['log-level'] as never,
    antiEntropyIntervalMs: intOption(values['anti-entropy-interval-ms'], 'anti-entropy-interval-ms', undefined, 0, 86_400_000),
    antiEntropyKeysPerSecond: intOption(values['anti-entropy-keys-per-second'], 'anti-entropy-keys-per-second', undefined, 1, 1_000_000),
    tombstoneGraceMs: intOption(values['tombstone-grace-ms'], 'tombstone-grace-ms', undefined, 1_000, 365 * 86_400_000),
    reapIntervalMs: intOption(values['reap-interval-ms'], 'reap-interval-ms', undefined, 100, 86_400_000),
    // Security (docs/security.md): tokens, TLS, the secret from a file, client-port bounds.
    adminToken: values['admin-token'],
    authFile: values['auth-file'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    tlsCa: values['tls-ca'],
    secretFile: values['secret-file'],
    connectionsMax: intOption(values['connections-max'], 'connections-max', undefined, 1, 1_000_000),
    headersTimeoutMs: intOption(values['headers-timeout-ms'], 'headers-timeout-ms', undefined, 100, 600_000),
    // Availability (docs/membership.md "Draining" and docs/healing.md "Replica deadlines").
    replicaTimeoutMs: intOption(values['replica-timeout-ms'], 'replica-timeout-ms', undefined, 1, 600_000),
    drainMs: intOption(values['drain-ms'], 'drain-ms', undefined, 0, 600_000),
  };
}

export async function runNode(argv: string[]): Promise<void> {
  await runNodeProcess(parseNodeArgs(argv));
}
