/**
 * The SQLite store's cache of committed rows (issue 12, point 2): for recently read or written
 * keys, the decoded object and the row's ring position, digest and dead-after time, so that
 * the reads every write makes (the coordinator's read of the current version, each replica's
 * merge, the commit's look at the old digest for the hash tree) and hot GETs skip a SELECT and
 * a decode. It mirrors the `objects` table exactly: an entry is set only from a row read, or
 * after the transaction that wrote it committed, and dropped when its row is removed; so a
 * failed transaction (rolled back) leaves it as it was, and a failed fsync (the rows stay, the
 * store takes a new epoch: store-life.ts) leaves it matching what the table then holds.
 *
 * Bounded by an estimate of the memory it holds (LRU: the least recently used rows go first).
 * Objects are shared with callers, as GroupCommitQueue.peek already shares queued ones: they
 * are never mutated (VersionedObject is readonly throughout).
 */
import type { VersionedObject } from '../core/versioned.js';

/** A committed row as the store keeps it. */
export interface CachedRow {
  readonly object: VersionedObject;
  readonly pos: number;
  readonly digest: Uint8Array;
  /** `dead_after_ms`: null while any sibling is live. */
  readonly deadAfterMs: number | null;
  /** The encoded object's size, from which the memory it holds is estimated. */
  readonly encodedBytes: number;
}

/** Memory held by the cache at most, estimated, by default: 32 MiB. */
export const ROW_CACHE_BYTES_DEFAULT = 32 * 1024 * 1024;

/** A decoded object takes about this many times its encoded size, plus the entry's own overhead. */
const DECODED_FACTOR = 3;
const ENTRY_OVERHEAD_BYTES = 200;

function weight(row: CachedRow, key: string): number {
  return row.encodedBytes * DECODED_FACTOR + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}

export class RowCache {
  /** In use order: the first entry is the least recently used. */
  private readonly rows = new Map<string, CachedRow>();
  private held = 0;
  private counters = { hits: 0, misses: 0 };

  /** `bytesMax` 0: nothing is kept (every lookup misses). */
  constructor(private readonly bytesMax = ROW_CACHE_BYTES_DEFAULT) {}

  /** The row of `key` if kept, marked as just used. */
  get(key: string): CachedRow | undefined {
    const row = this.rows.get(key);
    if (row === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    this.rows.delete(key);
    this.rows.set(key, row);
    return row;
  }

  /** Keeps `row` as the committed row of `key`; least recently used rows go while over the bound. */
  set(key: string, row: CachedRow): void {
    this.delete(key);
    const bytes = weight(row, key);
    if (bytes > this.bytesMax) return;
    this.rows.set(key, row);
    this.held += bytes;
    for (const [oldest, old] of this.rows) {
      if (this.held <= this.bytesMax) break;
      this.rows.delete(oldest);
      this.held -= weight(old, oldest);
    }
  }

  /** Forgets `key` (its row was removed, or is about to change outside the cache's knowledge). */
  delete(key: string): void {
    const row = this.rows.get(key);
    if (row === undefined) return;
    this.rows.delete(key);
    this.held -= weight(row, key);
  }

  /** Lookups so far, and the memory held (metrics, tests, the benchmark). */
  stats(): { hits: number; misses: number; entries: number; bytes: number } {
    return { ...this.counters, entries: this.rows.size, bytes: this.held };
  }
}
