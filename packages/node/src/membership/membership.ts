/**
 * The membership view the ring and the coordinator read. It answers two separate questions
 * (Dynamo §4.8, and SPEC.md "Ring and placement"):
 *
 * - who is *in the ring* (joined and not left or removed): only joins and leaves change this,
 *   and so only they move ownership;
 * - who is *reachable now* (alive or suspect vs dead): failures change only this, which is what
 *   sloppy quorum and hinted handoff act on. A node that is merely unreachable keeps its tokens.
 *
 * Two sources implement it: SWIM gossip (swim-membership.ts, the default) and a static list
 * (static-membership.ts), so the coordinator never knows which one it reads.
 */

import type { RingMember } from '@ringkv/protocol';

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  readonly id: string;
  /** Base URL of the node's HTTP API (client and /internal/ routes). */
  readonly address: string;
  readonly status: MemberStatus;
  readonly incarnation: number;
  /** The member's zone (`--zone`); absent for none. Placement spreads replicas over zones. */
  readonly zone?: string;
}

export interface MembershipView {
  /** This node's id. */
  readonly selfId: string;
  /** Every known member, whatever its status, sorted by id. */
  members(): readonly Member[];
  member(id: string): Member | undefined;
  /** Ids that own ring positions: everyone not `left`. Unreachable members stay in the ring. */
  ringMembers(): readonly string[];
  /** True when requests to the member are worth sending now (alive or suspect). */
  isReachable(id: string): boolean;
  /**
   * True when an operator removed `id` for good (issue 19.5): its internal requests are
   * refused, so a removed node that comes back with old data cannot push it into the ring.
   */
  isRemoved(id: string): boolean;
  /** Called after any change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /**
   * False while this node has not yet joined its ring: a SWIM node starts knowing only itself,
   * and until a member's full state reached it (its join's push-pull, or any push-pull) its
   * ring is itself alone, so every preference list is [self]. What must not act on such a
   * ring (compare-and-set: docs/cas.md "Joining"; /readyz) asks this. Absent: always joined
   * (a list an operator gave).
   */
  joined?(): boolean;
}

/**
 * The ring's members with their zones, sorted by id: what placement is computed from
 * (protocol ring.ts). Members not in the ring (left) are not in it.
 */
export function ringLayout(view: MembershipView): RingMember[] {
  const inRing = new Set(view.ringMembers());
  return view.members().filter((m) => inRing.has(m.id)).map((m) => ({ id: m.id, zone: m.zone ?? '' }));
}

/** Members counted by status, for /admin/status. */
export function countByStatus(members: readonly Member[]): Record<MemberStatus, number> {
  const counts: Record<MemberStatus, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const member of members) counts[member.status]++;
  return counts;
}

/** Whether requests to a member in `status` are worth sending now. */
export function isReachableStatus(status: MemberStatus | undefined): boolean {
  return status === 'alive' || status === 'suspect';
}

/** The change listeners of a membership source (both sources share this). */
export class ChangeListeners {
  private readonly listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
