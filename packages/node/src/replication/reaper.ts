/**
 * Reaping tombstones and expired values (docs/healing.md, "Tombstones and TTL", has the rule
 * and its proof sketch). A key whose whole object has been dead (every sibling a tombstone or
 * past its TTL) for longer than `graceMs` is dropped from this node's store when, at that
 * moment, every member of the ring answers that it stores either the very same object (same
 * digest) or nothing for the key, and holds no hint for it. Anything else (a member that is
 * unreachable, one holding an older or newer version, a pending hint, a member that left
 * recently and may still be handing data off) keeps the key for a later round.
 *
 * Why that is enough: a deleted value can only come back by being copied from somewhere it
 * still lives (a replica, a hint, a node handing off, a message in flight). The check rules out
 * every stored copy on every member; nothing older than the grace can still be in flight,
 * because peers refuse signed requests older than the authentication window (30 s) and the
 * grace must exceed it; and anti-entropy and read repair never copy a key that has been dead
 * past the grace to a replica that lacks it (anti-entropy.ts), so replicas that reaped first
 * are not refilled by those that have not yet. Both sides of that rule, what may be reaped and
 * what may be copied, are decided by core/no-resurrection.ts.
 *
 * Sources: Cassandra's gc_grace_seconds and riak_kv's delete_mode keep a tombstone for a grace
 * period too; neither asks every member before dropping it, which is how deleted data comes
 * back there after a long partition (Cassandra's "zombie" rows).
 */
import type { Logger } from 'pino';
import type { MembershipView } from '../membership/membership.js';
import { sameHash } from '../storage/digest-tree.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import { TREE_KEYS_MAX } from '../transport/tree-messages.js';
import { graceCutoffMs } from '../core/no-resurrection.js';
import type { Timers } from '../timers.js';
import { RoundLoop } from './round-loop.js';

export interface ReaperDeps {
  readonly store: Store;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly nowMs: () => number;
  readonly logger: Logger;
  /** How long an object must have been dead before it may be reaped. */
  readonly graceMs: number;
  /** Keys examined per round. */
  readonly batch: number;
  readonly requestTimeoutMs: number;
  readonly timers: Timers;
  readonly events?: { reaped?(count: number): void };
}

export interface ReapReport {
  readonly examined: number;
  readonly reaped: number;
  /** Why nothing could be reaped this round, when that was for the whole round. */
  readonly blocked?: string;
}

export class Reaper {
  private reapedTotal = 0;
  private lastBlocked: string | undefined;
  private readonly loop: RoundLoop<ReapReport>;

  constructor(private readonly deps: ReaperDeps) {
    this.loop = new RoundLoop(() => this.runOnce(), (error) => deps.logger.warn({ err: error }, 'reaper round failed'), deps.timers);
  }

  status(): { reaped: number; graceMs: number; blocked?: string } {
    return { reaped: this.reapedTotal, graceMs: this.deps.graceMs, ...(this.lastBlocked === undefined ? {} : { blocked: this.lastBlocked }) };
  }

  async runOnce(): Promise<ReapReport> {
    const { store, membership, transport } = this.deps;
    const candidates = store.deadBefore(graceCutoffMs(this.deps.nowMs(), this.deps.graceMs), Math.min(this.deps.batch, TREE_KEYS_MAX));
    if (candidates.length === 0) return this.report(0, 0);
    // A node that has not joined its ring may know only itself: "every member" would be no one.
    if (membership.joined?.() === false) return this.report(candidates.length, 0, 'this node has not joined its ring yet');
    // Every member that could hold a copy must answer: all of them reachable, none departed.
    // A removed member never holds a copy that counts again (its requests are refused).
    const others = membership.members().filter((m) => m.id !== membership.selfId && !membership.isRemoved(m.id));
    const absent = others.find((m) => m.status !== 'alive');
    if (absent !== undefined) return this.report(candidates.length, 0, `member ${absent.id} is ${absent.status}`);
    const keys = candidates.map((c) => c.key);
    // What this node reports about itself must survive a power loss too (issue 19.8).
    await store.syncNow();
    let answers;
    try {
      answers = await Promise.all(others.map((member) => transport.tree(member, { kind: 'holdings', keys }, this.deps.requestTimeoutMs)));
    } catch (error) {
      return this.report(candidates.length, 0, `a member did not answer: ${(error as Error).message}`);
    }
    const reapable = candidates.filter((candidate, i) => {
      if (store.hints.hasKey(candidate.key)) return false;
      return answers.every((answer) => {
        if (answer.kind !== 'holdings' || answer.holdings.length !== keys.length) return false;
        const held = answer.holdings[i]!;
        return !held.hinted && (held.digest === undefined || sameHash(held.digest, candidate.digest));
      });
    });
    const reaped = store.removeIfUnchanged(reapable);
    this.reapedTotal += reaped;
    if (reaped > 0) this.deps.events?.reaped?.(reaped);
    return this.report(candidates.length, reaped);
  }

  private report(examined: number, reaped: number, blocked?: string): ReapReport {
    this.lastBlocked = blocked;
    return { examined, reaped, ...(blocked === undefined ? {} : { blocked }) };
  }

  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
