/**
 * A store's epoch through one life of the process, and the rule that ties it to lost writes.
 *
 * The coordinator commits its own new version while it sends it to the other replicas, not
 * before (replication/coordinator.ts put, issue 12): a dot may reach peers and never reach the
 * coordinator's own row. core/actor.ts reuses a row's actor only while the row holds every dot
 * that actor issued, so a write the store fails to make durable would let the actor's next dot
 * claim one the row does not hold, and replicas would drop that write as superseded. Hence:
 * - in this life, every write the store fails (its commit, or the fsync after it) gives the
 *   store a new epoch at once: no row's actor is "own" any more, so the next write of every key
 *   takes a fresh actor, whose chain starts empty (Riak's vnode id changes for the same reason
 *   when its counter lease is lost);
 * - such a life is unclean: close() does not record a clean stop;
 * - a life that did not end in a clean stop (kill -9, a power loss, a lost write) is followed by
 *   a new epoch at the next open, whatever `synchronous` says (sqlite-store.ts openEpoch): its
 *   last writes may be on peers and not on this disk.
 * The cost is one clock entry per key written after a crash or a failed commit, bounded by the
 * clock pruning rule like any other entry.
 */
import { plantedBugs } from '../core/versioned.js';

export class StoreLife {
  private current: string;
  private lostWrites = 0;

  constructor(
    epoch: string,
    /** A fresh epoch (randomEpoch in a process, the simulation's seeded source in the simulation). */
    private readonly fresh: () => string,
  ) {
    this.current = epoch;
  }

  /** The epoch this life signs new actors with (Store.epoch). */
  get epoch(): string {
    return this.current;
  }

  /** False once a write failed in this life: its stop must not be recorded as clean. */
  get clean(): boolean {
    return this.lostWrites === 0;
  }

  /** Writes this life failed to make durable (metrics, tests). */
  get lost(): number {
    return this.lostWrites;
  }

  /** A write of this store failed after it may have been sent elsewhere: see the module comment. */
  writeLost(): void {
    this.lostWrites++;
    if (!plantedBugs.keepEpochAfterLostWrite) this.current = this.fresh();
  }
}
