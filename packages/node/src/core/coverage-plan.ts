/**
 * Which nodes a key listing asks, for which ranges (docs/listing.md): a coverage plan, as
 * Riak's riak_core_coverage_plan makes for 2i queries and key listing. Every arc of the ring
 * (one preference list) is asked at `r` of its usable owners, so the nodes asked together hold
 * a replica of every key. Owners are chosen to ask as few nodes as possible: this node first
 * (its answer needs no network), then nodes already chosen for earlier arcs, then the
 * preference-list order. Pure: the arcs and who is usable come in, the plan goes out.
 */
import type { Arc } from '@ringkv/protocol';
import type { ListRange } from '../storage/key-listing.js';

export type CoveragePlan =
  /** The ranges to ask each node for, sorted and merged where adjacent. */
  | { readonly ok: true; readonly asks: ReadonlyMap<string, readonly ListRange[]> }
  /** Some arc has fewer than `r` usable owners: the listing would miss keys. */
  | { readonly ok: false; readonly needed: number; readonly usable: number; readonly arc: ListRange };

export function coveragePlan(arcs: readonly Arc[], usable: (id: string) => boolean, selfId: string, r: number): CoveragePlan {
  const asks = new Map<string, ListRange[]>();
  const chosenArcs = new Map<string, number>();
  for (const arc of arcs) {
    const candidates = arc.owners.filter(usable);
    if (candidates.length < r) return { ok: false, needed: r, usable: candidates.length, arc: { start: arc.start, end: arc.end } };
    const rank = (id: string) => (id === selfId ? -1 : -(chosenArcs.get(id) ?? 0) / (arcs.length + 1));
    const chosen = candidates.map((id, order) => ({ id, order })).sort((a, b) => rank(a.id) - rank(b.id) || a.order - b.order).slice(0, r);
    for (const { id } of chosen) {
      chosenArcs.set(id, (chosenArcs.get(id) ?? 0) + 1);
      let ranges = asks.get(id);
      if (ranges === undefined) asks.set(id, (ranges = []));
      const last = ranges.at(-1);
      if (last !== undefined && last.end === arc.start) ranges[ranges.length - 1] = { start: last.start, end: arc.end };
      else ranges.push({ start: arc.start, end: arc.end });
    }
  }
  return { ok: true, asks };
}
