/**
 * The messages of per-key Paxos between a proposer (the coordinator of a CAS request) and the
 * acceptors (the key's replicas). Every message names the key, the ballot of the round it
 * belongs to and the layout (the membership epoch) the proposer computed its preference lists
 * from; replies repeat the ballot so a proposer ignores replies to its earlier attempts.
 * Plain data: the transport's codec is wired next session.
 */
import type { Ballot } from './ballot.js';
import type { RegisterState } from './register-state.js';

/** A state and the ballot it was accepted (or committed) at. */
export interface BallotedState<V> {
  readonly ballot: Ballot;
  readonly state: RegisterState<V>;
}

/** Every message of a round, proposer to acceptor and back. */
export type PaxosMessage<V> =
  /** Phase 1a: promise to ignore every ballot below `ballot`. */
  | { readonly kind: 'prepare'; readonly key: string; readonly ballot: Ballot; readonly layout: number }
  /** Phase 1b: promised; with the state accepted last, if any, and the last committed one. */
  | { readonly kind: 'promise'; readonly key: string; readonly ballot: Ballot; readonly accepted: BallotedState<V> | undefined; readonly committed: BallotedState<V> | undefined }
  /** Phase 2a: accept `state` at `ballot`. */
  | { readonly kind: 'accept'; readonly key: string; readonly ballot: Ballot; readonly layout: number; readonly state: RegisterState<V> }
  /** Phase 2b: accepted. */
  | { readonly kind: 'accepted'; readonly key: string; readonly ballot: Ballot }
  /**
   * Refused: the acceptor promised a higher ballot (`reason: 'ballot'`), or it knows a newer
   * layout than the proposer used (`reason: 'layout'`, see docs/cas.md "Membership changes").
   */
  | { readonly kind: 'nack'; readonly key: string; readonly ballot: Ballot; readonly reason: 'ballot' | 'layout'; readonly promised: Ballot; readonly layoutMin: number }
  /** After an accept quorum: `state` is chosen at `ballot` (no reply; lost commits are harmless). */
  | { readonly kind: 'commit'; readonly key: string; readonly ballot: Ballot; readonly layout: number; readonly state: RegisterState<V> }
  /**
   * From a replica that must learn the key before it may answer at `layout` (docs/cas.md
   * "Membership changes"): send me your record. Refused (a layout nack) by a replica whose
   * ring is another; answering it fences the old layout off, as a promise fences lower ballots.
   * `ballot` is the zero ballot.
   */
  | { readonly kind: 'learn'; readonly key: string; readonly ballot: Ballot; readonly layout: number }
  /** The answer to `learn`: the replica's record as it stands (empty parts when it has none). */
  | { readonly kind: 'record'; readonly key: string; readonly ballot: Ballot; readonly promised: Ballot; readonly accepted: BallotedState<V> | undefined; readonly committed: BallotedState<V> | undefined }
  /**
   * From a leaving replica to the key's owners (its handover, replication/leave.ts): join this
   * record into yours. Answered with `accepted` at the zero ballot once durable.
   */
  | { readonly kind: 'adopt'; readonly key: string; readonly ballot: Ballot; readonly promised: Ballot; readonly accepted: BallotedState<V> | undefined; readonly committed: BallotedState<V> | undefined }
  /**
   * A replica learning EVERY key at `layout` once after a change of ring (its "full learn"):
   * send me your records of keys after `key` (a cursor; '' from the first), a page at a time.
   */
  | { readonly kind: 'learn-all'; readonly key: string; readonly ballot: Ballot; readonly layout: number }
  /**
   * From a leaving replica, once every record it held is in the hands of its keys' owners
   * (replication/leave.ts): a learn need not wait for me any more. `key` is the sender's node
   * id (a receiver takes it only from that node), `layout` the incarnation it left at, `ballot`
   * the zero ballot. Answered with `accepted` once durable.
   */
  | { readonly kind: 'handed-over'; readonly key: string; readonly ballot: Ballot; readonly layout: number }
  /** A page of records answering `learn-all`; `done` when no key follows the last one. */
  | { readonly kind: 'records'; readonly key: string; readonly ballot: Ballot; readonly entries: readonly RecordEntry<V>[]; readonly done: boolean };

/** One key's record in a `records` page. */
export interface RecordEntry<V> {
  readonly key: string;
  readonly promised: Ballot;
  readonly accepted: BallotedState<V> | undefined;
  readonly committed: BallotedState<V> | undefined;
}

/** A message and the node it goes to. */
export interface Outgoing<V> {
  readonly to: string;
  readonly message: PaxosMessage<V>;
}
