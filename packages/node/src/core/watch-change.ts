/**
 * What "changed" means for a watch (docs/watch.md): a key's merged state has changed since a
 * context when it holds a write the context has not seen, that is when some entry of the
 * state's clock is past the context's counter for that id. The clock summarises every dot the
 * state holds (versioned.ts), so this is exactly "some sibling or tombstone is not covered".
 * A context that covers more than exists (from the future, or from a replica that is ahead)
 * is simply not changed yet. Expiry of a TTL is not a write and does not count.
 *
 * The poll fallback's jittered delay is here too, so the service stays free of arithmetic.
 * Pure: randomness comes in as a number.
 */
import { counterOf, type VersionVector } from './clock.js';
import type { VersionedObject } from './versioned.js';

/** True when `object` (a read's merged state; undefined when nothing exists) holds a write `context` has not seen. */
export function changedSince(object: VersionedObject | undefined, context: VersionVector): boolean {
  if (object === undefined) return false;
  return object.clock.some((entry) => entry.counter > counterOf(context, entry.id));
}

/**
 * The next poll of a parked key: `intervalMs` scaled into [0.5, 1.5) by `random` in [0, 1),
 * so the watches of many keys parked at once do not poll in step.
 */
export function pollDelayMs(intervalMs: number, random: number): number {
  return Math.max(1, Math.round(intervalMs * (0.5 + random)));
}
