/**
 * The storage interface of one node, and the group-commit queue both implementations share.
 *
 * Reads are synchronous (SQLite point reads take microseconds through better-sqlite3). Writes
 * are queued and committed together, once per event-loop turn, in one transaction: a node under
 * load pays one fsync for every write that arrived in the same turn (group commit). `get` sees
 * queued writes, so a read-modify-write that follows another in the same turn builds on it
 * instead of silently replacing it. A write's promise resolves only after its transaction
 * committed and, when the store makes commits durable apart from the commit (`durable`, the
 * WAL fsync of wal-sync.ts), after that too; the next batch may commit meanwhile. If the
 * commit fails, every write of that batch is rejected with the coded error and taken out of
 * the view again, so nothing unacknowledged stays visible afterwards. If only the fsync fails,
 * the batch's writes are rejected but stay readable, like any write whose outcome is unknown
 * (a timeout): the store then refuses every further write.
 */
import { KvError } from '../errors.js';
import type { HintStore } from './hints.js';
import type { VersionedObject } from '../core/versioned.js';
import type { KeyDigest, RangeSummary } from './digest-tree.js';
import type { SnapshotFile } from './snapshot.js';

export interface Store {
  /**
   * Identifies this store's life: created with the database, kept across clean restarts, and
   * renewed when the data may have been lost (a new database, or an unclean stop with
   * `synchronous = normal`). The coordinator signs its dots as `nodeId~epoch`, so a node that
   * lost acknowledged writes can never issue a clock entry that claims to have seen them
   * (Riak's vnode id does the same).
   */
  readonly epoch: string;
  /** Hints this node holds for unreachable owners (hinted handoff). */
  readonly hints: HintStore;
  /** The key's object, including writes queued but not yet committed. */
  get(key: string): VersionedObject | undefined;
  /**
   * The actor this node writes the key's new versions under (core/actor.ts), kept with the
   * row and deleted with it; undefined when there is no row or the row has none yet. Queued
   * writes included.
   */
  actorOf(key: string): string | undefined;
  /**
   * Resolves true once what `get(key)` shows now is committed (at once when nothing is queued
   * for the key), false if its commit failed. Read repair waits for it, so it never copies a
   * write its own coordinator failed to commit (issue 19.9).
   */
  committed(key: string): Promise<boolean>;
  /**
   * Queues `object` as the key's new state; resolves once it is durable. `actor`, when given,
   * becomes the row's actor; otherwise the row keeps the one it has (none for a new row).
   */
  put(key: string, object: VersionedObject, actor?: string): Promise<void>;
  /** Number of keys stored (committed), tombstoned keys included. */
  keyCount(): number;
  /**
   * Anti-entropy: the hash and count of the committed keys whose ring position is in
   * [start, end) (digest-tree.ts).
   */
  summarize(start: number, end: number): RangeSummary;
  /** Anti-entropy: the committed keys in [start, end) with their digests, by position, at most `limit`. */
  digests(start: number, end: number, limit: number): KeyDigest[];
  /**
   * Drops each key whose committed object still has `digest` and that has no write queued
   * (handoff after ownership moved, tombstone reaping); a key written meanwhile is kept.
   * Synchronous and atomic: one transaction. Returns how many were dropped.
   */
  removeIfUnchanged(entries: ReadonlyArray<{ readonly key: string; readonly digest: Uint8Array }>): number;
  /**
   * Keys whose whole object has been dead (tombstones, expired values: versioned.deadAfterMs)
   * since before `cutoffMs`, oldest first, at most `limit`: the reaper's candidates.
   */
  deadBefore(cutoffMs: number, limit: number): KeyDigest[];
  /** The digest of the key's object as `get` sees it (a queued write included), if any. */
  digestOf(key: string): Uint8Array | undefined;
  /**
   * Resolves once every commit made before the call is on stable storage (an fsync of the WAL
   * begun after the call), whatever `synchronous` says: the reaper's answers need it.
   */
  syncNow(): Promise<void>;
  /** Counters for metrics and for tests of group commit. */
  stats(): StoreStats;
  /**
   * Writes a consistent copy of the committed data into a new file in the store's own
   * directory (storage/snapshot.ts) and resolves with it; the caller streams and deletes it.
   * Stores that cannot (the memory twin, test doubles) reject with a coded error or omit it.
   */
  snapshot?(): Promise<SnapshotFile>;
  /** Commits what is queued, then releases the store. Idempotent. */
  close(): Promise<void>;
}

export interface StoreStats {
  /** Transactions committed (one per batch). */
  readonly commits: number;
  /** Writes committed (a key written twice in one batch counts once). */
  readonly writes: number;
  /** Batches whose commit failed (every write in them was rejected). */
  readonly failedCommits: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Schedules the flush; setImmediate runs it after the I/O callbacks of the current turn. */
export type Scheduler = (flush: () => void) => void;

export const nextTurn: Scheduler = (flush) => void setImmediate(flush);

/**
 * How far a tombstone's own time may lie behind this replica's clock before the replica counts
 * its reaping grace from when it stored it instead: the clock skew internal requests tolerate
 * (transport/auth.ts, 30 s), so only a coordinator whose clock is off by more than that (its
 * tombstones then reach other replicas by anti-entropy or hints) is affected.
 */
export const DEAD_CLOCK_SKEW_MS = 30_000;

/**
 * From when this replica counts a row as dead for the reaper's grace: the object's own time
 * (versioned.deadAfterMs: when its tombstones were written or its TTLs run out, on their
 * coordinators' clocks), but never more than DEAD_CLOCK_SKEW_MS before this replica first
 * stored it dead. A coordinator whose clock is far behind would otherwise write tombstones
 * that are past the grace the moment they exist (issue 19.9). `previous` is the row's value
 * before this write, if it was dead already.
 */
export function localDeadAfterMs(objectDeadMs: number | undefined, previous: number | undefined, nowMs: number): number | undefined {
  if (objectDeadMs === undefined) return undefined;
  return Math.max(objectDeadMs, previous ?? nowMs - DEAD_CLOCK_SKEW_MS);
}

/** A fresh random epoch: 8 base-36 characters. */
export function newEpoch(random: () => number = Math.random): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += Math.floor(random() * 36).toString(36);
  return out;
}

/**
 * Collects writes for one turn and hands them to `commit` as one batch. `commit` is
 * synchronous (a better-sqlite3 transaction), so no other write can interleave with it.
 */
/** One turn's writes: each key's new object, and the actors rows are given in this batch. */
export interface CommitBatch {
  readonly objects: ReadonlyMap<string, VersionedObject>;
  readonly actors: ReadonlyMap<string, string>;
}

export class GroupCommitQueue {
  private pending = new Map<string, VersionedObject>();
  private pendingActors = new Map<string, string>();
  /** Settles when the batch being collected commits (true) or fails (false). */
  private batchCommitted: { promise: Promise<boolean>; settle: (ok: boolean) => void } | undefined;
  private waiters: Waiter[] = [];
  private scheduled = false;
  private closed = false;
  private counters = { commits: 0, writes: 0, failedCommits: 0 };

  constructor(
    private readonly commit: (batch: CommitBatch) => void,
    private readonly schedule: Scheduler = nextTurn,
    /** Resolves once what was committed so far is durable; absent: commit is enough. */
    private readonly durable?: () => Promise<void>,
  ) {}

  /** Whether a write of `key` is queued and not committed yet. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** The queued (not yet committed) state of a key, if any. */
  peek(key: string): VersionedObject | undefined {
    return this.pending.get(key);
  }

  /** See Store.committed. */
  committed(key: string): Promise<boolean> {
    if (!this.pending.has(key)) return Promise.resolve(true);
    if (this.batchCommitted === undefined) {
      let settle: (ok: boolean) => void = () => {};
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      this.batchCommitted = { promise, settle };
    }
    return this.batchCommitted.promise;
  }

  /** The actor a queued write gives the key's row, if any. */
  peekActor(key: string): string | undefined {
    return this.pendingActors.get(key);
  }

  enqueue(key: string, object: VersionedObject, actor?: string): Promise<void> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping'));
    this.pending.set(key, object);
    if (actor !== undefined) this.pendingActors.set(key, actor);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
    return done;
  }

  /** Commits everything queued now. Called by the scheduler and by close(). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batch = { objects: this.pending, actors: this.pendingActors };
    const waiters = this.waiters;
    const committed = this.batchCommitted;
    this.batchCommitted = undefined;
    this.pending = new Map();
    this.pendingActors = new Map();
    this.waiters = [];
    try {
      this.commit(batch);
    } catch (error) {
      this.counters.failedCommits++;
      for (const waiter of waiters) waiter.reject(error);
      committed?.settle(false);
      return;
    }
    committed?.settle(true);
    this.counters.commits++;
    this.counters.writes += batch.objects.size;
    if (this.durable === undefined) {
      for (const waiter of waiters) waiter.resolve();
      return;
    }
    this.durable().then(
      () => waiters.forEach((waiter) => waiter.resolve()),
      (error: unknown) => waiters.forEach((waiter) => waiter.reject(error)),
    );
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  /** Flushes and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
