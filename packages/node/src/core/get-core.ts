/**
 * The read quorum core (Dynamo §4.5; riak_kv `riak_kv_get_core.erl`): accumulates replica
 * replies for one key, reconciles them with the versioning core, reports `pending | met |
 * failed`, and once every replica answered (or the coordinator gives up waiting) returns the
 * read-repair plan as data: which replicas answered with something other than the merged
 * object, and that object. The coordinator answers the client at `met` and carries out the plan
 * after. Pure.
 */
import { merge, sameObject, type VersionedObject, type VersioningLimits } from './versioned.js';
import { QuorumTally, type QuorumOutcome } from './quorum.js';

/** What the coordinator should do after the read, as data (STYLE.md §4). */
export type ReadPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'read-repair'; readonly targets: readonly string[]; readonly merged: VersionedObject };

export class GetCore {
  private readonly tally: QuorumTally;
  /** Each replica's reply; undefined = it holds nothing for the key. */
  private readonly replies = new Map<string, VersionedObject | undefined>();
  private mergedObject: VersionedObject | undefined;

  constructor(replicas: readonly string[], r: number, private readonly limits: VersioningLimits) {
    this.tally = new QuorumTally(replicas, r);
  }

  reply(replica: string, object: VersionedObject | undefined): void {
    if (this.tally.answered(replica) || !this.tally.replicas.includes(replica)) return;
    this.tally.succeed(replica);
    this.replies.set(replica, object);
    if (object !== undefined) {
      this.mergedObject = this.mergedObject === undefined ? object : merge(this.mergedObject, object, this.limits);
    }
  }

  fail(replica: string, reason?: string): void {
    this.tally.fail(replica, reason);
  }

  outcome(): QuorumOutcome {
    return this.tally.outcome();
  }

  get complete(): boolean {
    return this.tally.complete;
  }

  /** Needed and answered counts, for errors. */
  counts(): { needed: number; answered: number; failures: string } {
    return { needed: this.tally.needed, answered: this.tally.successes, failures: this.tally.failureSummary() };
  }

  /** The reconciled object of every reply so far (undefined when no replica holds the key). */
  merged(): VersionedObject | undefined {
    return this.mergedObject;
  }

  /**
   * Replicas that replied with less than the merged object get it (failed ones are skipped).
   * `skipEmpty`: not those that hold nothing (for an object dead past the reaping grace, which
   * may have been reaped there: see replication/reaper.ts).
   */
  plan(skipEmpty = false): ReadPlan {
    const merged = this.mergedObject;
    if (merged === undefined) return { kind: 'none' };
    const targets = [...this.replies].filter(([, object]) => (object === undefined ? !skipEmpty : !sameObject(object, merged))).map(([replica]) => replica);
    return targets.length === 0 ? { kind: 'none' } : { kind: 'read-repair', targets, merged };
  }
}
