/**
 * Three-valued quorum outcomes (STYLE.md §3): a request is `met` once `needed` replicas
 * answered, `failed` as soon as so many failed that `needed` can no longer be reached (that is,
 * at `replicas - needed + 1` failures), else `pending`. The coordinator never waits for a
 * timeout it could have predicted. Model: riak_kv_get_core `enough/1`, raft `quorum.VoteResult`.
 */
import assert from 'node:assert/strict';

export type QuorumOutcome = 'pending' | 'met' | 'failed';

/** Counts distinct replicas' successes and failures against a quorum. */
export class QuorumTally {
  private readonly ok = new Set<string>();
  /** Failed replicas and why (a KV_ERR_* code), for the error the client gets. */
  private readonly failed = new Map<string, string>();

  private readonly asked: string[];

  constructor(
    /** The replicas asked (the preference list, or its reachable part plus fallbacks). */
    replicas: readonly string[],
    /** Successes needed (r or w). */
    readonly needed: number,
  ) {
    assert.ok(new Set(replicas).size === replicas.length, 'replicas are distinct');
    assert.ok(needed >= 1, 'a quorum needs at least one replica');
    this.asked = [...replicas];
  }

  /** The replicas asked so far. */
  get replicas(): readonly string[] {
    return this.asked;
  }

  /**
   * Asks one more replica (a fallback standing in for one that failed): the quorum may be
   * reachable again, so a `failed` outcome can become `pending`.
   */
  add(replica: string): void {
    assert.ok(!this.asked.includes(replica), 'replicas are distinct');
    this.asked.push(replica);
  }

  /** Records a success; a replica's first answer counts, later ones are ignored. */
  succeed(replica: string): void {
    if (!this.answered(replica) && this.replicas.includes(replica)) this.ok.add(replica);
  }

  fail(replica: string, reason = 'KV_ERR_PEER_UNREACHABLE'): void {
    if (!this.answered(replica) && this.replicas.includes(replica)) this.failed.set(replica, reason);
  }

  /** `replica=reason` for each failure, comma-separated (empty when none failed). */
  failureSummary(): string {
    return [...this.failed].map(([replica, reason]) => `${replica}=${reason}`).join(',');
  }

  /** Whether `replica` answered with a success. */
  succeeded(replica: string): boolean {
    return this.ok.has(replica);
  }

  answered(replica: string): boolean {
    return this.ok.has(replica) || this.failed.has(replica);
  }

  get successes(): number {
    return this.ok.size;
  }

  get failures(): number {
    return this.failed.size;
  }

  /** True once every replica asked has answered one way or the other. */
  get complete(): boolean {
    return this.ok.size + this.failed.size === this.replicas.length;
  }

  outcome(): QuorumOutcome {
    if (this.ok.size >= this.needed) return 'met';
    if (this.failed.size >= this.replicas.length - this.needed + 1) return 'failed';
    return 'pending';
  }
}
