/**
 * The no-resurrection rule (docs/healing.md, "Tombstones and TTL"), in one place. A key whose
 * whole object has been dead (tombstones, expired TTLs) for longer than the grace may have been
 * reaped on some replica. From then on:
 *
 * - the reaper may drop it (with every member's agreement: replication/reaper.ts), and
 * - nothing copies it to a replica that holds nothing for the key (read repair in
 *   coordinator.ts, both directions of anti-entropy.ts), or replicas that reaped first would
 *   be refilled by those that have not yet, and the reaper could never finish.
 *
 * Both sides ask this module, so "past the grace" means the same instant to each: a row may be
 * reaped exactly when it may no longer be copied to an empty replica. Pure.
 *
 * Sources: Cassandra's gc_grace_seconds and riak_kv's delete_mode play this part there (a
 * tombstone kept long enough for every replica to see it before it may be dropped).
 */
import { deadAfterMs, type VersionedObject } from './versioned.js';

/**
 * The instant the grace reaches back to: an object dead before it is dead past the grace.
 * The reaper asks its store for rows dead before this time (Store.deadBefore).
 */
export function graceCutoffMs(nowMs: number, graceMs: number): number {
  return nowMs - graceMs;
}

/**
 * Dead (tombstones, expired) for longer than the reaping grace, so possibly reaped on some
 * replica. No grace configured (undefined): never, since nothing reaps.
 */
export function deadPastGrace(object: VersionedObject | undefined, nowMs: number, graceMs: number | undefined): boolean {
  const dead = object === undefined ? undefined : deadAfterMs(object);
  return graceMs !== undefined && dead !== undefined && dead < graceCutoffMs(nowMs, graceMs);
}

/**
 * May `object` be written to a replica? Always where the replica holds something for the key
 * (the merge keeps its clock's history, so nothing older comes back); where it holds nothing,
 * only while the object is not dead past the grace (that replica may have reaped it).
 */
export function mayCopyTo(object: VersionedObject | undefined, replicaHoldsKey: boolean, nowMs: number, graceMs: number | undefined): boolean {
  return replicaHoldsKey || !deadPastGrace(object, nowMs, graceMs);
}
