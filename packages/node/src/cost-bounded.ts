/**
 * A value that is costly to compute, such as a count of the hints table for /admin/status, recomputed
 * at most so often that computing it stays a small share of the event loop whatever the
 * request rate: after a computation that took c ms, the value is reused for
 * max(minAgeMs, c × costFactor) ms. With costFactor 100 a count is at most ~1 % of the loop.
 * Issue #18: `/admin/status` ran a full count per request for anyone who asked.
 */
export interface CostBoundedOptions {
  /** The clock ages are measured on (injected; the node's clock). */
  readonly nowMs: () => number;
  /** Shortest reuse, even for a cheap value. */
  readonly minAgeMs: number;
  /** Reuse for this many times the last computation's cost. */
  readonly costFactor: number;
  /** Measures the computation's cost: a monotonic clock (the node passes performance.now); required, as every clock is. */
  readonly elapsedMs: () => number;
}

export function costBounded<T>(compute: () => T, options: CostBoundedOptions): () => T {
  const elapsed = options.elapsedMs;
  let cached: { value: T; atMs: number; reuseMs: number } | undefined;
  return () => {
    const now = options.nowMs();
    if (cached !== undefined && now - cached.atMs < cached.reuseMs && now >= cached.atMs) return cached.value;
    const started = elapsed();
    const value = compute();
    const costMs = elapsed() - started;
    cached = { value, atMs: now, reuseMs: Math.max(options.minAgeMs, costMs * options.costFactor) };
    return value;
  };
}
