/**
 * The write quorum core (Dynamo §4.5; riak_kv `riak_kv_put_core.erl`): counts durable
 * acknowledgements from the replicas a coordinated write was sent to (the coordinator's own
 * write included) and reports `met` at `w`, or `failed` as soon as `w` is out of reach. Pure.
 */
import { QuorumTally, type QuorumOutcome } from './quorum.js';

export class PutCore {
  private readonly tally: QuorumTally;

  constructor(replicas: readonly string[], w: number) {
    this.tally = new QuorumTally(replicas, w);
  }

  ack(replica: string): void {
    this.tally.succeed(replica);
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

  counts(): { needed: number; answered: number; failures: string } {
    return { needed: this.tally.needed, answered: this.tally.successes, failures: this.tally.failureSummary() };
  }
}
