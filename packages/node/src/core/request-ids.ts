/**
 * Request ids on causal writes (issue 17.3, docs/idempotency.md): a client names a PUT or
 * DELETE with X-Ringkv-Request-Id, the id travels in the sibling the write creates, and a
 * retry of the same write after an unknown outcome is applied at most once, wherever it lands.
 *
 * In a leaderless store a retry may reach another coordinator and other replicas than the
 * first attempt, and both attempts may be applied, each on some replicas. The rules here make
 * them one write again wherever their siblings meet:
 *
 * - Collapse: two live siblings with the same request id and the same body (value, content
 *   type, tombstone or not) are the same write applied twice; the one with the smaller dot stays (a choice every replica makes alike). The clock still
 *   covers the other's dot, so it stays gone: a replica still holding it drops it on the next
 *   merge, as it drops any sibling the other side has seen and no longer holds.
 * - Retire: a side whose clock covers an attempt of write X that it does not hold, and that
 *   holds no attempt of X with a smaller dot (the one a collapse would have kept), saw that
 *   attempt superseded by a later write, not collapsed. Every copy of write X is then
 *   superseded too: the other attempt's sibling is dropped, and does not come back next to the
 *   write that replaced the first.
 *
 * Ids live only in siblings: they go when the sibling is superseded, so nothing grows. The
 * price is a window: a retry that meets only replicas where its first attempt was already
 * superseded (and forgotten) is written again, as a sibling of the write that superseded it
 * (false concurrency a reader sees and resolves, never a lost write). For the same reason the
 * merge is commutative and idempotent but not associative on such histories: which of two
 * orders saw the first attempt before it was forgotten decides whether the retry stays. Every
 * drop is recorded in the clock (a covered dot not held), so replicas that exchange still
 * converge to one state (property-tested in request-ids.test.ts).
 *
 * Pure: no I/O, no time.
 */
import { KvError } from '../errors.js';
import { covers, type Dot, type VersionVector } from './clock.js';

/**
 * What these rules read of a sibling and an object (versioned.ts's Sibling and VersionedObject
 * have this shape; named here so this file does not import versioned.ts, which calls it).
 */
export interface IdSibling {
  readonly dot: Dot;
  readonly requestId?: string;
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
}
export interface IdObject {
  readonly clock: VersionVector;
  readonly siblings: readonly IdSibling[];
}

/** A write as it may be compared with the sibling a first attempt left. */
export interface RetriedWrite {
  readonly requestId?: string | undefined;
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
}

function sameBody(a: RetriedWrite, b: RetriedWrite): boolean {
  return a.deleted === b.deleted && (a.deleted || (a.contentType === b.contentType && Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength).equals(b.value)));
}

/**
 * Two siblings are attempts of one write: the same request id and the same body. A client that
 * reused an id for another value loses nothing here: those stay siblings (and a coordinator
 * holding the first refuses the second with KV_ERR_REQUEST_ID_REUSED).
 */
function sameWrite(a: IdSibling, b: IdSibling): boolean {
  return a.requestId !== undefined && a.requestId === b.requestId && sameBody(a, b);
}

function hasIds(object: IdObject): boolean {
  return object.siblings.some((sibling) => sibling.requestId !== undefined);
}

function dotBefore(a: Dot, b: Dot): boolean {
  return a.id !== b.id ? a.id < b.id : a.counter < b.counter;
}

/**
 * The attempts `side` has seen superseded among `others` (module comment, "Retire"): it covers
 * such a sibling without holding it, and holds no attempt of the same write that the collapse
 * would have kept instead (one with a smaller dot), so it was not collapsed into one `side`
 * still holds.
 */
function retiredBy(side: IdObject, others: readonly IdSibling[], into: IdSibling[]): void {
  for (const sibling of others) {
    if (sibling.requestId === undefined || !covers(side.clock, sibling.dot)) continue;
    if (!side.siblings.some((held) => sameWrite(held, sibling) && !dotBefore(sibling.dot, held.dot))) into.push(sibling);
  }
}

/**
 * The hook of versioned.merge: removes from `siblings` (the merge of `a` and `b`, sorted by
 * dot) the siblings the collapse and retire rules drop, in place. Objects without ids are
 * left exactly as they are, for the cost of one scan of each side.
 */
export function settleRequestIds<S extends IdSibling>(a: IdObject, b: IdObject, siblings: S[]): void {
  if (!hasIds(a) && !hasIds(b)) return;
  const retired: IdSibling[] = [];
  retiredBy(a, b.siblings, retired);
  retiredBy(b, a.siblings, retired);
  let kept = 0;
  for (const sibling of siblings) {
    if (sibling.requestId !== undefined) {
      if (retired.some((gone) => sameWrite(gone, sibling))) continue;
      // Sorted by dot: an earlier attempt kept is the one with the smaller dot.
      if (siblings.slice(0, kept).some((held) => sameWrite(held, sibling))) continue;
    }
    siblings[kept++] = sibling;
  }
  siblings.length = kept;
}

/**
 * The coordinator's check before it writes: the sibling a first attempt of `write` left in
 * `stored` (this replica's copy), or undefined when it holds none (write it). Throws
 * KV_ERR_REQUEST_ID_REUSED (422) when that sibling holds another value, content type or kind
 * (PUT against DELETE): the id names another write, and nothing is written.
 */
export function appliedAttempt<S extends IdSibling>(stored: { readonly siblings: readonly S[] } | undefined, write: RetriedWrite): S | undefined {
  const id = write.requestId;
  if (id === undefined || stored === undefined) return undefined;
  const attempts = stored.siblings.filter((held) => held.requestId === id);
  const sibling = attempts.find((held) => sameBody(held, write));
  if (sibling !== undefined || attempts.length === 0) return sibling;
  const other = attempts[0]!;
  throw new KvError('KV_ERR_REQUEST_ID_REUSED', `request id ${id} was used by another write to this key (a different ${other.deleted !== write.deleted ? 'method' : 'value or content type'}); use a fresh id for a new write`, { requestId: id });
}
