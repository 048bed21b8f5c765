/**
 * The receiving side of replica traffic (PeerHandler): applies a peer's batch to the local
 * store, and coordinates requests forwarded by nodes outside a key's preference list.
 *
 * A replica write merges the coordinator's object into the local one (versioned.merge), so a
 * repeated, late or reordered write never loses anything the replica already had. Writes of a
 * batch share the store's group commit; the batch is answered once they are durable.
 */
import { KvError } from '../errors.js';
import { merge, type VersioningLimits } from '../core/versioned.js';
import type { Store } from '../storage/store.js';
import type { CoordinateRequest, CoordinateResult, ReplicaOp, ReplicaResult } from '../transport/messages.js';
import type { PeerHandler } from '../transport/transport.js';
import type { Coordinator } from './coordinator.js';

function failure(error: unknown): { ok: false; code: KvError['code']; message: string } {
  if (error instanceof KvError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'KV_ERR_INTERNAL', message: 'internal error' };
}

/**
 * Merges `incoming` into the local replica of `key`; resolves when the result is durable. The
 * result is written even when nothing changed, because what the store shows may itself still
 * be queued: acknowledging before that commit would acknowledge nothing durable.
 */
export async function applyReplicaWrite(store: Store, key: string, incoming: Parameters<typeof merge>[0], limits: VersioningLimits): Promise<void> {
  const current = store.get(key);
  await store.put(key, current === undefined ? incoming : merge(current, incoming, limits));
}

export class ReplicaService implements PeerHandler {
  constructor(
    private readonly store: Store,
    private readonly limits: VersioningLimits,
    private readonly coordinator: () => Coordinator,
  ) {}

  async replicaBatch(ops: readonly ReplicaOp[]): Promise<ReplicaResult[]> {
    return Promise.all(
      ops.map(async (op): Promise<ReplicaResult> => {
        try {
          if (op.kind === 'get') {
            const object = this.store.get(op.key);
            return object === undefined ? { ok: true } : { ok: true, object };
          }
          if (op.kind === 'hint') await this.store.hints.add(op.owner, op.key, op.object);
          else await applyReplicaWrite(this.store, op.key, op.object, this.limits);
          return { ok: true };
        } catch (error) {
          return failure(error);
        }
      }),
    );
  }

  async coordinate(request: CoordinateRequest): Promise<CoordinateResult> {
    try {
      if (request.kind === 'get') {
        const object = await this.coordinator().get(request.key, { r: request.r, timeoutMs: request.timeoutMs }, { forwarded: true });
        return object === undefined ? { ok: true } : { ok: true, object };
      }
      const { key, w, timeoutMs, ...write } = request;
      await this.coordinator().put(key, { context: write.context, deleted: write.deleted, value: write.value, contentType: write.contentType }, { w, timeoutMs }, { forwarded: true });
      return { ok: true };
    } catch (error) {
      if (error instanceof KvError) return { ok: false, code: error.code, message: error.message, details: error.details };
      return { ok: false, code: 'KV_ERR_INTERNAL', message: 'internal error', details: {} };
    }
  }
}
