/**
 * The Paxos acceptor of one key on one replica, as a pure step: a message and the key's
 * durable record in; the record to persist (if it changed) and the reply out. The caller MUST
 * make `persist` durable before it sends `reply`: a promise or an acceptance that a crash could
 * forget lets two proposers both win (the planted bug "forgets its promise on restart" in
 * test/consensus/ shows it). Phase 1 and 2 as in "Paxos Made Simple" §2.2; the `accepted`
 * state is the register itself, as in CASPaxos; `committed` is the last state known chosen,
 * kept for the read path and the data store (docs/cas.md).
 */
import { compareBallots, ZERO_BALLOT, type Ballot } from './ballot.js';
import type { BallotedState, PaxosMessage } from './messages.js';

/** What a replica keeps per CAS key, durably. */
export interface AcceptorRecord<V> {
  readonly promised: Ballot;
  readonly accepted: BallotedState<V> | undefined;
  readonly committed: BallotedState<V> | undefined;
  /** The newest layout this acceptor has seen a round use: older layouts are refused. */
  readonly layoutMin: number;
}

/** The record of a key this replica never took part in a round for. */
export const EMPTY_ACCEPTOR_RECORD: AcceptorRecord<never> = Object.freeze({ promised: ZERO_BALLOT, accepted: undefined, committed: undefined, layoutMin: 0 });

/** The outcome of one step: persist first (when present), then reply (when present). */
export interface AcceptorStep<V> {
  readonly persist: AcceptorRecord<V> | undefined;
  readonly reply: PaxosMessage<V> | undefined;
}

/** One message to the acceptor of `message.key`, whose durable record is `record`. */
export function stepAcceptor<V>(record: AcceptorRecord<V>, message: PaxosMessage<V>): AcceptorStep<V> {
  if (message.kind !== 'prepare' && message.kind !== 'accept' && message.kind !== 'commit') return { persist: undefined, reply: undefined };
  if (message.layout < record.layoutMin) {
    if (message.kind === 'commit') return { persist: undefined, reply: undefined };
    return { persist: undefined, reply: nack(record, message.key, message.ballot, 'layout') };
  }
  const fenced = message.layout > record.layoutMin ? { ...record, layoutMin: message.layout } : record;
  switch (message.kind) {
    case 'prepare': return prepare(record, fenced, message.key, message.ballot);
    case 'accept': return accept(record, fenced, message.key, message.ballot, message.state);
    case 'commit': return commit(record, fenced, message.ballot, message.state);
  }
}

function prepare<V>(record: AcceptorRecord<V>, fenced: AcceptorRecord<V>, key: string, ballot: Ballot): AcceptorStep<V> {
  const order = compareBallots(ballot, record.promised);
  // A repeated prepare of the promised ballot (a duplicate) gets the same promise again.
  if (order < 0) return { persist: changed(record, fenced), reply: nack(fenced, key, ballot, 'ballot') };
  const next = order > 0 ? { ...fenced, promised: ballot } : fenced;
  return { persist: changed(record, next), reply: { kind: 'promise', key, ballot, accepted: next.accepted, committed: next.committed } };
}

function accept<V>(record: AcceptorRecord<V>, fenced: AcceptorRecord<V>, key: string, ballot: Ballot, state: BallotedState<V>['state']): AcceptorStep<V> {
  if (compareBallots(ballot, record.promised) < 0) return { persist: changed(record, fenced), reply: nack(fenced, key, ballot, 'ballot') };
  const next: AcceptorRecord<V> = { ...fenced, promised: ballot, accepted: { ballot, state } };
  return { persist: next, reply: { kind: 'accepted', key, ballot } };
}

function commit<V>(record: AcceptorRecord<V>, fenced: AcceptorRecord<V>, ballot: Ballot, state: BallotedState<V>['state']): AcceptorStep<V> {
  if (record.committed !== undefined && compareBallots(ballot, record.committed.ballot) <= 0) return { persist: changed(record, fenced), reply: undefined };
  return { persist: { ...fenced, committed: { ballot, state } }, reply: undefined };
}

function nack<V>(record: AcceptorRecord<V>, key: string, ballot: Ballot, reason: 'ballot' | 'layout'): PaxosMessage<V> {
  return { kind: 'nack', key, ballot, reason, promised: record.promised, layoutMin: record.layoutMin };
}

/** `next` when it differs from `record` (nothing to write otherwise). */
function changed<V>(record: AcceptorRecord<V>, next: AcceptorRecord<V>): AcceptorRecord<V> | undefined {
  return next === record ? undefined : next;
}
