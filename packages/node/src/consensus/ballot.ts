/**
 * Paxos ballots (Lamport, "Paxos Made Simple", 2001): a counter and the proposing node's id,
 * ordered by counter then id, so two proposers never share a ballot. Cassandra's LWT uses a
 * time-based UUID instead (CASSANDRA-5062); a counter that jumps past every ballot seen needs
 * no clock and cannot be fooled by a clock step. Pure.
 */
import assert from 'node:assert/strict';

/** A round's number: higher ballots pre-empt lower ones at every acceptor. */
export interface Ballot {
  readonly counter: number;
  readonly node: string;
}

/** Below every real ballot: what an acceptor has promised before it has promised anything. */
export const ZERO_BALLOT: Ballot = Object.freeze({ counter: 0, node: '' });

/** Negative, zero or positive as `a` orders before, equal to or after `b`. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** The larger of two ballots. */
export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** Counters reserved per write of the high-water mark: one fsync per this many rounds. */
export const BALLOT_RESERVE_BLOCK = 1_000;

/**
 * A node's source of fresh ballots, for every key. A node that restarted must never reuse a
 * ballot it may have sent before the crash (two different values accepted under one ballot
 * break Paxos), so counters are reserved in blocks: `next` returns `reserveUpTo` when it enters
 * a new block, and the caller persists that high-water mark BEFORE sending the prepare. After
 * a restart the clock starts above the persisted mark (the unused rest of a block is skipped).
 */
export class BallotClock {
  private last: number;
  private reservedUpTo: number;

  /** `persistedMark`: the last high-water mark this node persisted (0 on a fresh node). */
  constructor(private readonly node: string, persistedMark: number, private readonly block = BALLOT_RESERVE_BLOCK) {
    assert.ok(node !== '', 'a ballot needs a node id');
    assert.ok(Number.isSafeInteger(persistedMark) && persistedMark >= 0);
    this.last = persistedMark;
    this.reservedUpTo = persistedMark;
  }

  /**
   * A ballot above `above` (the highest ballot this round has seen) and above every ballot this
   * node issued. `reserveUpTo`, when present, must be durable before the ballot is used.
   */
  next(above: Ballot): { ballot: Ballot; reserveUpTo?: number } {
    const counter = Math.max(this.last, above.counter) + 1;
    assert.ok(Number.isSafeInteger(counter + this.block), 'ballot counter overflow');
    this.last = counter;
    const ballot = { counter, node: this.node };
    if (counter <= this.reservedUpTo) return { ballot };
    this.reservedUpTo = counter + this.block;
    return { ballot, reserveUpTo: this.reservedUpTo };
  }
}
