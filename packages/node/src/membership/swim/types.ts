/**
 * Messages, member records and configuration of the SWIM membership machine.
 *
 * Sources: Das, Gupta, Motivala, "SWIM" (DSN 2002): probe, indirect probe, suspicion,
 * incarnation numbers, piggybacked dissemination; Dadgar et al., "Lifeguard" (2017): local
 * health, dynamic suspicion timeouts, nacks, the buddy system; hashicorp/memberlist for the
 * engineering (state.go, suspicion.go, awareness.go, broadcast queue, push/pull).
 */

export type SwimStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** What every member knows about one member. */
export interface SwimMember {
  readonly id: string;
  /** Gossip (UDP) address, host:port. */
  readonly gossipAddress: string;
  /** HTTP base URL of the node (for the replication transport). */
  readonly httpAddress: string;
  /** The member's zone (`--zone`), absent for none; it places replicas (protocol ring.ts). */
  readonly zone?: string;
  readonly status: SwimStatus;
  readonly incarnation: number;
  /** Local time of the last status change (for retention of dead and left members). */
  readonly changedMs: number;
}

/** A membership update, disseminated by piggybacking and carried by push/pull. */
export type Update =
  /**
   * `zone` is absent for a member without one, and in packets from versions before zones:
   * both decode as "no zone" (packet.ts), so a mixed-version ring keeps gossiping.
   */
  | { readonly kind: 'alive'; readonly id: string; readonly incarnation: number; readonly gossipAddress: string; readonly httpAddress: string; readonly zone?: string }
  | { readonly kind: 'suspect' | 'dead' | 'left'; readonly id: string; readonly incarnation: number; readonly from: string };

/** Datagram messages (UDP in production). Every one may carry piggybacked updates. */
export type SwimMessage =
  | { readonly type: 'ping'; readonly seq: number; readonly from: string; readonly target: string; readonly updates: readonly Update[] }
  | { readonly type: 'ack'; readonly seq: number; readonly from: string; readonly updates: readonly Update[] }
  | { readonly type: 'nack'; readonly seq: number; readonly from: string; readonly updates: readonly Update[] }
  | {
      readonly type: 'ping-req';
      readonly seq: number;
      readonly from: string;
      readonly target: string;
      readonly targetAddress: string;
      readonly updates: readonly Update[];
    }
  /** Pending updates pushed to a few random members while there are any (fast dissemination). */
  | { readonly type: 'gossip'; readonly from: string; readonly updates: readonly Update[] }
  /** Full state exchange (join, periodic anti-entropy, re-probing the dead). */
  | { readonly type: 'push-pull'; readonly from: string; readonly reply: boolean; readonly state: readonly Update[]; readonly updates: readonly Update[] };

export interface Packet {
  /** Gossip address of the recipient. */
  readonly to: string;
  readonly message: SwimMessage;
}

export type SwimEvent =
  | { readonly kind: 'join'; readonly member: SwimMember }
  | { readonly kind: 'update'; readonly member: SwimMember; readonly previous: SwimStatus }
  | { readonly kind: 'refute'; readonly incarnation: number }
  /** A member that left long ago (leftRetainMs) is dropped from the table. */
  | { readonly kind: 'forget'; readonly member: SwimMember }
  /** This member learned that `id` was removed for good (the node keeps the list on disk). */
  | { readonly kind: 'removed'; readonly id: string }
  /** This member itself was removed: it must stop and never rejoin under its id. */
  | { readonly kind: 'self-removed' };

export interface SwimConfig {
  /** Protocol period: one probe per period (scaled by local health). */
  readonly probeIntervalMs: number;
  /** How long to wait for a direct ack before indirect probes (scaled by local health). */
  readonly probeTimeoutMs: number;
  /** Members asked to probe indirectly (SWIM's k). */
  readonly indirectChecks: number;
  /** Retransmit limit of an update is retransmitMult * ceil(log10(n + 1)). */
  readonly retransmitMult: number;
  /** Minimum suspicion timeout is suspicionMult * max(1, log10(n)) * probeIntervalMs. */
  readonly suspicionMult: number;
  /** Maximum suspicion timeout, as a multiple of the minimum (Lifeguard's upper bound). */
  readonly suspicionMaxMult: number;
  /** Lifeguard local-health multiplier ceiling (0 = healthy). */
  readonly awarenessMax: number;
  /** While updates are pending, push them to `gossipNodes` random members this often. */
  readonly gossipIntervalMs: number;
  readonly gossipNodes: number;
  /** Full state exchange with a random live member this often (0 = never). */
  readonly pushPullIntervalMs: number;
  /** Push/pull with a random dead member this often, so partitions heal by themselves. */
  readonly deadProbeIntervalMs: number;
  /** How long dead and left members are remembered (dead ones keep their ring position). */
  readonly leftRetainMs: number;
  /** Largest encoded datagram; piggybacked updates are cut to fit. */
  readonly packetBytesMax: number;
  /** Most updates piggybacked on one message. */
  readonly piggybackMax: number;
}

/** LAN-like defaults tuned for a ring on one machine or one rack (see docs/membership.md). */
export const defaultSwimConfig: SwimConfig = Object.freeze({
  probeIntervalMs: 800,
  probeTimeoutMs: 200,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 1.75,
  suspicionMaxMult: 2.5,
  awarenessMax: 8,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  pushPullIntervalMs: 30_000,
  deadProbeIntervalMs: 5_000,
  leftRetainMs: 10 * 60_000,
  packetBytesMax: 1400,
  piggybackMax: 16,
});
