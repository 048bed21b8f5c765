// At most once (issue 17, point 3, for CAS): a claim whose accept reached one acceptor and then
// timed out has an unknown outcome; a reader then makes its value chosen. Retried with the SAME
// request id, the claim is recognised as applied; retried as a fresh request (a client without
// request ids), it is refused by its own write and reports "not applied", which the checker
// catches as a value read that no successful write produced.
import t, { type Test } from 'tap';
import { checkLinearizable, type Operation } from '../../packages/node/dist/testing/linearizability/index.js';
import {
  BallotClock, CasProposer, EMPTY_ACCEPTOR_RECORD, stepAcceptor,
  type AcceptorRecord, type CasDecision, type Change, type PaxosMessage, type ProposerOutput,
} from '../../packages/node/dist/consensus/index.js';

const LIST = ['a1', 'a2', 'a3'];
const CONFIG = { phaseTimeoutMs: 100, backoffBaseMs: 10, backoffMaxMs: 80, attemptsMax: 1 };

class Cluster {
  readonly records = new Map<string, AcceptorRecord<string>>();

  acceptor(node: string, message: PaxosMessage<string>): PaxosMessage<string> | undefined {
    const step = stepAcceptor(this.records.get(node) ?? EMPTY_ACCEPTOR_RECORD, message);
    if (step.persist !== undefined) this.records.set(node, step.persist);
    return step.reply;
  }

  /** Runs a proposer to its decision, delivering only to `reachable` nodes, in order. */
  run(proposer: CasProposer<string>, reachable: (kind: string, node: string) => boolean, nowMs: number): CasDecision<string> {
    const queue: Array<{ to: string; message: PaxosMessage<string> }> = [];
    const take = (out: ProposerOutput<string>) => {
      queue.push(...out.send.filter((s) => reachable(s.message.kind, s.to)));
      return out.decision;
    };
    let decision = take(proposer.start(nowMs));
    for (let now = nowMs; decision === undefined && now < nowMs + 10_000; now += 10) {
      while (decision === undefined && queue.length > 0) {
        const { to, message } = queue.shift()!;
        const reply = this.acceptor(to, message);
        if (reply !== undefined) decision = take(proposer.receive(to, reply, now));
      }
      decision ??= take(proposer.tick(now));
    }
    return decision!;
  }
}

const proposer = (node: string, change: Change<string>, mark = 0) =>
  new CasProposer<string>({ key: 'k', change, lists: [LIST], layout: 1, clock: new BallotClock(node, mark), random: () => 0.5, equals: (a, b) => a === b, config: CONFIG });
const claim = (requestId: string): Change<string> => ({ kind: 'set', value: 'x', condition: { kind: 'absent' }, requestId });

function scenario(t: Test, sameRequestId: boolean): Operation[] {
  const cluster = new Cluster();
  // The claim's accept reaches a1 only; the client's request times out.
  const first = cluster.run(proposer('c', claim('req-1')), (kind, node) => kind !== 'accept' || node === 'a1', 0);
  t.same(first, { kind: 'failed', reason: 'timeout', maybeApplied: true }, 'the first try has an unknown outcome');
  // A reader asks a1 and a2: it reads x (the highest accepted) and writes it back: x is chosen.
  const read = cluster.run(proposer('r', { kind: 'read' }), (_, node) => node !== 'a3', 1_000);
  t.equal(read.kind === 'read' ? read.state.value : undefined, 'x');
  // The client retries (its ballot clock restarted from its persisted mark).
  const retry = cluster.run(proposer('c', claim(sameRequestId ? 'req-1' : 'req-2'), 1_001), () => true, 2_000);
  const ok = retry.kind === 'applied';
  t.equal(retry.kind, sameRequestId ? 'applied' : 'precondition-failed');
  if (retry.kind !== 'failed') t.equal(retry.state.version, 1, 'x was applied once: version 1');
  return [
    { process: 'c', key: 'k', call: { kind: 'cas', expected: null, value: 'x' }, invokedAt: 0, outcome: { status: 'ok', completedAt: 5, result: { kind: 'cas', ok } } },
    { process: 'r', key: 'k', call: { kind: 'read' }, invokedAt: 1, outcome: { status: 'ok', completedAt: 2, result: { kind: 'read', value: 'x' } } },
  ];
}

t.test('a retry with the same request id after an unknown outcome is applied once', async (t) => {
  t.equal(checkLinearizable(scenario(t, true)).kind, 'ok');
});

t.test('a retry as a fresh request reports "not applied" for a claim that is in: the checker catches it', async (t) => {
  const verdict = checkLinearizable(scenario(t, false));
  t.equal(verdict.kind, 'violation');
});
