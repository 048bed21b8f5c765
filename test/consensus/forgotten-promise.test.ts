// The planted bug "an acceptor forgets its promise on restart", as one scripted interleaving
// of the pure core (the random simulation meets this interleaving only about once in 200
// seeds): two CAS-if-absent rounds both succeed when a restarted acceptor forgets it promised
// the higher ballot, and the checker names the lost CAS; with the promise persisted, the lower
// round is refused and the history stays linearizable.
import t, { type Test } from 'tap';
import { checkLinearizable, type Operation } from '../../packages/node/dist/testing/linearizability/index.js';
import {
  BallotClock, CasProposer, EMPTY_ACCEPTOR_RECORD, stepAcceptor, ZERO_BALLOT,
  type AcceptorRecord, type CasDecision, type PaxosMessage, type ProposerOutput,
} from '../../packages/node/dist/consensus/index.js';

const LIST = ['a1', 'a2', 'a3'];

function proposer(node: string, value: string) {
  return new CasProposer<string>({
    key: 'k', change: { kind: 'set', value, condition: { kind: 'absent' }, requestId: `${node}-1` }, lists: [LIST], layout: 1,
    clock: new BallotClock(node, 0), random: () => 0.5, equals: (a, b) => a === b,
  });
}

function run(t: Test, forgetOnRestart: boolean): { p1: CasDecision<string> | undefined; p2: CasDecision<string> | undefined; history: Operation[] } {
  const records = new Map<string, AcceptorRecord<string>>();
  const acceptor = (node: string, message: PaxosMessage<string>) => {
    const step = stepAcceptor(records.get(node) ?? EMPTY_ACCEPTOR_RECORD, message);
    if (step.persist !== undefined) records.set(node, step.persist);
    return step.reply!;
  };
  const to = (output: ProposerOutput<string>, node: string) => output.send.find((s) => s.to === node)!.message;
  let p1Decision: CasDecision<string> | undefined;
  let p2Decision: CasDecision<string> | undefined;
  const p1 = proposer('p1', 'x');
  const p2 = proposer('p2', 'y'); // ballot (1, p2) > (1, p1)
  const p1Prepare = p1.start(0);
  let p1Accept: ProposerOutput<string> | undefined;
  for (const node of ['a1', 'a2']) p1Accept = p1.receive(node, acceptor(node, to(p1Prepare, node)), 1);
  t.equal(p1Accept!.send[0]?.message.kind, 'accept', 'p1 read absent and proposes x');
  const p2Prepare = p2.start(2);
  let p2Accept: ProposerOutput<string> | undefined;
  for (const node of ['a2', 'a3']) p2Accept = p2.receive(node, acceptor(node, to(p2Prepare, node)), 3);
  t.equal(p2Accept!.send[0]?.message.kind, 'accept', 'p2 also read absent (p1 has not accepted anywhere) and proposes y');
  // a2 restarts here. The bug: the promise to p2 was never made durable.
  if (forgetOnRestart) records.set('a2', { ...records.get('a2')!, promised: records.get('a2')!.accepted?.ballot ?? ZERO_BALLOT });
  for (const node of ['a1', 'a2', 'a3']) {
    const out = p1.receive(node, acceptor(node, to(p1Accept!, node)), 4);
    p1Decision ??= out.decision;
  }
  for (const node of ['a1', 'a3']) {
    const out = p2.receive(node, acceptor(node, to(p2Accept!, node)), 5);
    p2Decision ??= out.decision;
  }
  const outcome = (d: CasDecision<string> | undefined, at: number): Operation['outcome'] =>
    d === undefined || d.kind === 'failed' ? { status: 'unknown' } : { status: 'ok', completedAt: at, result: { kind: 'cas', ok: d.kind === 'applied' } };
  const history: Operation[] = [
    { process: 'p1', key: 'k', call: { kind: 'cas', expected: null, value: 'x' }, invokedAt: 0, outcome: outcome(p1Decision, 6) },
    { process: 'p2', key: 'k', call: { kind: 'cas', expected: null, value: 'y' }, invokedAt: 2, outcome: outcome(p2Decision, 7) },
  ];
  return { p1: p1Decision, p2: p2Decision, history };
}

t.test('planted bug: a forgotten promise lets two if-absent claims both win, and the checker catches it', async (t) => {
  const { p1, p2, history } = run(t, true);
  t.equal(p1?.kind, 'applied');
  t.equal(p2?.kind, 'applied');
  const verdict = checkLinearizable(history);
  t.equal(verdict.kind, 'violation');
  if (verdict.kind === 'violation') t.match(verdict.report, /cannot be placed: p2 k:cas\(∅→y\)=ok/);
});

t.test('with the promise persisted, the lower ballot is refused and only one claim wins', async (t) => {
  const { p1, p2, history } = run(t, false);
  t.equal(p1, undefined, 'p1 is refused by a2 and a3: no decision yet (it backs off and retries)');
  t.equal(p2?.kind, 'applied');
  t.equal(checkLinearizable(history).kind, 'ok');
});
