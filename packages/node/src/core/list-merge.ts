/**
 * The serving node's merge of the replicas' answers for one page of a key listing
 * (docs/listing.md). Each answer holds a node's next keys in byte order and how far it is
 * complete (`through`: null when it has nothing further). The page is the union of the
 * answers, deduplicated (with r > 1 the same key comes from several replicas), sorted, cut
 * where every answer is still complete (the smallest `through`) and at the limit. So a key
 * never appears twice, and the next page starts right after the last key this one could vouch
 * for. Pure.
 */
import { compareKeys, type KeyPage } from '../storage/key-listing.js';

export interface ListPage {
  readonly keys: readonly string[];
  /** The cursor of the next page (`after`), or null when the listing is complete. */
  readonly next: string | null;
}

export function mergePages(answers: readonly KeyPage[], limit: number): ListPage {
  let horizon: string | null = null;
  for (const answer of answers) {
    if (answer.through !== null && (horizon === null || compareKeys(answer.through, horizon) < 0)) horizon = answer.through;
  }
  const union = [...new Set(answers.flatMap((answer) => answer.keys))].sort(compareKeys);
  const vouched = horizon === null ? union : union.filter((key) => compareKeys(key, horizon!) <= 0);
  const keys = vouched.slice(0, limit);
  if (vouched.length > limit || (vouched.length === limit && horizon !== null)) return { keys, next: keys.at(-1)! };
  // A short page: every answer is complete up to the horizon, so the next page starts there.
  return { keys, next: horizon };
}
