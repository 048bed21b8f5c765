/**
 * The in-memory twin of SqliteStore for the fast deterministic test tiers and the simulation.
 * Same contract (test/contract/store.contract.ts), including group commit per turn: only the
 * durability differs. Objects are stored by reference; they are immutable values.
 */
import { deadAfterMs, plantedBugs, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import { StoreLife } from './store-life.js';
import { MemoryHintStore, type HintLimits, type HintStore } from './hints.js';
import { MemoryAcceptorRecords, type AcceptorRecordStore } from './acceptor-records.js';

/** Hint bounds for stores built without a config (tests). */
export const DEFAULT_HINT_LIMITS: HintLimits & VersioningLimits = {
  hintsPerOwnerMax: 100_000,
  hintBytesPerOwnerMax: 256 * 1024 * 1024,
  siblingsMax: 64,
  clockEntriesMax: 64,
};
import { ringPosition } from '@ringkv/protocol';
import { encodeObject } from '../core/object-codec.js';
import { DigestTree, objectDigest, sameHash, type KeyDigest, type RangeSummary } from './digest-tree.js';
import { KvError } from '../errors.js';
import type { SnapshotFile } from './snapshot.js';
import { compareKeys, isLiveAt, pageOf, scanBudget, type KeyPage, type ListRange, type ListRow } from './key-listing.js';
import { KeyWatchers } from './key-watchers.js';
import { GroupCommitQueue, localDeadAfterMs, mergeIntoStore, nextTurn, randomEpoch, type Scheduler, type MergeOptions, type Store, type StoreStats } from './store.js';

export interface MemoryStoreOptions {
  /** The clock dead rows and hints are stamped with: the process's, or a simulation's. Required. */
  readonly nowMs: () => number;
  /** When a turn's writes are committed (default: the real event loop's turn). */
  readonly schedule?: Scheduler;
  /** The store's epoch (default: a fresh random one, as a node that lost everything gets). */
  readonly epoch?: string;
  /** Bounds of the hint store (default DEFAULT_HINT_LIMITS). */
  readonly limits?: HintLimits & VersioningLimits;
  /** Where new epochs come from (a new life after a crash, a lost write); default randomEpoch. */
  readonly freshEpoch?: () => string;
  /** A disk fault (the simulation's): while it returns an error, every commit throws it. */
  readonly commitFault?: () => Error | undefined;
}

export class MemoryStore implements Store {
  private readonly objects = new Map<string, VersionedObject>();
  private readonly keyDigests = new Map<string, KeyDigest>();
  private readonly deadAfter = new Map<string, number>();
  private readonly actors = new Map<string, string>();
  private readonly tree = new DigestTree();
  private readonly queue: GroupCommitQueue;
  private readonly watchers = new KeyWatchers();
  /** A new MemoryStore is a node that lost everything: it always starts a new epoch. */
  private life: StoreLife;
  /** Makes the epoch of a new life (the simulation's seeded source; randomEpoch otherwise). */
  private readonly freshEpoch: () => string;
  /** The simulation's disk fault: a commit throws this while it returns one. */
  private readonly commitFault: (() => Error | undefined) | undefined;
  /** The last life ended in close(): the next keeps the epoch if it lost no write. */
  private cleanStop = false;
  readonly hints: HintStore;
  readonly acceptorRecords: AcceptorRecordStore = new MemoryAcceptorRecords();

  private readonly nowMs: () => number;

  constructor(options: MemoryStoreOptions) {
    const { nowMs } = options;
    this.nowMs = nowMs;
    this.freshEpoch = options.freshEpoch ?? randomEpoch;
    this.life = new StoreLife(options.epoch ?? this.freshEpoch(), this.freshEpoch);
    this.commitFault = options.commitFault;
    this.hints = new MemoryHintStore(options.limits ?? DEFAULT_HINT_LIMITS, nowMs);
    this.queue = new GroupCommitQueue((batch) => {
      const fault = this.commitFault?.();
      if (fault !== undefined) throw fault;
      for (const [key, actor] of batch.actors) this.actors.set(key, actor);
      for (const [key, object] of batch.objects) {
        this.objects.set(key, object);
        const old = this.keyDigests.get(key);
        if (old !== undefined) this.tree.apply(old.position, old.digest, -1);
        const entry = { key, position: batch.positions.get(key) ?? ringPosition(key), digest: objectDigest(key, encodeObject(object)) };
        this.keyDigests.set(key, entry);
        this.tree.apply(entry.position, entry.digest, 1);
        const dead = localDeadAfterMs(deadAfterMs(object), this.deadAfter.get(key), nowMs());
        if (dead === undefined) this.deadAfter.delete(key);
        else this.deadAfter.set(key, dead);
      }
      this.watchers.notify(batch.objects.keys());
    }, options.schedule ?? nextTurn, undefined, () => this.life.writeLost());
  }

  get epoch(): string {
    return this.life.epoch;
  }

  /** Writes this life failed to commit (tests). */
  get lostWrites(): number {
    return this.life.lost;
  }

  writeRefusal(): KvError | undefined {
    return this.queue.refusal();
  }

  /**
   * The process died with this store open (the simulation's kill -9, which keeps the disk):
   * with `beforeCommit`, the writes queued and not committed die with it. The next life
   * (`reopen`) takes a new epoch, as SqliteStore does after an unclean stop.
   */
  crashed(beforeCommit: boolean): void {
    if (beforeCommit) this.queue.discard();
    this.cleanStop = false;
  }

  /** A new life over this disk: the epoch is kept only after a clean stop (close) that lost no write. */
  reopen(): void {
    const keep = (this.cleanStop && this.life.clean) || plantedBugs.keepEpochAfterLostWrite;
    this.life = new StoreLife(keep ? this.life.epoch : this.freshEpoch(), this.freshEpoch);
    this.queue.reopen();
    this.cleanStop = false;
  }

  get(key: string): VersionedObject | undefined {
    return this.queue.peek(key) ?? this.objects.get(key);
  }

  committed(key: string): Promise<boolean> {
    return this.queue.committed(key);
  }

  actorOf(key: string): string | undefined {
    return this.queue.peekActor(key) ?? this.actors.get(key);
  }

  put(key: string, object: VersionedObject, actor?: string, position?: number): Promise<void> {
    return this.queue.enqueue(key, object, actor, position);
  }

  merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions): Promise<void> {
    return mergeIntoStore((k) => this.get(k), (k, object, actor, pos) => this.put(k, object, actor, pos), this.queue, key, incoming, limits, options);
  }

  async syncNow(): Promise<void> {
    // Nothing outlives the process: what is committed is as durable as the twin gets.
  }

  stats(): StoreStats {
    return this.queue.stats();
  }

  /**
   * A memory store has no file to copy and nothing to restore into: a snapshot is refused
   * with a coded error (an operator snapshots SQLite nodes; the memory twin serves tests).
   */
  snapshot(): Promise<SnapshotFile> {
    return Promise.reject(new KvError('KV_ERR_BAD_REQUEST', 'this node keeps its data in memory: there is no database to snapshot'));
  }

  keyCount(): number {
    return this.objects.size;
  }

  removeIfUnchanged(entries: ReadonlyArray<{ readonly key: string; readonly digest: Uint8Array }>): number {
    let removed = 0;
    for (const { key, digest } of entries) {
      const current = this.keyDigests.get(key);
      if (current === undefined || this.queue.has(key) || !sameHash(current.digest, digest)) continue;
      this.objects.delete(key);
      this.keyDigests.delete(key);
      this.deadAfter.delete(key);
      this.actors.delete(key);
      this.tree.apply(current.position, current.digest, -1);
      removed++;
    }
    return removed;
  }

  digestOf(key: string): Uint8Array | undefined {
    const queued = this.queue.peek(key);
    return queued !== undefined ? objectDigest(key, encodeObject(queued)) : this.keyDigests.get(key)?.digest;
  }

  deadBefore(cutoffMs: number, limit: number): KeyDigest[] {
    return [...this.deadAfter]
      .filter(([, dead]) => dead < cutoffMs)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([key]) => this.keyDigests.get(key)!);
  }

  summarize(start: number, end: number): RangeSummary {
    return this.tree.summary(start, end, (from, to) => this.scan(from, to));
  }

  digests(start: number, end: number, limit: number): KeyDigest[] {
    return this.scan(start, end)
      .sort((a, b) => a.position - b.position || (a.key < b.key ? -1 : 1))
      .slice(0, limit);
  }

  /** Every key in [from, to): a full scan, fine for the twin's test-sized data. */
  private scan(from: number, to: number): KeyDigest[] {
    return [...this.keyDigests.values()].filter((entry) => entry.position >= from && entry.position < to);
  }

  async close(): Promise<void> {
    this.queue.close();
    this.cleanStop = true;
  }

  onCommit(key: string, listener: () => void): () => void {
    return this.watchers.watch(key, listener);
  }

  /**
   * Store.listKeys. The twin keeps no ordered index: it sorts the matching keys on every call,
   * which is fine for the test-sized data it holds (SqliteStore reads its primary-key index).
   */
  listKeys(prefix: string, after: string, limit: number, ranges?: readonly ListRange[]): KeyPage {
    const nowMs = this.nowMs();
    const matching = [...this.keyDigests.values()]
      .filter((entry) => entry.key.startsWith(prefix) && compareKeys(entry.key, after) > 0)
      .sort((a, b) => compareKeys(a.key, b.key))
      .slice(0, scanBudget(limit));
    const rows = matching.map((entry): ListRow => ({ key: entry.key, position: entry.position, live: () => isLiveAt(this.objects.get(entry.key)!, nowMs) }));
    return pageOf(rows, limit, ranges, scanBudget(limit));
  }
}
