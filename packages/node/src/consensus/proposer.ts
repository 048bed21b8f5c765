/**
 * The proposer of one compare-and-set request on one key, as a pure state machine driven like
 * the other cores: `start`, `receive` and `tick` take the time and return what to persist, what
 * to send and, at the end, the decision. Each attempt follows Cassandra's lightweight
 * transactions (CASSANDRA-5062) in CASPaxos's single-round form:
 *
 *   prepare → promise quorum → read the latest state (the highest-ballot accepted state among
 *   the promises) → evaluate the condition → propose (accept) → accept quorum → commit
 *
 * Reads and failed conditions write the state they read back (CASPaxos §2.2): otherwise a read
 * could return a state accepted by a minority that a later round never sees. A nack, a lost
 * message (timeout) or a layout fence ends the attempt; contention backs off for a random time
 * (full jitter, injected randomness) before a higher ballot is tried. Ballot high-water marks
 * are persisted before use (`persistBallotMark`).
 *
 * What differs from Cassandra 2.0, whose LWT lost acknowledged writes under contention in
 * Jepsen's test (Kingsbury, 2013): the state read and the state written are the same Paxos
 * value (no separate quorum read of a table that ordinary writes also touch); and a retry after
 * an attempt whose accept went out never re-applies the change blindly: the request id in the
 * register's recent ids tells whether it is in, and when that cannot be told the decision is
 * `failed` with `maybeApplied: true` rather than a wrong "not applied" (docs/cas.md).
 */
import { BallotClock, compareBallots, maxBallot, ZERO_BALLOT, type Ballot } from './ballot.js';
import { alreadyApplied, EMPTY_REGISTER, evaluate, RECENT_REQUESTS_MAX, type Change, type Evaluation, type RegisterState } from './register-state.js';
import { JointQuorum } from './joint-quorum.js';
import type { BallotedState, Outgoing, PaxosMessage } from './messages.js';

/** Timing and retry bounds of a proposer. */
export interface ProposerConfig {
  /** How long a phase waits for its quorum before the attempt is abandoned. */
  readonly phaseTimeoutMs: number;
  /** Backoff after the first contended attempt; doubles per attempt up to `backoffMaxMs`. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Attempts (ballots) before the request fails. */
  readonly attemptsMax: number;
}

/** 500 ms per phase, 10 ms backoff doubling to 320 ms, 10 attempts: under 12 s in the worst case (the caller's request timeout usually ends it first). */
export const DEFAULT_PROPOSER_CONFIG: ProposerConfig = Object.freeze({ phaseTimeoutMs: 500, backoffBaseMs: 10, backoffMaxMs: 320, attemptsMax: 10 });

/** How a request ended. `failed` says whether the change may have taken effect anyway. */
export type CasDecision<V> =
  | { readonly kind: 'applied' | 'precondition-failed' | 'read'; readonly state: RegisterState<V> }
  | { readonly kind: 'failed'; readonly reason: 'contention' | 'timeout' | 'stale-layout' | 'unknowable' | 'not-joined'; readonly maybeApplied: boolean };

/** One step's effects: persist the ballot mark first (when present), then send. */
export interface ProposerOutput<V> {
  readonly persistBallotMark?: number;
  readonly send: readonly Outgoing<V>[];
  readonly decision?: CasDecision<V>;
}

/** Everything a proposer needs; the lists are the key's preference list(s) for `layout`. */
export interface ProposerInit<V> {
  readonly key: string;
  readonly change: Change<V>;
  readonly lists: readonly (readonly string[])[];
  readonly layout: number;
  readonly clock: BallotClock;
  readonly random: () => number;
  readonly equals: (a: V, b: V) => boolean;
  readonly config?: ProposerConfig;
}

type Phase<V> =
  | { readonly kind: 'preparing'; readonly ballot: Ballot; readonly quorum: JointQuorum; readonly promises: Map<string, BallotedState<V> | undefined>; readonly deadlineMs: number }
  | { readonly kind: 'accepting'; readonly ballot: Ballot; readonly quorum: JointQuorum; readonly evaluation: Evaluation<V>; readonly deadlineMs: number }
  | { readonly kind: 'backoff'; readonly untilMs: number }
  | { readonly kind: 'done' };

const NOTHING = Object.freeze({ send: Object.freeze([]) });

/**
 * One request's proposer. The caller calls `start` once, then `receive` for each reply and
 * `tick` at least every few milliseconds (timeouts, backoff) until an output has a decision.
 */
export class CasProposer<V> {
  private readonly config: ProposerConfig;
  private phase: Phase<V> = { kind: 'backoff', untilMs: Number.NEGATIVE_INFINITY };
  private attempts = 0;
  private highestSeen: Ballot = ZERO_BALLOT;
  private sawNack = false;
  /** Lowest version an applying proposal of ours was based on: where our change would sit. */
  private appliedBaseMin: number | undefined;

  constructor(private readonly init: ProposerInit<V>) {
    this.config = init.config ?? DEFAULT_PROPOSER_CONFIG;
  }

  get done(): boolean {
    return this.phase.kind === 'done';
  }

  /**
   * Whether an accept of a changing state may have gone out: what a caller that gives up on
   * this request (its own deadline) must report as `maybeApplied`.
   */
  get mayHaveApplied(): boolean {
    return this.appliedBaseMin !== undefined;
  }

  /**
   * `from` could not be reached (the transport refused or lost the message): counted as a no
   * for the current phase, so a phase whose quorum is out of reach ends at once instead of at
   * its timeout (fail fast, STYLE.md §3). Unlike a nack it says nothing about ballots.
   */
  unreachable(from: string, ballot: Ballot, nowMs: number): ProposerOutput<V> {
    const phase = this.phase;
    if (phase.kind !== 'preparing' && phase.kind !== 'accepting') return NOTHING;
    if (compareBallots(ballot, phase.ballot) !== 0 || !phase.quorum.members.includes(from)) return NOTHING;
    phase.quorum.fail(from);
    return phase.quorum.outcome() === 'failed' ? this.retry(nowMs) : NOTHING;
  }

  /** The first attempt. */
  start(nowMs: number): ProposerOutput<V> {
    return this.attempt(nowMs);
  }

  /** Timeouts and the end of a backoff. */
  tick(nowMs: number): ProposerOutput<V> {
    const phase = this.phase;
    if (phase.kind === 'backoff') return nowMs >= phase.untilMs ? this.attempt(nowMs) : NOTHING;
    if (phase.kind === 'done' || nowMs < phase.deadlineMs) return NOTHING;
    return this.retry(nowMs);
  }

  /** A reply from an acceptor; replies to other ballots and from strangers are ignored. */
  receive(from: string, message: PaxosMessage<V>, nowMs: number): ProposerOutput<V> {
    const phase = this.phase;
    if (phase.kind !== 'preparing' && phase.kind !== 'accepting') return NOTHING;
    if (message.key !== this.init.key || compareBallots(message.ballot, phase.ballot) !== 0) return NOTHING;
    if (!phase.quorum.members.includes(from)) return NOTHING;
    if (message.kind === 'nack') return this.onNack(from, message, nowMs);
    if (phase.kind === 'preparing' && message.kind === 'promise') {
      if (message.accepted !== undefined) this.highestSeen = maxBallot(this.highestSeen, message.accepted.ballot);
      phase.promises.set(from, message.accepted);
      phase.quorum.succeed(from);
      return phase.quorum.outcome() === 'met' ? this.propose(phase, nowMs) : NOTHING;
    }
    if (phase.kind === 'accepting' && message.kind === 'accepted') {
      phase.quorum.succeed(from);
      return phase.quorum.outcome() === 'met' ? this.commit(phase) : NOTHING;
    }
    return NOTHING;
  }

  private attempt(nowMs: number): ProposerOutput<V> {
    this.attempts++;
    const { ballot, reserveUpTo } = this.init.clock.next(this.highestSeen);
    this.highestSeen = ballot;
    const quorum = new JointQuorum(this.init.lists);
    this.phase = { kind: 'preparing', ballot, quorum, promises: new Map(), deadlineMs: nowMs + this.config.phaseTimeoutMs };
    const message: PaxosMessage<V> = { kind: 'prepare', key: this.init.key, ballot, layout: this.init.layout };
    const send = quorum.members.map((to) => ({ to, message }));
    return reserveUpTo === undefined ? { send } : { persistBallotMark: reserveUpTo, send };
  }

  /** Promise quorum met: read the latest state, evaluate the change, propose the result. */
  private propose(phase: Phase<V> & { kind: 'preparing' }, nowMs: number): ProposerOutput<V> {
    let latest: BallotedState<V> | undefined;
    for (const accepted of phase.promises.values()) {
      if (accepted !== undefined && (latest === undefined || compareBallots(accepted.ballot, latest.ballot) > 0)) latest = accepted;
    }
    const current: RegisterState<V> = latest?.state ?? EMPTY_REGISTER;
    const change = this.init.change;
    if (this.appliedBaseMin !== undefined && !alreadyApplied(current, change) && current.version - this.appliedBaseMin - 1 >= RECENT_REQUESTS_MAX) {
      // Our earlier proposal may have been chosen and pushed out of the recent ids since.
      return this.finish({ kind: 'failed', reason: 'unknowable', maybeApplied: true });
    }
    const evaluation = evaluate(current, change, this.init.equals);
    if (evaluation.kind === 'applied' && !alreadyApplied(current, change)) this.appliedBaseMin = Math.min(this.appliedBaseMin ?? current.version, current.version);
    const quorum = new JointQuorum(this.init.lists);
    this.phase = { kind: 'accepting', ballot: phase.ballot, quorum, evaluation, deadlineMs: nowMs + this.config.phaseTimeoutMs };
    const message: PaxosMessage<V> = { kind: 'accept', key: this.init.key, ballot: phase.ballot, layout: this.init.layout, state: evaluation.next };
    return { send: quorum.members.map((to) => ({ to, message })) };
  }

  private commit(phase: Phase<V> & { kind: 'accepting' }): ProposerOutput<V> {
    const message: PaxosMessage<V> = { kind: 'commit', key: this.init.key, ballot: phase.ballot, layout: this.init.layout, state: phase.evaluation.next };
    const send = phase.quorum.members.map((to) => ({ to, message }));
    return { ...this.finish({ kind: phase.evaluation.kind, state: phase.evaluation.next }), send };
  }

  private onNack(from: string, message: PaxosMessage<V> & { kind: 'nack' }, nowMs: number): ProposerOutput<V> {
    if (message.reason === 'layout') return this.finish({ kind: 'failed', reason: 'stale-layout', maybeApplied: this.appliedBaseMin !== undefined });
    this.sawNack = true;
    this.highestSeen = maxBallot(this.highestSeen, message.promised);
    const phase = this.phase as Phase<V> & { kind: 'preparing' | 'accepting' };
    phase.quorum.fail(from);
    return phase.quorum.outcome() === 'failed' ? this.retry(nowMs) : NOTHING;
  }

  /** Ends the attempt: back off for a random time, or give up after the last attempt. */
  private retry(nowMs: number): ProposerOutput<V> {
    if (this.attempts >= this.config.attemptsMax) {
      return this.finish({ kind: 'failed', reason: this.sawNack ? 'contention' : 'timeout', maybeApplied: this.appliedBaseMin !== undefined });
    }
    const ceilingMs = Math.min(this.config.backoffMaxMs, this.config.backoffBaseMs * 2 ** (this.attempts - 1));
    this.phase = { kind: 'backoff', untilMs: nowMs + this.init.random() * ceilingMs };
    return NOTHING;
  }

  private finish(decision: CasDecision<V>): ProposerOutput<V> {
    this.phase = { kind: 'done' };
    return { send: [], decision };
  }
}
