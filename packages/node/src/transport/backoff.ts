/**
 * Reconnect delays of the stream transport: exponential backoff with jitter ("equal jitter",
 * AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): after the k-th failed dial in a
 * row the next may start after a delay drawn uniformly from [c/2, c], c = min(maxMs, baseMs·2^k).
 * Half of it is fixed so a peer that is down is not redialled at once; the random half keeps the
 * nodes of a ring from redialling a restarted peer in lockstep. Pure: randomness is injected.
 */
export const RECONNECT_BASE_MS_DEFAULT = 50;
export const RECONNECT_MAX_MS_DEFAULT = 1_000;

export class Backoff {
  private failures = 0;

  constructor(
    private readonly random: () => number,
    private readonly baseMs = RECONNECT_BASE_MS_DEFAULT,
    private readonly maxMs = RECONNECT_MAX_MS_DEFAULT,
  ) {}

  /** Failed dials in a row. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failed dial; returns how long to wait before the next. */
  fail(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  /** A dial succeeded: the next failure starts from `baseMs` again. */
  reset(): void {
    this.failures = 0;
  }
}
