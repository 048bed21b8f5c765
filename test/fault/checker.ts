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
 *      not in the delete's causal past, so it survives as a sibling of the tombstone.) Nor is
 *      the key judged when the delete's read missed an add acknowledged before it began (one
 *      no acknowledged delete saw either): that add's version is not covered by the delete's
 *      context and survives with every element it carried.
 *  (c) convergence: every replica of the key holds the same versions;
 *  (d) bounded siblings: no read ever returned more siblings than the bound.
 * Operations that failed or timed out are indeterminate: their elements may or may not be
 * there, and a failed delete's elements are neither required nor forbidden.
 *
 * Besides the verdict, `readYourWrites` counts reads that missed an add acknowledged before
 * they started (a statistic, not a rule: Dynamo with sloppy quorums does not promise
 * read-your-writes; a read at R can meet replicas that a sloppy write at W missed).
 */

/** Operations carry their start and end times (ms) so concurrency can be judged. */
export type HistoryEvent =
  | { readonly type: 'add'; readonly key: string; readonly element: string; readonly ok: boolean; readonly startMs?: number; readonly endMs?: number }
  | { readonly type: 'delete'; readonly key: string; readonly seen: readonly string[]; readonly ok: boolean; readonly startMs?: number; readonly endMs?: number }
  | {
      readonly type: 'read';
      readonly key: string;
      readonly siblings: number;
      /** The union of the live siblings' elements the read returned (for readYourWrites). */
      readonly elements?: readonly string[];
      readonly startMs?: number;
      readonly endMs?: number;
    };

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
    const unseen = history.some(
      (other) => other.type === 'add' && other.ok && other.key === event.key && (other.endMs ?? Infinity) < start && !event.seen.includes(other.element) && !(covered.get(event.key)?.has(other.element) ?? false),
    );
    if (unseen) continue;
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

/** Read-your-writes statistics (see readYourWrites). */
export interface ReadYourWrites {
  /** Reads that could be judged (they carry their elements and start time). */
  readonly reads: number;
  /** Reads that lacked an element whose add was acknowledged before they started. */
  readonly misses: number;
  /** misses / reads (0 when no read could be judged). */
  readonly missRate: number;
  /** A few misses, described (at most 10). */
  readonly examples: string[];
}

const EXAMPLES_MAX = 10;

type AddEvent = Extract<HistoryEvent, { type: 'add' }>;
type DeleteEvent = Extract<HistoryEvent, { type: 'delete' }>;

/**
 * Counts reads that missed an acknowledged write (Terry et al.'s read-your-writes, judged
 * across all clients: a read that began after an add was acknowledged should show its
 * element). A read misses when it started after some add of the same key had ended
 * (acknowledged) and its elements lack that add's element, and no delete of the key that
 * could cover the element (one whose read saw it, acknowledged or not) started before the
 * read ended: such a delete may have removed the element legitimately. Reads without
 * `elements` or `startMs` (older histories) are not judged. Counted and reported, never a
 * failure: Dynamo with sloppy quorums does not promise it.
 */
export function readYourWrites(history: readonly HistoryEvent[]): ReadYourWrites {
  const adds = new Map<string, AddEvent[]>();
  const deletes = new Map<string, DeleteEvent[]>();
  for (const event of history) {
    if (event.type === 'add' && event.ok && event.endMs !== undefined) adds.set(event.key, [...(adds.get(event.key) ?? []), event]);
    if (event.type === 'delete') deletes.set(event.key, [...(deletes.get(event.key) ?? []), event]);
  }
  let reads = 0;
  let misses = 0;
  const examples: string[] = [];
  for (const read of history) {
    if (read.type !== 'read' || read.elements === undefined || read.startMs === undefined) continue;
    reads++;
    const got = new Set(read.elements);
    const readEndMs = read.endMs ?? Infinity;
    const missed = (adds.get(read.key) ?? []).filter((add) => {
      if (add.endMs! > read.startMs! || got.has(add.element)) return false;
      const covering = (deletes.get(read.key) ?? []).some((del) => del.seen.includes(add.element) && (del.startMs ?? -Infinity) < readEndMs);
      return !covering;
    });
    if (missed.length === 0) continue;
    misses++;
    if (examples.length < EXAMPLES_MAX) {
      const ms = (value: number | undefined) => (value === undefined ? '?' : String(Math.round(value * 10) / 10));
      const what = missed.slice(0, 3).map((add) => `${add.element} (acknowledged at ${ms(add.endMs)})`).join(', ');
      examples.push(`${read.key}: read at ${ms(read.startMs)}-${ms(read.endMs)} lacks ${what}${missed.length > 3 ? ` and ${missed.length - 3} more` : ''}`);
    }
  }
  return { reads, misses, missRate: reads === 0 ? 0 : misses / reads, examples };
}
