/**
 * KvService for a node that is its own only replica (a one-node ring, N = 1). Writes run the
 * versioning core against the local store; reads return the local object. A request that
 * asks for more replicas than exist fails at once with KV_ERR_QUORUM_UNMET, as the
 * replicating coordinator will when fewer than r or w replicas can answer.
 */
import { KvError } from '../errors.js';
import { update, type VersioningLimits, type VersionedObject } from '../core/versioned.js';
import type { Store } from '../storage/store.js';
import type { KvService, ReadOptions, ValueWrite, WriteOptions } from './kv-service.js';
import { withTimeout } from './timeout.js';

export interface LocalKvDeps {
  readonly nodeId: string;
  readonly store: Store;
  readonly limits: VersioningLimits;
  readonly nowMs: () => number;
}

function requireReplicas(needed: number, kind: 'r' | 'w'): void {
  if (needed > 1) {
    throw new KvError('KV_ERR_QUORUM_UNMET', `${kind}=${needed} needs ${needed} replicas but this ring has 1 node`, {
      needed,
      answered: 1,
    });
  }
}

export class LocalKv implements KvService {
  constructor(private readonly deps: LocalKvDeps) {}

  async get(key: string, options: ReadOptions): Promise<VersionedObject | undefined> {
    requireReplicas(options.r, 'r');
    return this.deps.store.get(key);
  }

  async put(key: string, write: ValueWrite, options: WriteOptions): Promise<void> {
    requireReplicas(options.w, 'w');
    // Read, update and enqueue happen in one synchronous step, so two writes to the same key
    // can never both build on the same old state (the store's queue shows the first to the second).
    const next = update(this.deps.store.get(key), { ...write, coordinatorId: this.deps.nodeId, nowMs: this.deps.nowMs() }, this.deps.limits);
    await withTimeout(this.deps.store.put(key, next), options.timeoutMs, { needed: options.w, answered: 0 });
  }
}
