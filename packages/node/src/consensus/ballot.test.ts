// Ballots, the ballot clock's reserved blocks, the joint quorum and the register rule.
import t from 'tap';
import { BallotClock, compareBallots, ZERO_BALLOT } from './ballot.js';
import { JointQuorum } from './joint-quorum.js';
import { evaluate, EMPTY_REGISTER, RECENT_REQUESTS_MAX, type Change, type RegisterState } from './register-state.js';

t.test('ballots order by counter, then node id; zero is below all', async (t) => {
  t.ok(compareBallots({ counter: 2, node: 'a' }, { counter: 1, node: 'z' }) > 0);
  t.ok(compareBallots({ counter: 1, node: 'b' }, { counter: 1, node: 'a' }) > 0);
  t.equal(compareBallots({ counter: 1, node: 'a' }, { counter: 1, node: 'a' }), 0);
  t.ok(compareBallots(ZERO_BALLOT, { counter: 1, node: 'a' }) < 0);
});

t.test('the clock reserves a block before use, jumps past seen ballots, and never reuses one after a restart', async (t) => {
  const clock = new BallotClock('n1', 0, 10);
  const first = clock.next(ZERO_BALLOT);
  t.same(first, { ballot: { counter: 1, node: 'n1' }, reserveUpTo: 11 }, 'the first ballot opens a block: persist 11 first');
  t.same(clock.next(ZERO_BALLOT), { ballot: { counter: 2, node: 'n1' } }, 'inside the block: nothing to persist');
  t.same(clock.next({ counter: 40, node: 'n9' }), { ballot: { counter: 41, node: 'n1' }, reserveUpTo: 51 }, 'above a seen ballot, in a new block');
  const restarted = new BallotClock('n1', 51, 10);
  const after = restarted.next(ZERO_BALLOT);
  t.ok(after.ballot.counter > 41, 'after a restart from the persisted mark, above every ballot issued before');
  t.equal(after.reserveUpTo, 62);
});

t.test('joint quorum: a majority of every list; fails fast when one list cannot reach it', async (t) => {
  const single = new JointQuorum([['a', 'b', 'c']]);
  single.succeed('a');
  t.equal(single.outcome(), 'pending');
  single.succeed('b');
  t.equal(single.outcome(), 'met');
  const joint = new JointQuorum([['a', 'b', 'c'], ['c', 'd', 'e']]);
  t.same(joint.members, ['a', 'b', 'c', 'd', 'e']);
  joint.succeed('a');
  joint.succeed('b');
  t.equal(joint.outcome(), 'pending', 'a majority of the old list alone is not enough');
  joint.succeed('d');
  t.equal(joint.outcome(), 'pending');
  joint.succeed('c');
  t.equal(joint.outcome(), 'met', 'c counts in both lists');
  const failing = new JointQuorum([['a', 'b', 'c'], ['c', 'd', 'e']]);
  failing.succeed('a');
  failing.succeed('b');
  failing.fail('d');
  t.equal(failing.outcome(), 'pending');
  failing.fail('e');
  t.equal(failing.outcome(), 'failed', 'the new list lost its majority');
  t.throws(() => new JointQuorum([]), 'at least one list');
  t.throws(() => new JointQuorum([['a', 'a']]), 'distinct nodes');
});

t.test('register rule: conditions, versions, request ids remembered and bounded', async (t) => {
  const eq = (a: string, b: string) => a === b;
  const set = (value: string, condition: Extract<Change<string>, { kind: 'set' }>['condition'], requestId = value): Change<string> => ({ kind: 'set', value, condition, requestId });
  const claimed = evaluate<string>(EMPTY_REGISTER, set('alice', { kind: 'absent' }), eq);
  t.equal(claimed.kind, 'applied');
  t.same(claimed.next, { value: 'alice', version: 1, recent: ['alice'] });
  t.equal(evaluate(claimed.next, set('bob', { kind: 'absent' }), eq).kind, 'precondition-failed');
  t.equal(evaluate(claimed.next, set('bob', { kind: 'version', version: 0 }), eq).kind, 'precondition-failed');
  t.equal(evaluate(claimed.next, set('bob', { kind: 'version', version: 1 }), eq).kind, 'applied');
  t.equal(evaluate(claimed.next, set('bob', { kind: 'value', value: 'alice' }), eq).kind, 'applied');
  t.equal(evaluate(claimed.next, set('bob', { kind: 'value', value: null }), eq).kind, 'precondition-failed');
  const retried = evaluate(claimed.next, set('alice', { kind: 'absent' }, 'alice'), eq);
  t.same(retried, { kind: 'applied', next: claimed.next }, 'a retry of an applied request is applied, once: the state does not change');
  t.same(evaluate(claimed.next, { kind: 'read' }, eq), { kind: 'read', next: claimed.next });
  let state: RegisterState<string> = claimed.next;
  for (let i = 0; i < RECENT_REQUESTS_MAX + 5; i++) state = evaluate(state, set(`v${i}`, { kind: 'always' }), eq).next;
  t.equal(state.recent.length, RECENT_REQUESTS_MAX, 'the recent ids are bounded');
  t.equal(state.version, RECENT_REQUESTS_MAX + 6);
  t.notOk(state.recent.includes('alice'));
});
