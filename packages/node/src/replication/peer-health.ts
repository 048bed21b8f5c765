/**
 * What this node itself has seen of each peer's answers: a circuit breaker per peer, beside
 * gossip's verdict. Gossip says whether a peer is alive to *someone* (SWIM's indirect probes
 * succeed through any member), so across a bridge partition, or a link that drops one way,
 * a peer can be alive to gossip yet silent to us. Routing decisions (whom to forward to, which
 * primaries a sloppy write replaces by fallbacks) ask `usable` as well as gossip, so a request
 * does not wait on a peer that has just left us unanswered while another node could serve it.
 * Cassandra's dynamic snitch and Riak's per-connection state play this part there.
 *
 * The rule: a peer trips when a request to it got no answer within its replica deadline and
 * nothing else from it was heard since that request went out (so a merely busy peer, still
 * answering other requests, does not trip), or when it could not be connected to. The deadline
 * adapts to the peer as TCP's retransmission timeout does (Jacobson/Karels, RFC 6298): the
 * smoothed answer time plus four deviations, never under the configured floor, so a peer that
 * a loaded machine makes slow is given the time it usually needs, while one that suddenly
 * goes silent is noticed after about the floor. A tripped
 * peer is avoided for `backoff` (1 s, doubling to 16 s while it keeps failing); after that,
 * requests go to it again (half open) and the first answer clears it. It is never a reason to
 * refuse a request outright: a peer that is the only way to a quorum is still asked.
 *
 * Pure state: time comes in as arguments.
 */
export const PEER_BACKOFF_MIN_MS = 1_000;
export const PEER_BACKOFF_MAX_MS = 16_000;
/** Peers tracked at most (one entry per peer that ever tripped or answered); far above any ring. */
const PEERS_MAX = 4_096;
/** A peer never measured gets this many floors (a first request also connects and says hello). */
const UNMEASURED_FLOORS = 4;
/** The adaptive deadline stops growing at this many floors. */
const CEILING_FLOORS = 10;

interface PeerState {
  lastAnswerMs: number;
  /** Smoothed answer time and its mean deviation (RFC 6298), undefined until measured. */
  srttMs?: number;
  rttvarMs: number;
  /** Avoid the peer until then (undefined: healthy). */
  downUntilMs?: number;
  backoffMs: number;
}

export interface PeerHealthSnapshot {
  readonly id: string;
  readonly usable: boolean;
  readonly downForMs: number;
  readonly lastAnswerMs: number;
}

export class PeerHealth {
  private readonly peers = new Map<string, PeerState>();
  private tripsTotal = 0;

  /**
   * Any answer from `id` (a result, even a coded refusal: the peer is there and talking);
   * `tookMs`, when given, is how long the request waited for it.
   */
  answered(id: string, nowMs: number, tookMs?: number): void {
    const state = this.state(id);
    state.lastAnswerMs = Math.max(state.lastAnswerMs, nowMs);
    if (tookMs !== undefined && Number.isFinite(tookMs) && tookMs >= 0) {
      if (state.srttMs === undefined) {
        state.srttMs = tookMs;
        state.rttvarMs = tookMs / 2;
      } else {
        state.rttvarMs = 0.75 * state.rttvarMs + 0.25 * Math.abs(state.srttMs - tookMs);
        state.srttMs = 0.875 * state.srttMs + 0.125 * tookMs;
      }
    }
    state.downUntilMs = undefined;
    state.backoffMs = PEER_BACKOFF_MIN_MS;
  }

  /**
   * A request sent at `sentAtMs` got no answer by its deadline. Trips the peer unless it was
   * heard from since; returns whether it was silent (true) or merely busy (false).
   */
  silent(id: string, sentAtMs: number, nowMs: number): boolean {
    const state = this.state(id);
    if (state.lastAnswerMs >= sentAtMs) return false;
    this.trip(state, nowMs);
    return true;
  }

  /** Whether anything was heard from `id` at or after `sinceMs` (no side effect). */
  heardSince(id: string, sinceMs: number): boolean {
    return (this.peers.get(id)?.lastAnswerMs ?? -Infinity) >= sinceMs;
  }

  /** How long a request to `id` may wait before the peer counts as late: see the header. */
  deadlineMs(id: string, floorMs: number): number {
    const state = this.peers.get(id);
    if (state?.srttMs === undefined) return UNMEASURED_FLOORS * floorMs;
    return Math.min(CEILING_FLOORS * floorMs, Math.max(floorMs, Math.ceil(state.srttMs + 4 * state.rttvarMs)));
  }

  /** `id` could not be connected to (refused, reset, unreachable). */
  unreachable(id: string, nowMs: number): void {
    this.trip(this.state(id), nowMs);
  }

  /** Whether routing may prefer `id` now. */
  usable(id: string, nowMs: number): boolean {
    const until = this.peers.get(id)?.downUntilMs;
    return until === undefined || nowMs >= until;
  }

  /** Times a peer was tripped, for /metrics. */
  get trips(): number {
    return this.tripsTotal;
  }

  /** Peers currently avoided, for status and /readyz details. */
  snapshot(nowMs: number): PeerHealthSnapshot[] {
    return [...this.peers].map(([id, s]) => ({
      id,
      usable: s.downUntilMs === undefined || nowMs >= s.downUntilMs,
      downForMs: s.downUntilMs === undefined ? 0 : Math.max(0, s.downUntilMs - nowMs),
      lastAnswerMs: s.lastAnswerMs,
    }));
  }

  /** Forgets a peer that left the ring. */
  forget(id: string): void {
    this.peers.delete(id);
  }

  private trip(state: PeerState, nowMs: number): void {
    // While already avoided, a late failure of a request sent earlier changes nothing; once the
    // backoff ran out (half open) a new failure doubles it.
    if (state.downUntilMs !== undefined && nowMs < state.downUntilMs) return;
    const doubled = state.downUntilMs === undefined ? PEER_BACKOFF_MIN_MS : Math.min(PEER_BACKOFF_MAX_MS, state.backoffMs * 2);
    state.backoffMs = doubled;
    state.downUntilMs = nowMs + doubled;
    this.tripsTotal += 1;
  }

  private state(id: string): PeerState {
    let state = this.peers.get(id);
    if (state === undefined) {
      if (this.peers.size >= PEERS_MAX) this.peers.delete(this.peers.keys().next().value as string);
      state = { lastAnswerMs: -Infinity, backoffMs: PEER_BACKOFF_MIN_MS, rttvarMs: 0 };
      this.peers.set(id, state);
    }
    return state;
  }
}
