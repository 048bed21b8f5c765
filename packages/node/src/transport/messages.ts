/**
 * Node-to-node messages and their binary codecs. Two exchanges:
 *
 * - **Replica batches** (`POST /internal/batch`): a coordinator's reads and writes of replicas
 *   on one peer, collected over an event-loop turn and sent as one request. A write carries the
 *   coordinator's whole object for the key; the replica merges it into its own, so repeating
 *   or reordering writes is harmless (merge is idempotent and commutative).
 * - **Coordination** (`POST /internal/coordinate`): a node outside a key's preference list hands
 *   the client's request to a node inside it (one hop; the receiver coordinates, never forwards).
 *
 * Binary rather than JSON because values are bytes (no base64 inflation) and objects already
 * have a compact codec. Every decoder is bounded; malformed input raises KV_ERR_BAD_REQUEST.
 * Objects from a peer are checked against the invariants the versioning core relies on
 * (`validatePeerObject`: canonical clock, siblings sorted by unique dot, every dot covered by
 * the clock) before anything merges them, and forwarded requests carry quorums and timeouts in
 * the ranges the client API accepts. Each encoder only produces frames its decoder accepts.
 */
import { isErrorCode, isNodeId, NODE_ID_BYTES_MAX, REQUEST_ID_BYTES_MAX, REQUEST_ID_PATTERN, TTL_MS_MAX, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { ByteReader, ByteWriter, DecodeError } from '../core/bytes.js';
import { decodeObject, encodeObject } from '../core/object-codec.js';
import { covers, isCanonicalVector, type Dot, type VersionVector } from '../core/clock.js';
import type { VersionedObject } from '../core/versioned.js';
import type { ValueWrite, WriteOptions } from '../replication/kv-service.js';
import type { CasValue } from '../consensus/cas-value.js';
import type { PaxosMessage } from '../consensus/messages.js';
import { readMessage, writeMessage } from '../consensus/codec.js';

/** Paxos messages a coordinator sends in a batch, and those a replica answers with. */
const PAXOS_REQUESTS: ReadonlySet<string> = new Set(['prepare', 'accept', 'commit', 'learn', 'adopt', 'learn-all', 'handed-over']);
const PAXOS_REPLIES: ReadonlySet<string> = new Set(['promise', 'accepted', 'nack', 'record', 'records']);

const FRAME_VERSION = 1;
const KEY_BYTES_HARD_MAX = 64 * 1024;
const OBJECT_BYTES_HARD_MAX = 1024 * 1024 * 1024;
const TEXT_BYTES_MAX = 4096;
/** Most operations one batch may carry. */
export const BATCH_OPS_MAX = 1024;
/** Largest r or w a forwarded request may carry (N is at most 16, config.ts). */
export const FORWARD_QUORUM_MAX = 16;
/** Longest timeout a forwarded request may carry (requestTimeoutMsMax is at most one hour). */
export const FORWARD_TIMEOUT_MS_MAX = 3_600_000;
/** Longest TTL a write may carry: ten years (packages/protocol ttl.ts). */
export { TTL_MS_MAX };
/** Longest error-details JSON in a coordinate result, in UTF-8 bytes (the decoder's bound). */
export const DETAILS_BYTES_MAX = TEXT_BYTES_MAX;

export type ReplicaOp =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly object: VersionedObject }
  /** Sloppy quorum: hold this replica for `owner`, which is unreachable (hinted handoff). */
  | { readonly kind: 'hint'; readonly key: string; readonly object: VersionedObject; readonly owner: string }
  /** Compare-and-set: a Paxos prepare, accept or commit for the key's acceptor (docs/cas.md). */
  | { readonly kind: 'paxos'; readonly key: string; readonly message: PaxosMessage<CasValue> };

/** A replica's answer to one op: the object for a get (undefined = holds nothing), or an error. */
export type ReplicaResult =
  | { readonly ok: true; readonly object?: VersionedObject; readonly paxos?: PaxosMessage<CasValue> }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export type CoordinateRequest =
  | { readonly kind: 'get'; readonly key: string; readonly r: number; readonly timeoutMs: number }
  /** A client's write, exactly as the forwarding node received and resolved it. */
  | { readonly kind: 'put'; readonly key: string; readonly write: ValueWrite; readonly options: WriteOptions };

export type CoordinateResult =
  | { readonly ok: true; readonly object?: VersionedObject }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly details: ErrorDetails };

function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof DecodeError) throw new KvError('KV_ERR_BAD_REQUEST', `malformed ${what}: ${error.message}`);
    if (error instanceof KvError && error.code === 'KV_ERR_STORAGE_CORRUPT') {
      throw new KvError('KV_ERR_BAD_REQUEST', `malformed ${what}: bad object`);
    }
    throw error;
  }
}

function compareDots(a: Dot, b: Dot): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.counter - b.counter;
}

/**
 * Refuses (DecodeError, so KV_ERR_BAD_REQUEST) an object from a peer that breaks the invariants
 * the versioning core assumes of every object it merges: clock entries sorted by unique id with
 * counters ≥ 1, siblings sorted by unique dot with counters ≥ 1, every dot covered by the clock.
 * The object codec checks only the layout; a peer's object is checked here, before it is used.
 */
export function validatePeerObject(object: VersionedObject): VersionedObject {
  if (!isCanonicalVector(object.clock)) throw new DecodeError('object clock not sorted by unique id with positive counters');
  for (const [i, sibling] of object.siblings.entries()) {
    const { dot } = sibling;
    if (!Number.isSafeInteger(dot.counter) || dot.counter < 1) throw new DecodeError(`sibling dot ${dot.id}:${dot.counter} has no positive counter`);
    if (i > 0 && compareDots(object.siblings[i - 1]!.dot, dot) >= 0) throw new DecodeError('object siblings not sorted by unique dot');
    if (!covers(object.clock, dot)) throw new DecodeError(`sibling dot ${dot.id}:${dot.counter} not covered by the clock`);
  }
  return object;
}

function peerObject(bytes: Uint8Array, key: string): VersionedObject {
  return validatePeerObject(decodeObject(bytes, key));
}

function inRange(value: number, min: number, max: number, name: string): number {
  if (value < min || value > max) throw new KvError('KV_ERR_BAD_REQUEST', `malformed coordinate request: ${name} ${value} outside ${min}..${max}`);
  return value;
}

function header(reader: ByteReader, what: string): number {
  const version = reader.u8();
  if (version !== FRAME_VERSION) throw new DecodeError(`unknown ${what} version ${version}`);
  const count = reader.varint();
  if (count > BATCH_OPS_MAX) throw new DecodeError(`${count} entries exceed ${BATCH_OPS_MAX}`);
  return count;
}

export function encodeBatch(ops: readonly ReplicaOp[]): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION).varint(ops.length);
  for (const op of ops) {
    writer.u8(op.kind === 'get' ? 1 : op.kind === 'put' ? 2 : op.kind === 'hint' ? 3 : 4).string(op.key);
    if (op.kind === 'put' || op.kind === 'hint') writer.bytes(encodeObject(op.object));
    if (op.kind === 'hint') writer.string(op.owner);
    if (op.kind === 'paxos') writeMessage(writer, op.message);
  }
  return writer.finish();
}

export function decodeBatch(bytes: Uint8Array): ReplicaOp[] {
  return decoding('replica batch', () => {
    const reader = new ByteReader(bytes);
    const count = header(reader, 'batch');
    const ops: ReplicaOp[] = [];
    for (let i = 0; i < count; i++) {
      const kind = reader.u8();
      const key = reader.string(KEY_BYTES_HARD_MAX);
      if (kind === 1) ops.push({ kind: 'get', key });
      else if (kind === 2) ops.push({ kind: 'put', key, object: peerObject(reader.bytes(OBJECT_BYTES_HARD_MAX), key) });
      else if (kind === 3) {
        const object = peerObject(reader.bytes(OBJECT_BYTES_HARD_MAX), key);
        const owner = reader.string(NODE_ID_BYTES_MAX);
        if (!isNodeId(owner)) throw new DecodeError('bad hint owner');
        ops.push({ kind: 'hint', key, object, owner });
      } else if (kind === 4) {
        const message = readMessage(reader);
        if (message.key !== key || !PAXOS_REQUESTS.has(message.kind)) throw new DecodeError(`bad paxos op ${message.kind}`);
        ops.push({ kind: 'paxos', key, message });
      }
      else throw new DecodeError(`unknown op kind ${kind}`);
    }
    if (!reader.done) throw new DecodeError('trailing bytes');
    return ops;
  });
}

function writeError(writer: ByteWriter, code: ErrorCode, message: string): void {
  writer.string(code).string(message.slice(0, 1024));
}

function readError(reader: ByteReader): { code: ErrorCode; message: string } {
  const code = reader.string(64);
  if (!isErrorCode(code)) throw new DecodeError(`unknown error code ${code}`);
  return { code, message: reader.string(TEXT_BYTES_MAX) };
}

/** Bytes an error result can take in a results frame (status, code, a short message). */
const ERROR_RESULT_BYTES_MAX = 1 + 2 + 64 + 2 + 1024;

/** The bytes of an object's values: a lower bound of its encoded size, cheap to compute. */
function valueBytes(object: VersionedObject): number {
  let bytes = 0;
  for (const sibling of object.siblings) bytes += sibling.value.length;
  return bytes;
}

/**
 * The objects of `results` that fit in a results frame of `bytesMax` bytes, encoded; the rest
 * become KV_ERR_OVERLOADED errors. Smaller objects are placed first, so one huge key fails
 * alone instead of taking the batch (and every other key in it) over the peer's response limit;
 * the first object always gets its place (config validation makes one object fit any body).
 */
function boundResults(results: readonly ReplicaResult[], bytesMax: number): Array<ReplicaResult | Uint8Array> {
  const out: Array<ReplicaResult | Uint8Array> = [...results];
  let budget = bytesMax - 16 - results.length * ERROR_RESULT_BYTES_MAX;
  const order = results
    .map((result, index) => ({ index, bytes: result.ok && result.object !== undefined ? valueBytes(result.object) : -1 }))
    .filter((entry) => entry.bytes >= 0)
    .sort((a, b) => a.bytes - b.bytes);
  const encoded = new Map<VersionedObject, Uint8Array>();
  let placed = 0;
  for (const { index, bytes } of order) {
    const object = (results[index] as { object: VersionedObject }).object;
    const cached = encoded.get(object);
    // An object whose values alone exceed what is left is not even encoded.
    const frame = cached ?? (placed === 0 || bytes <= budget ? encodeObject(object) : undefined);
    if (frame !== undefined && (placed === 0 || frame.length + 10 <= budget)) {
      encoded.set(object, frame);
      out[index] = frame;
      budget -= frame.length + 10;
      placed++;
    } else {
      out[index] = { ok: false, code: 'KV_ERR_OVERLOADED', message: `batch answer full: this key's object (${bytes} bytes of values) did not fit in ${bytesMax} bytes; retry it alone` };
    }
  }
  return out;
}

/**
 * Encodes the results of a batch. With `bytesMax` (the peer's response limit), the frame stays
 * under it: objects that do not fit are answered with KV_ERR_OVERLOADED instead (boundResults).
 * An object read by several ops of the batch is encoded once.
 */
export function encodeBatchResults(results: readonly ReplicaResult[], bytesMax = Number.POSITIVE_INFINITY): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION).varint(results.length);
  for (const result of boundResults(results, bytesMax)) {
    if (result instanceof Uint8Array) writer.u8(1).bytes(result);
    else if (!result.ok) writeError(writer.u8(2), result.code, result.message);
    else if (result.paxos !== undefined) writeMessage(writer.u8(3), result.paxos);
    else writer.u8(0);
  }
  return writer.finish();
}

export function decodeBatchResults(bytes: Uint8Array): ReplicaResult[] {
  return decoding('replica results', () => {
    const reader = new ByteReader(bytes);
    const count = header(reader, 'results');
    const results: ReplicaResult[] = [];
    for (let i = 0; i < count; i++) {
      const status = reader.u8();
      if (status === 0) results.push({ ok: true });
      else if (status === 1) results.push({ ok: true, object: peerObject(reader.bytes(OBJECT_BYTES_HARD_MAX), '') });
      else if (status === 2) results.push({ ok: false, ...readError(reader) });
      else if (status === 3) {
        const paxos = readMessage(reader);
        if (!PAXOS_REPLIES.has(paxos.kind)) throw new DecodeError(`bad paxos reply ${paxos.kind}`);
        results.push({ ok: true, paxos });
      }
      else throw new DecodeError(`unknown result status ${status}`);
    }
    if (!reader.done) throw new DecodeError('trailing bytes');
    return results;
  });
}

/** `sloppy` on the wire: 0 = the coordinating node's default, 1 = sloppy, 2 = strict. */
const SLOPPY_CODES = { default: 0, sloppy: 1, strict: 2 } as const;

export function encodeCoordinate(request: CoordinateRequest): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION).u8(request.kind === 'get' ? 1 : 2).string(request.key);
  if (request.kind === 'get') return writer.varint(request.r).varint(request.timeoutMs).finish();
  const { write, options } = request;
  writer.varint(options.w).varint(options.timeoutMs).varint(options.pw ?? 0);
  writer.u8(options.sloppy === undefined ? SLOPPY_CODES.default : options.sloppy ? SLOPPY_CODES.sloppy : SLOPPY_CODES.strict);
  writer.u8(write.deleted ? 1 : 0).string(write.contentType).bytes(write.value);
  writer.varint(write.context.length);
  for (const entry of write.context) writer.string(entry.id).varint(entry.counter);
  writer.varint(write.ttlMs ?? 0); // 0: no TTL
  // Last and only when present, so a write without one is the frame it always was.
  if (write.requestId !== undefined) writer.string(write.requestId);
  return writer.finish();
}

export function decodeCoordinate(bytes: Uint8Array): CoordinateRequest {
  return decoding('coordinate request', () => {
    const reader = new ByteReader(bytes);
    if (reader.u8() !== FRAME_VERSION) throw new DecodeError('unknown coordinate version');
    const kind = reader.u8();
    const key = reader.string(KEY_BYTES_HARD_MAX);
    let request: CoordinateRequest;
    if (kind === 1) {
      const r = inRange(reader.varint(), 1, FORWARD_QUORUM_MAX, 'r');
      request = { kind: 'get', key, r, timeoutMs: inRange(reader.varint(), 1, FORWARD_TIMEOUT_MS_MAX, 'timeoutMs') };
    } else if (kind === 2) {
      const w = inRange(reader.varint(), 1, FORWARD_QUORUM_MAX, 'w');
      const timeoutMs = inRange(reader.varint(), 1, FORWARD_TIMEOUT_MS_MAX, 'timeoutMs');
      const pw = inRange(reader.varint(), 0, w, 'pw');
      const sloppyCode = reader.u8();
      if (sloppyCode > SLOPPY_CODES.strict) throw new DecodeError(`unknown sloppy code ${sloppyCode}`);
      const deleted = reader.u8() === 1;
      const contentType = reader.string(TEXT_BYTES_MAX);
      const value = new Uint8Array(reader.bytes(OBJECT_BYTES_HARD_MAX));
      const entries = reader.varint();
      if (entries > 4096) throw new DecodeError('context too large');
      const context = Array.from({ length: entries }, () => ({ id: reader.string(NODE_ID_BYTES_MAX), counter: reader.varint() }));
      if (!isCanonicalVector(context)) throw new DecodeError('context not sorted by unique id with positive counters');
      const ttlRaw = reader.varint();
      const ttlMs = ttlRaw === 0 ? undefined : inRange(ttlRaw, 1, TTL_MS_MAX, 'ttlMs');
      const options: WriteOptions = { w, timeoutMs, pw, ...(sloppyCode === SLOPPY_CODES.default ? {} : { sloppy: sloppyCode === SLOPPY_CODES.sloppy }) };
      const requestId = reader.done ? undefined : reader.string(REQUEST_ID_BYTES_MAX);
      if (requestId !== undefined && !REQUEST_ID_PATTERN.test(requestId)) throw new DecodeError('malformed request id');
      const write: ValueWrite = { context, deleted, value, contentType, ...(ttlMs === undefined ? {} : { ttlMs }), ...(requestId === undefined ? {} : { requestId }) };
      request = { kind: 'put', key, write, options };
    } else {
      throw new DecodeError(`unknown coordinate kind ${kind}`);
    }
    if (!reader.done) throw new DecodeError('trailing bytes');
    return request;
  });
}

/**
 * The details of an error as JSON of at most DETAILS_BYTES_MAX bytes. When the whole does not
 * fit (a 64 KiB key in { key }), the entries that fit are kept in order and the others dropped,
 * so the code and message always reach the forwarding node.
 */
export function detailsJson(details: ErrorDetails | undefined): string {
  const entries: string[] = [];
  let bytes = 2; // {}
  for (const [name, value] of Object.entries(details ?? {})) {
    const json = JSON.stringify(value);
    if (json === undefined) continue; // JSON.stringify would drop it too
    const entry = `${JSON.stringify(name)}:${json}`;
    const entryBytes = Buffer.byteLength(entry) + (entries.length > 0 ? 1 : 0);
    if (bytes + entryBytes > DETAILS_BYTES_MAX) continue;
    entries.push(entry);
    bytes += entryBytes;
  }
  return `{${entries.join(',')}}`;
}

export function encodeCoordinateResult(result: CoordinateResult): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION);
  if (!result.ok) {
    writeError(writer.u8(2), result.code, result.message);
    return writer.string(detailsJson(result.details)).finish();
  }
  return result.object === undefined ? writer.u8(0).finish() : writer.u8(1).bytes(encodeObject(result.object)).finish();
}

export function decodeCoordinateResult(bytes: Uint8Array): CoordinateResult {
  return decoding('coordinate result', () => {
    const reader = new ByteReader(bytes);
    if (reader.u8() !== FRAME_VERSION) throw new DecodeError('unknown coordinate result version');
    const status = reader.u8();
    let result: CoordinateResult;
    if (status === 0) result = { ok: true };
    else if (status === 1) result = { ok: true, object: peerObject(reader.bytes(OBJECT_BYTES_HARD_MAX), '') };
    else if (status === 2) {
      const { code, message } = readError(reader);
      let details: ErrorDetails = {};
      try {
        const parsed: unknown = JSON.parse(reader.string(TEXT_BYTES_MAX));
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as ErrorDetails;
      } catch {
        throw new DecodeError('bad error details');
      }
      result = { ok: false, code, message, details };
    } else throw new DecodeError(`unknown coordinate status ${status}`);
    if (!reader.done) throw new DecodeError('trailing bytes');
    return result;
  });
}
