/**
 * The opaque context a client carries between a read and a write (`X-Ringkv-Context`).
 *
 * Wire form: base64url( payload ‖ tag ), payload = version byte, entry count, then per entry
 * the coordinator id and its counter (varints, see bytes.ts), and tag = the first 16 bytes of
 * HMAC-SHA256(context key, label ‖ len(key) ‖ key ‖ payload), where the context key is derived
 * from the cluster secret for this purpose only (security/keyring.ts) and `key` is the UTF-8
 * key the context was read from. The tag makes a forged or altered context a 400 instead of a
 * silent hazard: a context claiming counters no write ever had would make later writes from
 * that coordinator look already seen, and be dropped. Contexts from another cluster (another
 * secret) are refused the same way, and so is a context read from one key and sent with a
 * write to another (issue 19, point 4): its clock says nothing about the other key's
 * siblings, yet would have superseded them.
 *
 * Every GET hands the client a (payload, tag) pair to test guesses against. Because the tag
 * key is derived for contexts alone, such an oracle tells nothing about the keys that sign
 * internal requests or encrypt gossip.
 *
 * Verification tries every context key of the keyring (primary first), so contexts signed
 * before a rotation stay readable while their secret is in the ring; encoding uses the primary.
 *
 * Decoding checks, in order: length (before any work), base64url alphabet, tag, version,
 * entry count and id length bounds, canonical order, positive safe-integer counters.
 *
 * Source: riak_kv's `X-Riak-Vclock` header, the same opaque causal context between a read and a
 * write; ours is signed, theirs is not.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NODE_ID_BYTES_MAX } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { isCanonicalVector, type VersionVector } from './clock.js';

/** 2: the tag covers the key (version 1 contexts, from before key binding, are refused). */
const CONTEXT_VERSION = 2;
/** Domain separation: nothing else signed with a context key starts with these bytes. */
const TAG_LABEL = Buffer.from('ringkv-context\0');
const TAG_BYTES = 16;
/** Longest node id, in UTF-8 bytes (defined with the node-id pattern in packages/protocol). */
export { NODE_ID_BYTES_MAX };

/**
 * Most entries a node accepts in a context. Deliberately above the clock bound: a key whose
 * replicas merged more concurrent siblings than `clockEntriesMax` keeps one live entry per
 * sibling, and its context must still be accepted, or the key could never be resolved.
 */
export const CONTEXT_ENTRIES_MAX = 1024;

export interface ContextCodecOptions {
  /** Context keys of the keyring, primary first: the primary signs, any of them verifies. */
  readonly tagKeys: readonly Uint8Array[];
  /** Most entries a context may carry (the clock bound). */
  readonly entriesMax: number;
}

function tagOf(tagKey: Uint8Array, key: string, payload: Uint8Array): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(keyBytes.length);
  return createHmac('sha256', tagKey).update(TAG_LABEL).update(length).update(keyBytes).update(payload).digest().subarray(0, TAG_BYTES);
}

/** Longest encoded context that `entriesMax` entries can need, in base64url characters. */
export function contextCharsMax(entriesMax: number): number {
  const payloadBytes = 1 + 9 + entriesMax * (1 + NODE_ID_BYTES_MAX + 8);
  return Math.ceil(((payloadBytes + TAG_BYTES) * 4) / 3);
}

/** The context of `vector` for `key`, tagged with the primary context key. */
export function encodeContext(vector: VersionVector, key: string, options: ContextCodecOptions): string {
  const tagKey = options.tagKeys[0];
  if (tagKey === undefined) throw new RangeError('encodeContext needs at least one tag key');
  const writer = new ByteWriter(16 + vector.length * 16).u8(CONTEXT_VERSION).varint(vector.length);
  for (const entry of vector) writer.string(entry.id).varint(entry.counter);
  const payload = writer.finish();
  return Buffer.concat([payload, tagOf(tagKey, key, payload)]).toString('base64url');
}

function badContext(reason: string): KvError {
  return new KvError('KV_ERR_BAD_CONTEXT', `invalid context: ${reason}`, { reason });
}

/**
 * Decodes and verifies a context sent with a request on `key`; every failure is
 * KV_ERR_BAD_CONTEXT (400), never a crash.
 */
export function decodeContext(token: string, key: string, options: ContextCodecOptions): VersionVector {
  if (token.length > contextCharsMax(options.entriesMax)) throw badContext('too long');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw badContext('not base64url');
  const raw = Buffer.from(token, 'base64url');
  // Node's decoder ignores stray trailing bits and characters; only the canonical spelling of
  // the bytes is accepted, so no altered token passes.
  if (raw.toString('base64url') !== token) throw badContext('not canonical base64url');
  if (raw.length <= TAG_BYTES + 1) throw badContext('too short');
  const payload = raw.subarray(0, raw.length - TAG_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  if (!options.tagKeys.some((tagKey) => timingSafeEqual(tag, tagOf(tagKey, key, payload)))) {
    throw badContext('authentication tag mismatch (forged, altered, from another cluster, or read from another key)');
  }
  try {
    const reader = new ByteReader(payload);
    const version = reader.u8();
    if (version !== CONTEXT_VERSION) throw badContext(`unknown version ${version}`);
    const count = reader.varint();
    if (count > options.entriesMax) throw badContext(`${count} entries exceed ${options.entriesMax}`);
    const vector = [];
    for (let i = 0; i < count; i++) {
      const id = reader.string(NODE_ID_BYTES_MAX);
      vector.push({ id, counter: reader.varint() });
    }
    if (!reader.done) throw badContext('trailing bytes');
    if (!isCanonicalVector(vector)) throw badContext('entries not canonical');
    return vector;
  } catch (error) {
    if (error instanceof DecodeError) throw badContext(error.message);
    throw error;
  }
}
