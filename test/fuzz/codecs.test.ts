/**
 * Fuzzing tier: the binary decoders of node-to-node frames (messages.ts, tree-messages.ts),
 * stored objects and hint rows (object-codec.ts: a hint row is an object under its key and
 * owner), and contexts (context-codec.ts). Crashes and hangs fail (harness.ts).
 */
import fc from 'fast-check';
import t from 'tap';
import { KvError, Keyring } from '@ringkv/node';
import {
  decodeBatch,
  decodeBatchResults,
  decodeContext,
  decodeCoordinate,
  decodeCoordinateResult,
  decodeObject,
  encodeBatch,
  encodeBatchResults,
  encodeContext,
  encodeCoordinate,
  encodeCoordinateResult,
  encodeObject,
  validatePeerObject,
  type CoordinateRequest,
  type ReplicaOp,
} from '@ringkv/node/testing';
import { decodeTreeRequest, decodeTreeResponse, encodeTreeRequest, encodeTreeResponse } from '../../packages/node/dist/transport/tree-messages.js';
import { bytesFrom, fuzz, textFrom } from './harness.js';
import { idArb, keyArb, objectArb } from './arbitraries.js';

const coded = (...codes: string[]) => (error: unknown) => error instanceof KvError && codes.includes(error.code);

const opArb: fc.Arbitrary<ReplicaOp> = fc.oneof(
  fc.record({ kind: fc.constant('get' as const), key: keyArb }),
  fc.record({ kind: fc.constant('put' as const), key: keyArb, object: objectArb }),
  fc.record({ kind: fc.constant('hint' as const), key: keyArb, object: objectArb, owner: idArb }),
);

const coordinateArb: fc.Arbitrary<CoordinateRequest> = fc.oneof(
  fc.record({ kind: fc.constant('get' as const), key: keyArb, r: fc.integer({ min: 1, max: 16 }), timeoutMs: fc.integer({ min: 1, max: 3_600_000 }) }),
  fc.record({
    kind: fc.constant('put' as const),
    key: keyArb,
    write: fc.record({
      context: fc.uniqueArray(fc.record({ id: idArb, counter: fc.integer({ min: 1, max: 2 ** 40 }) }), { selector: (e) => e.id, maxLength: 4 }).map((c) => [...c].sort((a, b) => (a.id < b.id ? -1 : 1))),
      deleted: fc.boolean(),
      value: fc.uint8Array({ maxLength: 64 }),
      contentType: fc.constantFrom('', 'text/plain'),
    }),
    options: fc.integer({ min: 1, max: 16 }).chain((w) => fc.record({ w: fc.constant(w), timeoutMs: fc.integer({ min: 1, max: 3_600_000 }), pw: fc.integer({ min: 0, max: w }), sloppy: fc.boolean() })),
  }),
);

const rangeArb = fc.tuple(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 1, max: 2 ** 47 })).map(([start, length]) => ({ start, end: start + length }));

t.test('replica batches (POST /internal/batch bodies)', (t) =>
  fuzz(t, { name: 'decodeBatch', input: bytesFrom(fc.array(opArb, { maxLength: 4 }).map(encodeBatch)), run: decodeBatch, expected: coded('KV_ERR_BAD_REQUEST') }));

t.test('replica batch results (answers from a peer)', (t) =>
  fuzz(t, {
    name: 'decodeBatchResults',
    input: bytesFrom(
      fc
        .array(fc.oneof(fc.constant({ ok: true as const }), objectArb.map((object) => ({ ok: true as const, object })), fc.constant({ ok: false as const, code: 'KV_ERR_OVERLOADED' as const, message: 'full' })), { maxLength: 4 })
        .map((results) => encodeBatchResults(results)),
    ),
    run: decodeBatchResults,
    expected: coded('KV_ERR_BAD_REQUEST'),
  }));

t.test('forwarded client requests (POST /internal/coordinate bodies) and their results', async (t) => {
  await fuzz(t, { name: 'decodeCoordinate', input: bytesFrom(coordinateArb.map(encodeCoordinate)), run: decodeCoordinate, expected: coded('KV_ERR_BAD_REQUEST') });
  await fuzz(t, {
    name: 'decodeCoordinateResult',
    input: bytesFrom(
      fc.oneof(
        objectArb.map((object) => encodeCoordinateResult({ ok: true, object })),
        fc.constant(encodeCoordinateResult({ ok: true })),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean())).map((details) => encodeCoordinateResult({ ok: false, code: 'KV_ERR_QUORUM_UNMET', message: 'm', details })),
      ),
    ),
    run: decodeCoordinateResult,
    expected: coded('KV_ERR_BAD_REQUEST'),
  });
});

t.test('anti-entropy and reaper frames (POST /internal/tree)', async (t) => {
  const request = fc.oneof(
    fc.array(fc.array(rangeArb, { maxLength: 3 }), { maxLength: 3 }).map((sets) => encodeTreeRequest({ kind: 'summaries', sets })),
    fc.tuple(fc.array(rangeArb, { maxLength: 3 }), fc.integer({ min: 1, max: 4096 })).map(([ranges, limit]) => encodeTreeRequest({ kind: 'digests', ranges, limit })),
    fc.array(keyArb, { maxLength: 4 }).map((keys) => encodeTreeRequest({ kind: 'holdings', keys })),
  );
  await fuzz(t, { name: 'decodeTreeRequest', input: bytesFrom(request), run: decodeTreeRequest, expected: coded('KV_ERR_BAD_REQUEST') });
  const digest = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const response = fc.oneof(
    fc.array(fc.record({ hash: digest, count: fc.nat() }), { maxLength: 3 }).map((summaries) => encodeTreeResponse({ kind: 'summaries', summaries })),
    fc.tuple(fc.array(fc.record({ key: keyArb, digest }), { maxLength: 3 }), fc.boolean()).map(([entries, truncated]) => encodeTreeResponse({ kind: 'digests', entries, truncated })),
    fc.array(fc.record({ digest: fc.option(digest, { nil: undefined }), hinted: fc.boolean() }), { maxLength: 3 }).map((holdings) => encodeTreeResponse({ kind: 'holdings', holdings: holdings.map((h) => (h.digest === undefined ? { hinted: h.hinted } : h)) })),
  );
  await fuzz(t, { name: 'decodeTreeResponse', input: bytesFrom(response), run: decodeTreeResponse, expected: coded('KV_ERR_BAD_REQUEST') });
});

t.test('stored objects and hint rows (the database, read back)', async (t) => {
  // A row is an object blob under a key (and, for a hint, an owner); a damaged one must be
  // KV_ERR_STORAGE_CORRUPT, never trusted, never a crash, and never an object that breaks the
  // invariants a peer's object is checked for.
  await fuzz(t, {
    name: 'decodeObject (object and hint rows)',
    input: fc.tuple(bytesFrom(objectArb.map(encodeObject)), keyArb),
    run: ([bytes, key]) => decodeObject(bytes, key),
    expected: coded('KV_ERR_STORAGE_CORRUPT'),
  });
  await fuzz(t, {
    name: 'validatePeerObject after decodeObject',
    input: bytesFrom(objectArb.map(encodeObject)),
    run: (bytes) => validatePeerObject(decodeObject(bytes, 'k')),
    expected: (error) => coded('KV_ERR_STORAGE_CORRUPT')(error) || (error instanceof Error && error.name === 'DecodeError'),
  });
});

t.test('contexts (X-Ringkv-Context, from any client)', async (t) => {
  const options = { tagKeys: new Keyring(['fuzz-cluster-secret']).contextKeys, entriesMax: 1024 };
  const valid = fc.tuple(fc.uniqueArray(fc.record({ id: idArb, counter: fc.integer({ min: 1, max: 2 ** 50 }) }), { selector: (e) => e.id, maxLength: 6 }), keyArb).map(([entries, key]) =>
    encodeContext([...entries].sort((a, b) => (a.id < b.id ? -1 : 1)), key, options),
  );
  await fuzz(t, {
    name: 'decodeContext',
    input: fc.tuple(textFrom(valid), keyArb),
    run: ([token, key]) => decodeContext(token, key, options),
    expected: coded('KV_ERR_BAD_CONTEXT'),
    runsFactor: 2,
  });
});
