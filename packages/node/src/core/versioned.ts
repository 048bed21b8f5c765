/**
 * A key's versioned object: the set of siblings (concurrent values, tombstones among them),
 * each tagged with the dot of the write that created it, and one clock summarising every
 * write the holder has seen. This is the "causal context + dots" form of a multi-value
 * register (DVVSet, Almeida et al. 2014; riak_kv's `dvv_enabled` objects):
 *
 * - `update` (a coordinator's write) removes exactly the siblings whose dots the client's
 *   context covers, adds the new value under a fresh dot, and joins the context into the clock.
 *   A write with no context, or a stale one, therefore keeps what it did not see as siblings,
 *   and siblings never outnumber the writers that were truly concurrent.
 * - `merge` (reconciling two replicas) keeps a sibling when both hold it, or when the other
 *   side has not seen its dot; a sibling the other side has seen but no longer holds was
 *   superseded there. The clock is the pointwise maximum. Commutative, associative and
 *   idempotent (property-tested), so replicas converge whatever order repairs arrive in.
 *
 * Pure: time comes in as `nowMs`; nothing here does I/O.
 */
import assert from 'node:assert/strict';
import { KvError } from '../errors.js';
import {
  advance,
  clockFromVector,
  counterOf,
  covers,
  joinClocks,
  pruneClock,
  toVersionVector,
  type Clock,
  type Dot,
  type VersionVector,
} from './clock.js';
import { sameAttempts, settleRequestIds } from './request-ids.js';
import { joinDataTypeSiblings } from './dt-merge.js';

/** One version of a key. A tombstone (`deleted`) has an empty value. */
export interface Sibling {
  readonly dot: Dot;
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
  /** The coordinator's wall clock when the write was made (for operators and reaping). */
  readonly timestampMs: number;
  /**
   * Written with a TTL: from this time (coordinator's clock, part of the sibling, so every
   * replica agrees on it) the sibling reads as deleted.
   */
  readonly expiresMs?: number;
  /** The client's X-Ringkv-Request-Id for the write (core/request-ids.ts); absent when it sent none. */
  readonly requestId?: string;
  /** Dots of other attempts of the same write collapsed into this one, sorted (core/request-ids.ts). */
  readonly attempts?: readonly Dot[];
}

/** What a replica stores for one key. Siblings are sorted by dot. */
export interface VersionedObject {
  readonly clock: Clock;
  readonly siblings: readonly Sibling[];
}

/** Bounds that make every object finite (STYLE.md §10). */
export interface VersioningLimits {
  /** Most siblings a write may leave on a key; past it the write fails with a coded error. */
  readonly siblingsMax: number;
  /** Clock entries past which idle entries are pruned; see `pruneClock`. */
  readonly clockEntriesMax: number;
  /** Hard bound on clock entries (default 4 x clockEntriesMax). */
  readonly clockEntriesHardMax?: number;
  /** How long an entry must be idle before it may be pruned below the hard bound (default 1 day). */
  readonly clockPruneAgeMs?: number;
}

function pruneRule(limits: VersioningLimits, nowMs: number) {
  return {
    entriesMax: limits.clockEntriesMax,
    entriesHardMax: limits.clockEntriesHardMax ?? 4 * limits.clockEntriesMax,
    pruneAgeMs: limits.clockPruneAgeMs ?? 86_400_000,
    nowMs,
  };
}

/** A write as the coordinator sees it. */
export interface WriteOp {
  readonly coordinatorId: string;
  /** The context the client read (empty when it sent none). */
  readonly context: VersionVector;
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly nowMs: number;
  /**
   * Lowest counter the new dot may take (default: nowMs). The coordinator passes
   * max(last counter it issued on any key + 1, wall clock in µs), so a coordinator never
   * reissues or goes below a counter it used before, even after losing its data or having its
   * clock entry pruned (docs/versioning.md).
   */
  readonly counterFloor?: number;
  /** Time to live of the written value (PUT ?ttl_ms): the sibling expires at nowMs + ttlMs. */
  readonly ttlMs?: number;
  /** The client's request id, kept in the new sibling so a retry applies at most once (core/request-ids.ts). */
  readonly requestId?: string;
}

/**
 * Test-only switches that plant known bugs, so the cluster simulation can show that its
 * checker catches them (test/sim/cluster.test.ts). Nothing outside that test sets them.
 * `staleContextOverwrites`: a write replaces every sibling, not only those its context
 * covers, so a read-modify-write with a stale context silently drops a concurrent write.
 * `actorWithoutCopy`: the coordinator writes under one node-wide actor `nodeId~epoch` even
 * when it holds no copy of the key (core/actor.ts; the behaviour before issue 19), so two blind
 * writes through a coordinator without a copy collapse into last-writer-wins.
 * `keepEpochAfterLostWrite`: a store keeps its epoch after a write it failed to make durable
 * (storage/store-life.ts), so the coordinator's next dot on that key claims the lost one, which
 * peers already hold: they drop it as superseded.
 */
export const plantedBugs = { staleContextOverwrites: false, actorWithoutCopy: false, keepEpochAfterLostWrite: false };

export const emptyObject: VersionedObject = Object.freeze({ clock: [], siblings: [] });

function compareDots(a: Dot, b: Dot): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.counter - b.counter;
}

function sameDot(a: Dot, b: Dot): boolean {
  return a.id === b.id && a.counter === b.counter;
}

function liveIds(siblings: readonly Sibling[]): Set<string> {
  return new Set(siblings.map((sibling) => sibling.dot.id));
}

/**
 * Applies a client write at its coordinator. The new dot's counter is above every counter the
 * object or the context holds for the coordinator, and at least `counterFloor`.
 * Throws KV_ERR_TOO_MANY_SIBLINGS when the result would exceed `siblingsMax`.
 */
export function update(current: VersionedObject | undefined, op: WriteOp, limits: VersioningLimits): VersionedObject {
  const base = current ?? emptyObject;
  // A sibling whose TTL has run out at the coordinator is dropped as if the writer had read it:
  // it reads as deleted everywhere anyway, and blind TTL writes would otherwise pile expired
  // siblings up to the bound (issue 19.9). Its dot stays in the clock, so merges drop it too.
  const kept = plantedBugs.staleContextOverwrites
    ? []
    : base.siblings.filter((sibling) => !covers(op.context, sibling.dot) && !(sibling.expiresMs !== undefined && sibling.expiresMs <= op.nowMs));
  if (kept.length + 1 > limits.siblingsMax) {
    throw new KvError(
      'KV_ERR_TOO_MANY_SIBLINGS',
      `the key would hold ${kept.length + 1} siblings (limit ${limits.siblingsMax}); read it and write back with its context`,
      { siblings: kept.length + 1, limit: limits.siblingsMax },
    );
  }
  // Entries the client's context names count as recently used: a reader still relies on them.
  const seen = joinClocks(base.clock, clockFromVector(op.context, op.nowMs));
  const counter = Math.max(counterOf(seen, op.coordinatorId) + 1, Math.floor(op.counterFloor ?? op.nowMs));
  const dot: Dot = { id: op.coordinatorId, counter };
  const sibling: Sibling = {
    dot,
    deleted: op.deleted,
    value: op.deleted ? new Uint8Array(0) : op.value,
    contentType: op.deleted ? '' : op.contentType,
    timestampMs: op.nowMs,
    ...(op.ttlMs !== undefined && !op.deleted ? { expiresMs: op.nowMs + op.ttlMs } : {}),
    ...(op.requestId === undefined ? {} : { requestId: op.requestId }),
  };
  const siblings = [...kept, sibling].sort((a, b) => compareDots(a.dot, b.dot));
  const clock = pruneClock(advance(seen, dot.id, counter, op.nowMs), liveIds(siblings), pruneRule(limits, op.nowMs));
  return { clock, siblings };
}

/**
 * Reconciles two replicas' objects of the same key. Never drops a sibling that either side
 * still needs, and never fails: the sibling bound is enforced where writes are accepted.
 */
export function merge(a: VersionedObject, b: VersionedObject, limits: VersioningLimits): VersionedObject {
  const nowMs = Math.max(0, ...a.clock.map((e) => e.timestampMs), ...b.clock.map((e) => e.timestampMs));
  const siblings: Sibling[] = [];
  for (const sibling of a.siblings) {
    if (b.siblings.some((other) => sameDot(other.dot, sibling.dot)) || !covers(b.clock, sibling.dot)) {
      siblings.push(sibling);
    }
  }
  for (const sibling of b.siblings) {
    const inA = a.siblings.some((other) => sameDot(other.dot, sibling.dot));
    if (!inA && !covers(a.clock, sibling.dot)) siblings.push(sibling);
  }
  siblings.sort((x, y) => compareDots(x.dot, y.dot));
  settleRequestIds(a, b, siblings);
  // Merge takes no clock input (it must be a pure join); the newest timestamp either side has
  // seen stands in for "now" when judging entry age.
  const clock = pruneClock(joinClocks(a.clock, b.clock), liveIds(siblings), pruneRule(limits, nowMs));
  return { clock, siblings };
}

/**
 * What a replica stores when `incoming` arrives for a key it holds as `current` (a peer's
 * write, a read repair, a hint, an anti-entropy exchange, a handed-off key): the merge, or
 * undefined when the merge is `current` itself (same siblings, same clock entries with the same
 * timestamps), so there is nothing to write. The one decision of both; Store.merge applies it.
 * `basedOn`: the object `incoming` was computed from (the coordinator's `update` of what it
 * read); while the replica still holds exactly that object, `incoming` already holds all of it
 * and replaces it as it is. Live data-type siblings are joined into one (core/dt-merge.ts).
 */
export function mergeChange(current: VersionedObject | undefined, incoming: VersionedObject, limits: VersioningLimits, basedOn?: VersionedObject): VersionedObject | undefined {
  // Data types are joined by their type's join, never kept as siblings (dt-merge.ts).
  if (current === undefined || current === basedOn) return joinDataTypeSiblings(incoming);
  const merged = joinDataTypeSiblings(merge(current, incoming, limits));
  return sameObject(merged, current) && merged.clock.every((entry, i) => entry.timestampMs === current.clock[i]!.timestampMs) ? undefined : merged;
}

/** The context a read hands out: the clock without its timestamps. */
export function contextOf(object: VersionedObject): VersionVector {
  return toVersionVector(object.clock);
}

/** True when the object holds no live value (only tombstones, or nothing). */
export function isDeleted(object: VersionedObject): boolean {
  return object.siblings.every((sibling) => sibling.deleted);
}

/** True when the sibling reads as deleted at `nowMs`: a tombstone, or past its expiry. */
export function isDeadSibling(sibling: Sibling, nowMs: number): boolean {
  return sibling.deleted || (sibling.expiresMs !== undefined && sibling.expiresMs <= nowMs);
}

/**
 * The object as a reader sees it at `nowMs`: expired siblings become tombstones (same dot, so
 * the context a reader gets still covers them and a write with it supersedes them).
 */
export function visibleAt(object: VersionedObject, nowMs: number): VersionedObject {
  if (!object.siblings.some((s) => !s.deleted && s.expiresMs !== undefined && s.expiresMs <= nowMs)) return object;
  return {
    clock: object.clock,
    siblings: object.siblings.map((s) => (!s.deleted && s.expiresMs !== undefined && s.expiresMs <= nowMs ? { dot: s.dot, deleted: true, value: new Uint8Array(0), contentType: '', timestampMs: s.expiresMs } : s)),
  };
}

/**
 * From when the whole object is dead (every sibling a tombstone or expiring), or undefined
 * while any sibling lives without an expiry. A tombstone is dead from when it was written.
 * The reaper (replication/reaper.ts) counts its grace from this time; the grace itself is
 * decided in core/no-resurrection.ts.
 */
export function deadAfterMs(object: VersionedObject): number | undefined {
  let latest = 0;
  for (const sibling of object.siblings) {
    const from = sibling.deleted ? sibling.timestampMs : sibling.expiresMs;
    if (from === undefined) return undefined;
    latest = Math.max(latest, from);
  }
  return object.siblings.length === 0 ? undefined : latest;
}

/** True when two objects hold the same siblings and clock (replicas have converged). */
export function sameObject(a: VersionedObject, b: VersionedObject): boolean {
  if (a.siblings.length !== b.siblings.length || a.clock.length !== b.clock.length) return false;
  for (let i = 0; i < a.clock.length; i++) {
    const x = a.clock[i]!;
    const y = b.clock[i]!;
    if (x.id !== y.id || x.counter !== y.counter) return false;
  }
  return a.siblings.every((sibling, i) => sameDot(sibling.dot, b.siblings[i]!.dot) && sameAttempts(sibling, b.siblings[i]!));
}

/** Checks the object invariants; a failure is a bug, so it asserts (STYLE.md §11). */
export function assertWellFormed(object: VersionedObject): void {
  for (const sibling of object.siblings) {
    assert.ok(covers(object.clock, sibling.dot), `clock must cover sibling dot ${sibling.dot.id}:${sibling.dot.counter}`);
  }
  for (let i = 1; i < object.siblings.length; i++) {
    assert.ok(compareDots(object.siblings[i - 1]!.dot, object.siblings[i]!.dot) < 0, 'siblings sorted by unique dot');
  }
}
