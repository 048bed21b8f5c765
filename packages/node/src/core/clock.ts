/**
 * Version vectors and the per-object clock.
 *
 * A `VersionVector` maps a coordinator id to the highest counter of that coordinator's writes
 * that a holder has seen (or seen superseded). It is what clients carry as the opaque context.
 * A `Clock` is the stored form: the same entries plus, per entry, the last time (ms, from the
 * injected clock) the entry advanced, which the pruning rule needs (riak_core `vclock.erl`
 * keeps timestamps for the same reason). Both are arrays sorted by id, so equal clocks are
 * equal arrays and every replica serializes them identically.
 *
 * Sources: Preguiça, Baquero et al., "Dotted Version Vectors" (2010); Almeida et al.,
 * "Scalable and Accurate Causality Tracking for Eventually Consistent Stores" (DVVSet, 2014).
 */

/** The write that created a sibling: coordinator `id`'s `counter`-th event on this key. */
export interface Dot {
  readonly id: string;
  readonly counter: number;
}

/** One entry of a version vector. */
export interface VersionEntry {
  readonly id: string;
  readonly counter: number;
}

/** Sorted by id, no duplicate ids, counters ≥ 1. */
export type VersionVector = readonly VersionEntry[];

/** One entry of a stored clock: a version entry plus when it last advanced. */
export interface ClockEntry extends VersionEntry {
  readonly timestampMs: number;
}

/** Sorted by id, no duplicate ids, counters ≥ 1. */
export type Clock = readonly ClockEntry[];

/** The counter `vector` holds for `id`, or 0. Linear scan: vectors hold a handful of entries. */
export function counterOf(vector: VersionVector, id: string): number {
  for (const entry of vector) if (entry.id === id) return entry.counter;
  return 0;
}

/** True when `vector` has seen the write `dot` (it is causally in the past of `vector`). */
export function covers(vector: VersionVector, dot: Dot): boolean {
  return counterOf(vector, dot.id) >= dot.counter;
}

/** Strips the timestamps: the version vector a client sees as the context. */
export function toVersionVector(clock: Clock): VersionVector {
  return clock.map(({ id, counter }) => ({ id, counter }));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Pointwise maximum of two clocks (the join of the causal lattice); an entry keeps the later
 * timestamp. Commutative, associative and idempotent.
 */
export function joinClocks(a: Clock, b: Clock): Clock {
  const out: ClockEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareIds(x.id, y.id);
    if (order < 0) {
      out.push(x!);
      i++;
    } else if (order > 0) {
      out.push(y!);
      j++;
    } else {
      out.push({
        id: x!.id,
        counter: Math.max(x!.counter, y!.counter),
        timestampMs: Math.max(x!.timestampMs, y!.timestampMs),
      });
      i++;
      j++;
    }
  }
  return out;
}

/** A client's context as a clock; entries it brings in are stamped `nowMs`. */
export function clockFromVector(vector: VersionVector, nowMs: number): Clock {
  return vector.map(({ id, counter }) => ({ id, counter, timestampMs: nowMs }));
}

/** `clock` with `id` set to `counter` at `nowMs` (inserted in id order when absent). */
export function advance(clock: Clock, id: string, counter: number, nowMs: number): Clock {
  return joinClocks(clock, [{ id, counter, timestampMs: nowMs }]);
}

/** When and how far clocks are pruned (see pruneClock). */
export interface PruneRule {
  /** Above this many entries, entries idle for `pruneAgeMs` may be dropped. */
  readonly entriesMax: number;
  /** Above this many entries, the least recently advanced ones are dropped whatever their age. */
  readonly entriesHardMax: number;
  readonly pruneAgeMs: number;
  readonly nowMs: number;
}

/**
 * Clock pruning (the bound on clock size), riak_core `vclock:prune` style. Only entries whose
 * coordinator has no live sibling in the object may go, least recently advanced first:
 * past `entriesMax` those idle for at least `pruneAgeMs`; past `entriesHardMax` any of them.
 * Entries naming a sibling's dot always stay (there are at most siblingsMax of those).
 * The cost: a stale replica still holding a value superseded under a dropped entry can show it
 * again as a sibling, false concurrency that a reader resolves; see docs/versioning.md.
 */
export function pruneClock(clock: Clock, liveIds: ReadonlySet<string>, rule: PruneRule): Clock {
  if (clock.length <= rule.entriesMax) return clock;
  const droppable = clock
    .filter((entry) => !liveIds.has(entry.id))
    .sort((a, b) => a.timestampMs - b.timestampMs || compareIds(a.id, b.id));
  const drop = new Set<string>();
  let size = clock.length;
  for (const entry of droppable) {
    const old = rule.nowMs - entry.timestampMs >= rule.pruneAgeMs;
    if (size <= rule.entriesMax || (!old && size <= rule.entriesHardMax)) break;
    drop.add(entry.id);
    size--;
  }
  return drop.size === 0 ? clock : clock.filter((entry) => !drop.has(entry.id));
}

/** True when `vector` is sorted by id with unique ids and positive safe-integer counters. */
export function isCanonicalVector(vector: VersionVector): boolean {
  for (let i = 0; i < vector.length; i++) {
    const entry = vector[i]!;
    if (!Number.isSafeInteger(entry.counter) || entry.counter < 1) return false;
    if (i > 0 && compareIds(vector[i - 1]!.id, entry.id) >= 0) return false;
  }
  return true;
}
