// cas() retries after an unknown outcome with the SAME request id (bounded, jittered), and
// never after an answer that says the write did not apply; 412 is a result, not an error.
import t from 'tap';
import { OutcomeUnknownError, RingkvError } from './errors.js';
import { runCas, type CasTransport } from './cas.js';
import { CAS_RECENT_REQUEST_IDS } from '@ringkv/protocol';

type Sent = { headers?: Record<string, string> | undefined; path: string };

function transport(answers: Array<(() => never) | { status: number; version?: number; body?: string }>, sent: Sent[]): CasTransport {
  return {
    timeoutMs: 1_000,
    error: (status, body) => {
      const json = JSON.parse(body.toString()) as { error: { code: string; maybeApplied?: boolean; attempted?: boolean } };
      return new RingkvError(json.error.code as never, 'x', status, json.error, { mayHaveApplied: json.error.maybeApplied === true });
    },
    send: async (request) => {
      sent.push({ headers: request.headers, path: request.path });
      const next = answers.shift()!;
      if (typeof next === 'function') return next();
      return { status: next.status, headers: next.version === undefined ? {} : { 'x-ringkv-version': String(next.version) }, body: Buffer.from(next.body ?? '') };
    },
  };
}
const unknown = () => { throw new OutcomeUnknownError('no answer'); };
const options = { ifAbsent: true, retries: 3 } as const;
const noJitter = () => 0;

t.test('an unknown outcome is retried with the same request id until an answer comes', async (t) => {
  const sent: Sent[] = [];
  const timeout = { status: 504, body: JSON.stringify({ error: { code: 'KV_ERR_TIMEOUT', maybeApplied: true } }) };
  const result = await runCas(transport([unknown, timeout, { status: 204, version: 1 }], sent), 'k', '/kv/k', new Uint8Array([1]), 'x/y', options, noJitter);
  t.same(result, { applied: true, version: 1 });
  t.equal(sent.length, 3);
  const ids = new Set(sent.map((s) => s.headers?.['x-ringkv-request-id']));
  t.equal(ids.size, 1, 'one request id for every send');
  t.match(sent[0]!.path, /\?if_absent=1&timeout_ms=1000$/);
});

t.test('bounded: after `retries` unknown outcomes the last error is thrown, mayHaveApplied', async (t) => {
  const sent: Sent[] = [];
  await t.rejects(runCas(transport([unknown, unknown, unknown, unknown, unknown], sent), 'k', '/kv/k', new Uint8Array(), 'x', options, noJitter), { code: 'KV_ERR_OUTCOME_UNKNOWN', mayHaveApplied: true });
  t.equal(sent.length, 4, 'the first send and 3 retries');
});

t.test('412 is a result; a refusal that surely did not apply is thrown at once', async (t) => {
  const sent: Sent[] = [];
  t.same(await runCas(transport([{ status: 412, version: 4, body: '{"error":{"code":"KV_ERR_PRECONDITION","version":4,"exists":true}}' }], sent), 'k', '/kv/k', new Uint8Array(), 'x', { ifVersion: 3, requestId: 'mine' }, noJitter), { applied: false, version: 4, exists: true });
  t.equal(sent[0]!.headers?.['x-ringkv-request-id'], 'mine');
  t.match(sent[0]!.path, /\?if_version=3&/);
  const refused = { status: 503, body: JSON.stringify({ error: { code: 'KV_ERR_QUORUM_UNMET', attempted: false } }) };
  await t.rejects(runCas(transport([refused], sent), 'k', '/kv/k', new Uint8Array(), 'x', options, noJitter), { code: 'KV_ERR_QUORUM_UNMET' });
  t.equal(sent.length, 2, 'not retried');
  await t.rejects(runCas(transport([], sent), 'k', '/kv/k', new Uint8Array(), 'x', {}, noJitter), TypeError, 'neither ifVersion nor ifAbsent');
});

// Found while diagnosing the multi-host Jepsen run's violation (test/netns/jepsen-cas.ts, the
// 10-minute run of seed 16059: a consistent read returned a value whose cas() had ended in an
// error that says "not applied"): when a send's outcome was unknown and a retry then met a
// node that was down (unreachable) or a round that gave up (503 attempted=false), cas() threw
// that later error, which says nothing about the first send, whose accept may still be chosen.
t.test('regression: after an unknown outcome, a later send that says nothing keeps the outcome unknown', async (t) => {
  const sent: Sent[] = [];
  const unreachable = () => { throw new RingkvError('KV_ERR_UNREACHABLE', 'connection refused', 0, {}, { mayHaveApplied: false }); };
  const gaveUp = { status: 503, body: JSON.stringify({ error: { code: 'KV_ERR_QUORUM_UNMET', attempted: false } }) };
  await t.rejects(runCas(transport([unknown, unreachable, gaveUp, unreachable], sent), 'k', '/kv/k', new Uint8Array(), 'x', options, noJitter), { code: 'KV_ERR_OUTCOME_UNKNOWN', mayHaveApplied: true });
  t.equal(sent.length, 4, 'the id was sent again while retries remained');
  t.equal(new Set(sent.map((s) => s.headers?.['x-ringkv-request-id'])).size, 1, 'always with the same id');
  const learnt = await runCas(transport([unknown, unreachable, { status: 204, version: 3 }], []), 'k', '/kv/k', new Uint8Array(), 'x', options, noJitter);
  t.same(learnt, { applied: true, version: 3 }, 'a later answer about the id is the outcome');
  await t.rejects(runCas(transport([unreachable], sent), 'k', '/kv/k', new Uint8Array(), 'x', options, noJitter), { code: 'KV_ERR_UNREACHABLE', mayHaveApplied: false }, 'with no unknown send before, a refusal is still final');
});

// Found by the 10-minute multi-host Jepsen CAS run with leaves and joins (seed 28203): a cas()
// whose first send had an unknown outcome retried 550 ms later on a hot key and was told 412;
// its first send had applied, and 16 or more changes since had pushed its request id out of
// the key's recent ones, so the retry could not be recognised. A 412 after an unknown send
// proves "not applied" only while the id would still be remembered (casRetryConclusive).
t.test('regression: after an unknown outcome, a 412 far past the remembered request ids is not an answer', async (t) => {
  const far = { status: 412, version: 3 + 1 + CAS_RECENT_REQUEST_IDS, body: '{"error":{"code":"KV_ERR_PRECONDITION","exists":true}}' };
  await t.rejects(runCas(transport([unknown, far], []), 'k', '/kv/k', new Uint8Array(), 'x', { ifVersion: 3 }, noJitter), { code: 'KV_ERR_OUTCOME_UNKNOWN', mayHaveApplied: true }, 'if_version=3, the key at 20: unknown');
  const near = { status: 412, version: 3 + CAS_RECENT_REQUEST_IDS, body: '{"error":{"code":"KV_ERR_PRECONDITION","exists":true}}' };
  t.same(await runCas(transport([unknown, near], []), 'k', '/kv/k', new Uint8Array(), 'x', { ifVersion: 3 }, noJitter), { applied: false, version: 19, exists: true }, 'the key at 19: an applied change at 4 would still be remembered, so 412 is the answer');
  t.same(await runCas(transport([far], []), 'k', '/kv/k', new Uint8Array(), 'x', { ifVersion: 3 }, noJitter), { applied: false, version: 20, exists: true }, 'a first send: 412 is always the answer');
  const absentFar = { status: 412, version: CAS_RECENT_REQUEST_IDS + 1, body: '{"error":{"code":"KV_ERR_PRECONDITION","exists":true}}' };
  await t.rejects(runCas(transport([unknown, absentFar], []), 'k', '/kv/k', new Uint8Array(), 'x', { ifAbsent: true }, noJitter), { code: 'KV_ERR_OUTCOME_UNKNOWN' }, 'if_absent: past version 16 nothing can be ruled out');
});
