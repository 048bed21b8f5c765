/**
 * Request rates and latency percentiles over the last few minutes, for the dashboard
 * (docs/dashboard.md). Prometheus' counters and histograms only grow, so a recent rate or p99
 * needs two scrapes and a subtraction; the page has no Prometheus behind it. This window keeps
 * the same observations (every /kv request, beside `observeRequest`) in a ring of time slots,
 * each with a request count, an error count and a log-scale latency histogram. Pure: the clock
 * is injected and nothing here does I/O. Memory is fixed: `slots` × (LATENCY_BOUNDS + 4) numbers.
 */
import assert from 'node:assert';

/** Latency bucket upper bounds in seconds: 50 µs growing by 25% each, up to past 2 minutes. */
export const LATENCY_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 0.00005; bound < 150; bound *= 1.25) bounds.push(bound);
  return bounds;
})();

export interface RequestWindowOptions {
  /** Width of one slot (the series' resolution). */
  readonly slotMs: number;
  /** How many slots are kept: the window is slotMs × slots. */
  readonly slots: number;
  readonly nowMs: () => number;
}

/** One slot of the series, oldest first. */
export interface WindowPoint {
  readonly startMs: number;
  readonly requests: number;
  /** Answers with status 500 or above (timeouts, quorum unmet, internal). */
  readonly errors: number;
  /** Requests per second over the slot (over the part already elapsed, for the current one). */
  readonly perSecond: number;
  /** Percentiles in milliseconds, bucket upper bounds (at most 25% above the true value); null without requests. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface WindowTotals {
  readonly windowMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly byOp: Readonly<Record<string, number>>;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

interface Slot {
  /** floor(time / slotMs) of the slot's data; a slot whose index is old is empty. */
  index: number;
  requests: number;
  errors: number;
  byOp: Map<string, number>;
  latency: Uint32Array;
}

/** Ops counted by name; anything else (a method the router refused) counts as "other". */
const OPS = new Set(['get', 'put', 'delete']);

export class RequestWindow {
  private readonly ring: Slot[];

  constructor(private readonly options: RequestWindowOptions) {
    assert(options.slotMs >= 1 && options.slots >= 1 && options.slots <= 10_000, 'slotMs >= 1 and 1..10000 slots');
    this.ring = Array.from({ length: options.slots }, () => ({ index: -1, requests: 0, errors: 0, byOp: new Map(), latency: new Uint32Array(LATENCY_BOUNDS.length + 1) }));
  }

  /** Records one request (the same arguments as metrics.observeRequest). */
  record(op: string, status: number, seconds: number): void {
    const slot = this.slotAt(Math.floor(this.options.nowMs() / this.options.slotMs));
    slot.requests++;
    if (status >= 500) slot.errors++;
    const name = OPS.has(op) ? op : 'other';
    slot.byOp.set(name, (slot.byOp.get(name) ?? 0) + 1);
    slot.latency[bucketOf(seconds)]!++;
  }

  /** The window slot by slot, oldest first, the current (partial) slot last. */
  series(): WindowPoint[] {
    const now = this.options.nowMs();
    const current = Math.floor(now / this.options.slotMs);
    const points: WindowPoint[] = [];
    for (let index = current - this.options.slots + 1; index <= current; index++) {
      const slot = this.live(index);
      const elapsedMs = index === current ? Math.max(now - index * this.options.slotMs, 1) : this.options.slotMs;
      points.push({
        startMs: index * this.options.slotMs,
        requests: slot?.requests ?? 0,
        errors: slot?.errors ?? 0,
        perSecond: ((slot?.requests ?? 0) * 1000) / Math.max(elapsedMs, 1000),
        p50Ms: slot === undefined ? null : percentileMs(slot.latency, slot.requests, 0.5),
        p99Ms: slot === undefined ? null : percentileMs(slot.latency, slot.requests, 0.99),
      });
    }
    return points;
  }

  /** The whole window summed: rate over the time it covers, percentiles over every request in it. */
  totals(): WindowTotals {
    const now = this.options.nowMs();
    const current = Math.floor(now / this.options.slotMs);
    const latency = new Uint32Array(LATENCY_BOUNDS.length + 1);
    const byOp: Record<string, number> = {};
    let requests = 0;
    let errors = 0;
    for (let index = current - this.options.slots + 1; index <= current; index++) {
      const slot = this.live(index);
      if (slot === undefined) continue;
      requests += slot.requests;
      errors += slot.errors;
      for (const [op, count] of slot.byOp) byOp[op] = (byOp[op] ?? 0) + count;
      for (let i = 0; i < latency.length; i++) latency[i]! += slot.latency[i]!;
    }
    const windowMs = (this.options.slots - 1) * this.options.slotMs + Math.max(now - current * this.options.slotMs, 1);
    return {
      windowMs,
      requests,
      errors,
      perSecond: (requests * 1000) / windowMs,
      byOp,
      p50Ms: percentileMs(latency, requests, 0.5),
      p90Ms: percentileMs(latency, requests, 0.9),
      p99Ms: percentileMs(latency, requests, 0.99),
    };
  }

  private live(index: number): Slot | undefined {
    const slot = this.ring[mod(index, this.options.slots)]!;
    return slot.index === index ? slot : undefined;
  }

  private slotAt(index: number): Slot {
    const slot = this.ring[mod(index, this.options.slots)]!;
    if (slot.index !== index) {
      // Reused for a newer slot: what it held is older than the window (or, after a clock step
      // backwards, from a future the window no longer shows).
      slot.index = index;
      slot.requests = 0;
      slot.errors = 0;
      slot.byOp.clear();
      slot.latency.fill(0);
    }
    return slot;
  }
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The first bucket whose bound is at least `seconds`; the last one holds everything longer. */
export function bucketOf(seconds: number): number {
  if (!(seconds > LATENCY_BOUNDS[0]!)) return 0; // NaN and negatives too
  let low = 0;
  let high = LATENCY_BOUNDS.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (LATENCY_BOUNDS[mid]! >= seconds) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The bound (ms) of the bucket holding the q-th request; the overflow bucket reports the last bound. */
function percentileMs(latency: Uint32Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i]!;
    if (seen >= rank) return LATENCY_BOUNDS[Math.min(i, LATENCY_BOUNDS.length - 1)]! * 1000;
  }
  return LATENCY_BOUNDS.at(-1)! * 1000;
}
