// The binary forms of Paxos records and messages: every message and record round-trips, and
// malformed bytes (truncated, overlong, unknown codes, too many request ids, a request where a
// reply belongs) are refused with a DecodeError, or KV_ERR_BAD_REQUEST in a replica batch.
import t from 'tap';
import { ByteReader, ByteWriter, DecodeError } from '../core/bytes.js';
import { decodeBatch, decodeBatchResults, encodeBatch, encodeBatchResults } from '../transport/messages.js';
import { decodeAcceptorRecord, encodeAcceptorRecord, readMessage, writeMessage, REQUEST_ID_BYTES_MAX } from './codec.js';
import type { CasValue } from './cas-value.js';
import type { PaxosMessage } from './messages.js';
import { RECENT_REQUESTS_MAX, type RegisterState } from './register-state.js';

const ballot = { counter: 2 ** 40, node: 'node-1' };
const state: RegisterState<CasValue> = { value: { data: Uint8Array.from({ length: 256 }, (_, i) => i), contentType: 'text/plain' }, version: 7, recent: ['a', 'ü'.repeat(10)] };
const absent: RegisterState<CasValue> = { value: null, version: 3, recent: [] };
const messages: PaxosMessage<CasValue>[] = [
  { kind: 'prepare', key: 'k ✓', ballot, layout: 4 },
  { kind: 'promise', key: 'k', ballot, accepted: { ballot, state }, committed: { ballot: { counter: 1, node: 'n' }, state: absent } },
  { kind: 'promise', key: 'k', ballot, accepted: undefined, committed: undefined },
  { kind: 'accept', key: 'k', ballot, layout: 0, state },
  { kind: 'accepted', key: 'k', ballot },
  { kind: 'nack', key: 'k', ballot, reason: 'layout', promised: { counter: 0, node: '' }, layoutMin: 9 },
  { kind: 'nack', key: 'k', ballot, reason: 'ballot', promised: ballot, layoutMin: 0 },
  { kind: 'commit', key: 'k', ballot, layout: 1, state: absent },
  { kind: 'learn', key: 'k', ballot: { counter: 0, node: '' }, layout: 2 ** 47 + 1 },
  { kind: 'record', key: 'k', ballot: { counter: 0, node: '' }, promised: ballot, accepted: { ballot, state }, committed: undefined },
  { kind: 'adopt', key: 'k', ballot: { counter: 0, node: '' }, promised: ballot, accepted: undefined, committed: { ballot, state: absent } },
  { kind: 'learn-all', key: '', ballot: { counter: 0, node: '' }, layout: 5 },
  { kind: 'handed-over', key: 'node4', ballot: { counter: 0, node: '' }, layout: 1_764_800_000_123 },
  { kind: 'records', key: 'after', ballot: { counter: 0, node: '' }, entries: [{ key: 'a', promised: ballot, accepted: { ballot, state }, committed: undefined }, { key: 'b ✓', promised: { counter: 0, node: '' }, accepted: undefined, committed: undefined }], done: true },
  { kind: 'records', key: '', ballot: { counter: 0, node: '' }, entries: [], done: false },
];
const encode = (message: PaxosMessage<CasValue>) => { const w = new ByteWriter(); writeMessage(w, message); return w.finish(); };
const decode = (bytes: Uint8Array) => { const r = new ByteReader(bytes); const m = readMessage(r); if (!r.done) throw new DecodeError('trailing'); return m; };

t.test('every message round-trips; every truncation is refused', async (t) => {
  for (const message of messages) {
    const bytes = encode(message);
    t.same(decode(bytes), message, message.kind);
    for (let cut = 0; cut < bytes.length; cut++) t.throws(() => decode(bytes.subarray(0, cut)), DecodeError);
  }
});

t.test('records round-trip; bad records are refused', async (t) => {
  const record = { promised: ballot, accepted: { ballot, state }, committed: undefined, layoutMin: 2 };
  t.same(decodeAcceptorRecord(encodeAcceptorRecord(record)), record);
  const bytes = encodeAcceptorRecord(record);
  t.throws(() => decodeAcceptorRecord(Uint8Array.of(9, ...bytes.subarray(1))), DecodeError, 'unknown version');
  t.throws(() => decodeAcceptorRecord(Uint8Array.of(...bytes, 0)), DecodeError, 'trailing bytes');
});

t.test('bounds: request ids, their number, ballot node ids, codes', async (t) => {
  const tooMany = { ...state, recent: Array.from({ length: RECENT_REQUESTS_MAX + 1 }, (_, i) => `r${i}`) };
  t.throws(() => decode(encode({ kind: 'accept', key: 'k', ballot, layout: 0, state: tooMany })), /recent request ids/);
  const longId = { ...state, recent: ['x'.repeat(REQUEST_ID_BYTES_MAX + 1)] };
  t.throws(() => decode(encode({ kind: 'accept', key: 'k', ballot, layout: 0, state: longId })), DecodeError);
  t.throws(() => decode(encode({ kind: 'prepare', key: 'k', ballot: { counter: 1, node: 'bad id!' }, layout: 0 })), /ballot node/);
  t.throws(() => decode(encode({ kind: 'prepare', key: 'k', ballot: { counter: 1, node: '' }, layout: 0 })), /ballot node/, 'only the zero ballot has no node');
  const bytes = encode(messages[0]!);
  t.throws(() => decode(Uint8Array.of(99, ...bytes.subarray(1))), /unknown paxos message/);
});

t.test('in a replica batch: requests go out, replies come back, and the wrong way round is a coded 400', async (t) => {
  const prepare = messages[0]!;
  t.same(decodeBatch(encodeBatch([{ kind: 'paxos', key: prepare.key, message: prepare }])), [{ kind: 'paxos', key: prepare.key, message: prepare }]);
  t.same(decodeBatchResults(encodeBatchResults([{ ok: true, paxos: messages[1]! }, { ok: true }])), [{ ok: true, paxos: messages[1]! }, { ok: true }]);
  const badOp = (op: Parameters<typeof encodeBatch>[0][number]) => () => decodeBatch(encodeBatch([op]));
  t.throws(badOp({ kind: 'paxos', key: 'other', message: prepare }), { code: 'KV_ERR_BAD_REQUEST' }, 'key of the op and of the message differ');
  t.throws(badOp({ kind: 'paxos', key: 'k', message: messages[4]! }), { code: 'KV_ERR_BAD_REQUEST' }, 'a reply sent as a request');
  t.throws(() => decodeBatchResults(encodeBatchResults([{ ok: true, paxos: messages[0]! }])), { code: 'KV_ERR_BAD_REQUEST' }, 'a request sent as a reply');
});
