// The proposer state machine: one round end to end, the read of the highest accepted state,
// the write-back of reads, contention backoff with injected randomness, give-ups that say
// whether the change may be in, at-most-once retries, and the layout fence.
import t from 'tap';
import { BallotClock, type Ballot } from './ballot.js';
import { CasProposer, type ProposerConfig, type ProposerOutput } from './proposer.js';
import { RECENT_REQUESTS_MAX, type Change, type RegisterState } from './register-state.js';
import type { PaxosMessage } from './messages.js';

const LIST = ['a1', 'a2', 'a3'];
const CONFIG: ProposerConfig = { phaseTimeoutMs: 100, backoffBaseMs: 10, backoffMaxMs: 80, attemptsMax: 3 };
const claim: Change<string> = { kind: 'set', value: 'alice', condition: { kind: 'absent' }, requestId: 'req-1' };

function make(change: Change<string> = claim, random = () => 0.5, layout = 1) {
  return new CasProposer<string>({ key: 'k', change, lists: [LIST], layout, clock: new BallotClock('p', 0), random, equals: (a, b) => a === b, config: CONFIG });
}
const ballotOf = (out: ProposerOutput<string>): Ballot => out.send[0]!.message.ballot;
const promise = (ballot: Ballot, accepted?: { ballot: Ballot; state: RegisterState<string> }): PaxosMessage<string> => ({ kind: 'promise', key: 'k', ballot, accepted, committed: undefined });
const acceptedReply = (ballot: Ballot): PaxosMessage<string> => ({ kind: 'accepted', key: 'k', ballot });
const nack = (ballot: Ballot, promised: Ballot, reason: 'ballot' | 'layout' = 'ballot'): PaxosMessage<string> => ({ kind: 'nack', key: 'k', ballot, reason, promised, layoutMin: 1 });
const proposedState = (out: ProposerOutput<string>) => { const m = out.send[0]!.message; return m.kind === 'accept' ? m.state : undefined; };

t.test('one round: prepare (after the ballot mark is persisted), promises, accept, accepted, commit', async (t) => {
  const p = make();
  const start = p.start(0);
  t.equal(start.persistBallotMark, 1_001, 'the ballot block is persisted before the prepares go out');
  t.same(start.send.map((s) => [s.to, s.message.kind]), [['a1', 'prepare'], ['a2', 'prepare'], ['a3', 'prepare']]);
  const ballot = ballotOf(start);
  t.same(p.receive('a1', promise(ballot), 1).send, []);
  const proposing = p.receive('a2', promise(ballot), 2);
  t.same(proposedState(proposing), { value: 'alice', version: 1, recent: ['req-1'] });
  t.equal(proposing.send.length, 3);
  t.equal(p.receive('a1', acceptedReply(ballot), 3).decision, undefined, 'no decision before the accept quorum');
  const done = p.receive('a3', acceptedReply(ballot), 4);
  t.same(done.decision, { kind: 'applied', state: { value: 'alice', version: 1, recent: ['req-1'] } });
  t.same(done.send.map((s) => s.message.kind), ['commit', 'commit', 'commit']);
  t.ok(p.done);
  t.same(p.receive('a2', acceptedReply(ballot), 5).send, [], 'late replies are ignored');
});

t.test('the current state is the highest-ballot accepted state among the promises', async (t) => {
  const p = make({ kind: 'set', value: 'carol', condition: { kind: 'value', value: 'bob' }, requestId: 'req-2' });
  const ballot = ballotOf(p.start(0));
  p.receive('a1', promise(ballot, { ballot: { counter: 0, node: 'q' }, state: { value: 'alice', version: 1, recent: ['r1'] } }), 1);
  const out = p.receive('a3', promise(ballot, { ballot: { counter: 0, node: 'z' }, state: { value: 'bob', version: 2, recent: ['r1', 'r2'] } }), 2);
  t.same(proposedState(out), { value: 'carol', version: 3, recent: ['r1', 'r2', 'req-2'] });
});

t.test('a read and a failed condition write back what they read, and decide only after the accept quorum', async (t) => {
  const current = { value: 'bob', version: 4, recent: ['x'] };
  for (const change of [{ kind: 'read' } as const, claim]) {
    const p = make(change);
    const ballot = ballotOf(p.start(0));
    p.receive('a1', promise(ballot, { ballot: { counter: 0, node: 'q' }, state: current }), 1);
    const out = p.receive('a2', promise(ballot), 2);
    t.same(proposedState(out), current, `${change.kind}: the read state is proposed unchanged`);
    p.receive('a1', acceptedReply(ballot), 3);
    t.same(p.receive('a2', acceptedReply(ballot), 4).decision, { kind: change.kind === 'read' ? 'read' : 'precondition-failed', state: current });
  }
});

t.test('contention: a nack quorum backs off for a random time, then retries above the ballot seen', async (t) => {
  const p = make(claim, () => 0.25);
  const ballot = ballotOf(p.start(0));
  p.receive('a1', nack(ballot, { counter: 70, node: 'q' }), 1);
  t.same(p.receive('a2', nack(ballot, { counter: 70, node: 'q' }), 2).send, [], 'attempt over: backing off');
  t.same(p.tick(3).send, [], 'within the backoff (0.25 × 10 ms)');
  const retry = p.tick(5);
  t.equal(retry.send[0]?.message.kind, 'prepare');
  t.ok(ballotOf(retry).counter > 70, 'above the ballot that beat it');
  t.same(p.receive('a1', promise(ballot), 6).send, [], 'replies to the old ballot are ignored');
  t.same(p.receive('zz', promise(ballotOf(retry)), 6).send, [], 'and replies from strangers');
});

t.test('giving up says whether the change may be in: no accept sent → not applied; accept sent → maybe', async (t) => {
  const silent = make();
  silent.start(0);
  let out: ProposerOutput<string> = { send: [] };
  for (let now = 0; now < 10_000 && out.decision === undefined; now += 10) out = silent.tick(now);
  t.same(out.decision, { kind: 'failed', reason: 'timeout', maybeApplied: false });

  const p = make();
  let ballot = ballotOf(p.start(0));
  p.receive('a1', promise(ballot), 1);
  p.receive('a2', promise(ballot), 1); // accept sent
  out = { send: [] };
  for (let now = 0; now < 10_000 && out.decision === undefined; now += 10) {
    out = p.tick(now);
    if (out.send[0]?.message.kind === 'prepare') ballot = ballotOf(out);
  }
  t.same(out.decision, { kind: 'failed', reason: 'timeout', maybeApplied: true });
});

/**
 * Starts `p`'s round, lets a majority promise (so its accept goes out), then has both
 * promisers refuse that accept for a newer ballot: the accept's outcome is unknown to it.
 * Returns the first round's ballot.
 */
function acceptOvertaken(p: ReturnType<typeof make>) {
  const first = ballotOf(p.start(0));
  p.receive('a1', promise(first), 1);
  p.receive('a2', promise(first), 1);
  p.receive('a1', nack(first, { counter: 9, node: 'q' }), 2);
  p.receive('a2', nack(first, { counter: 9, node: 'q' }), 2);
  return first;
}

t.test('a retry after its accept went out finds its request id and reports applied, without applying twice', async (t) => {
  const p = make(claim, () => 0);
  const first = acceptOvertaken(p);
  const retry = p.tick(2);
  const second = ballotOf(retry);
  // Someone else's round picked our accepted state up and then changed the key once more.
  const later = { value: 'bob', version: 2, recent: ['req-1', 'req-b'] };
  p.receive('a1', promise(second, { ballot: { counter: 9, node: 'q' }, state: later }), 3);
  const out = p.receive('a3', promise(second), 3);
  t.same(proposedState(out), later, 'the state is written back unchanged: alice is not claimed again');
  p.receive('a1', acceptedReply(second), 4);
  t.same(p.receive('a3', acceptedReply(second), 4).decision, { kind: 'applied', state: later });
});

t.test('when too many changes happened since for its id to be told, a retry says "maybe", not "refused"', async (t) => {
  const p = make(claim, () => 0);
  const first = acceptOvertaken(p);
  const second = ballotOf(p.tick(2));
  const recent = Array.from({ length: RECENT_REQUESTS_MAX }, (_, i) => `other-${i}`);
  const busy = { value: 'zed', version: RECENT_REQUESTS_MAX + 1, recent };
  p.receive('a1', promise(second, { ballot: { counter: 9, node: 'q' }, state: busy }), 3);
  t.same(p.receive('a2', promise(second), 3).decision, { kind: 'failed', reason: 'unknowable', maybeApplied: true });
  // One change fewer and the id would be visible: then "not in" is a fact and the claim is refused.
  const q = make(claim, () => 0);
  const b1 = ballotOf(q.start(0));
  q.receive('a1', promise(b1), 1);
  q.receive('a2', promise(b1), 1);
  q.receive('a1', nack(b1, { counter: 9, node: 'q' }), 2);
  q.receive('a2', nack(b1, { counter: 9, node: 'q' }), 2);
  const b2 = ballotOf(q.tick(2));
  q.receive('a1', promise(b2, { ballot: { counter: 9, node: 'q' }, state: { ...busy, version: RECENT_REQUESTS_MAX } }), 3);
  const out = q.receive('a2', promise(b2), 3);
  t.equal(out.send[0]?.message.kind, 'accept', 'a definite answer is proposed');
});

t.test('a layout nack ends the request: the caller must recompute the preference lists', async (t) => {
  const p = make();
  const ballot = ballotOf(p.start(0));
  t.same(p.receive('a2', nack(ballot, { counter: 0, node: '' }, 'layout'), 1).decision, { kind: 'failed', reason: 'stale-layout', maybeApplied: false });
});

t.test('unreachable acceptors fail a phase at once (no timeout), and giving up then says "not applied"', async (t) => {
  const p = make();
  const ballot = ballotOf(p.start(0));
  t.same(p.unreachable('a2', ballot, 1).send, [], 'one of three: the phase can still meet its majority');
  t.same(p.unreachable('zz', ballot, 1).send, [], 'strangers are ignored');
  t.same(p.unreachable('a3', { counter: ballot.counter + 1, node: 'p' }, 1).send, [], 'and other ballots');
  t.same(p.unreachable('a3', ballot, 2).send, [], 'two of three: the attempt ends, backing off');
  let out: ProposerOutput<string> = { send: [] };
  for (let now = 3, attempt = 1; now < 10_000 && out.decision === undefined; now += 1) {
    out = p.tick(now);
    for (const s of out.send) if (s.to !== 'a1') out = p.unreachable(s.to, s.message.ballot, now);
    if (out.send.length > 0) attempt++;
  }
  t.same(out.decision, { kind: 'failed', reason: 'timeout', maybeApplied: false });
  t.equal(p.mayHaveApplied, false);
});

t.test('mayHaveApplied: true once an accept of a change went out', async (t) => {
  const p = make();
  const ballot = ballotOf(p.start(0));
  t.equal(p.mayHaveApplied, false);
  p.receive('a1', promise(ballot), 1);
  p.receive('a2', promise(ballot), 2);
  t.equal(p.mayHaveApplied, true);
});
