/**
 * Delivery of hints (Dynamo §4.6): every `intervalMs`, for each owner this node holds hints
 * for that membership says is reachable again, send up to `batch` of them as ordinary replica
 * writes (merged by the owner, so a repeat is harmless), and delete those the owner
 * acknowledged, unless a newer write was merged into the hint meanwhile (sequence check).
 * Hints older than `ttlMs` are dropped and counted: anti-entropy repairs what they held.
 * Hints for an owner that left, was removed or is unknown go to the key's current owners.
 * A node that leaves the ring hands the hints it cannot deliver to another live node
 * (`handOverOnce`) before it stops, so the writes they carry keep their copies (issue 19.6).
 */
import type { Logger } from 'pino';
import type { Member, MembershipView } from '../membership/membership.js';
import type { VersionedObject, VersioningLimits } from '../core/versioned.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import type { Timers } from '../timers.js';
import { RoundLoop } from './round-loop.js';

export interface HandoffDeps {
  readonly store: Store;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** Hints sent to one owner per round. */
  readonly batch: number;
  readonly ttlMs: number;
  readonly events?: { delivered?(count: number): void; dropped?(count: number): void };
  /** The key's current preference list (where hints for departed owners go). */
  readonly ownersOf: (key: string) => string[];
  readonly limits: VersioningLimits;
  /** The process's timers, or a simulation's manual clock's (node.ts decides, once). */
  readonly timers: Timers;
}

export class HintedHandoff {
  private readonly loop: RoundLoop<unknown>;

  constructor(private readonly deps: HandoffDeps) {
    this.loop = new RoundLoop(() => this.deliverOnce(), (error) => deps.logger.warn({ err: error }, 'hint delivery round failed'), deps.timers);
  }


  /** One delivery round; resolves with how many hints were delivered and dropped. */
  async deliverOnce(): Promise<{ delivered: number; dropped: number }> {
    const { store, membership, transport } = this.deps;
    const dropped = store.hints.expire(this.deps.nowMs() - this.deps.ttlMs);
    if (dropped > 0) this.deps.events?.dropped?.(dropped);
    let delivered = 0;
    for (const { owner } of store.hints.owners()) {
      const member = membership.member(owner);
      const gone = member === undefined || member.status === 'left';
      if (!gone && !membership.isReachable(owner)) continue;
      const hints = store.hints.take(owner, this.deps.batch);
      const acked = await Promise.all(hints.map((hint) => (gone ? this.redirect(hint.key, hint.object) : this.send(member!, hint.key, hint.object))));
      delivered += store.hints.remove(hints.filter((_, i) => acked[i]).map(({ id, seq }) => ({ id, seq })));
    }
    if (delivered > 0) this.deps.events?.delivered?.(delivered);
    return { delivered, dropped };
  }

  private async send(member: Member, key: string, object: VersionedObject): Promise<boolean> {
    try {
      return (await this.deps.transport.replica(member, { kind: 'put', key, object })).ok;
    } catch {
      return false;
    }
  }

  /**
   * A hint for an owner that left or was removed (or that no member knows, as after it was
   * forgotten) goes to the key's current owners instead: all of them must take it, so the
   * write it carries is not lost with the owner it was meant for.
   */
  private async redirect(key: string, object: VersionedObject): Promise<boolean> {
    const { membership } = this.deps;
    const owners = this.deps.ownersOf(key).filter((id) => id !== membership.selfId);
    const members = owners.map((id) => membership.member(id));
    if (members.some((m) => m === undefined || !membership.isReachable(m.id))) return false;
    const results = await Promise.all(members.map((m) => this.send(m!, key, object)));
    if (!results.every(Boolean)) return false;
    if (this.deps.ownersOf(key).includes(membership.selfId)) await this.deps.store.merge(key, object, this.deps.limits);
    return true;
  }

  /**
   * For a node that is leaving: each hint goes to its owner if the owner takes it now, or else
   * to another node (a member of the key's preference list first, then any member), which keeps
   * it as its own hint for the same owner; the local copy is deleted once one of them
   * acknowledged it durably. Reachability as this node sees it is not trusted here: a node that
   * left during a partition may never again hear that its peers are alive (they no longer
   * gossip with a departed member), so every candidate is simply tried. Resolves with how many
   * hints were delivered or handed over.
   */
  async handOverOnce(): Promise<number> {
    const { store } = this.deps;
    let handed = 0;
    for (const { owner } of store.hints.owners()) {
      const hints = store.hints.take(owner, this.deps.batch);
      const acked = await Promise.all(hints.map((hint) => this.handOver(owner, hint.key, hint.object)));
      handed += store.hints.remove(hints.filter((_, i) => acked[i]).map(({ id, seq }) => ({ id, seq })));
    }
    return handed;
  }

  private async handOver(owner: string, key: string, object: VersionedObject): Promise<boolean> {
    const { membership } = this.deps;
    const live = (id: string) => {
      const member = membership.member(id);
      return member !== undefined && member.status !== 'left' && !membership.isRemoved(id) ? member : undefined;
    };
    const ownerMember = live(owner);
    if (ownerMember !== undefined && (await this.send(ownerMember, key, object))) return true;
    // Outside the preference list first: the key's other owners likely hold this very write
    // already (the coordinator always does), and a hint parked there is no copy of its own;
    // lose that node's disk and the acknowledged write could be gone (issue 15, seed 354).
    const usable = (id: string) => id !== membership.selfId && id !== owner && live(id) !== undefined;
    const owners = this.deps.ownersOf(key);
    const apart = membership.members().map((m) => m.id).filter((id) => usable(id) && !owners.includes(id));
    for (const id of [...apart, ...owners.filter(usable)]) {
      try {
        if ((await this.deps.transport.replica(live(id)!, { kind: 'hint', key, object, owner })).ok) return true;
      } catch {
        // try the next node
      }
    }
    return false;
  }

  /** Runs rounds every `intervalMs` until stop(); a round never overlaps the next. */
  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
