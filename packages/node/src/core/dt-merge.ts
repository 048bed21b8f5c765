/**
 * The data-type step of what a replica stores (issue 15; docs/datatypes.md, "Replication"): a
 * key holding a data type is merged by the type's join, never kept as siblings. When a merge
 * (or a coordinator's write) leaves two or more live siblings that are all data types of one
 * kind, they become one sibling holding their join (Almeida, Shoker, Baquero 2018: the join of
 * dotted causal CRDTs is commutative, associative and idempotent, and a state joined with one
 * from its own past is itself, so nothing any of them held is lost, and removals stay removed).
 *
 * The joined sibling gets a dot of its own, never a dot of one of the writes: a dot names one
 * immutable value everywhere (versioned.ts drops a sibling whose dot the other side has seen
 * but no longer holds), and reusing a write's dot for a larger value would let a replica that
 * saw only the write drop the join. The dot is `+join~<hash of the joined dots>`:1, so every
 * replica joining the same siblings makes the same sibling under the same dot (and converges),
 * and `+` cannot begin a node id (protocol node-id.ts), so it never meets a coordinator's dot.
 * Its clock entry is pruned like any other (versioned.ts); were a joined version to come back
 * after that, it would be joined again, which changes nothing.
 *
 * Left as siblings (a read answers 409, as before): a plain value or a sibling with a TTL among
 * them, two kinds, a value that does not decode, a join larger than the siblings together.
 * Tombstones are not touched: a /kv DELETE with a context keeps its meaning.
 *
 * Pure. Structural types, so versioned.ts (whose mergeChange calls this) needs no import back.
 */
import { createHash } from 'node:crypto';
import { DATA_TYPE_CONTENT_TYPE, decodeDataType, defaultDataTypeLimits, encodeDataType, join, type DataType } from '@ringkv/protocol';
import { advance, type Clock, type Dot } from './clock.js';

/** versioned.ts's Sibling, as far as this step reads and makes one. */
export interface JoinableSibling {
  readonly dot: Dot;
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly timestampMs: number;
  readonly expiresMs?: number;
}

/** The prefix of a joined sibling's actor (no node id begins with `+`). */
export const JOIN_ACTOR_PREFIX = '+join~';

/** Stored values were bounded when written; a join is bounded by the siblings it replaces. */
const DECODE_LIMITS = { ...defaultDataTypeLimits, bytesMax: Number.MAX_SAFE_INTEGER };

function compareDots(a: Dot, b: Dot): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.counter - b.counter;
}

/** The join of the siblings' states, or undefined when they must stay siblings. */
function joinStates(live: readonly JoinableSibling[]): Uint8Array | undefined {
  if (live.some((s) => s.contentType !== DATA_TYPE_CONTENT_TYPE || s.expiresMs !== undefined)) return undefined;
  let state: DataType | undefined;
  try {
    for (const sibling of live) {
      const decoded = decodeDataType(sibling.value, DECODE_LIMITS);
      if (state !== undefined && state.store.kind !== decoded.store.kind) return undefined;
      state = state === undefined ? decoded : join(state, decoded);
    }
    const bytes = encodeDataType(state!, DECODE_LIMITS);
    return bytes.length <= live.reduce((sum, s) => sum + s.value.length, 0) ? bytes : undefined;
  } catch {
    // A value that does not decode, or a join past the entry bound: left as siblings.
    return undefined;
  }
}

/**
 * The object with its live data-type siblings joined into one (see the module comment); the
 * object itself, unchanged, when there is nothing to join or they must stay siblings.
 */
export function joinDataTypeSiblings<S extends JoinableSibling, O extends { readonly clock: Clock; readonly siblings: readonly S[] }>(object: O): O {
  // Every write of every key passes here: one sibling (the common case) costs no allocation.
  if (object.siblings.length < 2) return object;
  const live = object.siblings.filter((s) => !s.deleted);
  if (live.length < 2) return object;
  const value = joinStates(live);
  if (value === undefined) return object;
  const hash = createHash('sha256');
  for (const s of live) hash.update(`${s.dot.id}\u0000${s.dot.counter}\u0000`);
  const dot: Dot = { id: `${JOIN_ACTOR_PREFIX}${hash.digest('base64url').slice(0, 16)}`, counter: 1 };
  const timestampMs = Math.max(...live.map((s) => s.timestampMs));
  // A sibling is versioned.ts's Sibling: these are all its fields (no TTL: none of them had one).
  const joined = { dot, deleted: false, value, contentType: DATA_TYPE_CONTENT_TYPE, timestampMs } as JoinableSibling as S;
  const siblings = [...object.siblings.filter((s) => s.deleted), joined].sort((a, b) => compareDots(a.dot, b.dot));
  return { ...object, clock: advance(object.clock, dot.id, 1, timestampMs), siblings };
}
