/**
 * A cluster of fully wired nodes in one process, on the in-memory twins: each node is the real
 * composition (`assemble`: coordinator, replica service, HTTP app) over a MemoryStore and a
 * MemoryTransport on a shared MemoryNetwork. Tests drive it through each node's `app.request()`
 * and reach into stores to check replicas. Time and the store of any node can be replaced.
 */
import { pino } from 'pino';
import { validateConfig, testConfig, type NodeConfig } from '../config.js';
import { assemble } from '../node.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { Store } from '../storage/store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';

export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly app: ReturnType<typeof assemble>['app'];
  readonly transport: MemoryTransport;
  readonly coordinator: ReturnType<typeof assemble>['coordinator'];
  /** The node's static member list (mark members dead or alive with setStatus). */
  readonly membership: NonNullable<ReturnType<typeof assemble>['staticMembership']>;
  readonly handoff: ReturnType<typeof assemble>['handoff'];
  readonly antiEntropy: ReturnType<typeof assemble>['antiEntropy'];
  readonly transfer: ReturnType<typeof assemble>['transfer'];
  readonly reaper: ReturnType<typeof assemble>['reaper'];
  /** The node's receiving side, as registered on the network (tests may wrap its methods). */
  readonly replica: ReturnType<typeof assemble>['replica'];
  store: Store;
}

export interface MemoryClusterOptions {
  readonly nodes: number;
  readonly config?: Partial<NodeConfig>;
  /** Store for node i (default: a fresh MemoryStore). */
  readonly store?: (index: number) => Store;
  readonly nowMs?: () => number;
  /** Zone of node i (its --zone, and what its peers are told); none by default. */
  readonly zone?: (index: number) => string;
}

/** The config of member `id` of a static ring of `peers` (testConfig, N = min(3, size), overrides). */
export function memberConfig(id: string, peers: ReadonlyArray<{ id: string; address: string; zone?: string }>, overrides: Partial<NodeConfig> = {}): NodeConfig {
  const zone = peers.find((p) => p.id === id)?.zone ?? '';
  return validateConfig({ nodeId: id, n: Math.min(3, peers.length), zone, ...overrides, peers: peers.filter((p) => p.id !== id) }, testConfig);
}

export function memoryCluster(options: MemoryClusterOptions): { network: MemoryNetwork; nodes: ClusterNode[] } {
  const network = new MemoryNetwork();
  const ids = Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`);
  const peers = ids.map((id, i) => ({ id, address: `http://${id}.test`, ...(options.zone ? { zone: options.zone(i) } : {}) }));
  const nodes = ids.map((id, i) => {
    const config = memberConfig(id, peers, options.config);
    const store = options.store?.(i) ?? new MemoryStore({ nowMs: options.nowMs ?? Date.now });
    const transport = new MemoryTransport(network, id);
    const address = `http://${id}.test`;
    const parts = assemble(config, address, { transport }, pino({ level: 'silent' }), options.nowMs ?? Date.now, store);
    network.register(address, parts.replica);
    return { id, address, app: parts.app, transport, coordinator: parts.coordinator, membership: parts.staticMembership!, handoff: parts.handoff, antiEntropy: parts.antiEntropy, transfer: parts.transfer, reaper: parts.reaper, replica: parts.replica, store };
  });
  return { network, nodes };
}
