/**
 * How far this node's wall clock is from its peers' (issue 16.5). Every authentic gossip packet
 * carries its sender's wall time (swim/packet.ts) and every hello answer the receiver's
 * (transport/auth.ts): each gives a sample `peer clock − our clock` (off by at most the one-way
 * delay, milliseconds on a LAN). The estimate is our clock minus the median of all the clocks
 * we know, our own included (each peer's latest sample), so one node with a bad clock does not
 * make the others look wrong: in a ring of three where one node runs 45 s ahead, that node sees
 * +45 s (the median of {−45, −45, 0} relative to it), the others about 0 ({0, 0, +45}).
 *
 * What depends on wall clocks here: TTL expiry, tombstone dating (bounded by 30 s, see
 * core/versioned.ts localDeadAfterMs) and the freshness window of internal messages (which
 * senders stamp in the receiver's time, so skew alone does not refuse them). A node more than
 * `SKEW_READY_MAX_MS` off is therefore reported not ready (/readyz) and loudly logged; past
 * `SKEW_WARN_MS` it is logged and shown in status. Pure: samples and time come in as arguments.
 */
export const SKEW_WARN_MS = 5_000;
export const SKEW_READY_MAX_MS = 30_000;
/** Samples older than this are ignored (the peer may have fixed its clock, or left). */
const SAMPLE_TTL_MS = 60_000;
const PEERS_MAX = 1_024;

export interface SkewEstimate {
  /** Our clock minus the median clock of the peers and this node (positive: this node runs ahead). */
  readonly skewMs: number;
  /** Peers with a recent sample. */
  readonly peers: number;
  /** Set when |skewMs| > SKEW_WARN_MS: what an operator should read. */
  readonly warning?: string;
}

export class ClockSkew {
  private readonly samples = new Map<string, { deltaMs: number; atMs: number }>();

  /** `peerTimeMs` is the peer's wall clock as it sent; `nowMs` ours as it arrived. */
  observe(peer: string, peerTimeMs: number, nowMs: number): void {
    if (!Number.isFinite(peerTimeMs)) return;
    if (!this.samples.has(peer) && this.samples.size >= PEERS_MAX) this.samples.delete(this.samples.keys().next().value as string);
    this.samples.set(peer, { deltaMs: peerTimeMs - nowMs, atMs: nowMs });
  }

  estimate(nowMs: number): SkewEstimate {
    const peers = [...this.samples.values()].filter((s) => nowMs - s.atMs <= SAMPLE_TTL_MS).map((s) => s.deltaMs);
    if (peers.length === 0) return { skewMs: 0, peers: 0 };
    const deltas = [0, ...peers].sort((a, b) => a - b);
    const mid = deltas.length >> 1;
    const median = deltas.length % 2 === 1 ? deltas[mid]! : (deltas[mid - 1]! + deltas[mid]!) / 2;
    const skewMs = Math.round(-median) || 0;
    if (Math.abs(skewMs) <= SKEW_WARN_MS) return { skewMs, peers: peers.length };
    const seconds = (Math.abs(skewMs) / 1000).toFixed(1);
    return { skewMs, peers: peers.length, warning: `this node's clock is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} the ring's median clock (${peers.length} peer(s) and this node); fix its time synchronisation (NTP)` };
  }
}
