/**
 * The layout compare-and-set rounds run under, as a replica sees it (docs/cas.md "Membership
 * changes"). A layout is named by a digest of the ring (its members and their zones, what
 * placement is computed from), so two nodes with the same ring name it alike and nodes that
 * disagree about the ring refuse each other's rounds. Since a ring can come back to a layout it
 * had before (a node joins, then leaves), each replica also keeps a generation: bumped, and
 * durable, whenever its ring's digest changes, before it answers anything under the new one. A
 * replica's record of a key counts only at the generation it was learned or written at; after
 * any change of ring the replica learns the key again (cas-acceptor-service.ts) before it
 * answers for it.
 */
import { createHash } from 'node:crypto';
import { preferenceList, type Ring } from '@ringkv/protocol';
import type { MembershipView } from '../membership/membership.js';
import type { CasValue } from '../consensus/cas-value.js';
import type { PaxosMessage } from '../consensus/messages.js';
import type { AcceptorRecordStore, LayoutMark } from '../storage/acceptor-records.js';
import type { Transport } from '../transport/transport.js';
import { KvError } from '../errors.js';
import { casPlantedBugs } from './cas-planted-bugs.js';

const digests = new WeakMap<Ring, number>();

/** The layout digest of a ring of `members` (sorted by id): 48 bits of SHA-256 over ids and zones, never 0 (0 is "no layout"). */
export function layoutDigestOf(members: ReadonlyArray<{ readonly id: string; readonly zone: string }>): number {
  const text = members.map((m) => `${m.id}@${m.zone}`).join(',');
  return createHash('sha256').update(text).digest().readUIntBE(0, 6) || 1;
}

/** The ring's layout digest (layoutDigestOf its members), computed once per ring. */
export function ringDigest(ring: Ring): number {
  let digest = digests.get(ring);
  if (digest === undefined) {
    digest = layoutDigestOf(ring.nodes.map((id, i) => ({ id, zone: ring.zones[i] ?? '' })));
    digests.set(ring, digest);
  }
  return digest;
}

/**
 * The refusal of a node that has not joined its ring yet (membership.ts `joined`): until a
 * member's full state reached it, its ring may be itself alone, and a round on that ring would
 * be decided by this node's own, possibly stale, record (test/regression/
 * issue-17-cas-before-join.test.ts). Surely not applied: the client may send it elsewhere.
 */
export function notJoined(): KvError {
  return new KvError('KV_ERR_QUORUM_UNMET', 'this node has not joined its ring yet (no member list from a seed): it takes part in no compare-and-set round until it has', { attempted: false, reason: 'not-joined' });
}

/** What the acceptor service asks of the layout (a test may pass its own). */
export interface LayoutGuard {
  /**
   * The current ring's digest and this replica's generation for it, durable before it
   * resolves; rejects (notJoined) while this node has not joined its ring.
   */
  current(): Promise<LayoutMark>;
  /**
   * Whom a key is learned from: the other members of the current ring, and members that left
   * and are not forgotten yet (a leaving node answers until it stops, and stops only once its
   * records are handed over: it may hold the last copy of a state).
   */
  peers(): string[];
  /** The key's preference list on the current ring (where a leaving node hands a record). */
  owners(key: string): string[];
  /** This node's id. */
  readonly selfId: string;
  /** The other members of the current ring (whom a leaving node tells it handed everything over). */
  ringPeers(): string[];
  /** This node's incarnation as its membership knows it (what its `handed-over` notice carries). */
  selfIncarnation(): number;
  /**
   * Records, durably, that `id` left at `incarnation` and handed every record over: learns stop
   * waiting for it (peers). Ignored unless this node knows `id` as left at that incarnation or
   * not yet as left (a notice that outran gossip); false when ignored.
   */
  noteHandedOver(id: string, incarnation: number): Promise<boolean>;
  /** Records, durably, that every key was learned at `generation` (if it is still current). */
  markLearned(generation: number): Promise<void>;
  /** Sends `message` (a learn) to `peer`; its reply, or undefined if none came. */
  ask(peer: string, message: PaxosMessage<CasValue>): Promise<PaxosMessage<CasValue> | undefined>;
}

export interface CasLayoutDeps {
  readonly selfId: string;
  readonly ring: () => Ring;
  readonly records: AcceptorRecordStore;
  readonly membership: MembershipView;
  readonly n: number;
  readonly transport: Transport;
}

/** The node's LayoutGuard over its ring view, its store and the transport. */
export class CasLayout implements LayoutGuard {
  private mark: LayoutMark | undefined;
  /** Members that handed their records over (noteHandedOver), loaded from the store once. */
  private departed: ReadonlyMap<string, number> | undefined;
  /** Generation bumps, one after another (a bump is a durable write). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: CasLayoutDeps) {}

  /** The digest of the ring as this node sees it now (what its proposers put on their messages). */
  digest(): number {
    return ringDigest(this.deps.ring());
  }

  current(): Promise<LayoutMark> {
    // A node that has not joined its ring may see itself alone: no layout, no generation bump.
    if (!this.joined()) return Promise.reject(notJoined());
    const digest = this.digest();
    this.mark ??= this.deps.records.layoutMark();
    if (this.mark.digest === digest) return Promise.resolve(this.mark);
    const bump = this.chain.then(async () => {
      const mark = this.mark!;
      if (mark.digest === digest) return mark;
      const next = { digest, generation: mark.generation + 1, learned: false };
      await this.deps.records.putLayoutMark(next);
      this.mark = next;
      return next;
    });
    this.chain = bump.catch(() => undefined);
    return bump;
  }

  joined(): boolean {
    return casPlantedBugs.answerBeforeJoined || (this.deps.membership.joined?.() ?? true);
  }

  markLearned(generation: number): Promise<void> {
    const done = this.chain.then(async () => {
      const mark = this.mark;
      if (mark === undefined || mark.generation !== generation || mark.learned) return;
      const next = { ...mark, learned: true };
      await this.deps.records.putLayoutMark(next);
      this.mark = next;
    });
    this.chain = done.catch(() => undefined);
    return done;
  }

  peers(): string[] {
    const { membership, selfId } = this.deps;
    const handedOver = this.handedOver();
    // A member that left is asked until it is forgotten, unless it told this replica it handed
    // every record to the owners on its ring (handOverOnce in cas-acceptor-service.ts), at the
    // incarnation it left at: a later leave of the same id is waited for again.
    const left = membership.members().filter((m) => m.status === 'left' && !membership.isRemoved(m.id) && handedOver.get(m.id) !== m.incarnation).map((m) => m.id);
    return [...new Set([...this.deps.ring().nodes, ...left])].filter((id) => id !== selfId);
  }

  get selfId(): string {
    return this.deps.selfId;
  }

  ringPeers(): string[] {
    return this.deps.ring().nodes.filter((id) => id !== this.deps.selfId);
  }

  selfIncarnation(): number {
    return this.deps.membership.member(this.deps.selfId)?.incarnation ?? 0;
  }

  private handedOver(): ReadonlyMap<string, number> {
    this.departed ??= new Map(this.deps.records.handedOver());
    return this.departed;
  }

  noteHandedOver(id: string, incarnation: number): Promise<boolean> {
    const member = this.deps.membership.member(id);
    if (member !== undefined && member.status === 'left' && member.incarnation !== incarnation) return Promise.resolve(false);
    const next = new Map(this.handedOver());
    // Only members still known are kept: the map stays as small as the membership.
    for (const known of next.keys()) if (this.deps.membership.member(known) === undefined) next.delete(known);
    next.set(id, incarnation);
    this.departed = next;
    const done = this.chain.then(() => this.deps.records.putHandedOver(next));
    this.chain = done.catch(() => undefined);
    return done.then(() => true);
  }

  owners(key: string): string[] {
    return preferenceList(this.deps.ring(), key, this.deps.n).filter((id) => id !== this.deps.selfId);
  }

  async ask(peer: string, message: PaxosMessage<CasValue>): Promise<PaxosMessage<CasValue> | undefined> {
    const member = this.deps.membership.member(peer);
    if (member === undefined) return undefined;
    try {
      const result = await this.deps.transport.replica(member, { kind: 'paxos', key: message.key, message });
      return result.ok ? result.paxos : undefined;
    } catch {
      return undefined;
    }
  }
}
