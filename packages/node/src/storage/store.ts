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
import { randomInt } from 'node:crypto';
import { KvError } from '../errors.js';
import type { HintStore } from './hints.js';
import type { AcceptorRecordStore } from './acceptor-records.js';
import { mergeChange, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import type { KeyDigest, RangeSummary } from './digest-tree.js';
import type { SnapshotFile } from './snapshot.js';
import type { KeyPage, ListRange } from './key-listing.js';
import { TurnBatcher, type Scheduler } from '../core/turn-batcher.js';

export interface Store {
  /**
   * Identifies this store's life: created with the database, kept across clean restarts, and
   * renewed when the data may have been lost or a dot may have left without being stored (a new
   * database, an unclean stop, a write that failed: storage/store-life.ts). The coordinator signs its dots as `nodeId~epoch`, so a node that
   * lost acknowledged writes can never issue a clock entry that claims to have seen them
   * (Riak's vnode id does the same).
   */
  readonly epoch: string;
  /** Hints this node holds for unreachable owners (hinted handoff). */
  readonly hints: HintStore;
  /**
   * Why this store refuses writes now (closed, or an fsync failed), or undefined while it takes
   * them. Synchronous, so a coordinator can tell before it sends a dot anywhere that its own copy
   * will not hold it, and write as a node without a copy (a fresh actor, core/actor.ts).
   */
  writeRefusal(): KvError | undefined;
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
  put(key: string, object: VersionedObject, actor?: string, position?: number): Promise<void>;
  /**
   * Merges `incoming` into the key's local copy (versioned.mergeChange decides how) and
   * resolves once the result is durable: the one way every path that writes a replica's
   * version does it (a peer's write, read repair, anti-entropy, hinted handoff, ownership
   * transfer). A merge that changes nothing writes nothing and resolves once the committed
   * state is durable, without a new fsync; a key with a write queued is written again, so the
   * promise covers that queued write's commit. A row whose bytes no longer decode is replaced.
   * The coordinator's own new version goes through it too, with `basedOn` (see MergeOptions).
   */
  merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions): Promise<void>;
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
  /** Paxos acceptor records of compare-and-set keys and the ballot mark, durable on write (acceptor-records.ts). */
  readonly acceptorRecords: AcceptorRecordStore;
  /**
   * Listing keys (docs/listing.md, storage/key-listing.ts): the committed live keys (no
   * tombstone-only or expired object) that start with `prefix` and sort after `after` in byte
   * order, whose ring position lies in `ranges` (all positions when absent), ascending, at most
   * `limit`. Reads the key index in order from `after`, at most scanBudget(limit) rows, and says
   * how far it got (KeyPage.through), so a page never costs a scan of everything.
   */
  listKeys(prefix: string, after: string, limit: number, ranges?: readonly ListRange[]): KeyPage;
  /**
   * Calls `listener` after each commit of `key` to this store (storage/key-watchers.ts) until
   * the returned function is called: what wakes a parked watch (docs/watch.md). Optional: a
   * store without it leaves watches to their poll.
   */
  onCommit?(key: string, listener: () => void): () => void;
}

/** What a writer may tell Store.merge beyond the version itself. */
export interface MergeOptions {
  /** The key's ring position, when the caller has it (the coordinator hashed the key once); computed if absent. */
  readonly position?: number;
  /** The actor the key's row is given (Store.put's `actor`); otherwise the row keeps its own. */
  readonly actor?: string;
  /**
   * What `incoming` was computed from: the key's object as this store showed it in the same
   * synchronous step (`object` undefined: it held none), as the coordinator's versioned.update
   * is. The store does not read the key again, and `incoming` replaces it as computed
   * (versioned.mergeChange).
   */
  readonly basedOn?: { readonly object: VersionedObject | undefined };
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

export type { Scheduler } from '../core/turn-batcher.js';

/** The real event loop's turn: setImmediate runs the flush after the current turn's I/O callbacks. */
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

/**
 * Store.merge for both stores: `read` is the store's get, `write` its put (which may refuse, as
 * SqliteStore's does after a failed fsync), `queue` its group commit.
 */
export function mergeIntoStore(
  read: (key: string) => VersionedObject | undefined,
  write: (key: string, object: VersionedObject, actor: string | undefined, position: number | undefined) => Promise<void>,
  queue: GroupCommitQueue,
  key: string,
  incoming: VersionedObject,
  limits: VersioningLimits,
  options: MergeOptions = {},
): Promise<void> {
  let current: VersionedObject | undefined;
  try {
    current = options.basedOn !== undefined ? options.basedOn.object : read(key);
  } catch (error) {
    // A damaged row (its stored bytes no longer decode) holds nothing this replica can use:
    // the incoming copy replaces it, with a fresh digest, so it heals instead of failing every
    // repair forever (issue 19.9). Any other storage error fails the write.
    if (!(error instanceof KvError && error.code === 'KV_ERR_STORAGE_CORRUPT')) return Promise.reject(error);
  }
  const merged = mergeChange(current, incoming, limits, options.basedOn?.object);
  // What `read` showed may itself still be queued: then it is written again, so this write is
  // acknowledged only with that commit, never before it.
  if (merged === undefined && !queue.has(key)) return queue.settled();
  return write(key, merged ?? current!, options.actor, options.position);
}

/** A fresh epoch of 8 base-36 characters drawn from `random` (the simulation's, seeded). */
export function newEpoch(random: () => number): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += Math.floor(random() * 36).toString(36);
  return out;
}

/**
 * A fresh epoch from the operating system's randomness, for a store outside the simulation: an
 * epoch keeps a node's new life from reusing the dots of an old one, so two lives must not draw
 * the same one (41 bits; a seeded or predictable source would make that likelier).
 */
export function randomEpoch(): string {
  return newEpoch(() => randomInt(36) / 36);
}

/** One turn's writes: each key's new object, and the actors rows are given in this batch. */
export interface CommitBatch {
  readonly objects: ReadonlyMap<string, VersionedObject>;
  readonly actors: ReadonlyMap<string, string>;
  /**
   * Ring positions the writers already had (the coordinator hashed the key for its preference
   * list): the store hashes only keys missing here (issue 12, point 2).
   */
  readonly positions: ReadonlyMap<string, number>;
}

/** The batch being collected: CommitBatch's maps, writable, and the writers waiting on it. */
interface OpenBatch {
  readonly objects: Map<string, VersionedObject>;
  readonly actors: Map<string, string>;
  readonly positions: Map<string, number>;
  readonly waiters: Waiter[];
  /** Settles when this batch commits (true) or fails (false); made on the first ask. */
  committed?: { promise: Promise<boolean>; settle: (ok: boolean) => void };
}

const openBatch = (): OpenBatch => ({ objects: new Map(), actors: new Map(), positions: new Map(), waiters: [] });

/**
 * Collects writes for one turn (core/turn-batcher.ts) and hands them to `commit` as one batch.
 * `commit` is synchronous (a better-sqlite3 transaction), so no other write can interleave
 * with it.
 */
export class GroupCommitQueue {
  private readonly turn: TurnBatcher<OpenBatch>;
  /** The newest `durable()` still running: what a no-op merge waits for (see `settled`). */
  private syncing: Promise<void> | undefined;
  private closed = false;
  private counters = { commits: 0, writes: 0, failedCommits: 0 };

  constructor(
    private readonly commit: (batch: CommitBatch) => void,
    schedule: Scheduler = nextTurn,
    /** Resolves once what was committed so far is durable; absent: commit is enough. */
    private readonly durable?: () => Promise<void>,
    /** Told of every batch whose commit or fsync failed (storage/store-life.ts). */
    private readonly onLost?: () => void,
  ) {
    this.turn = new TurnBatcher(schedule, openBatch, (batch) => this.commitBatch(batch));
  }

  /** Whether a write of `key` is queued and not committed yet. */
  has(key: string): boolean {
    return this.turn.current.objects.has(key);
  }

  /** The queued (not yet committed) state of a key, if any. */
  peek(key: string): VersionedObject | undefined {
    return this.turn.current.objects.get(key);
  }

  /** See Store.committed. */
  committed(key: string): Promise<boolean> {
    const batch = this.turn.current;
    if (!batch.objects.has(key)) return Promise.resolve(true);
    if (batch.committed === undefined) {
      let settle: (ok: boolean) => void = () => {};
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      batch.committed = { promise, settle };
    }
    return batch.committed.promise;
  }

  /** The actor a queued write gives the key's row, if any. */
  peekActor(key: string): string | undefined {
    return this.turn.current.actors.get(key);
  }

  enqueue(key: string, object: VersionedObject, actor?: string, position?: number): Promise<void> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping'));
    const batch = this.turn.add();
    batch.objects.set(key, object);
    if (actor !== undefined) batch.actors.set(key, actor);
    if (position !== undefined) batch.positions.set(key, position);
    return new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  /**
   * For a write that changes nothing (Store.merge found the key's committed object already
   * holds it): resolves once what is committed now is durable, without writing or asking for
   * another fsync: at once, or with the fsync already under way. Nothing queued is waited for.
   */
  settled(): Promise<void> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping'));
    return this.syncing ?? Promise.resolve();
  }

  /** Commits everything queued now. Called by the scheduler and by close(). */
  flush(): void {
    this.turn.flushNow();
  }

  private commitBatch(batch: OpenBatch): void {
    const { waiters, committed } = batch;
    try {
      this.commit(batch);
    } catch (error) {
      this.counters.failedCommits++;
      this.onLost?.();
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
    const syncing = this.durable();
    this.syncing = syncing;
    const done = () => {
      if (this.syncing === syncing) this.syncing = undefined;
    };
    syncing.then(
      () => {
        done();
        waiters.forEach((waiter) => waiter.resolve());
      },
      (error: unknown) => {
        done();
        this.onLost?.();
        waiters.forEach((waiter) => waiter.reject(error));
      },
    );
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  /**
   * Drops what is queued and not committed, settling nobody: what kill -9 does to a batch
   * before its transaction (the simulation's crash; its writers died with the process).
   */
  discard(): void {
    this.turn.discard();
  }

  /** Why enqueue refuses writes now (the queue is closed), or undefined. */
  refusal(): KvError | undefined {
    return this.closed ? new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping') : undefined;
  }

  /** Takes writes again after close() (a memory store's next life in the simulation). */
  reopen(): void {
    this.closed = false;
  }

  /** Flushes and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
