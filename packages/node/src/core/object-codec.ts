/**
 * Binary form of a stored `VersionedObject` (the value column of the objects table). Compact,
 * versioned by its first byte so later formats can be read beside this one, and decoded with
 * bounds checks: a damaged row is reported as corrupt (KV_ERR_STORAGE_CORRUPT), not trusted.
 *
 * Layout v1: u8 version; varint clockEntries × (string id, varint counter, varint
 * timestampMs); varint siblings × (string id, varint counter, u8 flags [bit0 = deleted,
 * bit1 = expires], varint timestampMs, [varint expiresMs if bit1], string contentType, bytes
 * value). Bit1 came with TTL; objects written before it never set it, so they read unchanged.
 * Bit2 (request id, core/request-ids.ts) adds a string after the value, and bit3 (collapsed
 * attempts of that write) a varint count of dots (string id, varint counter) after it; objects
 * without them encode byte for byte as before (same digests), and every earlier row still reads.
 */
import assert from 'node:assert/strict';
import { KvError } from '../errors.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { NODE_ID_BYTES_MAX } from './context-codec.js';
import { REQUEST_ID_BYTES_MAX, REQUEST_ID_PATTERN } from '@ringkv/protocol';
import type { ClockEntry, Dot } from './clock.js';
import { ATTEMPTS_MAX } from './request-ids.js';
import type { Sibling, VersionedObject } from './versioned.js';

const OBJECT_VERSION = 1;
const FLAG_DELETED = 1;
const FLAG_EXPIRES = 2;
const FLAG_REQUEST_ID = 4;
const FLAG_ATTEMPTS = 8;
/** Longest content type, in UTF-8 bytes; the HTTP layer refuses longer ones with a 400. */
export const CONTENT_TYPE_BYTES_MAX = 256;
/** No stored value can exceed this, whatever the configured limit (SQLite's blob limit is 1 GB). */
const VALUE_BYTES_HARD_MAX = 512 * 1024 * 1024;

/**
 * The encoding of each live object, by identity. Objects are immutable values (every field
 * readonly; nothing writes into a sibling's value), so an object's bytes never change, and the
 * same object is encoded several times on its way: a coordinator sends its new version to two
 * peers and commits it itself (3.9 % of a replicated PUT's CPU went to five encodes of one
 * object, three of them on the coordinator; BENCHMARKS.md, "Where the CPU goes, sampled by
 * perf"). A replica does not take a peer's bytes as the encoding of what it decoded from them:
 * only re-encoding proves them canonical, and digests must agree across replicas. A WeakMap: an
 * entry lives only as long as its object.
 */
const encodings = new WeakMap<VersionedObject, Uint8Array>();

/**
 * Encodes an object, once per object: later calls return the same bytes, which no caller may
 * write into. Refuses (by assertion: callers validate first) anything `decodeObject` would
 * reject, so nothing is ever acknowledged that could not be read back.
 */
export function encodeObject(object: VersionedObject): Uint8Array {
  let bytes = encodings.get(object);
  if (bytes === undefined) {
    bytes = encodeFresh(object);
    encodings.set(object, bytes);
  }
  return bytes;
}

function encodeFresh(object: VersionedObject): Uint8Array {
  for (const entry of object.clock) assert.ok(Buffer.byteLength(entry.id) <= NODE_ID_BYTES_MAX, 'clock id within bounds');
  for (const sibling of object.siblings) {
    assert.ok(Buffer.byteLength(sibling.contentType) <= CONTENT_TYPE_BYTES_MAX, 'content type within bounds');
    assert.ok(Buffer.byteLength(sibling.dot.id) <= NODE_ID_BYTES_MAX, 'dot id within bounds');
    assert.ok(sibling.requestId === undefined || REQUEST_ID_PATTERN.test(sibling.requestId), 'request id well formed');
    assert.ok((sibling.attempts ?? []).length <= ATTEMPTS_MAX && (sibling.attempts === undefined || sibling.requestId !== undefined), 'attempts bounded, only with an id');
  }
  const size = object.siblings.reduce((sum, s) => sum + s.value.length + 96, 32 + object.clock.length * 32);
  const writer = new ByteWriter(size).u8(OBJECT_VERSION).varint(object.clock.length);
  for (const entry of object.clock) writer.string(entry.id).varint(entry.counter).varint(entry.timestampMs);
  writer.varint(object.siblings.length);
  for (const sibling of object.siblings) {
    writer
      .string(sibling.dot.id)
      .varint(sibling.dot.counter)
      .u8((sibling.deleted ? FLAG_DELETED : 0) | (sibling.expiresMs !== undefined ? FLAG_EXPIRES : 0) | (sibling.requestId !== undefined ? FLAG_REQUEST_ID : 0) | (sibling.attempts !== undefined && sibling.attempts.length > 0 ? FLAG_ATTEMPTS : 0))
      .varint(sibling.timestampMs);
    if (sibling.expiresMs !== undefined) writer.varint(sibling.expiresMs);
    writer
      .string(sibling.contentType)
      .bytes(sibling.value);
    if (sibling.requestId !== undefined) writer.string(sibling.requestId);
    if (sibling.attempts !== undefined && sibling.attempts.length > 0) {
      writer.varint(sibling.attempts.length);
      for (const dot of sibling.attempts) writer.string(dot.id).varint(dot.counter);
    }
  }
  return writer.finish();
}

export function decodeObject(bytes: Uint8Array, key: string): VersionedObject {
  try {
    const reader = new ByteReader(bytes);
    const version = reader.u8();
    if (version !== OBJECT_VERSION) throw new DecodeError(`unknown object version ${version}`);
    const clock: ClockEntry[] = [];
    const clockLength = reader.varint();
    for (let i = 0; i < clockLength; i++) {
      clock.push({ id: reader.string(NODE_ID_BYTES_MAX), counter: reader.varint(), timestampMs: reader.varint() });
    }
    const siblings: Sibling[] = [];
    const siblingCount = reader.varint();
    for (let i = 0; i < siblingCount; i++) {
      const dot = { id: reader.string(NODE_ID_BYTES_MAX), counter: reader.varint() };
      const flags = reader.u8();
      if (flags > (FLAG_DELETED | FLAG_EXPIRES | FLAG_REQUEST_ID | FLAG_ATTEMPTS)) throw new DecodeError(`unknown sibling flags ${flags}`);
      const deleted = (flags & FLAG_DELETED) !== 0;
      const timestampMs = reader.varint();
      const expiresMs = (flags & FLAG_EXPIRES) !== 0 ? reader.varint() : undefined;
      const contentType = reader.string(CONTENT_TYPE_BYTES_MAX);
      // Copy out of the row buffer so the object does not pin it.
      const value = new Uint8Array(reader.bytes(VALUE_BYTES_HARD_MAX)); // a copy: Buffer#slice would be a view
      const requestId = (flags & FLAG_REQUEST_ID) !== 0 ? reader.string(REQUEST_ID_BYTES_MAX) : undefined;
      if (requestId !== undefined && !REQUEST_ID_PATTERN.test(requestId)) throw new DecodeError('malformed request id');
      const attempts = (flags & FLAG_ATTEMPTS) !== 0 ? readAttempts(reader, requestId !== undefined) : undefined;
      siblings.push({ dot, deleted, value, contentType, timestampMs, ...(expiresMs === undefined ? {} : { expiresMs }), ...(requestId === undefined ? {} : { requestId }), ...(attempts === undefined ? {} : { attempts }) });
    }
    if (!reader.done) throw new DecodeError('trailing bytes');
    return { clock, siblings };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new KvError('KV_ERR_STORAGE_CORRUPT', `stored object for key is unreadable: ${error.message}`, { key });
  }
}

/** A sibling's collapsed attempts: 1 to ATTEMPTS_MAX dots, only beside a request id. */
function readAttempts(reader: ByteReader, hasId: boolean): Dot[] {
  const count = reader.varint();
  if (!hasId || count < 1 || count > ATTEMPTS_MAX) throw new DecodeError(`malformed attempts (${count})`);
  return Array.from({ length: count }, () => ({ id: reader.string(NODE_ID_BYTES_MAX), counter: reader.varint() }));
}
