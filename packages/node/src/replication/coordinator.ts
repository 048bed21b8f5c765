/**
 * The request coordinator (Dynamo §4.5, §4.7): runs the pure quorum cores over the local store
 * and the transport. Any node takes any request. Any node coordinates a read itself; a write is
 * coordinated by a node in the key's preference list, so any other node forwards it (one hop)
 * to the first reachable node of the list.
 *
 * - PUT: advance the clock as coordinator (versioned.update), write locally, send the object to
 *   the other replicas, answer at w durable acks; fail fast with KV_ERR_QUORUM_UNMET as soon as
 *   w is out of reach, or KV_ERR_TIMEOUT at the deadline, both with needed/answered.
 * - GET: ask every replica, answer at r with the merged siblings, keep collecting until all
 *   answered or the deadline, then carry out the read-repair plan (get-core.ts) in the
 *   background.
 *
 * Ownership comes from the membership's ring members; reachability only decides whom to ask.
 */
import type { Logger } from 'pino';
import { ringPosition, type Ring } from '@ringkv/protocol';
import type { RingView } from '../membership/ring-view.js';
import { KvError } from '../errors.js';
import { GetCore, type ReadPlan } from '../core/get-core.js';
import { PutCore, type WriteTarget } from '../core/put-core.js';
import { writeTargets } from '../core/write-targets.js';
import { chooseActor } from '../core/actor.js';
import { update, type VersionedObject, type VersioningLimits, type WriteOp } from '../core/versioned.js';
import { surelyUndelivered } from '../transport/peer-errors.js';
import { mayCopyTo } from '../core/no-resurrection.js';
import { appliedAttempt } from '../core/request-ids.js';
import type { MembershipView } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import type { CoordinateRequest } from '../transport/messages.js';
import type { KvService, ReadOptions, ValueWrite, WriteOptions } from './kv-service.js';
import { realTimers, type Timers } from '../timers.js';
import type { PeerHealth, PeerHealthSnapshot } from './peer-health.js';
import { Liveness } from './liveness.js';
import type { Member } from '../membership/membership.js';
import type { ReplicaOp, ReplicaResult } from '../transport/messages.js';

/** Hooks for metrics; all optional. */
export interface CoordinatorEvents {
  readRepair?(targets: number): void;
  quorumFailed?(op: 'get' | 'put', code: 'KV_ERR_QUORUM_UNMET' | 'KV_ERR_TIMEOUT'): void;
  forwarded?(op: 'get' | 'put'): void;
  hintSent?(): void;
  /** The coordinator kept a hint for a target that did not acknowledge a write. */
  hintKept?(): void;
}

export interface CoordinatorDeps {
  readonly selfId: string;
  /** Replicas per key. */
  readonly n: number;
  /** The node's one ring view (membership/ring-view.ts), shared with every other part. */
  readonly ringView: RingView;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly store: Store;
  readonly limits: VersioningLimits;
  readonly nowMs: () => number;
  readonly logger: Logger;
  readonly events?: CoordinatorEvents;
  /** Once a quorum has failed, how long to wait for replicas still in flight before answering. */
  readonly failGraceMs: number;
  /** Default for writes: unreachable primaries are replaced by fallbacks holding hints. */
  readonly sloppyQuorum: boolean;
  /** The process's timers, or a simulation's manual clock's (node.ts decides, once). */
  readonly timers: Timers;
  /** The reaper's grace: an object dead longer than this is not copied to replicas holding nothing. */
  readonly tombstoneGraceMs?: number;
  /** Uniform in [0, 1), for fresh actors (core/actor.ts); the simulation passes its seeded one. */
  readonly random: () => number;
  /** This node's own record of which peers answer it (peer-health.ts). */
  readonly health: PeerHealth;
  /**
   * How long one replica may take to answer before it counts as failed for this request: a
   * write then goes to a fallback in its place, a read or write that cannot meet its quorum
   * without it fails fast (503) instead of at the request's deadline (504).
   */
  readonly replicaTimeoutMs: number;
}

/** `forwarded`: the request came from another node; coordinate it here, never forward again. */
export interface RouteOptions {
  readonly forwarded?: boolean;
}

/**
 * A write is forwarded without a probe first only to a replica heard from this recently
 * (forward): a write handed to a replica whose link was cut just before is final and its
 * outcome unknown, so the window in which that can happen is kept to about a LAN's busiest gap.
 */
const FORWARD_FRESH_MS = 25;

/** The coded reason a replica failed, for the error's `failures` detail. */
/**
 * A write whose quorum was missed while this node's own disk failed it answers with the disk's
 * coded error (507 KV_ERR_STORAGE_FULL is what an operator must see), with the round's counts.
 * As after any failed write, other replicas may hold the version (docs/errors.md).
 */
function ownStorageCause(error: unknown, own: unknown): unknown {
  if (!(error instanceof KvError) || error.code !== 'KV_ERR_QUORUM_UNMET' || !(own instanceof KvError) || !own.code.startsWith('KV_ERR_STORAGE')) return error;
  return new KvError(own.code, `${own.message}; ${error.message}`, { ...own.details, ...error.details }, { cause: own });
}

function reasonOf(error: unknown): string {
  return error instanceof KvError ? error.code : 'KV_ERR_INTERNAL';
}

export class Coordinator implements KvService {
  /** Highest dot counter this node issued (any key); see newVersion. */
  private lastCounter = 0;
  private readonly liveness: Liveness;

  constructor(private readonly deps: CoordinatorDeps) {
    // A probe gets one floor: a peer whose read loop cannot answer within it is not serving.
    this.liveness = new Liveness({ transport: deps.transport, health: deps.health, nowMs: deps.nowMs, timeoutMs: deps.replicaTimeoutMs });
  }

  /** The ring this node places keys with (the ring view's; kept here for tests and tools). */
  ring(): Ring {
    return this.deps.ringView.ring();
  }

  preferenceList(key: string): string[] {
    return this.deps.ringView.preferenceList(key);
  }

  /** Peers this node currently avoids or has heard from (status, /readyz). */
  peerHealth(): PeerHealthSnapshot[] {
    return this.deps.health.snapshot(this.deps.nowMs());
  }

  /** Gossip calls `id` alive and it has not just left this node unanswered (peer-health.ts). */
  private routable(id: string): boolean {
    return this.deps.membership.isReachable(id) && this.deps.health.usable(id, this.deps.nowMs());
  }

  /**
   * Sends one replica op with its own deadline (peer-health.ts: adaptive, at least
   * `replicaTimeoutMs`), within the request's. A replica still silent (nothing heard from it
   * since the op went out) after half a floor is probed (liveness.ts): no answer to the probe
   * fails the op at once with KV_ERR_PEER_UNREACHABLE, so a cut link or a dead process costs a
   * request about half a floor plus a probe timeout, not its deadline. At the op's own deadline
   * `late` is called once (a write hedges with a stand-in) and the op stays in the round,
   * judged again every floor: if it is still silent, gossip doubting the peer (suspect or dead)
   * fails it with KV_ERR_TIMEOUT, otherwise it is probed again. A peer that answers probes or
   * other requests is slow, not gone (a stalled disk looks silent too), and is waited for up to
   * the request's deadline. `done` gets the result or the coded failure exactly once; every
   * answer, silence and probe also feeds peer health.
   */
  private askReplica(
    member: Member,
    op: ReplicaOp,
    deadlineMs: number,
    done: (result: ReplicaResult | { ok: false; code: string }) => void,
    late?: () => void,
  ): void {
    const timers = this.deps.timers;
    const { health } = this.deps;
    const sentAtMs = this.deps.nowMs();
    const floorMs = this.deps.replicaTimeoutMs;
    let settled = false;
    let timer: unknown;
    const settle = (result: ReplicaResult | { ok: false; code: string }) => {
      if (settled) return;
      settled = true;
      timers.clearTimeout(timer);
      done(result);
    };
    // `late` at most once: a target gets one stand-in, not one per deadline.
    let lateDue = late;
    const callLate = () => {
      lateDue?.();
      lateDue = undefined;
    };
    const probe = () => {
      void this.liveness.check(member).then((alive) => alive || settle({ ok: false, code: 'KV_ERR_PEER_UNREACHABLE' }));
    };
    // `quietSinceMs`: when the current stretch of hearing nothing from the peer began.
    const judge = (quietSinceMs: number) => {
      if (settled) return;
      const nowMs = this.deps.nowMs();
      if (!health.silent(member.id, quietSinceMs, nowMs)) {
        // Busy: it answered other requests (or a probe) meanwhile. It stays in the round.
        callLate();
        return arm(nowMs, floorMs);
      }
      if (this.deps.membership.member(member.id)?.status !== 'alive') return settle({ ok: false, code: 'KV_ERR_TIMEOUT' });
      probe();
      callLate();
      arm(quietSinceMs, floorMs);
    };
    const arm = (quietSinceMs: number, waitMs: number) => {
      const bounded = Math.min(waitMs, deadlineMs - timers.monotonicMs());
      if (bounded > 0) timer = timers.setTimeout(() => judge(quietSinceMs), bounded);
    };
    // One timer at a time (most ops are answered before the first fires): at half a floor the
    // probe if silent, then the op's own deadline, which adapts to the peer (at least a floor);
    // later waits are one floor each.
    const probeAfterMs = Math.floor(floorMs / 2);
    const firstDeadlineMs = health.deadlineMs(member.id, floorMs);
    timer = timers.setTimeout(() => {
      if (settled) return;
      if (!health.heardSince(member.id, sentAtMs)) probe();
      arm(sentAtMs, firstDeadlineMs - probeAfterMs);
    }, Math.min(probeAfterMs, Math.max(1, deadlineMs - timers.monotonicMs())));
    this.deps.transport.replica(member, op).then(
      (result) => {
        const nowMs = this.deps.nowMs();
        health.answered(member.id, nowMs, nowMs - sentAtMs);
        settle(result);
      },
      (error: unknown) => {
        const code = reasonOf(error);
        if (code === 'KV_ERR_PEER_UNREACHABLE') health.unreachable(member.id, this.deps.nowMs());
        else if (code === 'KV_ERR_TIMEOUT') health.silent(member.id, sentAtMs, this.deps.nowMs());
        settle({ ok: false, code });
      },
    );
  }

  async get(key: string, options: ReadOptions, _route: RouteOptions = {}): Promise<VersionedObject | undefined> {
    // Any node coordinates a read itself, in the preference list or not (riak_kv's get FSM runs
    // on any node): it asks the replicas directly, so a read never waits on a forward hop to a
    // replica that has gone silent, and saves the hop. (`_route` matters only for writes; a
    // forwarded read from an older node is coordinated here like any other.)
    const deadlineMs = this.deps.timers.monotonicMs() + options.timeoutMs;
    const replicas = this.preferenceList(key);
    const core = new GetCore(replicas, options.r, this.deps.limits);
    // Whether what the local read saw gets committed: a repair must not spread a write whose
    // local commit then fails (issue 19.9).
    let localCommitted: Promise<boolean> = Promise.resolve(true);
    return this.awaitQuorum<VersionedObject | undefined>('get', core, this.remaining(deadlineMs), (settle) => {
      const check = () => this.checkRead(core, settle);
      for (const replica of replicas) {
        if (replica === this.deps.selfId) {
          try {
            localCommitted = this.deps.store.committed(key);
            core.reply(replica, this.deps.store.get(key));
          } catch (error) {
            this.deps.logger.warn({ err: error, key }, 'local read failed');
            core.fail(replica, reasonOf(error));
          }
          continue;
        }
        const member = this.deps.membership.member(replica);
        if (member === undefined || !this.deps.membership.isReachable(replica)) {
          core.fail(replica, 'KV_ERR_PEER_UNREACHABLE');
          continue;
        }
        this.askReplica(member, { kind: 'get', key }, deadlineMs, (result) => {
          if (result.ok) core.reply(replica, 'object' in result ? result.object : undefined);
          else core.fail(replica, result.code);
          check();
        });
      }
      check();
    }, () => {
      // Replicas that answered nothing are repaired only where the merged object may be copied to a replica lacking the key.
      const plan = core.plan(!mayCopyTo(core.merged(), false, this.deps.nowMs(), this.deps.tombstoneGraceMs));
      void localCommitted.then((ok) => (ok ? this.repair(key, plan) : this.deps.logger.debug({ key }, 'read repair skipped: the local write it saw failed to commit')));
    });
  }

  private checkRead(core: GetCore, settle: (outcome: 'met' | 'failed', value?: VersionedObject) => void): void {
    const outcome = core.outcome();
    if (outcome === 'met') settle('met', core.merged());
    else if (outcome === 'failed') settle('failed');
  }

  async put(key: string, write: ValueWrite, requested: WriteOptions, route: RouteOptions = {}): Promise<void> {
    // Defaults are decided once, where the client's request arrived, and travel with a forward.
    const options: WriteOptions = { ...requested, pw: requested.pw ?? 0, sloppy: requested.sloppy ?? this.deps.sloppyQuorum };
    const deadlineMs = this.deps.timers.monotonicMs() + options.timeoutMs;
    // The key is hashed once per request: one walk of the ring gives the preference list and,
    // for a sloppy write, the fallbacks after it; the store is handed the same position.
    const position = ringPosition(key);
    const order = this.deps.ringView.walk(position, options.sloppy === true ? this.ring().nodes.length : this.deps.n);
    const replicas = order.slice(0, this.deps.n);
    const isReplica = replicas.includes(this.deps.selfId);
    if (!route.forwarded && !isReplica) {
      const forwarded = await this.forward(replicas, deadlineMs, { kind: 'put', key, write, options });
      if (forwarded !== 'unreachable') return;
    }
    // A store that refuses writes (closing, a failed fsync) will not hold the new dot: the node
    // then writes as one without a copy (a fresh actor), and its own replica counts as failed.
    const refusal = isReplica ? this.deps.store.writeRefusal() : undefined;
    const keepsCopy = isReplica && refusal === undefined;
    // A write with a request id whose attempt this node already holds sends that version again (docs/idempotency.md).
    const read = write.requestId === undefined ? undefined : { object: this.deps.store.get(key) };
    const { object, freshActor, basedOn } = this.retriedVersion(write, read) ?? this.newVersion(key, write, keepsCopy, read);
    const spares = order.slice(this.deps.n);
    const { core, targets } = this.writeRound(replicas, spares, options);
    if (refusal !== undefined) core.fail(this.deps.selfId, refusal.code);
    // The coordinator's own commit runs while the version goes out, not before it (issue 12):
    // one turn, one fsync wait instead of two in a row. Queued now, so a later write of the key
    // builds on it. Should the commit fail after peers stored the new dot, the store takes a new
    // epoch (storage/store-life.ts), so this row's actor never issues a dot claiming the lost one.
    const local = keepsCopy ? this.deps.store.merge(key, object, this.deps.limits, { position, basedOn: { object: basedOn }, ...(freshActor === undefined ? {} : { actor: freshActor }) }) : undefined;
    const own: { error?: unknown } = { error: refusal };
    try {
      await this.replicate(key, object, core, targets, spares, deadlineMs, local, own);
    } catch (error) {
      throw ownStorageCause(error, own.error);
    }
  }

  /**
   * The write's targets (core/write-targets.ts: primaries, and fallbacks for unreachable ones
   * when sloppy) and its quorum core. Throws KV_ERR_QUORUM_UNMET, `attempted: false`, when the
   * quorum is known impossible before anything is written (too few reachable targets for w,
   * or pw above the reachable primaries): no partial copies are left behind, and the client
   * (or a forwarding node) may safely send the write to another node.
   */
  private writeRound(replicas: string[], spares: string[], options: WriteOptions): { core: PutCore; targets: WriteTarget[] } {
    const targets = writeTargets({
      selfId: this.deps.selfId,
      preferenceList: replicas,
      fallbacks: spares,
      reachable: (id) => this.routable(id),
      sloppy: options.sloppy === true,
    });
    const core = new PutCore(targets, options.w, options.pw ?? 0);
    for (const target of targets) {
      if (target.node !== this.deps.selfId && !this.deps.membership.isReachable(target.node)) core.fail(target.node, 'KV_ERR_PEER_UNREACHABLE');
    }
    if (core.outcome() === 'failed') {
      const { needed, answered, failures } = core.counts();
      this.deps.events?.quorumFailed?.('put', 'KV_ERR_QUORUM_UNMET');
      throw new KvError('KV_ERR_QUORUM_UNMET', `put needs ${needed} replicas${failures ? ` (${failures})` : ''}; not attempted`, { needed, answered, failures, attempted: false });
    }
    return { core, targets };
  }

  /**
   * Sends the new version to every target but this node and waits for the write quorum. A
   * target that failed, or is late, while w is still open: the next routable fallback stands in
   * for its owner (Dynamo §4.6 applied during the round, not only at its start), so a replica
   * that does not answer this node costs about one replica deadline, not the request. A late
   * target stays in the round: whichever acknowledges first counts. Once the round is over,
   * owners nobody acknowledged for get a kept hint (hintMissed).
   */
  private replicate(key: string, object: VersionedObject, core: PutCore, targets: WriteTarget[], spares: string[], deadlineMs: number, local?: Promise<void>, own?: { error?: unknown }): Promise<void> {
    // Fallbacks not yet used, in ring order, for primaries that fail during the round.
    const standIns = spares.filter((id) => id !== this.deps.selfId && !core.targets(id));
    const allTargets = [...targets];
    return this.awaitQuorum<void>('put', core, this.remaining(deadlineMs), (settle) => {
      const check = () => {
        const outcome = core.outcome();
        if (outcome !== 'pending') settle(outcome);
      };
      const send = (target: WriteTarget) => {
        const member = this.deps.membership.member(target.node);
        if (member === undefined || !this.deps.membership.isReachable(target.node)) {
          failed(target, 'KV_ERR_PEER_UNREACHABLE');
          return;
        }
        const op = target.node === target.owner ? ({ kind: 'put', key, object } as const) : ({ kind: 'hint', key, object, owner: target.owner } as const);
        if (op.kind === 'hint') this.deps.events?.hintSent?.();
        this.askReplica(member, op, deadlineMs, (result) => {
          if (result.ok) core.ack(target.node);
          else failed(target, result.code);
          check();
        }, () => standIn(target));
      };
      const standIn = (target: WriteTarget) => {
        if (core.outcome() === 'met' || this.remaining(deadlineMs) <= 1) return;
        const spare = standIns.findIndex((id) => this.routable(id));
        if (spare < 0) return;
        const stand = { node: standIns.splice(spare, 1)[0]!, owner: target.owner };
        core.addStandIn(stand);
        allTargets.push(stand);
        send(stand);
      };
      const failed = (target: WriteTarget, code: string) => {
        core.fail(target.node, code);
        standIn(target);
      };
      local?.then(
        () => core.ack(this.deps.selfId),
        (error: unknown) => {
          this.deps.logger.warn({ err: error, key }, 'local commit of a coordinated write failed');
          if (own !== undefined) own.error = error;
          core.fail(this.deps.selfId, reasonOf(error));
        },
      ).then(check);
      for (const target of targets) if (target.node !== this.deps.selfId) send(target);
      check();
    }, () => this.hintMissed(key, object, allTargets, core));
  }

  /**
   * Once a write's round is over (every target answered, or the deadline passed), each target
   * that did not acknowledge gets a durable hint kept here, for the owner it stood for: a
   * primary that refused, reset or timed out, even one gossip still calls alive (Dynamo §4.6
   * hands a write to a fallback when a primary is unreachable during the write; Cassandra
   * stores a hint for every replica that did not answer in time). The hint loop delivers it
   * once the owner answers again, so a restarted replica has every write it missed within
   * seconds, without reads or anti-entropy. Bounded by the hint store's limits; best effort.
   */
  private hintMissed(key: string, object: VersionedObject, targets: readonly WriteTarget[], core: PutCore): void {
    const covered = new Set(targets.filter((t) => core.acked(t.node)).map((t) => t.owner));
    for (const target of targets) {
      // One kept hint per owner that no target acknowledged for (a stand-in's ack covers it).
      if (target.owner === this.deps.selfId || covered.has(target.owner)) continue;
      covered.add(target.owner);
      this.deps.events?.hintKept?.();
      this.deps.store.hints.add(target.owner, key, object).catch((error: unknown) =>
        this.deps.logger.warn({ err: error, key, owner: target.owner }, 'could not keep a hint for a replica that missed a write'),
      );
    }
  }

  /**
   * The coordinator's new version of the key (versioned.update) and the actor a kept copy's row
   * must record. The dot's actor comes from core/actor.ts: the row's own actor when this node
   * keeps a copy that has it, a fresh one otherwise, so a clock entry never claims dots its
   * coordinator does not hold. Its counter is above every counter this node issued before on
   * any key and at least the wall clock in µs: defence in depth against a row restored from an
   * old backup, whose actor may have issued dots after the backup was taken.
   */
  private newVersion(key: string, write: ValueWrite, keepsCopy: boolean, read?: { object: VersionedObject | undefined }): { object: VersionedObject; freshActor?: string; basedOn: VersionedObject | undefined } {
    const nowMs = this.deps.nowMs();
    // `read`: the key as retriedVersion read it in this same synchronous step (one read, not two).
    const stored = read !== undefined ? read.object : this.deps.store.get(key);
    const { actor, fresh } = chooseActor({
      selfId: this.deps.selfId,
      epoch: this.deps.store.epoch,
      keepsCopy,
      stored,
      // No object, no row: nothing to ask the store for (a new key costs one read, not two).
      rowActor: keepsCopy && stored !== undefined ? this.deps.store.actorOf(key) : undefined,
      random: this.deps.random,
    });
    const counterFloor = Math.max(this.lastCounter + 1, Math.floor(nowMs * 1000));
    // Fields named, not spread: `write` comes in several shapes (routes, forwards, data types),
    // and a spread of those fell back to V8's slow generic copy (3 % of a one-node PUT profile).
    const op: WriteOp = { coordinatorId: actor, context: write.context, deleted: write.deleted, value: write.value, contentType: write.contentType, nowMs, counterFloor, ttlMs: write.ttlMs, requestId: write.requestId };
    const object = update(stored, op, this.deps.limits);
    for (const sibling of object.siblings) {
      if (sibling.dot.id === actor) this.lastCounter = Math.max(this.lastCounter, sibling.dot.counter);
    }
    return fresh && keepsCopy ? { object, freshActor: actor, basedOn: stored } : { object, basedOn: stored };
  }

  private remaining(deadlineMs: number): number {
    return Math.max(1, deadlineMs - this.deps.timers.monotonicMs());
  }

  /**
   * Runs one quorum round: `start` sends the requests and calls `settle` after each answer
   * with the core's outcome. Resolves at met. Once the core says failed (w or r out of reach)
   * it rejects with KV_ERR_QUORUM_UNMET as soon as the replicas still in flight have answered,
   * or after `failGraceMs`, whichever is first, so the error reports how many replicas really
   * hold a failed write without waiting for a timeout. At the deadline it rejects with
   * KV_ERR_TIMEOUT. Both errors carry needed, answered and the failed replicas' reasons.
   * `after` runs once the round is over (all answered, or the deadline), whatever the client
   * was told: that is when a read repairs.
   */
  private awaitQuorum<T>(
    op: 'get' | 'put',
    core: { counts(): { needed: number; answered: number; failures: string }; complete: boolean },
    timeoutMs: number,
    start: (settle: (outcome: 'met' | 'failed', value?: T) => void) => void,
    after?: () => void,
  ): Promise<T> {
    const timers = this.deps.timers;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      let finished = false;
      let graceTimer: unknown;
      const finish = () => {
        if (finished) return;
        finished = true;
        timers.clearTimeout(timer);
        try {
          after?.();
        } catch (error) {
          // Follow-up work (read repair) must never take the process down.
          this.deps.logger.warn({ err: error }, 'post-quorum work failed');
        }
      };
      const fail = (error: KvError, code: 'KV_ERR_QUORUM_UNMET' | 'KV_ERR_TIMEOUT') => {
        if (answered) return;
        answered = true;
        timers.clearTimeout(graceTimer);
        this.deps.events?.quorumFailed?.(op, code);
        reject(error);
      };
      const unmet = () => {
        const { needed, answered: got, failures } = core.counts();
        const detail = failures ? ` (failed: ${failures})` : '';
        fail(new KvError('KV_ERR_QUORUM_UNMET', `${op} needed ${needed} replicas, ${got} answered${detail}`, { needed, answered: got, failures }), 'KV_ERR_QUORUM_UNMET');
      };
      const timer = timers.setTimeout(() => {
        fail(new KvError('KV_ERR_TIMEOUT', `${op} did not reach quorum within ${timeoutMs} ms`, { ...core.counts(), timeoutMs }), 'KV_ERR_TIMEOUT');
        finish();
      }, timeoutMs);
      const settle = (result: 'met' | 'failed', value?: T) => {
        if (!answered && result === 'met') {
          answered = true;
          resolve(value as T);
        } else if (!answered && core.complete) {
          unmet();
        } else if (!answered && graceTimer === undefined) {
          graceTimer = timers.setTimeout(unmet, Math.min(this.deps.failGraceMs, timeoutMs));
        }
        if (core.complete) finish();
      };
      start(settle);
    });
  }

  /** Carries out a read-repair plan: the merged object to each stale replica (best effort). */
  private repair(key: string, plan: ReadPlan): void {
    if (plan.kind === 'none') return;
    this.deps.events?.readRepair?.(plan.targets.length);
    for (const target of plan.targets) {
      if (target === this.deps.selfId) {
        // Store.merge reports a storage error (even a synchronous one) as a rejection.
        this.deps.store.merge(key, plan.merged, this.deps.limits).catch((error: unknown) =>
          this.deps.logger.warn({ err: error, key }, 'local read repair failed'),
        );
        continue;
      }
      const member = this.deps.membership.member(target);
      if (member === undefined) continue;
      this.deps.transport.replica(member, { kind: 'put', key, object: plan.merged }).catch((error: unknown) =>
        this.deps.logger.debug({ err: error, key, target }, 'read repair not delivered'),
      );
    }
  }

  /**
   * Hands a write to the first routable replica (one hop), within the request's deadline, so
   * that a replica coordinates it (its dot's actor is then a row that keeps a copy:
   * core/actor.ts). A write handed over cannot be taken back, so a replica not heard from
   * within FORWARD_FRESH_MS is probed first (liveness.ts) and skipped if it does not answer; one
   * that could not be reached at all, or refused before doing anything (stopping, or a quorum
   * it could not attempt: `attempted: false`), is skipped for the next. Once delivered the
   * forward is final, so a write is never coordinated twice: its answer, or 504 (outcome
   * unknown) at its timeout or as soon as the target stops answering probes. Resolves
   * 'unreachable' when no replica took the request: the caller then coordinates here.
   */
  private async forward(
    replicas: readonly string[],
    deadlineMs: number,
    request: Extract<CoordinateRequest, { kind: 'put' }>,
  ): Promise<'done' | 'unreachable'> {
    const { health } = this.deps;
    for (const replica of replicas) {
      const member = this.deps.membership.member(replica);
      if (member === undefined || !this.routable(replica)) continue;
      // Under load every replica is heard from every few ms, so this rarely costs a probe; the
      // window is short because a link cut inside it still takes the write (outcome unknown).
      if (!health.heardSince(replica, this.deps.nowMs() - FORWARD_FRESH_MS) && !(await this.liveness.check(member))) continue;
      const sentAtMs = this.deps.nowMs();
      const remaining = deadlineMs - this.deps.timers.monotonicMs();
      if (remaining <= 0) break;
      let result;
      try {
        // The coordinating node gets what is left of this request's deadline, not a new one.
        result = await this.watched(member, sentAtMs, this.deps.transport.coordinate(member, { ...request, options: { ...request.options, timeoutMs: remaining } }, remaining));
        health.answered(replica, this.deps.nowMs());
      } catch (error) {
        const code = reasonOf(error);
        if (code === 'KV_ERR_PEER_UNREACHABLE') health.unreachable(replica, this.deps.nowMs());
        else if (code === 'KV_ERR_TIMEOUT') health.silent(replica, sentAtMs, this.deps.nowMs());
        // A write may try the next replica only if the first surely did nothing (otherwise it
        // could be coordinated twice and leave a spurious sibling).
        if (code === 'KV_ERR_PEER_UNREACHABLE' && surelyUndelivered(error)) {
          this.deps.logger.debug({ err: error, target: replica }, 'forward target unreachable; trying the next replica');
          continue;
        }
        if (code === 'KV_ERR_PEER_UNREACHABLE') {
          throw new KvError('KV_ERR_TIMEOUT', `forwarded put to ${replica} failed after it was sent; its outcome is unknown`, { forwardedTo: replica });
        }
        throw code === 'KV_ERR_TIMEOUT'
          ? new KvError('KV_ERR_TIMEOUT', `forwarded ${request.kind} to ${replica} did not complete in time`, { forwardedTo: replica })
          : error;
      }
      if (!result.ok && result.details.attempted === false) {
        this.deps.logger.debug({ target: replica, code: result.code }, 'forward target could not attempt the write; trying the next replica');
        continue;
      }
      this.deps.events?.forwarded?.(request.kind);
      if (!result.ok) throw new KvError(result.code, result.message, result.details);
      return 'done';
    }
    return 'unreachable';
  }

  /**
   * `answer`, unless `member` stops answering before it comes: after half a floor, and every
   * floor after, without a word from the member it is probed, and a probe left unanswered
   * rejects with KV_ERR_PEER_UNREACHABLE (delivered: its outcome is unknown).
   */
  private watched<T>(member: Member, sentAtMs: number, answer: Promise<T>): Promise<T> {
    const timers = this.deps.timers;
    const floorMs = this.deps.replicaTimeoutMs;
    let over = false;
    let timer: unknown;
    const lost = new Promise<never>((_, reject) => {
      const check = (sinceMs: number) => {
        if (over) return;
        const nowMs = this.deps.nowMs();
        if (this.deps.health.heardSince(member.id, sinceMs)) return (timer = timers.setTimeout(() => check(nowMs), floorMs));
        void this.liveness.check(member).then((alive) => {
          if (over) return;
          if (!alive) return reject(new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} stopped answering probes`, { peer: member.id, delivered: true }));
          timer = timers.setTimeout(() => check(this.deps.nowMs()), floorMs);
        });
      };
      timer = timers.setTimeout(() => check(sentAtMs), Math.floor(floorMs / 2));
    });
    return Promise.race([answer, lost]).finally(() => {
      over = true;
      timers.clearTimeout(timer);
    });
  }

  /**
   * A retry (X-Ringkv-Request-Id) whose first attempt this node's copy already holds: that copy
   * is the version to write again, with no new dot, so the retry reaches w replicas without
   * being applied twice (core/request-ids.ts; KV_ERR_REQUEST_ID_REUSED when the id named
   * another value). Undefined: no such sibling here, write a new version.
   */
  private retriedVersion(write: ValueWrite, read: { object: VersionedObject | undefined } | undefined): { object: VersionedObject; freshActor?: string; basedOn: VersionedObject } | undefined {
    const stored = read?.object;
    return stored !== undefined && appliedAttempt(stored, write) !== undefined ? { object: stored, basedOn: stored } : undefined;
  }
}
