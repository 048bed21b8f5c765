/**
 * MembershipView backed by SWIM gossip: ring membership is every member not `left` (a dead
 * member keeps its ring position until an operator removes it), reachability is alive or
 * suspect. The coordinator reads it exactly as it reads the static source.
 */
import { ChangeListeners, isReachableStatus, type Member, type MembershipView } from './membership.js';
import type { Swim } from './swim/swim.js';
import type { SwimMember } from './swim/types.js';

function toMember(m: SwimMember): Member {
  return { id: m.id, address: m.httpAddress, status: m.status, incarnation: m.incarnation, ...(m.zone === undefined ? {} : { zone: m.zone }) };
}

export class SwimMembership implements MembershipView {
  private readonly listeners = new ChangeListeners();
  private cache: Member[] | undefined;

  /** `joined`: whether the driver has merged a member's full state since start (SwimDriver.joined). */
  constructor(
    private readonly swim: Swim,
    private readonly hasJoined: () => boolean = () => true,
  ) {}

  joined(): boolean {
    return this.hasJoined();
  }

  isRemoved(id: string): boolean {
    return this.swim.isRemoved(id);
  }

  get selfId(): string {
    return this.swim.self.id;
  }

  /** Call after the machine emitted events: views are rebuilt and listeners told. */
  changed(): void {
    this.cache = undefined;
    this.listeners.notify();
  }

  members(): readonly Member[] {
    this.cache ??= this.swim
      .allMembers()
      .map(toMember)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.cache;
  }

  member(id: string): Member | undefined {
    const m = this.swim.member(id);
    return m === undefined ? undefined : toMember(m);
  }

  ringMembers(): readonly string[] {
    return this.members().filter((m) => m.status !== 'left').map((m) => m.id);
  }

  isReachable(id: string): boolean {
    return isReachableStatus(this.member(id)?.status);
  }

  onChange(listener: () => void): () => void {
    return this.listeners.add(listener);
  }
}
