/**
 * The background loops of a node (hint delivery, anti-entropy, ownership handoff, reaping)
 * share one shape: run a round, wait, run the next, never two at once, until stopped. A round
 * that throws is reported and the loop goes on. The wait after a round may depend on what it
 * returned (the handoff runs back to back while it has work). Timers are injected so the
 * cluster simulation drives every loop on its manual clock.
 */
import type { Ring } from '@ringkv/protocol';
import type { MembershipView } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Timers } from '../timers.js';

/**
 * What the loops that walk this node's ring arcs (anti-entropy, ownership handoff) both need:
 * who we are, the ring and its members, the local store, the transport, and the node's one
 * key-moving rate limiter they share.
 */
export interface RingWalkDeps {
  readonly selfId: string;
  readonly n: number;
  readonly ring: () => Ring;
  readonly membership: MembershipView;
  readonly store: Store;
  readonly transport: Transport;
  readonly limiter: RateLimiter;
}

export class RoundLoop<T> {
  private timer: unknown;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly round: () => Promise<T>,
    private readonly onError: (error: unknown) => void,
    private readonly timers: Timers,
  ) {}

  /** First round after `intervalMs`; then `nextDelayMs(result)` after each (default: the interval). */
  start(intervalMs: number, nextDelayMs: (result: T | undefined) => number = () => intervalMs): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.round()
        .catch((error: unknown) => {
          this.onError(error);
          return undefined;
        })
        .then((result) => {
          if (!this.stopped) this.timer = this.timers.setTimeout(loop, nextDelayMs(result));
        });
    };
    this.timer = this.timers.setTimeout(loop, intervalMs);
  }

  /** No new round starts; resolves once the one in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    await this.running;
  }
}
