/**
 * Ownership handoff (Dynamo §4.9): keys this node holds but no longer owns, because a node
 * joined in front of it or it left, are handed to their current owners and then dropped here.
 *
 * There is no transfer plan to lose: what is left to hand off is exactly the keys this node
 * stores in arcs where it is not in the preference list, which the hash tree counts at no cost
 * (`pending`). A round takes a batch of them, sends each to every owner as an ordinary replica
 * write (merged there, so repeats and races are harmless), and drops a key only once every
 * owner acknowledged it and only if it did not change since it was sent (removeIfUnchanged): a
 * write that reached this node meanwhile, from a coordinator with an older ring, is sent again
 * next round. A key with an owner that is unreachable waits. A crash of either side at any
 * point leaves the key here or there, never nowhere: a restart resumes by recounting.
 *
 * The new owners also learn these keys through anti-entropy (they share the arcs with the
 * other replicas); this loop is what removes the old copies, and what lets a leaving node go
 * only once its data lives elsewhere. Rounds take keys from the same RateLimiter as
 * anti-entropy, so both together stay within the node's repair budget. An operator can pause
 * and resume it (POST /admin/transfers).
 */
import type { Logger } from 'pino';
import { arcRanges, preferenceList, RING_SPACE } from '@ringkv/protocol';
import type { PositionRange } from '../transport/tree-messages.js';
import type { Timers } from '../timers.js';
import { RoundLoop, type RingWalkDeps } from './round-loop.js';

export interface TransferDeps extends RingWalkDeps {
  readonly logger: Logger;
  /** Keys per round. */
  readonly batch: number;
  readonly timers: Timers;
  readonly events?: { handedOff?(count: number): void };
}

export interface TransferStatus {
  /** Keys stored here that this node does not own: what is left to hand off. */
  readonly pending: number;
  /** Keys handed off and dropped since start. */
  readonly handedOff: number;
  readonly paused: boolean;
  /** Keys of the last round that could not be handed off yet (an owner unreachable or failing). */
  readonly waiting: number;
}

export class OwnershipTransfer {
  private handedOff = 0;
  /** Ring position the next round starts from. */
  private cursor = 0;
  private waiting = 0;
  private leaving = false;
  private paused = false;
  private readonly loop: RoundLoop<number>;

  constructor(private readonly deps: TransferDeps) {
    this.loop = new RoundLoop(() => this.runOnce(), (error) => deps.logger.warn({ err: error }, 'ownership transfer round failed'), deps.timers);
  }

  /** Ranges of the ring where this node is not an owner, adjacent ones joined. */
  notOwned(): PositionRange[] {
    return arcRanges(this.deps.ring(), this.deps.n, (owners) => !owners.includes(this.deps.selfId));
  }

  pending(): number {
    return this.notOwned().reduce((sum, range) => sum + this.deps.store.summarize(range.start, range.end).count, 0);
  }

  status(): TransferStatus {
    return { pending: this.pending(), handedOff: this.handedOff, paused: this.paused, waiting: this.waiting };
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /**
   * This node is leaving: from now on every owner is tried whatever this node's view says. A
   * node that left during a partition may keep calling its peers dead (departed members are
   * no longer gossiped with), and waiting for its view to recover could keep it from ever
   * finishing its leave; a failed send is simply retried next round.
   */
  setLeaving(): void {
    this.leaving = true;
  }

  /** One round: hands off up to `batch` keys; resolves with how many were dropped here. */
  async runOnce(): Promise<number> {
    if (this.paused) return 0;
    const { store, membership, transport } = this.deps;
    const ring = this.deps.ring();
    // From where the last round stopped, wrapping: keys that must wait (an owner is down)
    // do not hold back the ones after them.
    const candidates = [];
    const ranges = this.notOwned();
    const pieces = [
      ...ranges.filter((r) => r.end > this.cursor).map((r) => ({ start: Math.max(r.start, this.cursor), end: r.end })),
      ...ranges.filter((r) => r.start < this.cursor).map((r) => ({ start: r.start, end: Math.min(r.end, this.cursor) })),
    ];
    for (const range of pieces) {
      if (candidates.length >= this.deps.batch) break;
      candidates.push(...store.digests(range.start, range.end, this.deps.batch - candidates.length));
    }
    this.cursor = candidates.length === 0 ? 0 : (candidates.at(-1)!.position + 1) % RING_SPACE;
    if (candidates.length === 0) {
      this.waiting = 0;
      return 0;
    }
    await this.deps.limiter.take(candidates.length);
    const done: Array<{ key: string; digest: Uint8Array }> = [];
    await Promise.all(
      candidates.map(async ({ key, digest }) => {
        const object = store.get(key);
        const owners = preferenceList(ring, key, this.deps.n).map((id) => membership.member(id));
        if (object === undefined || owners.some((owner) => owner === undefined || (!this.leaving && !membership.isReachable(owner.id)))) return;
        const results = await Promise.allSettled(owners.map((owner) => transport.replica(owner!, { kind: 'put', key, object })));
        if (results.every((result) => result.status === 'fulfilled' && result.value.ok)) done.push({ key, digest });
      }),
    );
    const dropped = store.removeIfUnchanged(done);
    this.handedOff += dropped;
    this.waiting = candidates.length - done.length;
    if (dropped > 0) this.deps.events?.handedOff?.(dropped);
    return dropped;
  }

  /** Runs rounds until stop(): back to back while there is work, every `idleMs` otherwise. */
  start(idleMs: number): void {
    this.loop.start(idleMs, (dropped) => (dropped !== undefined && dropped > 0 ? 0 : idleMs));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
