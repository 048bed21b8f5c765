/**
 * Dots and the causal context of a data type: which writes (dots) a state has seen. The context
 * is a compact version vector plus a "dot cloud" of dots seen out of order, as in Almeida,
 * Shoker and Baquero, "Delta state replicated data types" (J. Parallel Distrib. Comput., 2018),
 * §5 (causal contexts), and riak_dt's ORSWOT clock. A cloud dot moves into the vector as soon
 * as the gap before it closes, so a context whose actors each issue dots in sequence holds no
 * cloud at all: metadata is one counter per actor, not one entry per write or per removal.
 *
 * Pure: no clock, no randomness.
 */

/** One write: the `counter`-th event of `actor`. Unique per write (see docs/datatypes.md). */
export interface Dot {
  readonly actor: string;
  readonly counter: number;
}

/** The set of dots a state has seen: every dot up to `vv[actor]`, plus the cloud. */
export interface CausalContext {
  readonly vv: ReadonlyMap<string, number>;
  /** Dots seen beyond the vector's gap, keyed by `dotKey`. */
  readonly cloud: ReadonlyMap<string, Dot>;
}

export const emptyContext: CausalContext = Object.freeze({ vv: new Map(), cloud: new Map() });

/** A dot as a map key. The separator cannot occur in an actor (codec.ts checks actors). */
export function dotKey(dot: Dot): string {
  return `${dot.actor}\u0000${dot.counter}`;
}

/** Orders dots by actor, then counter (the canonical order of every encoding). */
export function compareDots(a: Dot, b: Dot): number {
  if (a.actor !== b.actor) return a.actor < b.actor ? -1 : 1;
  return a.counter - b.counter;
}

/** True when `context` has seen `dot`. */
export function contains(context: CausalContext, dot: Dot): boolean {
  return (context.vv.get(dot.actor) ?? 0) >= dot.counter || context.cloud.has(dotKey(dot));
}

/** Moves cloud dots that extend the vector into it and drops those it already covers. */
function compact(vv: Map<string, number>, cloud: Iterable<Dot>): CausalContext {
  const kept = new Map<string, Dot>();
  for (const dot of [...cloud].sort(compareDots)) {
    const seen = vv.get(dot.actor) ?? 0;
    if (dot.counter <= seen) continue;
    if (dot.counter === seen + 1) vv.set(dot.actor, dot.counter);
    else kept.set(dotKey(dot), dot);
  }
  return { vv, cloud: kept };
}

/** The union of two contexts (the join of the causal lattice), compacted. */
export function joinContexts(a: CausalContext, b: CausalContext): CausalContext {
  const vv = new Map(a.vv);
  for (const [actor, counter] of b.vv) vv.set(actor, Math.max(vv.get(actor) ?? 0, counter));
  return compact(vv, [...a.cloud.values(), ...b.cloud.values()]);
}

/** The context plus one dot. */
export function addDot(context: CausalContext, dot: Dot): CausalContext {
  return compact(new Map(context.vv), [...context.cloud.values(), dot]);
}

/** The highest counter of `actor` the context has seen (0 if none). */
export function maxCounter(context: CausalContext, actor: string): number {
  let max = context.vv.get(actor) ?? 0;
  for (const dot of context.cloud.values()) if (dot.actor === actor) max = Math.max(max, dot.counter);
  return max;
}

/** Number of entries (vector entries plus cloud dots): what the context costs. */
export function contextSize(context: CausalContext): number {
  return context.vv.size + context.cloud.size;
}

/**
 * True when `b` has seen every dot `a` has. Bounded whatever `a` claims: a gap of `a`'s vector
 * above `b`'s can only be covered by `b`'s cloud, so a gap wider than that cloud is not covered.
 */
export function coversContext(b: CausalContext, a: CausalContext): boolean {
  for (const [actor, counter] of a.vv) {
    const seen = b.vv.get(actor) ?? 0;
    if (counter - seen > b.cloud.size) return false;
    for (let k = seen + 1; k <= counter; k++) if (!b.cloud.has(dotKey({ actor, counter: k }))) return false;
  }
  for (const dot of a.cloud.values()) if (!contains(b, dot)) return false;
  return true;
}
