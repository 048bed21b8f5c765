/**
 * What a replica keeps after it learned a key at a new layout (docs/cas.md "Membership
 * changes"): the join of its own record and the records every other member of its ring sent
 * back. Promised is the highest promise any of them made; accepted and committed are the
 * highest-ballot states. Adopting a state another acceptor accepted at ballot b is what this
 * replica would hold had the proposer of b also sent it its accept (a proposer proposes one
 * state per ballot), and a higher promise only refuses more; so the joined record is one a
 * real acceptor could have reached, and Paxos's invariants hold over it. Pure.
 */
import { compareBallots, maxBallot, type Ballot } from './ballot.js';
import type { AcceptorRecord } from './acceptor.js';
import type { BallotedState } from './messages.js';

/** One answer to a `learn`: a replica's record without its layout. */
export interface LearnedRecord<V> {
  readonly promised: Ballot;
  readonly accepted: BallotedState<V> | undefined;
  readonly committed: BallotedState<V> | undefined;
}

function higher<V>(a: BallotedState<V> | undefined, b: BallotedState<V> | undefined): BallotedState<V> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareBallots(b.ballot, a.ballot) > 0 ? b : a;
}

/** `own` joined with every learned record, marked as learned at `generation`. */
export function joinLearned<V>(own: AcceptorRecord<V>, learned: readonly LearnedRecord<V>[], generation: number): AcceptorRecord<V> {
  let { promised, accepted, committed } = own;
  for (const record of learned) {
    promised = maxBallot(promised, record.promised);
    accepted = higher(accepted, record.accepted);
    committed = higher(committed, record.committed);
  }
  return { promised: maxBallot(promised, accepted?.ballot ?? promised), accepted, committed, layoutMin: generation };
}
