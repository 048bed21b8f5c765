// put() and delete() retries (retried-write.ts): after an unknown outcome the same request id is
// sent again, bounded and jittered; an answer that says the write did not apply, or the
// caller's abort, is never retried.
import t from 'tap';
import { OutcomeUnknownError, RingkvError } from './errors.js';
import { outcomeUnknown, requestIdOf, retried, WRITE_RETRIES_DEFAULT, WRITE_RETRIES_MAX } from './retried-write.js';

const noJitter = () => 0;
const unknown = () => new OutcomeUnknownError('no answer');
const answered = (code: 'KV_ERR_TIMEOUT' | 'KV_ERR_QUORUM_UNMET' | 'KV_ERR_BAD_QUORUM', mayHaveApplied: boolean) => new RingkvError(code, 'x', code === 'KV_ERR_BAD_QUORUM' ? 400 : 503, {}, { mayHaveApplied });

/** A send that fails with `errors` in turn, then succeeds; counts its calls. */
function sender(errors: RingkvError[]) {
  const state = { calls: 0 };
  const send = async () => {
    state.calls++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'done';
  };
  return { state, send };
}

t.test('unknown outcomes are sent again until an answer, at most `retries` times', async (t) => {
  const ok = sender([unknown(), answered('KV_ERR_TIMEOUT', true)]);
  t.equal(await retried('PUT k', ok.send, {}, noJitter), 'done');
  t.equal(ok.state.calls, 3, 'the first send and two retries');
  const never = sender(Array.from({ length: 20 }, unknown));
  await t.rejects(retried('PUT k', never.send, {}, noJitter), { code: 'KV_ERR_OUTCOME_UNKNOWN', mayHaveApplied: true });
  t.equal(never.state.calls, 1 + WRITE_RETRIES_DEFAULT, 'bounded by the default');
  const capped = sender(Array.from({ length: 20 }, unknown));
  await t.rejects(retried('PUT k', capped.send, { retries: 1_000 }, noJitter));
  t.equal(capped.state.calls, 1 + WRITE_RETRIES_MAX, 'and by the cap');
  const none = sender([unknown()]);
  await t.rejects(retried('PUT k', none.send, { retries: 0 }, noJitter));
  t.equal(none.state.calls, 1, 'retries: 0 sends once');
});

t.test('never retried: a write that surely did not apply, a read error, the caller\'s abort', async (t) => {
  t.notOk(outcomeUnknown(answered('KV_ERR_QUORUM_UNMET', false)), 'attempted: false');
  t.notOk(outcomeUnknown(answered('KV_ERR_BAD_QUORUM', false)), 'a 4xx');
  t.notOk(outcomeUnknown(new OutcomeUnknownError('aborted', { aborted: true })), 'aborted after it was sent');
  t.notOk(outcomeUnknown(new Error('boom')), 'not a client error');
  t.ok(outcomeUnknown(answered('KV_ERR_QUORUM_UNMET', true)), 'a quorum missed after sending');
  const refused = sender([answered('KV_ERR_BAD_QUORUM', false)]);
  await t.rejects(retried('PUT k', refused.send, {}, noJitter), { code: 'KV_ERR_BAD_QUORUM' });
  t.equal(refused.state.calls, 1);
});

t.test('the request id: the caller\'s, checked, or a fresh one per call', async (t) => {
  t.equal(requestIdOf({ requestId: 'order-17:attempt' }), 'order-17:attempt');
  t.throws(() => requestIdOf({ requestId: 'has space' }), TypeError);
  t.throws(() => requestIdOf({ requestId: 'x'.repeat(129) }), TypeError);
  const a = requestIdOf({});
  t.match(a, /^[0-9a-f-]{36}$/, 'a UUID');
  t.not(a, requestIdOf({}), 'fresh per call');
});
