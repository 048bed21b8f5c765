// TTL in the versioning core and the stored form: expiry travels with the sibling, reads see
// an expired sibling as a tombstone, and the reaper's clock (deadAfterMs) starts at the latest
// death of any sibling.
import t from 'tap';
import { deadAfterMs, update, visibleAt, contextOf } from './versioned.js';
import { deadPastGrace } from './no-resurrection.js';
import { decodeObject, encodeObject } from './object-codec.js';
import { ByteReader } from './bytes.js';

const limits = { siblingsMax: 8, clockEntriesMax: 8 };
const put = (base: Parameters<typeof update>[0], value: string, nowMs: number, ttlMs?: number, id = 'n1') =>
  update(base, { coordinatorId: id, context: base ? contextOf(base) : [], deleted: false, value: Buffer.from(value), contentType: 'text/plain', nowMs, ...(ttlMs === undefined ? {} : { ttlMs }) }, limits);

t.test('a TTL write expires at nowMs + ttl, survives the codec, and reads as a tombstone from then', async (t) => {
  const object = put(undefined, 'v', 1_000, 500);
  t.equal(object.siblings[0]!.expiresMs, 1_500);
  const again = decodeObject(encodeObject(object), 'k');
  t.equal(again.siblings[0]!.expiresMs, 1_500, 'the expiry round-trips');
  t.equal(decodeObject(encodeObject(put(undefined, 'v', 1_000)), 'k').siblings[0]!.expiresMs, undefined, 'no TTL, no expiry');
  t.equal(visibleAt(object, 1_499).siblings[0]!.deleted, false, 'alive before');
  t.equal(visibleAt(object, 1_500).siblings[0]!.deleted, true, 'a tombstone from the expiry');
  t.same(visibleAt(object, 1_500).clock, object.clock, 'with the same clock (a reader context covers it)');
});

t.test('deadAfterMs: undefined while a sibling lives without expiry; else the latest death', async (t) => {
  const ttl = put(undefined, 'a', 1_000, 500);
  t.equal(deadAfterMs(ttl), 1_500);
  const concurrent = put(ttl, 'b', 1_100, undefined, 'n2'); // context covers ttl: replaced
  t.equal(deadAfterMs(concurrent), undefined, 'a live value without a TTL never dies');
  const tombstone = update(ttl, { coordinatorId: 'n1', context: contextOf(ttl), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 2_000 }, limits);
  t.equal(deadAfterMs(tombstone), 2_000, 'a tombstone is dead from when it was written');
  t.equal(deadPastGrace(tombstone, 2_000 + 100, 100), false, 'not past a grace of 100 at exactly 100');
  t.equal(deadPastGrace(tombstone, 2_000 + 101, 100), true);
  t.equal(deadPastGrace(tombstone, 9_999_999, undefined), false, 'no grace configured: never');
});

t.test('unknown sibling flags are refused as corrupt', async (t) => {
  const bytes = encodeObject(put(undefined, 'v', 1_000));
  // Walk the layout (object-codec.ts) to the first sibling's flags byte.
  const reader = new ByteReader(bytes);
  reader.u8();
  for (let i = reader.varint(); i > 0; i--) (reader.string(256), reader.varint(), reader.varint());
  reader.varint();
  reader.string(256);
  reader.varint();
  const flagsAt = bytes.length - reader.remaining;
  t.equal(bytes[flagsAt], 0, 'found the flags of a plain write');
  const bad = Uint8Array.from(bytes);
  bad[flagsAt] = 4;
  t.throws(() => decodeObject(bad, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
});
