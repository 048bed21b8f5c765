import t, { type Test } from 'tap';
import { KvError } from '../errors.js';
import { ByteWriter } from '../core/bytes.js';
import { decodeTreeRequest, decodeTreeResponse, encodeTreeRequest, encodeTreeResponse, TREE_DIGESTS_MAX, TREE_LIST_KEYS_MAX, TREE_SETS_MAX } from './tree-messages.js';

const badRequest = (t: Test, fn: () => unknown, what: string) => {
  try {
    fn();
    t.fail(`${what}: accepted`);
  } catch (error) {
    t.ok(error instanceof KvError && error.code === 'KV_ERR_BAD_REQUEST', `${what}: KV_ERR_BAD_REQUEST`);
  }
};

t.test('requests and responses round-trip', async (t) => {
  const summaries = { kind: 'summaries' as const, sets: [[{ start: 0, end: 2 ** 48 }], [{ start: 5, end: 9 }, { start: 2 ** 40, end: 2 ** 41 }]] };
  t.same(decodeTreeRequest(encodeTreeRequest(summaries)), summaries);
  const digests = { kind: 'digests' as const, ranges: [{ start: 1, end: 2 }], limit: 100 };
  t.same(decodeTreeRequest(encodeTreeRequest(digests)), digests);
  const answer = { kind: 'summaries' as const, summaries: [{ hash: new Uint8Array(16).fill(7), count: 3 }] };
  t.same(decodeTreeResponse(encodeTreeResponse(answer)), answer);
  const listed = { kind: 'digests' as const, truncated: true, entries: [{ key: 'k✓', digest: new Uint8Array(16).fill(1) }] };
  t.same(decodeTreeResponse(encodeTreeResponse(listed)), listed);
  const keys = { kind: 'keys' as const, ranges: [{ start: 0, end: 5 }, { start: 9, end: 2 ** 48 }], prefix: 'user/é', after: 'user/é1', limit: 1000 };
  t.same(decodeTreeRequest(encodeTreeRequest(keys)), keys);
  for (const page of [{ kind: 'keys' as const, keys: ['a', '𝄞'], through: '𝄞' }, { kind: 'keys' as const, keys: [], through: null }]) {
    t.same(decodeTreeResponse(encodeTreeResponse(page)), page);
  }
});

t.test('malformed listing frames are KV_ERR_BAD_REQUEST', async (t) => {
  const frame = (build: (w: ByteWriter) => ByteWriter) => build(new ByteWriter()).finish();
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(4).varint(TREE_LIST_KEYS_MAX + 1).string('').string('').varint(0))), 'more keys asked than a page holds');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(4).varint(5).string('').string('').varint(2).varint(5).varint(9).varint(0).varint(3))), 'ranges out of order');
  badRequest(t, () => decodeTreeResponse(frame((w) => w.u8(1).u8(4).u8(2).varint(0))), 'a bad through flag');
  badRequest(t, () => decodeTreeResponse(frame((w) => w.u8(1).u8(4).u8(0).varint(TREE_LIST_KEYS_MAX + 1))), 'too many keys');
});

t.test('malformed, oversize or out-of-ring frames are KV_ERR_BAD_REQUEST', async (t) => {
  const frame = (build: (w: ByteWriter) => ByteWriter) => build(new ByteWriter()).finish();
  badRequest(t, () => decodeTreeRequest(new Uint8Array(0)), 'empty');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(9))), 'unknown version');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(7))), 'unknown kind');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(1).varint(TREE_SETS_MAX + 1))), 'too many sets');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(1).varint(1).varint(1).varint(9).varint(9))), 'an empty range');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(1).varint(1).varint(1).varint(0).varint(2 ** 48 + 1))), 'a range past the ring');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(2).varint(TREE_DIGESTS_MAX + 1).varint(0))), 'too many digests asked');
  badRequest(t, () => decodeTreeRequest(frame((w) => w.u8(1).u8(2).varint(1).varint(9000))), 'more ranges than allowed, or truncated');
  badRequest(t, () => decodeTreeRequest(new Uint8Array([...encodeTreeRequest({ kind: 'digests', ranges: [], limit: 1 }), 0])), 'trailing bytes');
  badRequest(t, () => decodeTreeResponse(frame((w) => w.u8(1).u8(1).varint(1).bytes(new Uint8Array(15)).varint(1))), 'a short digest');
  badRequest(t, () => decodeTreeResponse(frame((w) => w.u8(1).u8(2).u8(2).varint(0))), 'a bad truncated flag');
});
