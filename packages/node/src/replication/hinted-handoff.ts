/**
 * Delivery of hints (Dynamo §4.6): every `intervalMs`, for each owner this node holds hints
 * for that membership says is reachable again, send up to `batch` of them as ordinary replica
 * writes (merged by the owner, so a repeat is harmless), and delete those the owner
 * acknowledged, unless a newer write was merged into the hint meanwhile (sequence check).
 * Hints older than `ttlMs` are dropped and counted: anti-entropy repairs what they held.
 * Owners no member knows (not yet gossiped, or removed) are skipped until their hints expire.
 */
import type { Logger } from 'pino';
import type { MembershipView } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import { realTimers, type Timers } from '../timers.js';

export interface HandoffDeps {
  readonly store: Store;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** Hints sent to one owner per round. */
  readonly batch: number;
  readonly ttlMs: number;
  readonly events?: { delivered?(count: number): void; dropped?(count: number): void };
  /** Default: the process's timers (a simulation passes its manual clock's). */
  readonly timers?: Timers;
}

export class HintedHandoff {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: HandoffDeps) {}

  private get timers(): Timers {
    return this.deps.timers ?? realTimers;
  }

  /** One delivery round; resolves with how many hints were delivered and dropped. */
  async deliverOnce(): Promise<{ delivered: number; dropped: number }> {
    const { store, membership, transport } = this.deps;
    const dropped = store.hints.expire(this.deps.nowMs() - this.deps.ttlMs);
    if (dropped > 0) this.deps.events?.dropped?.(dropped);
    let delivered = 0;
    for (const { owner } of store.hints.owners()) {
      const member = membership.member(owner);
      if (member === undefined || !membership.isReachable(owner)) continue;
      const hints = store.hints.take(owner, this.deps.batch);
      const results = await Promise.allSettled(hints.map((hint) => transport.replica(member, { kind: 'put', key: hint.key, object: hint.object })));
      const acked = hints.filter((_, i) => {
        const result = results[i]!;
        return result.status === 'fulfilled' && result.value.ok;
      });
      delivered += store.hints.remove(acked.map(({ id, seq }) => ({ id, seq })));
    }
    if (delivered > 0) this.deps.events?.delivered?.(delivered);
    return { delivered, dropped };
  }

  /** Runs rounds every `intervalMs` until stop(); a round never overlaps the next. */
  start(intervalMs: number): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.deliverOnce()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'hint delivery round failed'))
        .then(() => {
          if (!this.stopped) this.timer = this.timers.setTimeout(loop, intervalMs);
        });
    };
    this.timer = this.timers.setTimeout(loop, intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    await this.running;
  }
}
