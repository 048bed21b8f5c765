/**
 * Fuzzing tier for compare-and-set (docs/cas.md): replica batches and results carrying Paxos
 * messages, and acceptor records as read from disk. Valid encodings, mutated and random bytes:
 * no crash, no hang, only the coded error (harness.ts).
 */
import fc from 'fast-check';
import t from 'tap';
import { KvError } from '@ringkv/node';
import { decodeBatch, decodeBatchResults, encodeBatch, encodeBatchResults } from '@ringkv/node/testing';
import { DecodeError } from '../../packages/node/dist/core/bytes.js';
import { decodeAcceptorRecord, encodeAcceptorRecord } from '../../packages/node/dist/consensus/codec.js';
import type { PaxosMessage } from '../../packages/node/dist/consensus/messages.js';
import type { CasValue } from '../../packages/node/dist/consensus/cas-value.js';
import { bytesFrom, fuzz } from './harness.js';
import { idArb, keyArb } from './arbitraries.js';

const ballotArb = fc.record({ counter: fc.integer({ min: 1, max: 2 ** 50 }), node: idArb });
const stateArb = fc.record({
  value: fc.option(fc.record({ data: fc.uint8Array({ maxLength: 32 }), contentType: fc.constantFrom('', 'text/plain') }), { nil: null }),
  version: fc.integer({ min: 0, max: 2 ** 40 }),
  recent: fc.array(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { maxLength: 16 }),
});
const balloted = fc.option(fc.record({ ballot: ballotArb, state: stateArb }), { nil: undefined });
const layout = fc.integer({ min: 0, max: 1000 });

const requestArb = (key: string): fc.Arbitrary<PaxosMessage<CasValue>> => fc.oneof(
  fc.record({ kind: fc.constant('prepare' as const), key: fc.constant(key), ballot: ballotArb, layout }),
  fc.record({ kind: fc.constantFrom('accept' as const, 'commit' as const), key: fc.constant(key), ballot: ballotArb, layout, state: stateArb }),
);
const replyArb: fc.Arbitrary<PaxosMessage<CasValue>> = fc.oneof(
  fc.record({ kind: fc.constant('promise' as const), key: keyArb, ballot: ballotArb, accepted: balloted, committed: balloted }),
  fc.record({ kind: fc.constant('accepted' as const), key: keyArb, ballot: ballotArb }),
  fc.record({ kind: fc.constant('nack' as const), key: keyArb, ballot: ballotArb, reason: fc.constantFrom('ballot' as const, 'layout' as const), promised: ballotArb, layoutMin: layout }),
);

const coded = (error: unknown) => error instanceof KvError && error.code === 'KV_ERR_BAD_REQUEST';

t.test('replica batches with paxos ops, and their results', async (t) => {
  const ops = fc.array(keyArb.chain((key) => requestArb(key).map((message) => ({ kind: 'paxos' as const, key, message }))), { maxLength: 4 });
  await fuzz(t, { name: 'decodeBatch (paxos)', input: bytesFrom(ops.map(encodeBatch)), run: decodeBatch, expected: coded });
  const results = fc.array(replyArb.map((paxos) => ({ ok: true as const, paxos })), { maxLength: 4 });
  await fuzz(t, { name: 'decodeBatchResults (paxos)', input: bytesFrom(results.map((r) => encodeBatchResults(r))), run: decodeBatchResults, expected: coded });
});

t.test('acceptor records (the paxos table)', (t) =>
  fuzz(t, {
    name: 'decodeAcceptorRecord',
    input: bytesFrom(fc.record({ promised: ballotArb, accepted: balloted, committed: balloted, layoutMin: layout }).map(encodeAcceptorRecord)),
    run: decodeAcceptorRecord,
    expected: (error: unknown) => error instanceof DecodeError,
  }));
