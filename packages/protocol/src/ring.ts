/**
 * The consistent-hashing ring (Dynamo §4.2, §4.3): each physical node owns `tokensPerNode`
 * virtual positions (tokens) at stable hashes of `nodeId#i`; a key belongs to the first token
 * at or after its own hash, walking clockwise, and its preference list is the first N
 * *distinct physical* nodes on that walk. The walk past them is the fallback order used by
 * sloppy quorum.
 *
 * Placement depends only on the member set, never on the order members were added: tokens are
 * sorted by (position, nodeId), so every node that knows the same members computes the same
 * owners. Positions are the first 48 bits of MD5 (a safe JavaScript integer); MD5 is used for
 * spread, not security, as in Riak's chash (SHA-1) and Cassandra's RandomPartitioner (MD5).
 *
 * This lives in @ringkv/protocol because the client routes keys with it too (Dynamo's
 * client-driven coordination). Pure: no I/O, no time, no randomness.
 */
import { createHash } from 'node:crypto';

/** Default virtual nodes per physical node: max/mean ownership ≈ 1.06–1.10 (ENVIRONMENT.md). */
export const TOKENS_PER_NODE_DEFAULT = 256;

/** Number of distinct positions on the ring: 2^48. */
export const RING_SPACE = 2 ** 48;

/** Ring position of a string: the first 48 bits of its MD5 digest. */
export function ringPosition(text: string): number {
  return createHash('md5').update(text).digest().readUIntBE(0, 6);
}

export interface Ring {
  /** Physical node ids, sorted. */
  readonly nodes: readonly string[];
  readonly tokensPerNode: number;
  /** Token positions, ascending. */
  readonly positions: Float64Array;
  /** owners[i] is the index in `nodes` of the node owning token i. */
  readonly owners: Uint16Array;
}

/** Builds the ring of a member set; the result depends on the set only. */
export function buildRing(members: Iterable<string>, tokensPerNode = TOKENS_PER_NODE_DEFAULT): Ring {
  const nodes = [...new Set(members)].sort();
  if (nodes.length > 65_535) throw new RangeError('too many ring members');
  const tokens: Array<{ position: number; owner: number }> = [];
  nodes.forEach((id, owner) => {
    for (let i = 0; i < tokensPerNode; i++) tokens.push({ position: ringPosition(`${id}#${i}`), owner });
  });
  // Ties (astronomically rare at 48 bits) break by node id, so they too are order-independent.
  tokens.sort((a, b) => a.position - b.position || a.owner - b.owner);
  return {
    nodes,
    tokensPerNode,
    positions: Float64Array.from(tokens, (t) => t.position),
    owners: Uint16Array.from(tokens, (t) => t.owner),
  };
}

/** Index of the first token at or after `position`, wrapping to 0 (binary search). */
function firstTokenAtOrAfter(ring: Ring, position: number): number {
  let lo = 0;
  let hi = ring.positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring.positions[mid]! < position) lo = mid + 1;
    else hi = mid;
  }
  return lo === ring.positions.length ? 0 : lo;
}

/** The distinct physical nodes met walking clockwise from token index `start`, at most `limit`. */
function walkFrom(ring: Ring, start: number, limit: number): string[] {
  const out: string[] = [];
  const seen = new Uint8Array(ring.nodes.length);
  const max = Math.min(limit, ring.nodes.length);
  for (let step = 0; step < ring.positions.length && out.length < max; step++) {
    const owner = ring.owners[(start + step) % ring.positions.length]!;
    if (seen[owner] === 0) {
      seen[owner] = 1;
      out.push(ring.nodes[owner]!);
    }
  }
  return out;
}

/**
 * The distinct physical nodes met walking clockwise from the key's position: the first `n`
 * are its preference list, the rest (up to `limit`) its fallbacks in order.
 */
export function walk(ring: Ring, key: string, limit = ring.nodes.length): string[] {
  if (ring.positions.length === 0) return [];
  return walkFrom(ring, firstTokenAtOrAfter(ring, ringPosition(key)), limit);
}

/** Positions [start, end) (end exclusive, never wrapping) whose keys share one preference list. */
export interface Arc {
  readonly start: number;
  readonly end: number;
  readonly owners: readonly string[];
}

/**
 * The ring cut into arcs, in position order, each with the preference list (`n` owners) of
 * every key whose position falls in it. Token i owns the positions after token i-1 up to and
 * including its own; the arc that wraps past 2^48 is cut in two. Anti-entropy compares
 * replicas arc by arc: every key of an arc lives on the same nodes.
 */
export function arcs(ring: Ring, n: number): Arc[] {
  const count = ring.positions.length;
  const out: Arc[] = [];
  for (let i = 0; i < count; i++) {
    const start = i === 0 ? 0 : ring.positions[i - 1]! + 1;
    const end = ring.positions[i]! + 1;
    if (end > start) out.push({ start, end, owners: walkFrom(ring, i, n) });
  }
  const tail = count === 0 ? RING_SPACE : ring.positions[count - 1]! + 1;
  if (count > 0 && tail < RING_SPACE) out.push({ start: tail, end: RING_SPACE, owners: walkFrom(ring, 0, n) });
  return out;
}

/**
 * The position ranges of the arcs whose owners satisfy `keep`, adjacent ones joined: what two
 * replicas share (anti-entropy), or what a node no longer owns (ownership handoff).
 */
export function arcRanges(ring: Ring, n: number, keep: (owners: readonly string[]) => boolean): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (const arc of arcs(ring, n)) {
    if (!keep(arc.owners)) continue;
    const last = ranges.at(-1);
    if (last !== undefined && last.end === arc.start) last.end = arc.end;
    else ranges.push({ start: arc.start, end: arc.end });
  }
  return ranges;
}

/** The first `n` distinct physical nodes clockwise from the key (fewer if the ring is smaller). */
export function preferenceList(ring: Ring, key: string, n: number): string[] {
  return walk(ring, key, n);
}

/** The nodes after the preference list, in the order sloppy quorum tries them. */
export function fallbacks(ring: Ring, key: string, n: number, count = ring.nodes.length): string[] {
  return walk(ring, key, n + count).slice(n);
}

/**
 * Each node's share of the key space as the primary owner (the arcs ending at its tokens),
 * summing to 1.
 */
export function ownershipShares(ring: Ring): Map<string, number> {
  const shares = new Map(ring.nodes.map((id) => [id, 0]));
  const count = ring.positions.length;
  for (let i = 0; i < count; i++) {
    const previous = i === 0 ? ring.positions[count - 1]! - RING_SPACE : ring.positions[i - 1]!;
    const id = ring.nodes[ring.owners[i]!]!;
    shares.set(id, shares.get(id)! + (ring.positions[i]! - previous) / RING_SPACE);
  }
  return shares;
}
