/**
 * Timers as a dependency (STYLE.md §2): the parts that wait (quorum deadlines and grace
 * periods, request timeouts, the hint delivery loop) take them injected, so the cluster
 * simulation (testing/cluster-sim.ts) can run them on a manual clock and replay a seed
 * exactly. Every part takes them as a required dependency; only the composition root
 * (root/assemble.ts) picks the process's own (test/architecture/no-default-clocks.test.ts).
 */

/** An opaque handle from `setTimeout`, given back to `clearTimeout`. */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /**
   * The clock these timers run on, in whole ms (a remaining timeout goes on the wire as an
   * integer): monotonic, never stepped. Request deadlines are
   * measured on it, not on the wall clock (`nowMs`), so an NTP step back does not stretch a
   * request's timeout_ms by the size of the step (the cluster simulation's clock-back fault,
   * data-type seed 502: a forward hung ~540 ms past its 100 ms deadline and held the key's
   * later writes behind it).
   */
  monotonicMs(): number;
  /** Cancels a timer; a handle that already fired (or undefined) is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** The process's timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  monotonicMs: () => Math.floor(performance.now()),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
