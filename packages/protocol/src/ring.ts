/**
 * The consistent-hashing ring (Dynamo §4.2, §4.3): each physical node owns `tokensPerNode`
 * virtual positions (tokens) at stable hashes of `nodeId#i`; a key belongs to the first token
 * at or after its own hash, walking clockwise, and its preference list is the first N
 * *distinct physical* nodes on that walk. The walk past them is the fallback order used by
 * sloppy quorum.
 *
 * Zones (failure domains, `--zone`): when the ring's members are in more than one zone, the
 * walk takes nodes in *zone-rank order*: first the first node met of each zone, in walk order,
 * then the second node of each zone, and so on. So a key's N replicas come from as many
 * distinct zones as exist before any zone is used twice (a node whose zone is already used is
 * skipped while unused zones remain), and past that they are spread round-robin over the
 * zones. Cassandra's NetworkTopologyStrategy does the first part for racks (it then takes the
 * skipped nodes in walk order); the round-robin second part keeps N > zones spread evenly. The
 * nodes skipped follow as fallbacks in the same order, so sloppy quorum continues the same
 * list. A member without a zone is in the zone '' like any other zone; with one zone (or none)
 * the walk is the plain one, exactly as before zones existed.
 *
 * Zones need more tokens. With N at least the number of zones, a node holds a replica of a key
 * exactly when it is the first node of its zone clockwise from the key, so its share of the
 * keys is its share of its zone's own sub-ring, which has only that zone's tokens: measured
 * over 100 random id sets at 256 tokens a node, 12 nodes in 3 zones had a node above 1.10 ×
 * the mean in 41 of them (max 1.18). The spread shrinks as 1/√tokens, so a ring with zones
 * places ZONE_TOKENS_FACTOR times as many tokens per node: max/mean then stayed under 1.10 in
 * all 100 (docs/membership.md has the table). The first `tokensPerNode` tokens are the same
 * ones, so a node's tokens only grow when zones appear.
 *
 * Placement depends only on the member set (ids and zones), never on the order members were
 * added: tokens are sorted by (position, nodeId), so every node that knows the same members
 * computes the same owners. Positions are the first 48 bits of MD5 (a safe JavaScript integer); MD5 is used for
 * spread, not security, as in Riak's chash (SHA-1) and Cassandra's RandomPartitioner (MD5).
 *
 * This lives in @ringkv/protocol because the client routes keys with it too (Dynamo's
 * client-driven coordination). Pure: no I/O, no time, no randomness.
 */
import { md5, md5Prefix48 } from './md5.js';

export { md5 };

/** Default virtual nodes per physical node: max/mean ownership ≈ 1.06–1.10 (ENVIRONMENT.md). */
export const TOKENS_PER_NODE_DEFAULT = 256;

/** A ring with more than one zone places this many times `tokensPerNode` tokens per node (module comment). */
export const ZONE_TOKENS_FACTOR = 4;

/** Number of distinct positions on the ring: 2^48. */
export const RING_SPACE = 2 ** 48;

/** Ring position of a string: the first 48 bits of the MD5 digest of its UTF-8, big-endian. */
export function ringPosition(text: string): number {
  return md5Prefix48(text);
}

/** A ring member: its id and, optionally, its zone ('' or absent: none). */
export interface RingMember {
  readonly id: string;
  readonly zone?: string;
}

export interface Ring {
  /** Physical node ids, sorted. */
  readonly nodes: readonly string[];
  /** zones[i] is the zone of nodes[i] ('' for none). */
  readonly zones: readonly string[];
  /** zoneOf[i] is the index of nodes[i]'s zone in the sorted list of the ring's distinct zones. */
  readonly zoneOf: Uint16Array;
  /** Nodes per zone, by zone index; one entry (or none, empty ring) means zones play no part. */
  readonly zoneSizes: readonly number[];
  /** The tokens per node asked for (buildRing's argument; rebuild with it). */
  readonly tokensPerNode: number;
  /** The tokens per node placed: tokensPerNode, times ZONE_TOKENS_FACTOR when zones play a part. */
  readonly tokensPlaced: number;
  /** Token positions, ascending. */
  readonly positions: Float64Array;
  /** owners[i] is the index in `nodes` of the node owning token i. */
  readonly owners: Uint16Array;
}

/**
 * Each member's zone by id. An id given twice with different zones (a caller's bug, or two
 * views merged) keeps the smallest zone name, so even then the result does not depend on order.
 */
function zonesById(members: Iterable<string | RingMember>): Map<string, string> {
  const zones = new Map<string, string>();
  for (const member of members) {
    const { id, zone = '' } = typeof member === 'string' ? { id: member } : member;
    const known = zones.get(id);
    if (known === undefined || zone < known) zones.set(id, zone);
  }
  return zones;
}

/**
 * Builds the ring of a member set (ids, or ids with zones); the result depends on the set
 * only, never on its order.
 */
export function buildRing(members: Iterable<string | RingMember>, tokensPerNode = TOKENS_PER_NODE_DEFAULT): Ring {
  const byId = zonesById(members);
  const nodes = [...byId.keys()].sort();
  if (nodes.length > 65_535) throw new RangeError('too many ring members');
  const zones = nodes.map((id) => byId.get(id)!);
  const zoneNames = [...new Set(zones)].sort();
  const zoneIndex = new Map(zoneNames.map((zone, i) => [zone, i]));
  const zoneOf = Uint16Array.from(zones, (zone) => zoneIndex.get(zone)!);
  const zoneSizes = zoneNames.map(() => 0);
  for (const z of zoneOf) zoneSizes[z]!++;
  const tokensPlaced = zoneSizes.length > 1 ? tokensPerNode * ZONE_TOKENS_FACTOR : tokensPerNode;
  const tokens: Array<{ position: number; owner: number }> = [];
  nodes.forEach((id, owner) => {
    for (let i = 0; i < tokensPlaced; i++) tokens.push({ position: ringPosition(`${id}#${i}`), owner });
  });
  // Ties (astronomically rare at 48 bits) break by node id, so they too are order-independent.
  tokens.sort((a, b) => a.position - b.position || a.owner - b.owner);
  return {
    nodes,
    zones,
    zoneOf,
    zoneSizes,
    tokensPerNode,
    tokensPlaced,
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

/**
 * The walk from token index `start`, at most `limit` nodes: the plain walk when zones play no
 * part, else the zone-rank order (module comment).
 */
function walkFrom(ring: Ring, start: number, limit: number): string[] {
  return ring.zoneSizes.length > 1 ? zoneWalkFrom(ring, start, limit) : plainWalkFrom(ring, start, limit);
}

/** The distinct physical nodes met walking clockwise from token index `start`, at most `limit`. */
function plainWalkFrom(ring: Ring, start: number, limit: number): string[] {
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
 * The first `limit` nodes in zone-rank order from token index `start`: distinct nodes met
 * clockwise, the r-th node met of its zone in `levels[r]`. The walk stops as soon as the answer
 * is known: the levels that hold the first `limit` nodes are complete (every zone has shown
 * that many nodes, or all it has), so a later node could only come after them.
 */
function zoneWalkFrom(ring: Ring, start: number, limit: number): string[] {
  const max = Math.min(limit, ring.nodes.length);
  const seen = new Uint8Array(ring.nodes.length);
  const metPerZone = new Uint16Array(ring.zoneSizes.length);
  const levels: string[][] = [];
  let met = 0;
  for (let step = 0; step < ring.positions.length && met < ring.nodes.length && max > 0; step++) {
    const owner = ring.owners[(start + step) % ring.positions.length]!;
    if (seen[owner] === 1) continue;
    seen[owner] = 1;
    met++;
    const zone = ring.zoneOf[owner]!;
    (levels[metPerZone[zone]!] ??= []).push(ring.nodes[owner]!);
    metPerZone[zone]!++;
    if (levelsComplete(ring, levels, metPerZone, max)) break;
  }
  return levels.flat().slice(0, max);
}

/** Whether the levels holding the first `max` nodes of the order are final (see zoneWalkFrom). */
function levelsComplete(ring: Ring, levels: readonly string[][], metPerZone: Uint16Array, max: number): boolean {
  let count = 0;
  let level = 0;
  while (level < levels.length && count + levels[level]!.length < max) count += levels[level++]!.length;
  if (level >= levels.length) return false; // fewer than `max` met so far
  // Levels 0..level are final once each zone showed level + 1 nodes, or all the nodes it has.
  return ring.zoneSizes.every((size, zone) => metPerZone[zone]! >= Math.min(level + 1, size));
}

/**
 * The distinct physical nodes met walking clockwise from the key's position, in zone-rank
 * order when the ring has zones: the first `n`
 * are its preference list, the rest (up to `limit`) its fallbacks in order.
 */
export function walk(ring: Ring, key: string, limit = ring.nodes.length): string[] {
  return walkAt(ring, ringPosition(key), limit);
}

/** `walk` from a ring position the caller already has (ringPosition(key)): the key is not hashed again. */
export function walkAt(ring: Ring, position: number, limit = ring.nodes.length): string[] {
  if (ring.positions.length === 0) return [];
  return walkFrom(ring, firstTokenAtOrAfter(ring, position), limit);
}

/** Positions [start, end) (end exclusive, never wrapping) whose keys share one preference list. */
export interface Arc {
  readonly start: number;
  readonly end: number;
  readonly owners: readonly string[];
}

/** Arcs already computed, per ring and n: a ring is immutable, and its arcs are asked for every round. */
const arcCache = new WeakMap<Ring, Map<number, readonly Arc[]>>();

/**
 * The ring cut into arcs, in position order, each with the preference list (`n` owners) of
 * every key whose position falls in it. Token i owns the positions after token i-1 up to and
 * including its own; the arc that wraps past 2^48 is cut in two. Anti-entropy compares
 * replicas arc by arc: every key of an arc lives on the same nodes. Computed once per ring
 * and n (the answer is shared: do not change it).
 */
export function arcs(ring: Ring, n: number): readonly Arc[] {
  let byN = arcCache.get(ring);
  if (byN === undefined) arcCache.set(ring, (byN = new Map()));
  let cached = byN.get(n);
  if (cached === undefined) byN.set(n, (cached = computeArcs(ring, n)));
  return cached;
}

function computeArcs(ring: Ring, n: number): Arc[] {
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

/**
 * The first `n` distinct physical nodes clockwise from the key, from as many distinct zones as
 * the ring has before one repeats (fewer nodes if the ring is smaller).
 */
export function preferenceList(ring: Ring, key: string, n: number): string[] {
  return walk(ring, key, n);
}

/** The nodes after the preference list, in the order sloppy quorum tries them. */
export function fallbacks(ring: Ring, key: string, n: number, count = ring.nodes.length): string[] {
  return walk(ring, key, n + count).slice(n);
}

/**
 * Each node's share of the keys it holds a replica of (it is in their preference list of
 * `n`): the measure of storage and write balance. Sums to min(n, nodes); the mean is
 * min(n, nodes) / nodes.
 */
export function replicaShares(ring: Ring, n: number): Map<string, number> {
  const shares = new Map(ring.nodes.map((id) => [id, 0]));
  for (const arc of arcs(ring, n)) {
    for (const id of arc.owners) shares.set(id, shares.get(id)! + (arc.end - arc.start) / RING_SPACE);
  }
  return shares;
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
