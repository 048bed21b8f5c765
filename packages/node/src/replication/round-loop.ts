/**
 * The background loops of a node (hint delivery, anti-entropy, ownership handoff, reaping)
 * share one shape: run a round, wait, run the next, never two at once, until stopped. A round
 * that throws is reported and the loop goes on. The wait after a round may depend on what it
 * returned (the handoff runs back to back while it has work). Timers are injected so the
 * cluster simulation drives every loop on its manual clock.
 */
import { realTimers, type Timers } from '../timers.js';

export class RoundLoop<T> {
  private timer: unknown;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly round: () => Promise<T>,
    private readonly onError: (error: unknown) => void,
    private readonly timers: Timers = realTimers,
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
