/**
 * Replay memory of the /internal/ routes: every accepted request tag is remembered while its
 * time stays inside the skew window, so each signed request is applied at most once per boot
 * of the receiver. Across a restart the receiver's boot epoch takes over (transport/auth.ts):
 * a request signed for an earlier boot is refused whatever its tag.
 */
/** Largest accepted difference between the sender's and the receiver's clocks. */
export const AUTH_SKEW_MS_DEFAULT = 30_000;

/**
 * The wider window of messages that change no stored state (gossip packets, stream
 * challenges): 5 minutes, so a node whose clock is tens of seconds off still reaches its peers
 * and says how far off it is (issue 16.5, docs/membership.md "Clock skew").
 */
export const PEER_CLOCK_WINDOW_MS = 300_000;

/** How many accepted tags a ReplayGuard remembers at most (about 120 bytes each). */
export const REPLAY_ENTRIES_MAX_DEFAULT = 262_144;

/**
 * Remembers the tags of accepted requests for as long as their time stays inside the skew
 * window, so each signed request is applied at most once. Bounded: past `entriesMax` it forgets
 * the entry with the oldest time and from then on refuses every request at least that old (the
 * `floorMs` horizon), so forgetting never lets a replay through; under that much load only
 * requests from a sender whose clock lags far behind are refused. Removing an expired entry
 * raises the horizon too, which keeps replays out even if the local clock steps back.
 * Entries sit in a binary min-heap by time: expiry and eviction pop the oldest in O(log n).
 */
export class ReplayGuard {
  private readonly seen = new Set<string>();
  private readonly heap: Array<{ readonly timeMs: number; readonly tag: string }> = [];
  private floorMs = -Infinity;

  constructor(
    private readonly entriesMax = REPLAY_ENTRIES_MAX_DEFAULT,
    private readonly skewMs = AUTH_SKEW_MS_DEFAULT,
  ) {
    if (!Number.isSafeInteger(entriesMax) || entriesMax < 1) throw new RangeError(`entriesMax must be a positive integer (got ${entriesMax})`);
  }

  /** Tags remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /** True when a request with this tag and time must be refused as a replay. Records nothing. */
  isReplay(tag: string, timeMs: number, nowMs: number): boolean {
    this.expire(nowMs);
    return this.seen.has(tag) || timeMs <= this.floorMs;
  }

  /**
   * Records an authenticated request. Returns false (and records nothing) when it is a replay:
   * its tag was accepted before, or its time is at or below the horizon.
   */
  admit(tag: string, timeMs: number, nowMs: number): boolean {
    if (this.isReplay(tag, timeMs, nowMs)) return false;
    if (this.seen.size >= this.entriesMax) {
      // Full: a request older than everything remembered would raise the horizon past itself.
      if (timeMs <= this.heap[0]!.timeMs) return false;
      while (this.seen.size >= this.entriesMax) this.forgetOldest();
      if (timeMs <= this.floorMs) return false;
    }
    this.seen.add(tag);
    this.push({ timeMs, tag });
    return true;
  }

  private expire(nowMs: number): void {
    while (this.heap.length > 0 && this.heap[0]!.timeMs + this.skewMs < nowMs) this.forgetOldest();
  }

  private forgetOldest(): void {
    const oldest = this.pop();
    if (oldest === undefined) return;
    this.seen.delete(oldest.tag);
    this.floorMs = Math.max(this.floorMs, oldest.timeMs);
  }

  private push(entry: { readonly timeMs: number; readonly tag: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.timeMs <= entry.timeMs) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { readonly timeMs: number; readonly tag: string } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.timeMs < heap[left]!.timeMs ? right : left;
      if (heap[child]!.timeMs >= last.timeMs) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
