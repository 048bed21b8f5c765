// joinLearned: what a replica keeps after learning a key from the ring (docs/cas.md
// "Membership changes"): the highest promise, the highest-ballot accepted and committed states.
import t from 'tap';
import { joinLearned } from './learn.js';
import { EMPTY_ACCEPTOR_RECORD } from './acceptor.js';

const b = (counter: number, node = 'node-a') => ({ counter, node });
const state = (value: string, version: number) => ({ value, version, recent: [] });

t.test('the join takes the highest promise and the highest-ballot states, at the given generation', async (t) => {
  const own = { promised: b(3), accepted: { ballot: b(3), state: state('x', 1) }, committed: undefined, layoutMin: 1 };
  const learned = [
    { promised: b(9, 'node-c'), accepted: { ballot: b(5, 'node-b'), state: state('y', 2) }, committed: { ballot: b(3), state: state('x', 1) } },
    { promised: b(4), accepted: undefined, committed: undefined },
  ];
  const joined = joinLearned(own, learned, 7);
  t.same(joined.promised, b(9, 'node-c'), 'no promise any member made is forgotten');
  t.same(joined.accepted, { ballot: b(5, 'node-b'), state: state('y', 2) }, 'the newest accepted state wins');
  t.same(joined.committed, { ballot: b(3), state: state('x', 1) });
  t.equal(joined.layoutMin, 7);
});

t.test('a wiped replica that learns from nothing still promises at least what it accepted, and learns nothing new', async (t) => {
  const joined = joinLearned(EMPTY_ACCEPTOR_RECORD, [], 2);
  t.same(joined.accepted, undefined);
  t.same(joined.promised, EMPTY_ACCEPTOR_RECORD.promised);
  const accepted = joinLearned(EMPTY_ACCEPTOR_RECORD, [{ promised: b(0, ''), accepted: { ballot: b(6), state: state('z', 1) }, committed: undefined }], 2);
  t.same(accepted.promised, b(6), 'the promise covers the accepted ballot');
});

t.test('the join is the same whatever the order of the answers', async (t) => {
  const answers = [
    { promised: b(2), accepted: { ballot: b(2), state: state('p', 1) }, committed: undefined },
    { promised: b(8), accepted: { ballot: b(7), state: state('q', 2) }, committed: { ballot: b(2), state: state('p', 1) } },
    { promised: b(5), accepted: undefined, committed: { ballot: b(7), state: state('q', 2) } },
  ];
  const forward = joinLearned(EMPTY_ACCEPTOR_RECORD, answers, 1);
  const backward = joinLearned(EMPTY_ACCEPTOR_RECORD, [...answers].reverse(), 1);
  t.same(forward, backward);
});
