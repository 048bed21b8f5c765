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
 *   type, tombstone or not) are the same write applied twice; the one with the smaller dot
 *   stays (a choice every replica makes alike) and records the other's dot among its
 *   `attempts`. The clock still covers the other's dot, so it stays gone: a replica still
 *   holding it drops it on the next merge, as it drops any sibling the other side has seen and
 *   no longer holds.
 * - Retire: a side whose clock covers an attempt of write X that it does not hold, and that
 *   holds no attempt of X recording it as absorbed, saw that attempt superseded by a later
 *   write. Every attempt of X is then superseded too: the other attempt's sibling is dropped,
 *   and does not come back next to the write that replaced the first. Past ATTEMPTS_MAX
 *   recorded dots a sibling counts as having absorbed any, so the rule never retires on a guess.
 *
 * Ids and attempts live only in siblings: they go when the sibling is superseded, so nothing grows. The
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
  readonly attempts?: readonly Dot[];
}
export interface IdObject {
  readonly clock: VersionVector;
  readonly siblings: readonly IdSibling[];
}

/**
 * Most dots of other attempts a sibling records (a client retries a few times). A sibling that
 * records this many counts as having absorbed any attempt (`absorbed`): past the bound the
 * rules never retire on a guess, they fall back to the window (docs/idempotency.md).
 */
export const ATTEMPTS_MAX = 16;

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

function sameDot(a: Dot, b: Dot): boolean {
  return a.id === b.id && a.counter === b.counter;
}

function compareDots(a: Dot, b: Dot): number {
  return a.id !== b.id ? (a.id < b.id ? -1 : 1) : a.counter - b.counter;
}

/** The sorted union of `lists` without `own`, cut to the ATTEMPTS_MAX smallest (a choice every replica makes alike). */
function unionDots(own: Dot, lists: ReadonlyArray<readonly Dot[] | undefined>): Dot[] {
  const out: Dot[] = [];
  for (const list of lists) for (const dot of list ?? []) if (!sameDot(dot, own) && !out.some((d) => sameDot(d, dot))) out.push(dot);
  return out.sort(compareDots).slice(0, ATTEMPTS_MAX);
}

/** True when `held` records `dot` as an attempt collapsed into it (or records so many that it may have). */
function absorbed(held: IdSibling, dot: Dot): boolean {
  const attempts = held.attempts ?? [];
  return attempts.length >= ATTEMPTS_MAX || attempts.some((d) => sameDot(d, dot));
}

/** True when two copies of one sibling record the same collapsed attempts (versioned.sameObject's hook). */
export function sameAttempts(a: IdSibling, b: IdSibling): boolean {
  return sameDots(a.attempts ?? [], b.attempts ?? []);
}

function sameDots(x: readonly Dot[], y: readonly Dot[]): boolean {
  return x.length === y.length && x.every((dot, i) => sameDot(dot, y[i]!));
}

/**
 * The attempts `side` has seen superseded among `others` (module comment, "Retire"): `side`
 * covers an attempt (a sibling's dot, or one it records as collapsed into it) without holding
 * it, and no attempt of the same write that `side` holds records it as collapsed.
 */
function retiredBy(side: IdObject, others: readonly IdSibling[], into: IdSibling[]): void {
  for (const sibling of others) {
    if (sibling.requestId === undefined) continue;
    const superseded = (dot: Dot) => covers(side.clock, dot) && !side.siblings.some((held) => sameDot(held.dot, dot) || (sameWrite(held, sibling) && absorbed(held, dot)));
    if (superseded(sibling.dot) || (sibling.attempts ?? []).some(superseded)) into.push(sibling);
  }
}

/** `sibling` with the attempts both sides record for it, and those of `absorbing` (its collapsed attempts). */
function withAttempts<S extends IdSibling>(sibling: S, a: IdObject, b: IdObject, absorbing: readonly IdSibling[] = []): S {
  const lists: Array<readonly Dot[] | undefined> = [];
  for (const copy of a.siblings) if (sameDot(copy.dot, sibling.dot)) lists.push(copy.attempts);
  for (const copy of b.siblings) if (sameDot(copy.dot, sibling.dot)) lists.push(copy.attempts);
  for (const other of absorbing) lists.push([other.dot], other.attempts);
  const attempts = unionDots(sibling.dot, lists);
  if (attempts.length === 0 || sameDots(sibling.attempts ?? [], attempts)) return sibling;
  return { ...sibling, attempts };
}

/**
 * The hook of versioned.merge: applies the collapse and retire rules to `siblings` (the merge
 * of `a` and `b`, sorted by dot), in place: a collapsed attempt's dot is recorded in the one
 * kept, so a later merge tells it from a superseded one. Siblings without ids are never
 * touched, and a merge whose siblings carry none costs one scan.
 */
export function settleRequestIds<S extends IdSibling>(a: IdObject, b: IdObject, siblings: S[]): void {
  // Only siblings with ids are ever dropped or changed; attempts exist only beside an id.
  if (!siblings.some((sibling) => sibling.requestId !== undefined)) return;
  const retired: IdSibling[] = [];
  retiredBy(a, b.siblings, retired);
  retiredBy(b, a.siblings, retired);
  const kept: S[] = [];
  let collapsed = false;
  for (const sibling of siblings) {
    if (sibling.requestId !== undefined && retired.some((gone) => sameWrite(gone, sibling))) continue;
    // Sorted by dot: the first attempt kept is the one with the smallest dot; later ones fold into it.
    if (sibling.requestId !== undefined && kept.some((held) => sameWrite(held, sibling))) collapsed = true;
    else kept.push(sibling);
  }
  if (collapsed || a.siblings.some((x) => x.attempts !== undefined) || b.siblings.some((x) => x.attempts !== undefined)) {
    for (const [i, held] of kept.entries()) {
      if (held.requestId === undefined) continue;
      const others = siblings.filter((other) => other !== held && sameWrite(other, held) && !retired.some((gone) => sameWrite(gone, other)));
      kept[i] = withAttempts(held, a, b, others.map((other) => withAttempts(other, a, b)));
    }
  }
  if (kept.length !== siblings.length || kept.some((sibling, i) => sibling !== siblings[i])) siblings.splice(0, siblings.length, ...kept);
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
