// The acceptor step: promises, refusals, acceptances, commits and the layout fence, with what
// each one must persist before it replies.
import t from 'tap';
import { stepAcceptor, EMPTY_ACCEPTOR_RECORD, type AcceptorRecord } from './acceptor.js';
import { EMPTY_REGISTER, type RegisterState } from './register-state.js';
import type { PaxosMessage } from './messages.js';

const b = (counter: number, node = 'p') => ({ counter, node });
const state = (value: string, version = 1): RegisterState<string> => ({ value, version, recent: [value] });
const prepare = (counter: number, layout = 1): PaxosMessage<string> => ({ kind: 'prepare', key: 'k', ballot: b(counter), layout });
const accept = (counter: number, value: string, layout = 1): PaxosMessage<string> => ({ kind: 'accept', key: 'k', ballot: b(counter), layout, state: state(value) });

t.test('a higher prepare is promised (persisted first) with the accepted state; a lower one is refused', async (t) => {
  const first = stepAcceptor<string>(EMPTY_ACCEPTOR_RECORD, prepare(5));
  t.same(first.persist?.promised, b(5), 'the promise is persisted');
  t.same(first.reply, { kind: 'promise', key: 'k', ballot: b(5), accepted: undefined, committed: undefined });
  const record = first.persist!;
  const lower = stepAcceptor(record, prepare(4));
  t.equal(lower.persist, undefined, 'a refusal changes nothing');
  t.same(lower.reply, { kind: 'nack', key: 'k', ballot: b(4), reason: 'ballot', promised: b(5), layoutMin: 1 });
  const again = stepAcceptor(record, prepare(5));
  t.equal(again.persist, undefined, 'a duplicate prepare needs no write');
  t.equal(again.reply?.kind, 'promise', 'and gets the same promise');
});

t.test('accept at or above the promise is accepted and persisted; below it is refused', async (t) => {
  const promised = stepAcceptor<string>(EMPTY_ACCEPTOR_RECORD, prepare(5)).persist!;
  t.equal(stepAcceptor(promised, accept(4, 'old')).reply?.kind, 'nack');
  const accepted = stepAcceptor(promised, accept(5, 'x'));
  t.same(accepted.persist?.accepted, { ballot: b(5), state: state('x') });
  t.same(accepted.reply, { kind: 'accepted', key: 'k', ballot: b(5) });
  const promise = stepAcceptor(accepted.persist!, prepare(6)).reply;
  t.same(promise?.kind === 'promise' ? promise.accepted : undefined, { ballot: b(5), state: state('x') }, 'the next promise carries the accepted state');
  const skipped = stepAcceptor(accepted.persist!, accept(9, 'y'));
  t.same(skipped.persist?.promised, b(9), 'an accept above the promise also raises it');
});

t.test('commits keep the highest ballot and never reply', async (t) => {
  const commit = (counter: number, value: string): PaxosMessage<string> => ({ kind: 'commit', key: 'k', ballot: b(counter), layout: 1, state: state(value) });
  const first = stepAcceptor<string>(EMPTY_ACCEPTOR_RECORD, commit(3, 'x'));
  t.same(first.persist?.committed, { ballot: b(3), state: state('x') });
  t.equal(first.reply, undefined);
  t.equal(stepAcceptor(first.persist!, commit(2, 'old')).persist, undefined, 'an older commit changes nothing');
  t.same(stepAcceptor(first.persist!, commit(4, 'y')).persist?.committed?.ballot, b(4));
});

t.test('the layout fence: a newer layout is remembered; an older one is refused, even with a higher ballot', async (t) => {
  const record: AcceptorRecord<string> = stepAcceptor<string>(EMPTY_ACCEPTOR_RECORD, prepare(5, 2)).persist!;
  t.equal(record.layoutMin, 2);
  const stale = stepAcceptor(record, prepare(50, 1));
  t.same(stale.reply, { kind: 'nack', key: 'k', ballot: b(50), reason: 'layout', promised: b(5), layoutMin: 2 });
  t.equal(stale.persist, undefined);
  t.equal(stepAcceptor(record, accept(50, 'x', 1)).reply?.kind, 'nack');
  const newer = stepAcceptor(record, prepare(4, 3));
  t.equal(newer.reply?.kind, 'nack', 'a lower ballot is still refused');
  t.equal(newer.persist?.layoutMin, 3, 'but the newer layout is remembered (persisted)');
  t.equal(stepAcceptor(record, { kind: 'promise', key: 'k', ballot: b(1), accepted: undefined, committed: undefined }).reply, undefined, 'replies sent to an acceptor are ignored');
  t.same(EMPTY_REGISTER.version, 0);
});
