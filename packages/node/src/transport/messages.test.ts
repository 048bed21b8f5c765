import assert from 'node:assert/strict';
import t from 'tap';
import fc from 'fast-check';
import { errorCatalog, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';
import {
  BATCH_OPS_MAX,
  DETAILS_BYTES_MAX,
  FORWARD_QUORUM_MAX,
  FORWARD_TIMEOUT_MS_MAX,
  decodeBatch,
  decodeBatchResults,
  decodeCoordinate,
  decodeCoordinateResult,
  encodeBatch,
  encodeBatchResults,
  encodeCoordinate,
  encodeCoordinateResult,
  type CoordinateRequest,
  type CoordinateResult,
  type ReplicaOp,
  type ReplicaResult,
  validatePeerObject,
} from './messages.js';
import { ByteWriter } from '../core/bytes.js';
import { encodeObject } from '../core/object-codec.js';
import { contextOf, update, type VersionedObject } from '../core/versioned.js';
import { KvError } from '../errors.js';
import { ALL_BYTES, sampleObject } from '../testing/sample-object.js';
import type { ValueWrite } from '../replication/kv-service.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const utf8 = (s: string) => new TextEncoder().encode(s);
const allBytes = ALL_BYTES;
const codes = Object.keys(errorCatalog) as ErrorCode[];


// ---- Sample frames of every kind, used by the malformed-input tests below.

const sampleOps: ReplicaOp[] = [
  { kind: 'get', key: 'plain' },
  { kind: 'put', key: 'dir/ünïcode ✓ 𝄞', object: sampleObject() },
  { kind: 'get', key: '' },
  { kind: 'put', key: 'empty-object', object: { clock: [], siblings: [] } },
];
const sampleResults: ReplicaResult[] = [
  { ok: true },
  { ok: true, object: sampleObject() },
  { ok: false, code: 'KV_ERR_STORAGE_FULL', message: 'disk full ✗' },
  { ok: true },
];
const sampleGet: CoordinateRequest = { kind: 'get', key: 'some/key ✓', r: 2, timeoutMs: 5_000 };
const sampleWrite: ValueWrite = {
  context: [
    { id: 'node-a', counter: 1 },
    { id: 'node-b', counter: Number.MAX_SAFE_INTEGER },
  ],
  deleted: false,
  value: allBytes,
  contentType: 'application/json; charset=utf-8',
};
const samplePut: Extract<CoordinateRequest, { kind: 'put' }> = { kind: 'put', key: 'some/key ✓', write: sampleWrite, options: { w: 3, timeoutMs: 60_000, pw: 2, sloppy: false } };
const sampleDelete: CoordinateRequest = { ...samplePut, write: { ...sampleWrite, deleted: true, value: new Uint8Array(0), contentType: '' }, options: { w: 1, timeoutMs: 5, pw: 0 } };
const sampleTtlPut: CoordinateRequest = { ...samplePut, write: { ...sampleWrite, ttlMs: 60_000 }, options: { w: 2, timeoutMs: 5, pw: 0, sloppy: true } };
const sampleCoordinateResults: CoordinateResult[] = [
  { ok: true },
  { ok: true, object: sampleObject() },
  { ok: false, code: 'KV_ERR_QUORUM_UNMET', message: 'put needed 2 replicas, 1 answered', details: { needed: 2, answered: 1, failures: 'node-c:KV_ERR_TIMEOUT', flag: true, none: null } },
  { ok: false, code: 'KV_ERR_TIMEOUT', message: '', details: {} },
];

interface Codec {
  readonly name: string;
  readonly decode: (bytes: Uint8Array) => unknown;
  readonly frames: readonly Uint8Array[];
}

const codecs: readonly Codec[] = [
  { name: 'decodeBatch', decode: decodeBatch, frames: [encodeBatch(sampleOps), encodeBatch([])] },
  { name: 'decodeBatchResults', decode: decodeBatchResults, frames: [encodeBatchResults(sampleResults), encodeBatchResults([])] },
  { name: 'decodeCoordinate', decode: decodeCoordinate, frames: [encodeCoordinate(sampleGet), encodeCoordinate(samplePut), encodeCoordinate(sampleDelete)] },
  { name: 'decodeCoordinateResult', decode: decodeCoordinateResult, frames: sampleCoordinateResults.map(encodeCoordinateResult) },
];

function isBadRequest(error: unknown): boolean {
  return error instanceof KvError && error.code === 'KV_ERR_BAD_REQUEST' && error.status === 400;
}

function describe(error: unknown): string {
  return error instanceof KvError ? `KvError ${error.code}: ${error.message}` : `${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`;
}

/** Asserts `decode(bytes)` throws KV_ERR_BAD_REQUEST (and nothing else). */
function assertBadRequest(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array, what: string): void {
  let result: unknown;
  try {
    result = decode(bytes);
  } catch (error) {
    assert.ok(isBadRequest(error), `${what}: expected KV_ERR_BAD_REQUEST, got ${describe(error)}`);
    return;
  }
  assert.fail(`${what}: decoded without error to ${JSON.stringify(result)?.slice(0, 200)}`);
}

/** Decodes or throws KV_ERR_BAD_REQUEST; any other exception fails the property. */
function decodesOrBadRequest(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    if (!isBadRequest(error)) throw new Error(`unexpected ${describe(error)} for ${Buffer.from(bytes).toString('hex')}`);
  }
}

const concat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

// ---- Round trips of fixed samples.

t.test('sample frames of every kind round-trip exactly, and re-encode to the same bytes', async (t) => {
  t.strictSame(decodeBatch(encodeBatch(sampleOps)), sampleOps);
  t.strictSame(decodeBatch(encodeBatch([])), []);
  t.strictSame(decodeBatchResults(encodeBatchResults(sampleResults)), sampleResults);
  for (const request of [sampleGet, samplePut, sampleDelete]) t.strictSame(decodeCoordinate(encodeCoordinate(request)), request, `coordinate ${request.kind}`);
  for (const result of sampleCoordinateResults) t.strictSame(decodeCoordinateResult(encodeCoordinateResult(result)), result);
  for (const codec of codecs) {
    for (const frame of codec.frames) {
      const decoded = codec.decode(frame);
      const again =
        codec.name === 'decodeBatch'
          ? encodeBatch(decoded as ReplicaOp[])
          : codec.name === 'decodeBatchResults'
            ? encodeBatchResults(decoded as ReplicaResult[])
            : codec.name === 'decodeCoordinate'
              ? encodeCoordinate(decoded as CoordinateRequest)
              : encodeCoordinateResult(decoded as CoordinateResult);
      t.same([...again], [...frame], `${codec.name}: canonical`);
    }
  }
});

t.test('decoded values are plain Uint8Array copies, not views of the frame', async (t) => {
  const frame = Uint8Array.from(encodeBatch(sampleOps));
  const ops = decodeBatch(frame);
  const put = ops[1] as Extract<ReplicaOp, { kind: 'put' }>;
  const coordinate = Uint8Array.from(encodeCoordinate(samplePut));
  const request = decodeCoordinate(coordinate) as Extract<CoordinateRequest, { kind: 'put' }>;
  frame.fill(0);
  coordinate.fill(0);
  t.same([...put.object.siblings.find((s) => s.dot.id === 'node-a')!.value], [...allBytes], 'a batch put survives damage to its frame');
  t.same([...request.write.value], [...allBytes], 'a coordinate put value too');
  t.equal(Object.getPrototypeOf(request.write.value), Uint8Array.prototype);
});

t.test('an error message longer than 1024 characters is cut to 1024, and still decodes', async (t) => {
  const message = 'é'.repeat(5_000);
  const [result] = decodeBatchResults(encodeBatchResults([{ ok: false, code: 'KV_ERR_INTERNAL', message }]));
  t.same(result, { ok: false, code: 'KV_ERR_INTERNAL', message: message.slice(0, 1024) });
  const coordinate = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code: 'KV_ERR_INTERNAL', message, details: {} }));
  t.same(coordinate, { ok: false, code: 'KV_ERR_INTERNAL', message: message.slice(0, 1024), details: {} });
});

t.test('exactly BATCH_OPS_MAX ops and results are accepted', async (t) => {
  const ops: ReplicaOp[] = Array.from({ length: BATCH_OPS_MAX }, (_, i) => ({ kind: 'get', key: `k${i}` }));
  t.equal(decodeBatch(encodeBatch(ops)).length, BATCH_OPS_MAX);
  const results: ReplicaResult[] = Array.from({ length: BATCH_OPS_MAX }, () => ({ ok: true }));
  t.equal(decodeBatchResults(encodeBatchResults(results)).length, BATCH_OPS_MAX);
});

// ---- Round trips of random frames (property).

interface Step {
  coordinator: string;
  useContext: boolean;
  deleted: boolean;
  value: Uint8Array;
  contentType: string;
  nowMs: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  coordinator: fc.constantFrom('a', 'b', 'node-3.x_y', 'n'.repeat(64)),
  useContext: fc.boolean(),
  deleted: fc.boolean(),
  value: fc.uint8Array({ maxLength: 48 }),
  contentType: fc.constantFrom('', 'text/plain', 'application/json; charset=utf-8', 'c'.repeat(256)),
  nowMs: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 50 })),
});

const objectArb: fc.Arbitrary<VersionedObject> = fc.array(stepArb, { minLength: 0, maxLength: 6 }).map((steps) => {
  let object: VersionedObject = { clock: [], siblings: [] };
  for (const step of steps) {
    object = update(
      object,
      { coordinatorId: step.coordinator, context: step.useContext ? contextOf(object) : [], deleted: step.deleted, value: step.value, contentType: step.contentType, nowMs: step.nowMs },
      limits,
    );
  }
  return object;
});

// Generated records get Object.prototype, like the decoders' output (deepStrictEqual compares prototypes).
const plainObjects = { noNullPrototype: true } as const;

const keyArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constant(''), fc.constant('k'.repeat(2_000)));
const messageArb = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 })).filter((s) => s.length <= 1024);
const codeArb = fc.constantFrom(...codes);

const opArb: fc.Arbitrary<ReplicaOp> = fc.oneof(
  fc.record({ kind: fc.constant('get' as const), key: keyArb }, plainObjects),
  fc.record({ kind: fc.constant('put' as const), key: keyArb, object: objectArb }, plainObjects),
);

const resultArb: fc.Arbitrary<ReplicaResult> = fc.oneof(
  fc.constant({ ok: true as const }),
  fc.record({ ok: fc.constant(true as const), object: objectArb }, plainObjects),
  fc.record({ ok: fc.constant(false as const), code: codeArb, message: messageArb }, plainObjects),
);

const contextArb = fc
  .uniqueArray(
    fc.record({ id: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), counter: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })) }, plainObjects),
    { selector: (entry) => entry.id, maxLength: 8 },
  )
  .map((entries) => [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));

// The ranges decodeCoordinate accepts: r, w in 1..16, timeoutMs in 1..3,600,000.
const quorumArb = fc.integer({ min: 1, max: FORWARD_QUORUM_MAX });
const timeoutArb = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: FORWARD_TIMEOUT_MS_MAX }));

const coordinateArb: fc.Arbitrary<CoordinateRequest> = fc.oneof(
  fc.record({ kind: fc.constant('get' as const), key: keyArb, r: quorumArb, timeoutMs: timeoutArb }, plainObjects),
  fc.record({
    kind: fc.constant('put' as const),
    key: keyArb,
    write: fc.record({
      context: contextArb,
      deleted: fc.boolean(),
      value: fc.uint8Array({ maxLength: 300 }),
      contentType: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', 'text/plain', 'c'.repeat(4_096))),
    }, plainObjects),
    options: quorumArb.chain((w) =>
      fc.record({ w: fc.constant(w), timeoutMs: timeoutArb, pw: fc.integer({ min: 0, max: w }), sloppy: fc.boolean() }, { ...plainObjects, requiredKeys: ['w', 'timeoutMs', 'pw'] }),
    ),
  }, plainObjects),
);

const detailsArb: fc.Arbitrary<ErrorDetails> = fc.dictionary(
  fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,11}$/),
  fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null)),
  { maxKeys: 6, noNullPrototype: true },
);

const coordinateResultArb: fc.Arbitrary<CoordinateResult> = fc.oneof(
  fc.constant({ ok: true as const }),
  fc.record({ ok: fc.constant(true as const), object: objectArb }, plainObjects),
  fc.record({ ok: fc.constant(false as const), code: codeArb, message: messageArb, details: detailsArb }, plainObjects),
);

t.test('random batches of ops round-trip exactly (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 12 }), (ops) => {
      const bytes = encodeBatch(ops);
      assert.deepStrictEqual(decodeBatch(bytes), ops);
      assert.deepStrictEqual(encodeBatch(decodeBatch(bytes)), bytes);
    }),
    { numRuns: 300 },
  );
  t.pass('300 random batches');
});

t.test('random batch results round-trip exactly (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(resultArb, { maxLength: 12 }), (results) => {
      const bytes = encodeBatchResults(results);
      assert.deepStrictEqual(decodeBatchResults(bytes), results);
    }),
    { numRuns: 300 },
  );
  t.pass('300 random result lists');
});

t.test('random coordinate requests round-trip exactly (property)', async (t) => {
  fc.assert(
    fc.property(coordinateArb, (request) => {
      assert.deepStrictEqual(decodeCoordinate(encodeCoordinate(request)), request);
    }),
    { numRuns: 500 },
  );
  t.pass('500 random requests');
});

t.test('random coordinate results round-trip exactly (property)', async (t) => {
  fc.assert(
    fc.property(coordinateResultArb, (result) => {
      assert.deepStrictEqual(decodeCoordinateResult(encodeCoordinateResult(result)), result);
    }),
    { numRuns: 500 },
  );
  t.pass('500 random results');
});

t.test('whatever error result the encoder accepts decodes: large details (a long key) included', async (t) => {
  // A node's errors can carry the key in their details (KV_ERR_NOT_FOUND, KV_ERR_STORAGE_CORRUPT
  // have { key }); keys may be up to 64 KiB (keyBytesMax). The answer to a forwarded request
  // must still decode on the forwarding node, or the client's error is lost in a 400.
  const key = 'k'.repeat(8_000);
  const result: CoordinateResult = { ok: false, code: 'KV_ERR_STORAGE_CORRUPT', message: 'stored object for key is unreadable', details: { key } };
  const bytes = encodeCoordinateResult(result);
  let decoded: CoordinateResult | undefined;
  t.doesNotThrow(() => (decoded = decodeCoordinateResult(bytes)), 'the frame the encoder produced decodes');
  t.equal(decoded?.ok, false);
  t.equal(decoded?.ok === false ? decoded.code : undefined, 'KV_ERR_STORAGE_CORRUPT', 'and keeps its code');
});

// ---- Malformed input: KV_ERR_BAD_REQUEST, never anything else.

t.test('every truncation of every sample frame is KV_ERR_BAD_REQUEST', async (t) => {
  for (const codec of codecs) {
    let checked = 0;
    for (const frame of codec.frames) {
      for (let length = 0; length < frame.length; length++) {
        assertBadRequest(codec.decode, frame.subarray(0, length), `${codec.name} truncated to ${length} of ${frame.length} bytes`);
        checked++;
      }
    }
    t.ok(checked > 0, `${codec.name}: ${checked} truncations refused`);
  }
  t.ok(codecs[0]!.frames[0]!.length > 300, 'the batch sample is long enough to cut inside an object');
});

t.test('truncations of random frames are all KV_ERR_BAD_REQUEST (property)', async (t) => {
  const everyPrefix = (decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array) => {
    for (let length = 0; length < bytes.length; length++) assertBadRequest(decode, bytes.subarray(0, length), `truncated to ${length}`);
  };
  fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 4 }), (ops) => everyPrefix(decodeBatch, encodeBatch(ops))), { numRuns: 60 });
  fc.assert(fc.property(fc.array(resultArb, { minLength: 1, maxLength: 4 }), (rs) => everyPrefix(decodeBatchResults, encodeBatchResults(rs))), { numRuns: 60 });
  fc.assert(fc.property(coordinateArb, (request) => everyPrefix(decodeCoordinate, encodeCoordinate(request))), { numRuns: 60 });
  fc.assert(fc.property(coordinateResultArb, (result) => everyPrefix(decodeCoordinateResult, encodeCoordinateResult(result))), { numRuns: 60 });
  t.pass('60 random frames of each kind, every truncation');
});

t.test('trailing bytes after a complete frame are KV_ERR_BAD_REQUEST', async (t) => {
  for (const codec of codecs) {
    for (const frame of codec.frames) {
      for (const extra of [[0], [1], [1, 2, 3], [0xff]]) {
        t.doesNotThrow(() => assertBadRequest(codec.decode, concat(frame, extra), `${codec.name} + ${extra.length} byte(s)`), `${codec.name} + [${extra}]`);
      }
    }
  }
});

t.test('wrong frame versions are KV_ERR_BAD_REQUEST', async (t) => {
  for (const codec of codecs) {
    for (const version of [0, 2, 0x7f, 0x80, 0xff]) {
      const frame = Uint8Array.from(codec.frames[0]!);
      frame[0] = version;
      t.doesNotThrow(() => assertBadRequest(codec.decode, frame, `${codec.name} version ${version}`), `${codec.name} version ${version}`);
    }
  }
});

t.test('unknown op kinds and result statuses are KV_ERR_BAD_REQUEST', async (t) => {
  const key = [1, 0x61];
  for (const kind of [0, 3, 0x7f, 0xff]) {
    t.doesNotThrow(() => assertBadRequest(decodeBatch, concat([1, 1, kind], key), `batch op kind ${kind}`), `batch op kind ${kind}`);
    t.doesNotThrow(() => assertBadRequest(decodeCoordinate, concat([1, kind], key, [1, 1]), `coordinate kind ${kind}`), `coordinate kind ${kind}`);
  }
  t.ok(decodeBatch(concat([1, 1, 1], key)), 'control: kind 1 (get) with the same bytes decodes');
  t.ok(decodeCoordinate(concat([1, 1], key, [1, 1])), 'control: coordinate kind 1 (get) decodes');
  for (const status of [3, 4, 0x7f, 0xff]) {
    t.doesNotThrow(() => assertBadRequest(decodeBatchResults, Uint8Array.from([1, 1, status]), `result status ${status}`), `result status ${status}`);
    t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, Uint8Array.from([1, status]), `coordinate status ${status}`), `coordinate status ${status}`);
  }
  t.same(decodeBatchResults(Uint8Array.from([1, 1, 0])), [{ ok: true }], 'control: status 0 decodes');
  t.same(decodeCoordinateResult(Uint8Array.from([1, 0])), { ok: true }, 'control: status 0 decodes');
});

t.test(`more than BATCH_OPS_MAX (${BATCH_OPS_MAX}) ops or results are KV_ERR_BAD_REQUEST`, async (t) => {
  const over = BATCH_OPS_MAX + 1;
  const ops: ReplicaOp[] = Array.from({ length: over }, (_, i) => ({ kind: 'get', key: `k${i}` }));
  t.doesNotThrow(() => assertBadRequest(decodeBatch, encodeBatch(ops), `${over} ops`));
  const results: ReplicaResult[] = Array.from({ length: over }, () => ({ ok: true }));
  t.doesNotThrow(() => assertBadRequest(decodeBatchResults, encodeBatchResults(results), `${over} results`));
  // A huge count is refused from the header, before anything is read or allocated.
  for (const count of [2 ** 20, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    const header = new ByteWriter().u8(1).varint(count).finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatch, header, `count ${count}`), `batch count ${count}`);
    t.doesNotThrow(() => assertBadRequest(decodeBatchResults, header, `count ${count}`), `results count ${count}`);
  }
});

t.test('unknown error codes are refused by both result decoders', async (t) => {
  const unknown = ['KV_ERR_NOPE', 'kv_err_timeout', '', 'toString', '__proto__', 'constructor', 'KV_ERR_TIMEOUT '];
  for (const code of unknown) {
    const batch = new ByteWriter().u8(1).varint(1).u8(2).string(code).string('message').finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatchResults, batch, `batch result code ${JSON.stringify(code)}`), `batch result code ${JSON.stringify(code)}`);
    const coordinate = new ByteWriter().u8(1).u8(2).string(code).string('message').string('{}').finish();
    t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, coordinate, `coordinate code ${JSON.stringify(code)}`), `coordinate result code ${JSON.stringify(code)}`);
  }
  const long = new ByteWriter().u8(1).u8(2).string('KV_ERR_'.padEnd(65, 'X')).string('m').string('{}').finish();
  t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, long, 'a 65-byte code'));
  const known = new ByteWriter().u8(1).u8(2).string('KV_ERR_TIMEOUT').string('message').string('{}').finish();
  t.same(decodeCoordinateResult(known), { ok: false, code: 'KV_ERR_TIMEOUT', message: 'message', details: {} }, 'control: a known code decodes');
});

t.test('error details that are not JSON are KV_ERR_BAD_REQUEST; JSON that is not an object gives empty details', async (t) => {
  const frame = (details: string) => new ByteWriter().u8(1).u8(2).string('KV_ERR_TIMEOUT').string('m').string(details).finish();
  for (const details of ['', '{', 'not json', '{"a":}', "{'a':1}"]) {
    t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, frame(details), `details ${JSON.stringify(details)}`), `details ${JSON.stringify(details)}`);
  }
  for (const details of ['null', '[1,2]', '42', '"text"', 'true']) {
    const decoded = decodeCoordinateResult(frame(details));
    t.same(decoded, { ok: false, code: 'KV_ERR_TIMEOUT', message: 'm', details: {} }, `details ${details}`);
  }
  t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, frame('{"a":"' + 'x'.repeat(5_000) + '"}'), 'details over 4096 bytes'));
});

t.test('a put op carrying a damaged object is KV_ERR_BAD_REQUEST, not a storage error', async (t) => {
  const object = encodeObject(sampleObject());
  const damaged: Uint8Array[] = [
    Uint8Array.from([9, 9, 9]),
    object.subarray(0, object.length - 1),
    concat(object, [0]),
    Uint8Array.from([2, ...object.subarray(1)]),
    new Uint8Array(0),
  ];
  for (const [i, bytes] of damaged.entries()) {
    const frame = new ByteWriter().u8(1).varint(1).u8(2).string('k').bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatch, frame, `damaged object ${i}`), `batch: damaged object ${i}`);
    const result = new ByteWriter().u8(1).varint(1).u8(1).bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatchResults, result, `damaged object ${i}`), `results: damaged object ${i}`);
    const coordinate = new ByteWriter().u8(1).u8(1).bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, coordinate, `damaged object ${i}`), `coordinate result: damaged object ${i}`);
  }
});

t.test('invalid UTF-8, non-canonical varints and oversized fields are KV_ERR_BAD_REQUEST', async (t) => {
  const badUtf8 = [0xc3, 0x28];
  t.doesNotThrow(() => assertBadRequest(decodeBatch, concat([1, 1, 1, 2], badUtf8), 'batch key'));
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, concat([1, 1, 2], badUtf8, [1, 1]), 'coordinate key'));
  t.doesNotThrow(() => assertBadRequest(decodeBatch, Uint8Array.from([1, 0x81, 0x00]), 'non-canonical count'));
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, Uint8Array.from([1, 1, 1, 0x61, 0x80, 0x00, 1]), 'non-canonical r'));
  // A key that claims 64 KiB + 1 bytes, a content type over 4096 bytes, a context of 4097 entries.
  t.doesNotThrow(() => assertBadRequest(decodeBatch, concat([1, 1, 1], new ByteWriter().varint(64 * 1024 + 1).finish(), new Uint8Array(64 * 1024 + 1).fill(0x61)), 'key over 64 KiB'));
  const longType = new ByteWriter().u8(1).u8(2).string('k').varint(1).varint(1).u8(0).string('t'.repeat(4_097)).bytes(new Uint8Array(0)).varint(0).finish();
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, longType, 'content type over 4096 bytes'));
  const bigContext = new ByteWriter().u8(1).u8(2).string('k').varint(1).varint(1).u8(0).string('').bytes(new Uint8Array(0)).varint(4_097).finish();
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, bigContext, 'context of 4097 entries'));
  const longId = new ByteWriter().u8(1).u8(2).string('k').varint(1).varint(1).u8(0).string('').bytes(new Uint8Array(0)).varint(1).string('i'.repeat(65)).varint(1).finish();
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, longId, 'context id over 64 bytes'));
});

t.test('random bytes never raise anything but KV_ERR_BAD_REQUEST (property)', async (t) => {
  const decoders = codecs.map((c) => c.decode);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      for (const decode of decoders) decodesOrBadRequest(decode, bytes);
    }),
    { numRuns: 3_000 },
  );
  // Inputs that start like a real frame get further into the decoders.
  const prefixes = [[1], [1, 1], [1, 2], [1, 1, 1], [1, 1, 2], [1, 1, 2, 1, 0x61], [1, 2, 1, 0x61], [1, 1, 1, 1, 0x61], [1, 2]];
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 120 }), (prefix, rest) => {
      const bytes = concat(prefix, rest);
      for (const decode of decoders) decodesOrBadRequest(decode, bytes);
    }),
    { numRuns: 3_000 },
  );
  t.pass('6000 random inputs through all four decoders');
});

t.test('random damage to valid frames never raises anything but KV_ERR_BAD_REQUEST (property)', async (t) => {
  const frames = codecs.flatMap((codec) => codec.frames.map((frame) => ({ codec, frame })));
  let refused = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...frames),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      ({ codec, frame }, edits) => {
        const damaged = Uint8Array.from(frame);
        for (const [at, value] of edits) damaged[at % damaged.length] = value;
        try {
          codec.decode(damaged);
        } catch (error) {
          if (!isBadRequest(error)) throw new Error(`${codec.name}: unexpected ${describe(error)}`);
          refused++;
        }
      },
    ),
    { numRuns: 3_000 },
  );
  t.ok(refused > 0, `damaged frames were refused (${refused} of 3000)`);
});

// ---- Regression tests (review of the transport and internal routes).

t.test('coordinate-result encoder never produces a frame its decoder refuses: details past the decoder limit are dropped, the rest kept', async (t) => {
  const details: ErrorDetails = { code: 7, key: 'k'.repeat(10_000), peer: 'node-b', long: 'é'.repeat(3_000), flag: true };
  const decoded = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code: 'KV_ERR_NOT_FOUND', message: 'not found', details }));
  t.equal(decoded.ok, false);
  if (!decoded.ok) {
    t.equal(decoded.code, 'KV_ERR_NOT_FOUND', 'the code survives');
    t.same(decoded.details, { code: 7, peer: 'node-b', flag: true }, 'the details that fit are kept, in order; the oversized ones dropped');
  }
  // Exactly at the limit: kept whole.
  const filler = 'x'.repeat(DETAILS_BYTES_MAX - JSON.stringify({ a: '' }).length);
  const exact = { a: filler };
  t.equal(Buffer.byteLength(JSON.stringify(exact)), DETAILS_BYTES_MAX, 'fixture: details JSON of exactly the limit');
  const atLimit = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code: 'KV_ERR_TIMEOUT', message: 'm', details: exact }));
  t.same(atLimit.ok ? undefined : atLimit.details, exact, 'details of exactly the limit are kept whole');
  const over = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code: 'KV_ERR_TIMEOUT', message: 'm', details: { a: filler + 'y' } }));
  t.same(over.ok ? undefined : over.details, {}, 'one byte over: the entry is dropped');
  const proto = JSON.parse('{"__proto__":"x","b":1}') as ErrorDetails;
  const odd = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code: 'KV_ERR_TIMEOUT', message: 'm', details: proto }));
  t.same(odd.ok ? undefined : Object.entries(odd.details), [['__proto__', 'x'], ['b', 1]], 'a "__proto__" key is carried as data');
});

t.test('coordinate-result encoder output always decodes (property over large random details and messages)', async (t) => {
  const bigDetails = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 30 }),
    fc.oneof(fc.string({ maxLength: 3_000 }), fc.string({ unit: 'grapheme', maxLength: 800 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
    { maxKeys: 8, noNullPrototype: true },
  ) as fc.Arbitrary<ErrorDetails>;
  fc.assert(
    fc.property(codeArb, fc.string({ unit: 'grapheme', maxLength: 3_000 }), bigDetails, (code, message, details) => {
      const decoded = decodeCoordinateResult(encodeCoordinateResult({ ok: false, code, message, details }));
      assert.equal(decoded.ok, false);
      if (!decoded.ok) {
        assert.equal(decoded.code, code);
        for (const [name, value] of Object.entries(decoded.details)) assert.deepEqual(value, JSON.parse(JSON.stringify(details[name])), `kept detail ${name} unchanged`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass('300 random error results decode');
});

t.test('decodeCoordinate refuses r, w outside 1..16 and timeoutMs outside 1..3,600,000 with KV_ERR_BAD_REQUEST', async (t) => {
  const get = (r: number, timeoutMs: number) => encodeCoordinate({ kind: 'get', key: 'k', r, timeoutMs });
  const put = (w: number, timeoutMs: number) => encodeCoordinate({ ...samplePut, options: { w, timeoutMs, pw: 0 } });
  for (const [r, timeoutMs] of [[0, 1_000], [17, 1_000], [2 ** 40, 1_000], [1, 0], [1, FORWARD_TIMEOUT_MS_MAX + 1], [1, Number.MAX_SAFE_INTEGER]] as const) {
    t.doesNotThrow(() => assertBadRequest(decodeCoordinate, get(r, timeoutMs), `get r=${r} timeoutMs=${timeoutMs}`), `get r=${r} timeoutMs=${timeoutMs} refused`);
    t.doesNotThrow(() => assertBadRequest(decodeCoordinate, put(r, timeoutMs), `put w=${r} timeoutMs=${timeoutMs}`), `put w=${r} timeoutMs=${timeoutMs} refused`);
  }
  for (const [r, timeoutMs] of [[1, 1], [16, FORWARD_TIMEOUT_MS_MAX], [3, 5_000]] as const) {
    t.match(decodeCoordinate(get(r, timeoutMs)), { r, timeoutMs }, `get r=${r} timeoutMs=${timeoutMs} accepted`);
    t.match(decodeCoordinate(put(r, timeoutMs)), { options: { w: r, timeoutMs } }, `put w=${r} timeoutMs=${timeoutMs} accepted`);
  }
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, encodeCoordinate({ ...samplePut, options: { w: 2, timeoutMs: 5, pw: 3 } }), 'pw > w'), 'pw above w refused');
});

t.test('a forwarded put keeps every write option: w, pw, sloppy, timeout and TTL (issue 19.2)', async (t) => {
  for (const request of [samplePut, sampleDelete, sampleTtlPut]) {
    t.strictSame(decodeCoordinate(encodeCoordinate(request)), request, JSON.stringify((request as { options: unknown }).options));
  }
});

t.test('decodeCoordinate refuses a forwarded context that is not sorted by unique id with positive counters', async (t) => {
  const contexts = [
    [{ id: 'b', counter: 1 }, { id: 'a', counter: 1 }],
    [{ id: 'a', counter: 1 }, { id: 'a', counter: 2 }],
    [{ id: 'a', counter: 0 }],
  ];
  for (const context of contexts) {
    t.doesNotThrow(() => assertBadRequest(decodeCoordinate, encodeCoordinate({ ...samplePut, write: { ...sampleWrite, context } }), JSON.stringify(context)), JSON.stringify(context));
  }
});

/** Objects that break one invariant each (encodeObject checks only byte bounds, so it writes them). */
function invalidObjects(): Array<[string, VersionedObject]> {
  const sibling = (id: string, counter: number) => ({ dot: { id, counter }, deleted: false, value: utf8(`${id}${counter}`), contentType: 'text/plain', timestampMs: 1 });
  const entry = (id: string, counter: number) => ({ id, counter, timestampMs: 1 });
  return [
    ['clock ids out of order', { clock: [entry('b', 1), entry('a', 1)], siblings: [sibling('a', 1)] }],
    ['duplicate clock ids', { clock: [entry('a', 1), entry('a', 2)], siblings: [sibling('a', 1)] }],
    ['a clock counter of 0', { clock: [entry('a', 0)], siblings: [] }],
    ['siblings out of dot order (ids)', { clock: [entry('a', 1), entry('b', 1)], siblings: [sibling('b', 1), sibling('a', 1)] }],
    ['siblings out of dot order (counters)', { clock: [entry('a', 2)], siblings: [sibling('a', 2), sibling('a', 1)] }],
    ['a duplicate dot', { clock: [entry('a', 1)], siblings: [sibling('a', 1), sibling('a', 1)] }],
    ['a dot beyond its clock entry', { clock: [entry('a', 1)], siblings: [sibling('a', 2)] }],
    ['a dot without a clock entry', { clock: [entry('a', 1)], siblings: [sibling('b', 1)] }],
    ['a dot counter of 0', { clock: [entry('a', 1)], siblings: [sibling('a', 0)] }],
  ];
}

t.test('objects from peers that break the clock/sibling invariants are KV_ERR_BAD_REQUEST in every frame that carries one', async (t) => {
  for (const [what, object] of invalidObjects()) {
    const bytes = encodeObject(object);
    const batch = new ByteWriter().u8(1).varint(1).u8(2).string('k').bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatch, batch, what), `batch put: ${what}`);
    const results = new ByteWriter().u8(1).varint(1).u8(1).bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeBatchResults, results, what), `batch result: ${what}`);
    const coordinate = new ByteWriter().u8(1).u8(1).bytes(bytes).finish();
    t.doesNotThrow(() => assertBadRequest(decodeCoordinateResult, coordinate, what), `coordinate result: ${what}`);
    t.throws(() => validatePeerObject(object), { name: 'DecodeError' }, `validatePeerObject: ${what}`);
  }
  t.strictSame(validatePeerObject(sampleObject()), sampleObject(), 'control: an object built by the versioning core is valid');
  t.doesNotThrow(() => validatePeerObject({ clock: [{ id: 'a', counter: 3, timestampMs: 1 }], siblings: [] }), 'control: a clock without siblings (all superseded) is valid');
});

t.test('objects built by the versioning core always pass validatePeerObject (property)', async (t) => {
  fc.assert(fc.property(objectArb, (object) => void validatePeerObject(object)), { numRuns: 500 });
  t.pass('500 random objects');
});

t.test('a forwarded write carries its request id (issue 17.3); a write without one is the frame it always was', async (t) => {
  const withId: CoordinateRequest = { ...samplePut, write: { ...sampleWrite, requestId: 'req-1.a:B_9' } };
  t.strictSame(decodeCoordinate(encodeCoordinate(withId)), withId, 'round trip with an id');
  const plain = encodeCoordinate(samplePut);
  const framed = encodeCoordinate(withId);
  t.same([...framed.subarray(0, plain.length)], [...plain], 'the id is appended after the frame without it');
  t.equal(framed.length, plain.length + 1 + 'req-1.a:B_9'.length);
  const bad = Buffer.from(framed);
  bad[bad.length - 1] = 0x2f; // '/': outside the id pattern
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, bad, 'a malformed request id'));
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, concat(plain, [200]), 'an id cut short'));
  t.doesNotThrow(() => assertBadRequest(decodeCoordinate, concat(plain, [0]), 'an empty id'));
});
