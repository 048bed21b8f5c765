/**
 * One "collect a turn, flush" batcher, shared by the three queues that gather one event-loop
 * turn of work and hand it on at once: the store's group commit (storage/store.ts), the SQLite
 * hint store (storage/sqlite-hints.ts) and the per-peer send queue (transport/peer-queue.ts).
 * Group commit is the classic form (one fsync for every write of a turn; Riak's eleveldb and
 * Cassandra's commit log batch the same way); the batcher owns only the part they share: a
 * batch being collected, and exactly one flush asked for per turn, whatever the number of adds.
 *
 * Scheduling is injected (STYLE.md §2): the process passes `nextTurn` (setImmediate), the
 * simulation its manual clock's scheduler, so the simulation's clock drives every flush.
 */

/** Schedules a flush; the real one runs it after the I/O callbacks of the current turn. */
export type Scheduler = (flush: () => void) => void;

export class TurnBatcher<B> {
  private collecting: B;
  /** Adds since the last flush: a flush with nothing added is skipped. */
  private added = 0;
  private scheduled = false;

  /**
   * `fresh` makes an empty batch (a queue that keeps its own backlog across turns, like the
   * peer queue, collects into its own structure and passes a constant); `flush` is handed each
   * turn's batch once, never an empty one.
   */
  constructor(
    private readonly schedule: Scheduler,
    private readonly fresh: () => B,
    private readonly flush: (batch: B) => void,
  ) {
    this.collecting = fresh();
  }

  /** The batch being collected (to look into it; adding goes through `add`). */
  get current(): B {
    return this.collecting;
  }

  /** The batch to add to; its flush is asked for at the end of this turn (once per turn). */
  add(): B {
    this.added++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flushNow());
    }
    return this.collecting;
  }

  /** Drops what is collected, unflushed (a flush already asked for then finds nothing). */
  discard(): void {
    this.collecting = this.fresh();
    this.added = 0;
  }

  /**
   * Flushes what is collected now (the scheduler calls it; so does a close). A flush already
   * scheduled then finds nothing and does nothing, unless more was added meanwhile.
   */
  flushNow(): void {
    this.scheduled = false;
    if (this.added === 0) return;
    const batch = this.collecting;
    this.collecting = this.fresh();
    this.added = 0;
    this.flush(batch);
  }
}
