import assert from 'node:assert/strict';
import t from 'tap';
import fc from 'fast-check';
import { decodeObject, encodeObject } from './object-codec.js';
import { contextOf, update, type VersionedObject } from './versioned.js';
import type { VersionVector } from './clock.js';
import { KvError } from '../errors.js';
import { ALL_BYTES, sampleObject as sharedSample } from '../testing/sample-object.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const utf8 = (s: string) => new TextEncoder().encode(s);
const allBytes = ALL_BYTES;

/** The shared sample (testing/sample-object.ts), checked to be what these tests assume. */
function sampleObject(): VersionedObject {
  const o = sharedSample();
  assert.equal(o.siblings.length, 3);
  assert.equal(o.siblings.filter((s) => s.deleted).length, 1);
  assert.equal(o.clock.length, 3);
  return o;
}

function assertRoundTrip(object: VersionedObject): void {
  const bytes = encodeObject(object);
  const decoded = decodeObject(bytes, 'k');
  assert.deepStrictEqual(decoded, object);
  for (const sibling of decoded.siblings) assert.ok(sibling.value instanceof Uint8Array);
  assert.deepStrictEqual(encodeObject(decoded), bytes, 'the encoding is canonical');
}

t.test('a sample object with a tombstone and binary values round-trips exactly', async (t) => {
  const object = sampleObject();
  const decoded = decodeObject(encodeObject(object), 'k');
  t.same(decoded.clock, object.clock);
  t.equal(decoded.siblings.length, 3);
  const binary = decoded.siblings.find((s) => s.dot.id === 'node-a')!;
  const tomb = decoded.siblings.find((s) => s.deleted)!;
  t.same([...binary.value], [...allBytes]);
  t.equal(binary.contentType, 'application/octet-stream');
  t.equal(tomb.value.length, 0);
  t.equal(tomb.contentType, '');
  t.doesNotThrow(() => assertRoundTrip(object));
  t.doesNotThrow(() => assertRoundTrip({ clock: [], siblings: [] }), 'the empty object');
});

t.test('an object is encoded once: the same object gives the same bytes, an equal one equal bytes', async (t) => {
  const object = sampleObject();
  const first = encodeObject(object);
  t.equal(encodeObject(object), first, 'the same Uint8Array for the same object');
  const equal = decodeObject(first, 'k');
  const again = encodeObject(equal);
  t.not(again, first, 'another object is encoded afresh');
  t.same([...again], [...first], 'to the same bytes');
  const changed: VersionedObject = { clock: object.clock, siblings: object.siblings.slice(1) };
  t.notSame([...encodeObject(changed)], [...first], 'a changed copy is a new object with its own bytes');
});

t.test('decoded values are copies: damaging the input afterwards leaves the object intact', async (t) => {
  const object = sampleObject();
  const bytes = Uint8Array.from(encodeObject(object));
  const decoded = decodeObject(bytes, 'k');
  bytes.fill(0);
  t.doesNotThrow(() => assert.deepStrictEqual(decoded, object));
});

t.test('decoding a Buffer (what better-sqlite3 returns for a blob) yields plain Uint8Array copies', async (t) => {
  const object = sampleObject();
  const row = Buffer.from(encodeObject(object));
  const decoded = decodeObject(row, 'k');
  for (const sibling of decoded.siblings) {
    t.equal(Object.getPrototypeOf(sibling.value), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
    t.not(sibling.value.buffer, row.buffer, 'not a view of the row buffer');
  }
  row.fill(0);
  t.doesNotThrow(() => assert.deepStrictEqual(decoded, object), 'damaging the row afterwards leaves the object intact');
});

t.test('extreme field values round-trip: 2^53-1 counters and timestamps, 64-byte ids, 256-byte content types', async (t) => {
  const max = Number.MAX_SAFE_INTEGER;
  const id = 'i'.repeat(64);
  const object: VersionedObject = {
    clock: [{ id, counter: max, timestampMs: max }, { id: 'j', counter: 1, timestampMs: 0 }],
    siblings: [{ dot: { id, counter: max }, deleted: false, value: allBytes, contentType: 'c'.repeat(256), timestampMs: max }],
  };
  t.doesNotThrow(() => assertRoundTrip(object));
});

// ---- Property: objects produced by random histories of update() calls round-trip exactly.

interface Step {
  coordinator: string;
  context: 'none' | 'current' | 'stale';
  deleted: boolean;
  value: Uint8Array;
  contentType: string;
  nowMs: number;
}

const contentTypeArb = fc
  .oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', 'text/plain', 'application/json; charset=utf-8'))
  .filter((s) => utf8(s).length <= 256);

const stepArb: fc.Arbitrary<Step> = fc.record({
  coordinator: fc.constantFrom('a', 'b', 'node-3.x_y', 'n'.repeat(64)),
  context: fc.constantFrom('none', 'current', 'current', 'stale'),
  deleted: fc.boolean(),
  value: fc.oneof(fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ minLength: 200, maxLength: 600 })),
  contentType: contentTypeArb,
  nowMs: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 50 })),
}) as fc.Arbitrary<Step>;

function replay(steps: readonly Step[]): VersionedObject[] {
  const states: VersionedObject[] = [];
  let current: VersionedObject | undefined;
  let stale: VersionVector = [];
  for (const step of steps) {
    const context = step.context === 'none' || current === undefined ? [] : step.context === 'current' ? contextOf(current) : stale;
    if (current !== undefined && states.length % 3 === 0) stale = contextOf(current);
    current = update(current, { coordinatorId: step.coordinator, context, deleted: step.deleted, value: step.value, contentType: step.contentType, nowMs: step.nowMs }, limits);
    states.push(current);
  }
  return states;
}

const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 25 });

t.test('objects from random update() histories round-trip exactly (property)', async (t) => {
  let objects = 0;
  let withTombstones = 0;
  let withSiblings = 0;
  fc.assert(
    fc.property(historyArb, (steps) => {
      for (const object of replay(steps)) {
        assertRoundTrip(object);
        objects++;
        if (object.siblings.some((s) => s.deleted)) withTombstones++;
        if (object.siblings.length > 1) withSiblings++;
      }
    }),
    { numRuns: 300 },
  );
  t.ok(withTombstones > 0, `histories produced tombstones (${withTombstones} of ${objects} objects)`);
  t.ok(withSiblings > 0, `histories produced siblings (${withSiblings} of ${objects} objects)`);
});

// ---- Damaged input is KV_ERR_STORAGE_CORRUPT, never a crash or a wrong object.

function assertCorrupt(bytes: Uint8Array): void {
  assert.throws(
    () => decodeObject(bytes, 'the-key'),
    (error: unknown) => error instanceof KvError && error.code === 'KV_ERR_STORAGE_CORRUPT' && error.details['key'] === 'the-key',
  );
}

t.test('every truncation of a valid encoding is KV_ERR_STORAGE_CORRUPT', async (t) => {
  const bytes = encodeObject(sampleObject());
  t.ok(bytes.length > 300);
  for (let length = 0; length < bytes.length; length++) {
    t.throws(() => decodeObject(bytes.subarray(0, length), 'the-key'), { code: 'KV_ERR_STORAGE_CORRUPT', details: { key: 'the-key' } }, `truncated to ${length} bytes`);
  }
});

t.test('truncations of random objects are all KV_ERR_STORAGE_CORRUPT (property)', async (t) => {
  fc.assert(
    fc.property(historyArb, (steps) => {
      const states = replay(steps);
      const bytes = encodeObject(states.at(-1)!);
      for (let length = 0; length < bytes.length; length++) assertCorrupt(bytes.subarray(0, length));
    }),
    { numRuns: 100 },
  );
  t.pass('100 random objects, every truncation');
});

t.test('trailing bytes and unknown format versions are KV_ERR_STORAGE_CORRUPT', async (t) => {
  const bytes = encodeObject(sampleObject());
  for (const extra of [[0], [1, 2, 3]]) {
    t.throws(() => decodeObject(Uint8Array.from([...bytes, ...extra]), 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' }, `${extra.length} trailing bytes`);
  }
  for (const version of [0, 2, 0x7f, 0xff]) {
    const other = Uint8Array.from(bytes);
    other[0] = version;
    t.throws(() => decodeObject(other, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' }, `version ${version}`);
  }
});

t.test('oversized fields are refused before they are read', async (t) => {
  // One sibling whose value claims 2^40 bytes: refused, no allocation of that size.
  const header = [1, 0, 1, 1, 0x61, 1, 0, 0, 0];
  const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
  t.throws(() => decodeObject(Uint8Array.from([...header, ...huge, 1, 2, 3]), 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
  // A clock id longer than 64 bytes, a content type longer than 256 bytes.
  t.throws(() => decodeObject(Uint8Array.from([1, 1, 65, ...new Uint8Array(65).fill(0x61), 1, 0, 0]), 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
  t.throws(() => decodeObject(Uint8Array.from([1, 0, 1, 1, 0x61, 1, 0, 0, 0x81, 0x02, ...new Uint8Array(257).fill(0x61), 0]), 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
  // A varint that is overlong (non-canonical) in the clock length.
  t.throws(() => decodeObject(Uint8Array.from([1, 0x80, 0x00, 0]), 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
});

t.test('random bytes and random damage never throw anything but KV_ERR_STORAGE_CORRUPT (property)', async (t) => {
  const check = (bytes: Uint8Array) => {
    try {
      decodeObject(bytes, 'k');
    } catch (error) {
      if (!(error instanceof KvError) || error.code !== 'KV_ERR_STORAGE_CORRUPT') throw error;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 3000 });
  // Inputs that start like a real encoding get further into the decoder.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => check(Uint8Array.from([1, ...tail]))), { numRuns: 3000 });
  const valid = encodeObject(sampleObject());
  fc.assert(
    fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const damaged = Uint8Array.from(valid);
      damaged[at]! ^= xor;
      check(damaged);
    }),
    { numRuns: 3000 },
  );
  t.pass('9000 inputs');
});

// ---- The encoder must never write what the decoder refuses: an acknowledged write would make
// the key unreadable (every later read, and every later write, which reads first, fails).

t.test('anything encodeObject accepts, decodeObject reads back (content types past 256 UTF-8 bytes)', async (t) => {
  // The HTTP API bounds Content-Type at 256 *characters*; header values are Latin-1, so each
  // character above U+007F takes two UTF-8 bytes here.
  const cases: [string, VersionedObject][] = [
    ['256 Latin-1 characters (512 UTF-8 bytes)', {
      clock: [{ id: 'a', counter: 1, timestampMs: 0 }],
      siblings: [{ dot: { id: 'a', counter: 1 }, deleted: false, value: utf8('v'), contentType: 'é'.repeat(256), timestampMs: 0 }],
    }],
    ['257 ASCII characters', {
      clock: [{ id: 'a', counter: 1, timestampMs: 0 }],
      siblings: [{ dot: { id: 'a', counter: 1 }, deleted: false, value: utf8('v'), contentType: 'c'.repeat(257), timestampMs: 0 }],
    }],
  ];
  for (const [name, object] of cases) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeObject(object);
    } catch {
      t.pass(`${name}: refused by the encoder`);
      continue;
    }
    t.doesNotThrow(() => assert.deepStrictEqual(decodeObject(bytes!, 'k'), object), `${name}: encoded, so it must decode`);
  }
});

t.test('request ids (issue 17.3): round-trip, objects without them encode as before, malformed ones refused', async (t) => {
  const plain = update(undefined, { coordinatorId: 'a', context: [], deleted: false, value: utf8('v'), contentType: 'text/plain', nowMs: 5 }, limits);
  const withId = update(undefined, { coordinatorId: 'a', context: [], deleted: false, value: utf8('v'), contentType: 'text/plain', nowMs: 5, requestId: 'req-1.a:B_9' }, limits);
  assertRoundTrip(withId);
  t.equal(decodeObject(encodeObject(withId), 'k').siblings[0]!.requestId, 'req-1.a:B_9');
  const before = encodeObject(plain);
  const after = encodeObject(withId);
  // The last sibling's flags byte: before its timestamp (1 byte), content type (1 + 10) and value (1 + 1).
  const flagAt = before.length - 15;
  t.same([before[flagAt], after[flagAt]], [0, 4], 'flag bit 2 marks the id');
  t.same([...after.subarray(0, before.length)].filter((_, i) => i !== flagAt), [...before].filter((_, i) => i !== flagAt), 'otherwise the same bytes up to the value');
  t.equal(after.length, before.length + 1 + 'req-1.a:B_9'.length, 'the id is one length byte and its characters, after the value');
  t.equal(decodeObject(before, 'k').siblings[0]!.requestId, undefined, 'an object without ids reads without one');
  // A stored id outside the pattern (a space) is a corrupt row, not trusted.
  const bad = Buffer.from(after);
  bad[bad.length - 2] = 0x20;
  t.throws(() => decodeObject(bad, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' });
  const unknownFlag = Buffer.from(before);
  unknownFlag[flagAt] = 8;
  t.throws(() => decodeObject(unknownFlag, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' }, 'a flag past bit 2 is refused');
});

t.test('collapsed attempts (flag bit 3) round-trip beside their request id; malformed counts are refused', async (t) => {
  const one = update(undefined, { coordinatorId: 'a', context: [], deleted: false, value: utf8('v'), contentType: 'text/plain', nowMs: 5, requestId: 'req-1' }, limits);
  const withAttempts: VersionedObject = { clock: [...one.clock, { id: 'b', counter: 7, timestampMs: 5 }], siblings: [{ ...one.siblings[0]!, attempts: [{ id: 'b', counter: 7 }] }] };
  assertRoundTrip(withAttempts);
  const bytes = encodeObject(withAttempts);
  t.equal(bytes.length, encodeObject(one).length + 4 + 4, 'a clock entry more (4 bytes), and after the id a count and one dot (4 bytes)');
  const zero = Buffer.from(bytes);
  zero[bytes.length - 4] = 0; // the count
  t.throws(() => decodeObject(zero, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' }, 'a zero count is refused');
  const tooMany = Buffer.from(bytes);
  tooMany[bytes.length - 4] = 17;
  t.throws(() => decodeObject(tooMany, 'k'), { code: 'KV_ERR_STORAGE_CORRUPT' }, 'more than ATTEMPTS_MAX is refused');
});
