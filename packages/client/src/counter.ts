/**
 * A grow-only counter as a JSON value, for update() (Shapiro et al., "A comprehensive study of
 * Convergent and Commutative Replicated Data Types", 2011, the G-Counter): one entry per writer,
 * which only that writer increments. Siblings from racing writers merge by the maximum of each
 * entry, so every increment survives any interleaving; the count is the sum of the entries.
 *
 * Each concurrent updater needs its own writer id, never shared with another updater running
 * at the same time (a random UUID per process or per task); the value grows by one entry per
 * id ever used, so reuse a process's id across its restarts rather than minting one per call.
 */

/** writer id → that writer's increments. */
export type GCounter = Readonly<Record<string, number>>;

/** Merges siblings of a counter: each writer's largest count. A resolver for update(). */
export function mergeGCounters(values: readonly GCounter[]): GCounter {
  const merged: Record<string, number> = {};
  for (const value of values) {
    for (const [writer, count] of Object.entries(value)) merged[writer] = Math.max(merged[writer] ?? 0, count);
  }
  return merged;
}

/** The counter's value: the sum of every writer's count. */
export function gCounterTotal(counter: GCounter | undefined): number {
  return Object.values(counter ?? {}).reduce((sum, count) => sum + count, 0);
}

/** `counter` with `writer`'s entry raised by `by` (default 1). An Updater for update(). */
export function incrementGCounter(counter: GCounter | undefined, writer: string, by = 1): GCounter {
  return { ...counter, [writer]: (counter?.[writer] ?? 0) + by };
}
