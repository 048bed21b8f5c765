/**
 * Runs one compare-and-set request (docs/cas.md): drives the pure proposer
 * (consensus/proposer.ts) over the transport, with the key's preference list from the node's
 * ring view, and answers with the proposer's decision. Paxos messages travel as `paxos` ops in
 * the ordinary replica batches (transport/messages.ts); the local acceptor is called directly.
 * No fallbacks and no hints: a sloppy quorum would let two disjoint sets of nodes both be a
 * majority.
 *
 * Ballots: one BallotClock per node, shared by every request, built from the store's persisted
 * mark. When the clock enters a new block of counters, every message of every request waits for
 * the new mark to be durable before it leaves (a ballot must never be reused after a crash).
 *
 * Layouts (docs/cas.md "Membership changes"): every message carries the digest of this node's
 * ring (replication/cas-layout.ts); a replica whose ring differs refuses it, and the request is
 * tried again on the ring this node sees by then (gossip converges), with the same request id,
 * until its deadline. A replica answers for a key only once it learned the key at its current
 * layout (cas-acceptor-service.ts), which is what keeps two preference lists from deciding
 * differently while a key's ownership moves. A node that has not joined its ring yet (a
 * restart, before a seed answered) neither proposes nor answers: its ring may be itself alone.
 */
import type { Member } from '../membership/membership.js';
import { BallotClock } from '../consensus/ballot.js';
import { casValuesEqual, type CasValue } from '../consensus/cas-value.js';
import type { Outgoing, PaxosMessage } from '../consensus/messages.js';
import { CasProposer, DEFAULT_PROPOSER_CONFIG, type CasDecision, type ProposerConfig, type ProposerOutput } from '../consensus/proposer.js';
import type { Change } from '../consensus/register-state.js';
import type { AcceptorRecordStore } from '../storage/acceptor-records.js';
import type { Transport } from '../transport/transport.js';
import type { Timers, TimerHandle } from '../timers.js';
import type { CasAcceptorService } from './cas-acceptor-service.js';

/** How often a running request's proposer is ticked (phase timeouts, the end of a backoff). */
export const CAS_TICK_MS = 5;
/** The layout number of a node without a layout (a bare coordinator in unit tests). */
export const CAS_LAYOUT = 0;
/** Longest wait before a request refused for its layout is tried again on the ring as it is then. */
export const CAS_LAYOUT_RETRY_MS = 20;

export interface CasCoordinatorDeps {
  readonly selfId: string;
  readonly preferenceList: (key: string) => string[];
  readonly member: (id: string) => Member | undefined;
  readonly transport: Transport;
  /** This node's own acceptor. */
  readonly local: CasAcceptorService;
  /** Where the ballot mark is persisted. */
  readonly records: AcceptorRecordStore;
  /** Timers, and the monotonic clock every deadline, phase and backoff is measured on. */
  readonly timers: Timers;
  readonly random: () => number;
  readonly config?: ProposerConfig;
  /** The digest of this node's ring, put on every message (replication/cas-layout.ts); CAS_LAYOUT without one. */
  readonly layout?: () => number;
  /** False while this node has not joined its ring (CasLayout.joined): no round is started. Absent: joined. */
  readonly joined?: () => boolean;
}

export class CasCoordinator {
  private clock: BallotClock | undefined;
  /** Settles once the newest reserved ballot mark is durable; every message waits for it. */
  private markReady: Promise<void> = Promise.resolve();
  /** What requests came to, for the metrics (docs/metrics.md). */
  readonly counts = { requests: 0, unknownOutcomes: 0, layoutRetries: 0 };

  constructor(private readonly deps: CasCoordinatorDeps) {}

  /**
   * Runs `change` on `key` until the proposer decides or `timeoutMs` passes. A request cut off
   * by the deadline says `maybeApplied` when an accept of its change may have gone out.
   */
  async run(key: string, change: Change<CasValue>, timeoutMs: number): Promise<CasDecision<CasValue>> {
    // Deadlines, phases and backoffs run on the timers' monotonic clock: a wall clock step stretches none of them.
    const deadlineMs = this.deps.timers.monotonicMs() + timeoutMs;
    this.counts.requests++;
    // Alone in a ring it has not joined, this node's list is [self]: a "majority" of one stale record.
    if (this.deps.joined?.() === false) return { kind: 'failed', reason: 'not-joined', maybeApplied: false };
    for (;;) {
      const decision = await this.attempt(key, change, deadlineMs - this.deps.timers.monotonicMs());
      if (decision.kind === 'failed' && decision.maybeApplied) this.counts.unknownOutcomes++;
      // A stale layout is retried on the ring as it is now; never once an accept may have gone
      // out (a fresh proposer would not know where its earlier change sits: proposer.ts).
      if (decision.kind !== 'failed' || decision.reason !== 'stale-layout' || decision.maybeApplied) return decision;
      const waitMs = this.deps.random() * CAS_LAYOUT_RETRY_MS;
      if (this.deps.timers.monotonicMs() + waitMs >= deadlineMs) return { kind: 'failed', reason: 'stale-layout', maybeApplied: false };
      this.counts.layoutRetries++;
      await new Promise<void>((resolve) => this.deps.timers.setTimeout(resolve, waitMs));
    }
  }

  /** One proposer (a run of ballots) on the layout this node sees now. */
  private attempt(key: string, change: Change<CasValue>, timeoutMs: number): Promise<CasDecision<CasValue>> {
    const { deps } = this;
    this.clock ??= new BallotClock(deps.selfId, deps.records.ballotMark());
    const proposer = new CasProposer<CasValue>({
      key,
      change,
      lists: [deps.preferenceList(key)],
      layout: deps.layout?.() ?? CAS_LAYOUT,
      clock: this.clock,
      random: deps.random,
      equals: casValuesEqual,
      config: deps.config ?? DEFAULT_PROPOSER_CONFIG,
    });
    return new Promise((resolve) => {
      const deadlineMs = deps.timers.monotonicMs() + timeoutMs;
      let timer: TimerHandle | undefined;
      let finished = false;
      const finish = (decision: CasDecision<CasValue>) => {
        if (finished) return;
        finished = true;
        deps.timers.clearTimeout(timer);
        resolve(decision);
      };
      const handle = (out: ProposerOutput<CasValue>) => {
        if (finished) return;
        if (out.persistBallotMark !== undefined) this.reserve(out.persistBallotMark);
        for (const outgoing of out.send) {
          void this.send(outgoing).then((reply) => {
            if (finished || reply === 'none') return;
            if (reply === 'unreachable') handle(proposer.unreachable(outgoing.to, outgoing.message.ballot, deps.timers.monotonicMs()));
            else handle(proposer.receive(outgoing.to, reply, deps.timers.monotonicMs()));
          });
        }
        if (out.decision !== undefined) finish(out.decision);
      };
      const tick = () => {
        if (finished) return;
        if (deps.timers.monotonicMs() >= deadlineMs) return finish({ kind: 'failed', reason: 'timeout', maybeApplied: proposer.mayHaveApplied });
        handle(proposer.tick(deps.timers.monotonicMs()));
        if (!finished) timer = deps.timers.setTimeout(tick, CAS_TICK_MS);
      };
      handle(proposer.start(deps.timers.monotonicMs()));
      if (!finished) timer = deps.timers.setTimeout(tick, CAS_TICK_MS);
    });
  }

  /**
   * Persists a new ballot mark; every message sent after this waits for it. If the write fails,
   * those messages fail (their ballots are not covered), and so does every later one: a store
   * whose fsync failed refuses every write until the node restarts (storage/wal-sync.ts), and
   * the restarted node's clock starts above the last mark that was durable.
   */
  private reserve(mark: number): void {
    this.markReady = this.markReady.then(() => this.deps.records.putBallotMark(mark));
    this.markReady.catch(() => undefined); // observed by the sends; no unhandled rejection here
  }

  /**
   * One message, once the ballot mark is durable; resolves with the reply, 'none' (a commit,
   * which has none), or 'unreachable' (the peer is unknown or unreachable, refused the op, or
   * this node could not persist: the phase counts it as a no, and fails fast without a majority).
   */
  private async send({ to, message }: Outgoing<CasValue>): Promise<PaxosMessage<CasValue> | 'none' | 'unreachable'> {
    try {
      await this.markReady;
      if (to === this.deps.selfId) return (await this.deps.local.step(message)) ?? 'none';
      const member = this.deps.member(to);
      if (member === undefined) return 'unreachable';
      const result = await this.deps.transport.replica(member, { kind: 'paxos', key: message.key, message });
      return result.ok ? (result.paxos ?? 'none') : 'unreachable';
    } catch {
      return 'unreachable';
    }
  }
}
