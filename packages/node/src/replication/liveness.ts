/**
 * Telling a gone peer from a slow one, for the coordinator. A replica that has not answered is
 * either cut off (a partition, a bridge, a dead process behind an open port) or slow (its disk,
 * its queue, a busy machine); the first should cost a request no more than a moment (try a
 * fallback, fail fast with 503), the second should be waited for. Gossip cannot tell this
 * node which it is: SWIM's indirect probes succeed through any member, so across a bridge
 * partition a peer stays alive to gossip while it is silent to us, and gossip takes seconds.
 *
 * So the coordinator asks the peer itself: a probe (Transport.probe: a PING frame on the
 * stream, answered by the peer's read loop ahead of any queued work, or `GET /livez` over
 * HTTP). An answer means the process and the link are up, so the replica is only slow; no
 * answer within `timeoutMs` means this node cannot reach it now. One probe per peer is in
 * flight at a time, shared by every request waiting on that peer, so a cut link costs one
 * probe, not one per request. An answer counts as hearing from the peer (peer-health.ts); no
 * answer trips the peer there, so the next requests route around it at once.
 *
 * Akin to gRPC's keepalive PING and Cassandra's per-connection liveness; the verdict is this
 * node's alone and never outlives the peer-health backoff.
 */
import type { Member } from '../membership/membership.js';
import type { Transport } from '../transport/transport.js';
import type { PeerHealth } from './peer-health.js';

export class Liveness {
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly deps: {
      readonly transport: Pick<Transport, 'probe'>;
      readonly health: PeerHealth;
      readonly nowMs: () => number;
      /** How long a probe may go unanswered before the peer counts as unreachable. */
      readonly timeoutMs: number;
    },
  ) {}

  /**
   * Whether `member` answers a probe now (one already in flight is shared). Resolves true or
   * false, never rejects; a closed transport (this node stopping) counts as reachable, so
   * nothing is failed on its account.
   */
  check(member: Member): Promise<boolean> {
    let probe = this.inFlight.get(member.id);
    if (probe === undefined) {
      const { transport, health, nowMs, timeoutMs } = this.deps;
      probe = transport.probe(member, timeoutMs).then(
        () => {
          health.answered(member.id, nowMs());
          return true;
        },
        (error: unknown) => {
          if ((error as { code?: unknown } | null)?.code === 'KV_ERR_SHUTTING_DOWN') return true;
          health.unreachable(member.id, nowMs());
          return false;
        },
      );
      const started = probe;
      this.inFlight.set(member.id, started);
      void started.finally(() => {
        if (this.inFlight.get(member.id) === started) this.inFlight.delete(member.id);
      });
    }
    return probe;
  }

  /** Probes in flight now (tests, status). */
  get pending(): number {
    return this.inFlight.size;
  }
}
