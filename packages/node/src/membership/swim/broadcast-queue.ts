/**
 * The bounded broadcast queue (memberlist TransmitLimitedQueue): updates waiting to be
 * piggybacked. One entry per member (a newer update about a member replaces the older one, so
 * the queue never holds more entries than there are members); each entry is sent at most
 * `limit` times; the least-sent entries go first (older first among equals), and a message
 * takes as many as fit in its size budget.
 *
 * Entries live in buckets by transmit count, so taking k updates costs O(k) plus the buckets
 * skipped, not a sort of the whole queue: it matters at 1,000 members, where a join storm
 * queues an entry per member at every member.
 */
import type { Update } from './types.js';

interface Entry {
  readonly update: Update;
  readonly bytes: number;
  transmits: number;
}

export class BroadcastQueue {
  private readonly byId = new Map<string, Entry>();
  /** buckets[t] holds the entries sent t times, in insertion order. */
  private readonly buckets: Array<Set<Entry>> = [];

  constructor(private readonly sizeOf: (update: Update) => number = (u) => JSON.stringify(u).length + 1) {}

  get size(): number {
    return this.byId.size;
  }

  /** Queues an update, replacing any pending one about the same member. */
  push(update: Update): void {
    this.delete(update.id);
    const entry: Entry = { update, bytes: this.sizeOf(update), transmits: 0 };
    this.byId.set(update.id, entry);
    this.bucket(0).add(entry);
  }

  /** Drops the pending update about a member. */
  delete(id: string): void {
    const entry = this.byId.get(id);
    if (entry === undefined) return;
    this.byId.delete(id);
    this.buckets[entry.transmits]?.delete(entry);
  }

  /**
   * Takes up to `max` updates whose sizes fit in `budget` bytes, least transmitted first, and
   * counts a transmission for each; entries sent `limit` times leave the queue.
   */
  take(max: number, budget: number, limit: number): Update[] {
    const out: Update[] = [];
    if (this.byId.size === 0 || max <= 0) return out;
    const taken: Entry[] = [];
    let left = budget;
    for (let t = 0; t < this.buckets.length && out.length < max; t++) {
      const bucket = this.buckets[t];
      if (bucket === undefined || bucket.size === 0) continue;
      for (const entry of bucket) {
        if (out.length >= max) break;
        if (entry.bytes > left) continue;
        left -= entry.bytes;
        out.push(entry.update);
        taken.push(entry);
      }
    }
    for (const entry of taken) {
      this.buckets[entry.transmits]!.delete(entry);
      entry.transmits++;
      if (entry.transmits >= limit) this.byId.delete(entry.update.id);
      else this.bucket(entry.transmits).add(entry);
    }
    return out;
  }

  private bucket(transmits: number): Set<Entry> {
    let bucket = this.buckets[transmits];
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets[transmits] = bucket;
    }
    return bucket;
  }
}

/** Retransmit limit: mult * ceil(log10(n + 1)) (SWIM's infection-style bound). */
export function retransmitLimit(mult: number, members: number): number {
  return mult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}
