/**
 * The write quorum core (Dynamo §4.5-4.6; riak_kv `riak_kv_put_core.erl`): counts durable
 * acknowledgements from the nodes a coordinated write was sent to (the coordinator's own write
 * included) and reports `met` at `w`, or `failed` as soon as `w` is out of reach.
 *
 * With sloppy quorum a target may be a fallback standing in for an unreachable primary (it
 * stores a hint); its ack counts toward `w` like any other. `pw` (Riak's PW) additionally
 * requires that many acks from primaries themselves: a fallback's ack never counts toward it,
 * and a primary replaced by a fallback has failed it from the start. Pure.
 */
import { QuorumTally, type QuorumOutcome } from './quorum.js';

/** Where one copy of a write goes: `node`, standing in for `owner` (itself for a primary). */
export interface WriteTarget {
  readonly node: string;
  readonly owner: string;
}

export class PutCore {
  private readonly all: QuorumTally;
  private readonly primaries: QuorumTally | undefined;
  private readonly ownerOf = new Map<string, string>();

  constructor(targets: readonly WriteTarget[], w: number, pw = 0) {
    this.all = new QuorumTally(targets.map((t) => t.node), w);
    for (const target of targets) this.ownerOf.set(target.node, target.owner);
    if (pw > 0) {
      this.primaries = new QuorumTally(targets.map((t) => t.owner), pw);
      for (const target of targets) if (target.node !== target.owner) this.primaries.fail(target.owner, 'KV_ERR_PEER_UNREACHABLE');
    }
  }

  /**
   * A fallback stands in for a target that failed during the round (it stores a hint for
   * `owner`): one more copy that counts toward `w`, never toward `pw`.
   */
  addStandIn(target: WriteTarget): void {
    this.all.add(target.node);
    this.ownerOf.set(target.node, target.owner);
  }

  /** Whether `node` is a target of this write already. */
  targets(node: string): boolean {
    return this.ownerOf.has(node);
  }

  ack(node: string): void {
    this.all.succeed(node);
    if (this.ownerOf.get(node) === node) this.primaries?.succeed(node);
  }

  fail(node: string, reason?: string): void {
    this.all.fail(node, reason);
    if (this.ownerOf.get(node) === node) this.primaries?.fail(node, reason);
  }

  /** Whether `node` acknowledged the write (durably). */
  acked(node: string): boolean {
    return this.all.succeeded(node);
  }

  outcome(): QuorumOutcome {
    const all = this.all.outcome();
    const primaries = this.primaries?.outcome() ?? 'met';
    if (all === 'failed' || primaries === 'failed') return 'failed';
    return all === 'met' && primaries === 'met' ? 'met' : 'pending';
  }

  get complete(): boolean {
    return this.all.complete;
  }

  counts(): { needed: number; answered: number; failures: string } {
    const counts = { needed: this.all.needed, answered: this.all.successes, failures: this.all.failureSummary() };
    if (this.primaries === undefined) return counts;
    return { ...counts, failures: [counts.failures, `primaries: ${this.primaries.successes}/${this.primaries.needed}`].filter(Boolean).join('; ') };
  }
}
