/**
 * A token bucket: `perSecond` tokens a second, at most one second's worth banked. Anti-entropy
 * and transfers take a token per key they move, so a repair of a whole replica cannot starve
 * client traffic; the wait is computed from the injected clock, and sleeping is injected too.
 *
 * Source: riak_kv's anti-entropy throttle (riak_kv_entropy_manager) and Cassandra's
 * stream_throughput_outbound, which bound repair traffic the same way.
 */
export class RateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = perSecond;
    this.lastMs = nowMs();
  }

  /** Milliseconds until `count` tokens are available (0 = now); takes them when they are. */
  tryTake(count: number): number {
    const now = this.nowMs();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = now;
    const wanted = Math.min(count, this.perSecond); // a request larger than the bucket waits for a full one
    if (this.tokens >= wanted) {
      this.tokens -= wanted;
      return 0;
    }
    return Math.ceil(((wanted - this.tokens) * 1000) / this.perSecond);
  }

  /** Resolves once `count` tokens were taken. */
  async take(count: number): Promise<void> {
    for (let waitMs = this.tryTake(count); waitMs > 0; waitMs = this.tryTake(count)) await this.sleep(waitMs);
  }
}
