/**
 * A versioned object that exercises every part of the object codec: several coordinators, a
 * binary value holding every byte, a non-ASCII text value and a tombstone sibling beside them.
 * The codec tests (core/object-codec.test.ts) and the message tests (transport/messages.test.ts)
 * round-trip it.
 */
import { contextOf, update, type VersionedObject } from '../core/versioned.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const utf8 = (s: string) => new TextEncoder().encode(s);
/** Every byte value once. */
export const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

export function sampleObject(): VersionedObject {
  let o = update(undefined, { coordinatorId: 'node-b', context: [], deleted: false, value: utf8('old'), contentType: 'text/plain', nowMs: 1_700_000_000_000 }, limits);
  const seen = contextOf(o);
  o = update(o, { coordinatorId: 'node-a', context: [], deleted: false, value: ALL_BYTES, contentType: 'application/octet-stream', nowMs: 1_700_000_000_001 }, limits);
  o = update(o, { coordinatorId: 'node-b', context: [], deleted: false, value: utf8('héllo ✓'), contentType: 'text/plain; charset=utf-8', nowMs: 1_700_000_000_002 }, limits);
  // The delete saw only the first write: it replaces that one and stays beside the others.
  return update(o, { coordinatorId: 'node.c_9', context: seen, deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 1_700_000_000_003 }, limits);
}
