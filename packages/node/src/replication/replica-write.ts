/**
 * The one replica write: merge a peer's (or a read repair's, a hint's, an anti-entropy
 * exchange's) object into the local replica of a key. Its own module because both the
 * receiving side (replica-service.ts) and the sending side (coordinator.ts, hinted-handoff.ts,
 * anti-entropy.ts) apply it: owned here, neither imports the other for it.
 */
import { KvError } from '../errors.js';
import { merge } from '../core/versioned.js';
import type { Store } from '../storage/store.js';
import type { VersioningLimits } from '../core/versioned.js';

/**
 * Merges `incoming` into the local replica of `key`; resolves when the result is durable. The
 * result is written even when nothing changed, because what the store shows may itself still
 * be queued: acknowledging before that commit would acknowledge nothing durable.
 */
export async function applyReplicaWrite(store: Store, key: string, incoming: Parameters<typeof merge>[0], limits: VersioningLimits): Promise<void> {
  let current;
  try {
    current = store.get(key);
  } catch (error) {
    // A damaged row (its stored bytes no longer decode) holds nothing this replica can use:
    // the peer's copy replaces it, with a fresh digest, so it heals instead of failing every
    // repair forever (issue 19.9). Any other storage error fails the write.
    if (!(error instanceof KvError && error.code === 'KV_ERR_STORAGE_CORRUPT')) throw error;
  }
  await store.put(key, current === undefined ? incoming : merge(current, incoming, limits));
}
