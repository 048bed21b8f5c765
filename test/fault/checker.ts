/**
 * The history checker for the set workload (issue 6): clients add unique elements to sets
 * stored under keys (read-modify-write with contexts, siblings merged by union) and sometimes
 * delete a key with the context of a read. Pure: a history in, violations out.
 *
 * Rules, for each key, with the final state read after every fault healed:
 *  (a) no lost write: every element whose add was acknowledged is in the final set, unless an
 *      acknowledged delete's read had seen it (that delete causally covers it);
 *  (b) no resurrection: a key whose last operation was an acknowledged delete, with no add
 *      running at the same time or after it, reads as not found. (An add concurrent with a
 *      delete may legitimately win: it re-wrote the elements it had read, and its version is
 *      not in the delete's causal past, so it survives as a sibling of the tombstone.)
 *  (c) convergence: every replica of the key holds the same versions;
 *  (d) bounded siblings: no read ever returned more siblings than the bound.
 * Operations that failed or timed out are indeterminate: their elements may or may not be
 * there, and a failed delete's elements are neither required nor forbidden.
 */

/** Operations carry their start and end times (ms) so concurrency can be judged. */
export type HistoryEvent =
  | { readonly type: 'add'; readonly key: string; readonly element: string; readonly ok: boolean; readonly startMs?: number; readonly endMs?: number }
  | { readonly type: 'delete'; readonly key: string; readonly seen: readonly string[]; readonly ok: boolean; readonly startMs?: number; readonly endMs?: number }
  | { readonly type: 'read'; readonly key: string; readonly siblings: number };

export interface FinalKey {
  /** The union of the key's live values, as read at the end. */
  readonly elements: readonly string[];
  /** Each replica's versions of the key, in a comparable form (for example sorted values). */
  readonly replicas: readonly string[];
}

export interface Verdict {
  readonly lost: string[];
  readonly resurrected: string[];
  readonly unconverged: string[];
  readonly siblingViolations: string[];
  readonly acknowledged: number;
  /** Keys the resurrection rule applied to (deleted last, nothing concurrent). */
  readonly deletedKeysChecked: number;
  readonly ok: boolean;
}

export function check(history: readonly HistoryEvent[], final: ReadonlyMap<string, FinalKey>, siblingsMax: number): Verdict {
  const covered = new Map<string, Set<string>>();
  const maybeCovered = new Map<string, Set<string>>();
  for (const event of history) {
    if (event.type !== 'delete') continue;
    const target = event.ok ? covered : maybeCovered;
    const set = target.get(event.key) ?? new Set<string>();
    for (const element of event.seen) set.add(element);
    target.set(event.key, set);
  }
  const lost: string[] = [];
  const resurrected: string[] = [];
  const siblingViolations: string[] = [];
  let acknowledged = 0;
  let deletedKeysChecked = 0;
  for (const event of history) {
    if (event.type === 'read' && event.siblings > siblingsMax) siblingViolations.push(`${event.key}: ${event.siblings} siblings`);
    if (event.type !== 'add' || !event.ok) continue;
    acknowledged++;
    const present = final.get(event.key)?.elements.includes(event.element) ?? false;
    const isCovered = covered.get(event.key)?.has(event.element) ?? false;
    const maybe = maybeCovered.get(event.key)?.has(event.element) ?? false;
    if (!present && !isCovered && !maybe) lost.push(`${event.key}/${event.element}`);
  }
  for (const event of history) {
    if (event.type !== 'delete' || !event.ok) continue;
    const start = event.startMs ?? 0;
    const laterAdd = history.some((other) => other.type === 'add' && other.key === event.key && (other.endMs ?? Infinity) >= start);
    const laterDelete = history.some((other) => other !== event && other.type === 'delete' && other.key === event.key && (other.startMs ?? 0) > start);
    if (laterAdd || laterDelete) continue;
    deletedKeysChecked++;
    for (const element of final.get(event.key)?.elements ?? []) resurrected.push(`${event.key}/${element}`);
  }
  const unconverged = [...final].filter(([, state]) => new Set(state.replicas).size > 1).map(([key]) => key);
  return {
    lost,
    resurrected,
    unconverged,
    siblingViolations,
    acknowledged,
    deletedKeysChecked,
    ok: lost.length === 0 && resurrected.length === 0 && unconverged.length === 0 && siblingViolations.length === 0,
  };
}
