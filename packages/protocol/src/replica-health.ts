/**
 * How well the key space is replicated right now: the ring's arcs grouped by how many of their
 * N owners are alive. Pure (the caller says who is alive), shared by the node's gauges
 * (`ringkv_ring_replicas_share`), its dashboard and any tool that holds a ring. "Quorum" here
 * is a majority of N (the default R and W): an arc below it cannot serve a default read or
 * write from its preference list, only a sloppy write through fallbacks.
 */
import { arcs, RING_SPACE, type Ring } from './ring.js';

/** An arc with fewer than N owners alive. */
export interface UnderReplicatedRange {
  /** Ring positions [start, end), as in `arcs`. */
  readonly start: number;
  readonly end: number;
  /** The arc's preference list (fewer than N ids when the ring has fewer than N nodes). */
  readonly owners: readonly string[];
  /** How many of `owners` are alive. */
  readonly alive: number;
}

export interface ReplicaHealth {
  readonly n: number;
  /** A majority of N: floor(N/2) + 1. */
  readonly quorum: number;
  /** Fractions of the key space (each 0..1, summing to 1 on a non-empty ring). */
  readonly share: {
    /** Every one of N replicas alive. */
    readonly all: number;
    /** At least a quorum alive, but not all N. */
    readonly quorum: number;
    /** Fewer than a quorum alive (including none). */
    readonly fewer: number;
  };
  /** Arc counts in the same three groups. */
  readonly arcs: { readonly all: number; readonly quorum: number; readonly fewer: number };
  /** The under-replicated arcs, fewest alive first, at most `limit` of them. */
  readonly ranges: readonly UnderReplicatedRange[];
  /** True when `ranges` was cut at `limit`. */
  readonly truncated: boolean;
}

/** Groups the arcs of `ring` by owners alive; `limit` bounds the ranges listed (default 100). */
export function replicaHealth(ring: Ring, n: number, isAlive: (id: string) => boolean, limit = 100): ReplicaHealth {
  const quorum = Math.floor(n / 2) + 1;
  const share = { all: 0, quorum: 0, fewer: 0 };
  const counts = { all: 0, quorum: 0, fewer: 0 };
  const under: UnderReplicatedRange[] = [];
  const aliveById = new Map(ring.nodes.map((id) => [id, isAlive(id)]));
  for (const arc of arcs(ring, n)) {
    let alive = 0;
    for (const id of arc.owners) if (aliveById.get(id) === true) alive++;
    const group = alive >= n ? 'all' : alive >= quorum ? 'quorum' : 'fewer';
    share[group] += (arc.end - arc.start) / RING_SPACE;
    counts[group]++;
    if (group !== 'all') under.push({ start: arc.start, end: arc.end, owners: arc.owners, alive });
  }
  under.sort((a, b) => a.alive - b.alive || a.start - b.start);
  return { n, quorum, share, arcs: counts, ranges: under.slice(0, limit), truncated: under.length > limit };
}
