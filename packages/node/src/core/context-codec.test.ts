import { createHmac } from 'node:crypto';
import t from 'tap';
import fc from 'fast-check';
import { contextCharsMax, decodeContext, encodeContext, NODE_ID_BYTES_MAX, type ContextCodecOptions } from './context-codec.js';
import { ByteWriter } from './bytes.js';
import type { VersionVector } from './clock.js';
import { KvError } from '../errors.js';
import { deriveKeys } from '../security/keyring.js';

const KEY = 'cart/42';
const options: ContextCodecOptions = { tagKeys: [deriveKeys('cluster-secret').context], entriesMax: 8 };
const otherCluster: ContextCodecOptions = { ...options, tagKeys: [deriveKeys('another-cluster').context] };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const sample: VersionVector = [
  { id: 'node-a', counter: 1 },
  { id: 'node-b', counter: 1_700_000_000_123 },
  { id: 'z.z_9', counter: Number.MAX_SAFE_INTEGER },
];

/** Sorted, unique ids matching the node id syntax; counters 1..2^53-1. */
const canonicalVectorArb = (maxLength: number): fc.Arbitrary<VersionVector> =>
  fc
    .uniqueArray(
      fc.record({
        id: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
        counter: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
      }),
      { selector: (entry) => entry.id, maxLength },
    )
    .map((entries) => [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));

/** A payload tagged with the right key for KEY, to reach the checks that come after the tag. */
function tagged(payload: Uint8Array, tagKey = options.tagKeys[0]!, key = KEY): string {
  const keyBytes = Buffer.from(key);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(keyBytes.length);
  const tag = createHmac('sha256', tagKey).update('ringkv-context\0').update(length).update(keyBytes).update(payload).digest().subarray(0, 16);
  return Buffer.concat([payload, tag]).toString('base64url');
}

function isBadContext(error: unknown): boolean {
  return error instanceof KvError && error.code === 'KV_ERR_BAD_CONTEXT' && error.status === 400;
}

t.test('a sample vector round-trips; the token is base64url', async (t) => {
  const token = encodeContext(sample, KEY, options);
  t.match(token, /^[A-Za-z0-9_-]+$/);
  t.same(decodeContext(token, KEY, options), sample);
  t.same(decodeContext(encodeContext([], KEY, options), KEY, options), [], 'the empty vector');
});

t.test('canonical vectors round-trip (property)', async (t) => {
  fc.assert(
    fc.property(canonicalVectorArb(options.entriesMax), (vector) => {
      const token = encodeContext(vector, KEY, options);
      if (token.length > contextCharsMax(options.entriesMax)) return false;
      const decoded = decodeContext(token, KEY, options);
      return decoded.length === vector.length && decoded.every((e, i) => e.id === vector[i]!.id && e.counter === vector[i]!.counter);
    }),
    { numRuns: 1000 },
  );
  t.pass('1000 random vectors');
});

t.test('the largest context entriesMax allows fits within contextCharsMax', async (t) => {
  for (const entriesMax of [1, 8, 32]) {
    const vector = Array.from({ length: entriesMax }, (_, i) => ({ id: String(i).padStart(3, '0') + 'x'.repeat(NODE_ID_BYTES_MAX - 3), counter: Number.MAX_SAFE_INTEGER }));
    const token = encodeContext(vector, KEY, { ...options, entriesMax });
    t.ok(token.length <= contextCharsMax(entriesMax), `${entriesMax} entries: ${token.length} <= ${contextCharsMax(entriesMax)}`);
    t.same(decodeContext(token, KEY, { ...options, entriesMax }), vector);
  }
});

t.test('flipping any single bit of a valid token\'s bytes is KV_ERR_BAD_CONTEXT', async (t) => {
  const raw = Buffer.from(encodeContext(sample, KEY, options), 'base64url');
  let flips = 0;
  for (let i = 0; i < raw.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = Buffer.from(raw);
      damaged[i]! ^= 1 << bit;
      t.throws(() => decodeContext(damaged.toString('base64url'), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, `byte ${i} bit ${bit}`);
      flips++;
    }
  }
  t.equal(flips, raw.length * 8);
});

t.test('replacing any single character of a valid token is KV_ERR_BAD_CONTEXT', async (t) => {
  // Tokens of each length class mod 4 (the last character of a 2- or 3-character group carries
  // padding bits): a different string must never pass as the same context.
  const vectors: VersionVector[] = [[{ id: 'a', counter: 1 }], [{ id: 'ab', counter: 1 }], [{ id: 'abc', counter: 1 }], sample];
  const lengthsMod4 = new Set<number>();
  for (const vector of vectors) {
    const token = encodeContext(vector, KEY, options);
    lengthsMod4.add(token.length % 4);
    const accepted: string[] = [];
    for (let i = 0; i < token.length; i++) {
      for (const c of BASE64URL) {
        if (c === token[i]) continue;
        const damaged = token.slice(0, i) + c + token.slice(i + 1);
        try {
          decodeContext(damaged, KEY, options);
          accepted.push(`position ${i} of ${token.length}: '${token[i]}' -> '${c}'`);
        } catch (error) {
          if (!isBadContext(error)) throw error;
        }
      }
    }
    t.same(accepted, [], `token of length ${token.length}: no altered token is accepted`);
  }
  t.ok(lengthsMod4.size >= 2, 'several length classes covered');
});

t.test('appending or removing a character of a valid token is KV_ERR_BAD_CONTEXT', async (t) => {
  for (const vector of [[{ id: 'a', counter: 1 }], [{ id: 'ab', counter: 1 }], [{ id: 'abc', counter: 1 }], sample]) {
    const token = encodeContext(vector, KEY, options);
    t.throws(() => decodeContext(token.slice(0, -1), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, `length ${token.length}: last removed`);
    t.throws(() => decodeContext(token.slice(1), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, `length ${token.length}: first removed`);
    for (const c of ['A', 'Q', 'g', '_']) {
      t.throws(() => decodeContext(token + c, KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, `length ${token.length}: '${c}' appended`);
    }
  }
});

t.test('a context from another cluster (another secret) is KV_ERR_BAD_CONTEXT', async (t) => {
  const token = encodeContext(sample, KEY, otherCluster);
  t.throws(() => decodeContext(token, KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /tag/ } });
  t.same(decodeContext(token, KEY, otherCluster), sample, 'its own cluster reads it');
});

t.test('too long tokens are refused before any work', async (t) => {
  const max = contextCharsMax(options.entriesMax);
  t.throws(() => decodeContext('A'.repeat(max + 1), KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: 'too long' } });
  t.throws(() => decodeContext('!'.repeat(max + 1), KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: 'too long' } }, 'length is checked first');
  t.throws(() => decodeContext('A'.repeat(10_000_000), KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: 'too long' } });
  // At exactly the maximum the token is examined (and refused for its content, not its length).
  t.throws(() => decodeContext('A'.repeat(max), KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /tag/ } });
});

t.test('tokens outside the base64url alphabet are KV_ERR_BAD_CONTEXT', async (t) => {
  const token = encodeContext(sample, KEY, options);
  const standard = Buffer.from(token, 'base64url').toString('base64'); // + / and = padding
  for (const bad of [token.slice(0, 4) + '+' + token.slice(5), token.slice(0, 4) + '/' + token.slice(5), `${token}=`, ` ${token}`, `${token}\n`, token.slice(0, 4) + '.' + token.slice(5), token.slice(0, 4) + 'é' + token.slice(5), 'Zm9v YmFy']) {
    t.throws(() => decodeContext(bad, KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: 'not base64url' } }, JSON.stringify(bad.slice(0, 12)));
  }
  if (/[+/=]/.test(standard)) t.throws(() => decodeContext(standard, KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, 'standard base64 of the same bytes');
});

t.test('empty and near-empty tokens are KV_ERR_BAD_CONTEXT', async (t) => {
  for (const bad of ['', 'A', 'AA', 'AAA', 'AAAA', 'A'.repeat(22) /* 16 bytes */, 'A'.repeat(23) /* 17 bytes */, '_'.repeat(24)]) {
    t.throws(() => decodeContext(bad, KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, `${JSON.stringify(bad)}`);
  }
  // A tag alone, or a tag after a one-byte payload, even correctly keyed.
  t.throws(() => decodeContext(tagged(new Uint8Array(0)), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' });
  t.throws(() => decodeContext(tagged(Uint8Array.of(1)), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' });
});

t.test('more entries than entriesMax are KV_ERR_BAD_CONTEXT; exactly entriesMax is fine', async (t) => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `n${String(i).padStart(2, '0')}`, counter: i + 1 }));
  t.same(decodeContext(encodeContext(entries(options.entriesMax), KEY, options), KEY, options), entries(options.entriesMax));
  const tooMany = encodeContext(entries(options.entriesMax + 1), KEY, options);
  t.ok(tooMany.length <= contextCharsMax(options.entriesMax), 'short enough to pass the length check');
  t.throws(() => decodeContext(tooMany, KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /exceed/ } });
  // A payload that claims 2^50 entries is refused at the count, before reading any entry.
  const claim = new ByteWriter().u8(2).varint(2 ** 50).finish();
  t.throws(() => decodeContext(tagged(claim), KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /exceed/ } });
});

t.test('non-canonical vectors are KV_ERR_BAD_CONTEXT even when correctly tagged', async (t) => {
  const cases: [string, VersionVector][] = [
    ['unsorted', [{ id: 'b', counter: 1 }, { id: 'a', counter: 1 }]],
    ['duplicate id', [{ id: 'a', counter: 1 }, { id: 'a', counter: 2 }]],
    ['zero counter', [{ id: 'a', counter: 0 }]],
    ['sorted then unsorted', [{ id: 'a', counter: 1 }, { id: 'c', counter: 1 }, { id: 'b', counter: 1 }]],
  ];
  for (const [name, vector] of cases) {
    const token = encodeContext(vector, KEY, options); // the encoder does not validate
    t.throws(() => decodeContext(token, KEY, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /canonical/ } }, name);
  }
});

t.test('correctly tagged payloads with bad content are KV_ERR_BAD_CONTEXT', async (t) => {
  const w = () => new ByteWriter();
  const cases: [string, Uint8Array][] = [
    ['version 1 (before key binding)', w().u8(1).varint(0).finish()],
    ['unknown version 3', w().u8(3).varint(0).finish()],
    ['unknown version 0', w().u8(0).varint(1).string('a').varint(1).finish()],
    ['trailing bytes', w().u8(2).varint(1).string('a').varint(1).u8(0).finish()],
    ['fewer entries than announced', w().u8(2).varint(2).string('a').varint(1).finish()],
    ['missing counter', w().u8(2).varint(1).string('a').finish()],
    ['id longer than 64 bytes', w().u8(2).varint(1).string('x'.repeat(65)).varint(1).finish()],
    ['id not UTF-8', w().u8(2).varint(1).bytes(Uint8Array.of(0xff, 0xfe)).varint(1).finish()],
    ['overlong counter varint', Uint8Array.of(2, 1, 1, 0x61, 0x81, 0x00)],
    ['counter above 2^53-1', Uint8Array.of(2, 1, 1, 0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)],
  ];
  for (const [name, payload] of cases) {
    t.throws(() => decodeContext(tagged(payload), KEY, options), { code: 'KV_ERR_BAD_CONTEXT' }, name);
  }
  t.same(decodeContext(tagged(w().u8(2).varint(1).string('a').varint(1).finish()), KEY, options), [{ id: 'a', counter: 1 }], 'the control case decodes');
});

t.test('arbitrary strings never throw anything but KV_ERR_BAD_CONTEXT (property)', async (t) => {
  const mustRefuse = (token: string) => {
    try {
      decodeContext(token, KEY, options);
    } catch (error) {
      if (isBadContext(error)) return true;
      throw error;
    }
    return false; // a random string that carries a valid tag: a 2^-128 event
  };
  fc.assert(fc.property(fc.string({ maxLength: 400 }), mustRefuse), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), mustRefuse), { numRuns: 2000 });
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{0,300}$/), mustRefuse), { numRuns: 2000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => mustRefuse(Buffer.from(bytes).toString('base64url'))), { numRuns: 2000 });
  t.pass('8000 random tokens refused with KV_ERR_BAD_CONTEXT');
});

t.test('random damage to valid tokens never throws anything but KV_ERR_BAD_CONTEXT (property)', async (t) => {
  fc.assert(
    fc.property(canonicalVectorArb(options.entriesMax), fc.nat(), fc.string({ maxLength: 3 }), (vector, at, insert) => {
      const token = encodeContext(vector, KEY, options);
      const i = at % (token.length + 1);
      const damaged = token.slice(0, i) + insert + token.slice(i + 1);
      try {
        decodeContext(damaged, KEY, options);
      } catch (error) {
        if (!isBadContext(error)) throw error;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 damaged tokens');
});

t.test('regression issue 19 point 4: a context is bound to its key; on another key it is KV_ERR_BAD_CONTEXT', async (t) => {
  const token = encodeContext(sample, 'a', options);
  t.same(decodeContext(token, 'a', options), sample, 'the key it was read from accepts it');
  for (const other of ['b', 'A', 'a ', '', 'a'.repeat(2), 'é']) {
    t.throws(() => decodeContext(token, other, options), { code: 'KV_ERR_BAD_CONTEXT', details: { reason: /another key/ } }, `refused on ${JSON.stringify(other)}`);
  }
  // Length-prefixed: a key that is a prefix of the payload bytes cannot be confused with it.
  t.not(encodeContext([], 'ab', options), encodeContext([], 'a', options));
});

t.test('keyring: any key verifies, the first signs (rotation keeps old contexts readable)', async (t) => {
  const oldKey = deriveKeys('old-secret-1').context;
  const newKey = deriveKeys('new-secret-2').context;
  const before = encodeContext(sample, KEY, { ...options, tagKeys: [oldKey] });
  const during = { ...options, tagKeys: [newKey, oldKey] };
  t.same(decodeContext(before, KEY, during), sample, 'a context signed before the rotation is read while its key is in the ring');
  const after = encodeContext(sample, KEY, during);
  t.same(decodeContext(after, KEY, { ...options, tagKeys: [newKey] }), sample, 'new contexts are signed with the primary');
  t.throws(() => decodeContext(after, KEY, { ...options, tagKeys: [oldKey] }), { code: 'KV_ERR_BAD_CONTEXT' }, 'not with the old key');
  t.throws(() => decodeContext(before, KEY, { ...options, tagKeys: [newKey] }), { code: 'KV_ERR_BAD_CONTEXT' }, 'once the old secret is dropped its contexts are refused');
});
