/**
 * When a leaving node may stop (issue 19.6): once no key is left to hand off (ownership
 * transfer), it holds no hint, and every compare-and-set record it holds is in the hands of
 * that key's owners (docs/cas.md "Membership changes"). Hints whose owner is reachable are delivered by the hint
 * loop; the others are handed to another live node here. node.ts polls `leaveStep` until it
 * says done, and so does the cluster simulation, so both follow one rule.
 *
 * Source: riak_core's `cluster leave` (a leaving node hands every partition off before it
 * stops) and Dynamo §4.9 (adding and removing storage nodes).
 */
import type { Store } from '../storage/store.js';
import type { HintedHandoff } from './hinted-handoff.js';
import type { OwnershipTransfer } from './ownership-transfer.js';

export interface LeaveParts {
  readonly store: Store;
  readonly handoff: Pick<HintedHandoff, 'handOverOnce'>;
  readonly transfer: Pick<OwnershipTransfer, 'status' | 'setLeaving'>;
  /** Compare-and-set acceptor records, handed to each key's owners before the node stops (docs/cas.md). */
  readonly cas?: { handOverOnce(): Promise<boolean> };
}

/** One step of a leave: hands over undeliverable hints; resolves true once the node may stop. */
export async function leaveStep(parts: LeaveParts): Promise<boolean> {
  parts.transfer.setLeaving();
  if (parts.store.hints.count() > 0) await parts.handoff.handOverOnce();
  const casDone = parts.cas === undefined ? true : await parts.cas.handOverOnce();
  return casDone && parts.transfer.status().pending === 0 && parts.store.hints.count() === 0;
}
