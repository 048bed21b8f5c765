/**
 * The summary of a set of position ranges: the XOR of each range's summary hash and the sum
 * of their key counts (storage/digest-tree.ts: XOR is what makes summaries composable). Both
 * ends of an anti-entropy exchange compute it, the asking node (anti-entropy.ts) and the
 * answering one (replica-service.ts, a `summaries` tree request); one definition, so the two
 * cannot drift apart and report every range as different.
 *
 * Source: Dynamo §4.7 (Merkle trees over key ranges) and riak_kv's active anti-entropy
 * exchange (riak_kv_exchange_fsm), which compares range hashes the same way.
 */
import { DIGEST_BYTES, xorInto, type RangeSummary } from '../storage/digest-tree.js';
import type { PositionRange } from '../transport/tree-messages.js';

/** What summarizeSet needs of a store: the summary of one range [start, end). */
export type SummarizeRange = (start: number, end: number) => RangeSummary;

/** The combined summary of the ranges in `set`, each asked of `summarize`. */
export function summarizeSet(summarize: SummarizeRange, set: readonly PositionRange[]): RangeSummary {
  const hash = new Uint8Array(DIGEST_BYTES);
  let count = 0;
  for (const range of set) {
    const summary = summarize(range.start, range.end);
    xorInto(hash, 0, summary.hash);
    count += summary.count;
  }
  return { hash, count };
}
