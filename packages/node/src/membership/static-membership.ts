/**
 * A membership source from a list an operator (or `ringkv up`) provides: every listed member is
 * in the ring and taken as alive. The list can be replaced at run time (`replace`, used by the
 * authenticated /internal/members route) so a local ring whose ports the OS chose can be told
 * its members after start-up. SWIM replaces this source with gossip.
 */
import { ChangeListeners, isReachableStatus, type Member, type MembershipView } from './membership.js';

export interface StaticPeer {
  readonly id: string;
  readonly address: string;
  /** The peer's zone; absent or '' for none. */
  readonly zone?: string;
}

export class StaticMembership implements MembershipView {
  private list: Member[] = [];
  private readonly listeners = new ChangeListeners();
  private readonly removed = new Set<string>();
  /** Joined unless told otherwise (the cluster simulation: a restarted node before gossip reached it). */
  private isJoined = true;

  constructor(
    readonly selfId: string,
    selfAddress: string,
    peers: readonly StaticPeer[] = [],
    /** This node's own zone (`--zone`): kept whatever a replacing list says about it. */
    private readonly selfZone = '',
  ) {
    this.replace([{ id: selfId, address: selfAddress, zone: selfZone }, ...peers]);
  }

  /** Sets the member list (this node is always kept); notifies listeners when it changed. */
  replace(peers: readonly StaticPeer[]): void {
    const byId = new Map<string, StaticPeer>();
    for (const peer of peers) byId.set(peer.id, peer);
    if (!byId.has(this.selfId)) {
      const self = this.list.find((m) => m.id === this.selfId);
      if (self) byId.set(self.id, self);
    }
    const self = byId.get(this.selfId);
    if (self !== undefined) byId.set(this.selfId, { ...self, zone: this.selfZone });
    const next: Member[] = [...byId.values()]
      .map((peer) => ({ id: peer.id, address: peer.address.replace(/\/+$/, ''), status: 'alive' as const, incarnation: 0, ...(peer.zone ? { zone: peer.zone } : {}) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const changed = JSON.stringify(next) !== JSON.stringify(this.list);
    this.list = next;
    if (changed) this.listeners.notify();
  }

  /**
   * Sets a member's status by hand (an operator marking a node down, or a test): only
   * reachability changes; the member keeps its ring position unless marked `left`.
   */
  setStatus(id: string, status: Member['status']): void {
    this.list = this.list.map((m) => (m.id === id ? { ...m, status } : m));
    this.listeners.notify();
  }

  members(): readonly Member[] {
    return this.list;
  }

  member(id: string): Member | undefined {
    return this.list.find((m) => m.id === id);
  }

  ringMembers(): readonly string[] {
    return this.list.filter((m) => m.status !== 'left').map((m) => m.id);
  }

  isReachable(id: string): boolean {
    return isReachableStatus(this.member(id)?.status);
  }

  /** Records that an operator removed `id` for good (kept even after it leaves the list). */
  markRemoved(id: string): void {
    if (id !== this.selfId) this.removed.add(id);
  }

  joined(): boolean {
    return this.isJoined;
  }

  /** Sets whether this node counts as joined to its ring (membership.ts MembershipView.joined). */
  setJoined(joined: boolean): void {
    if (joined === this.isJoined) return;
    this.isJoined = joined;
    this.listeners.notify();
  }

  isRemoved(id: string): boolean {
    return this.removed.has(id);
  }

  onChange(listener: () => void): () => void {
    return this.listeners.add(listener);
  }
}
