/**
 * The request coordinator (Dynamo §4.5, §4.7): runs the pure quorum cores over the local store
 * and the transport. Any node takes any request; a node in the key's preference list
 * coordinates it, any other node forwards it (one hop) to the first reachable node of the list.
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
import { buildRing, preferenceList, type Ring } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { GetCore, type ReadPlan } from '../core/get-core.js';
import { PutCore } from '../core/put-core.js';
import { update, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import type { MembershipView } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import type { KvService, ReadOptions, ValueWrite, WriteOptions } from './kv-service.js';
import { applyReplicaWrite } from './replica-service.js';

/** Hooks for metrics; all optional. */
export interface CoordinatorEvents {
  readRepair?(targets: number): void;
  quorumFailed?(op: 'get' | 'put', code: 'KV_ERR_QUORUM_UNMET' | 'KV_ERR_TIMEOUT'): void;
  forwarded?(op: 'get' | 'put'): void;
}

export interface CoordinatorDeps {
  readonly selfId: string;
  /** Replicas per key. */
  readonly n: number;
  readonly tokensPerNode: number;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly store: Store;
  readonly limits: VersioningLimits;
  readonly nowMs: () => number;
  readonly logger: Logger;
  readonly events?: CoordinatorEvents;
  /** Once a quorum has failed, how long to wait for replicas still in flight before answering. */
  readonly failGraceMs: number;
}

/** `forwarded`: the request came from another node; coordinate it here, never forward again. */
export interface RouteOptions {
  readonly forwarded?: boolean;
}

/** The coded reason a replica failed, for the error's `failures` detail. */
function reasonOf(error: unknown): string {
  return error instanceof KvError ? error.code : 'KV_ERR_INTERNAL';
}

export class Coordinator implements KvService {
  private ringCache: Ring | undefined;

  constructor(private readonly deps: CoordinatorDeps) {
    deps.membership.onChange(() => (this.ringCache = undefined));
  }

  /** The ring of the current members (rebuilt only after a membership change). */
  ring(): Ring {
    this.ringCache ??= buildRing(this.deps.membership.ringMembers(), this.deps.tokensPerNode);
    return this.ringCache;
  }

  preferenceList(key: string): string[] {
    return preferenceList(this.ring(), key, this.deps.n);
  }

  async get(key: string, options: ReadOptions, route: RouteOptions = {}): Promise<VersionedObject | undefined> {
    const replicas = this.preferenceList(key);
    if (!route.forwarded && !replicas.includes(this.deps.selfId)) {
      const forwarded = await this.forward(replicas, options.timeoutMs, { kind: 'get', key, r: options.r, timeoutMs: options.timeoutMs });
      if (forwarded !== 'unreachable') return forwarded;
    }
    const core = new GetCore(replicas, options.r, this.deps.limits);
    return this.awaitQuorum<VersionedObject | undefined>('get', core, options.timeoutMs, (settle) => {
      const check = () => this.checkRead(core, settle);
      for (const replica of replicas) {
        if (replica === this.deps.selfId) {
          try {
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
        this.deps.transport.replica(member, { kind: 'get', key }).then(
          (result) => (result.ok ? core.reply(replica, result.object) : core.fail(replica, result.code)),
          (error: unknown) => core.fail(replica, reasonOf(error)),
        ).finally(check);
      }
      check();
    }, () => this.repair(key, core.plan()));
  }

  private checkRead(core: GetCore, settle: (outcome: 'met' | 'failed', value?: VersionedObject) => void): void {
    const outcome = core.outcome();
    if (outcome === 'met') settle('met', core.merged());
    else if (outcome === 'failed') settle('failed');
  }

  async put(key: string, write: ValueWrite, options: WriteOptions, route: RouteOptions = {}): Promise<void> {
    const replicas = this.preferenceList(key);
    if (!route.forwarded && !replicas.includes(this.deps.selfId)) {
      const forwarded = await this.forward(replicas, options.timeoutMs, { kind: 'put', key, w: options.w, timeoutMs: options.timeoutMs, ...write });
      if (forwarded !== 'unreachable') return;
    }
    // Read, update and enqueue locally in one synchronous step: a concurrent write to the same
    // key on this node then builds on this one (the store shows queued writes).
    const object = update(this.deps.store.get(key), { ...write, coordinatorId: this.deps.selfId, nowMs: this.deps.nowMs() }, this.deps.limits);
    const core = new PutCore(replicas, options.w);
    await this.awaitQuorum<void>('put', core, options.timeoutMs, (settle) => {
      const check = () => {
        const outcome = core.outcome();
        if (outcome !== 'pending') settle(outcome);
      };
      const local = this.deps.store.put(key, object);
      if (replicas.includes(this.deps.selfId)) {
        local.then(() => core.ack(this.deps.selfId), (error: unknown) => core.fail(this.deps.selfId, reasonOf(error))).finally(check);
      }
      else local.catch((error: unknown) => this.deps.logger.warn({ err: error, key }, 'local copy of a forwarded write failed'));
      for (const replica of replicas) {
        if (replica === this.deps.selfId) continue;
        const member = this.deps.membership.member(replica);
        if (member === undefined || !this.deps.membership.isReachable(replica)) {
          core.fail(replica, 'KV_ERR_PEER_UNREACHABLE');
          continue;
        }
        this.deps.transport.replica(member, { kind: 'put', key, object }).then(
          (result) => (result.ok ? core.ack(replica) : core.fail(replica, result.code)),
          (error: unknown) => core.fail(replica, reasonOf(error)),
        ).finally(check);
      }
      check();
    });
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
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      let finished = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        after?.();
      };
      const fail = (error: KvError, code: 'KV_ERR_QUORUM_UNMET' | 'KV_ERR_TIMEOUT') => {
        if (answered) return;
        answered = true;
        clearTimeout(graceTimer);
        this.deps.events?.quorumFailed?.(op, code);
        reject(error);
      };
      const unmet = () => {
        const { needed, answered: got, failures } = core.counts();
        const detail = failures ? ` (failed: ${failures})` : '';
        fail(new KvError('KV_ERR_QUORUM_UNMET', `${op} needed ${needed} replicas, ${got} answered${detail}`, { needed, answered: got, failures }), 'KV_ERR_QUORUM_UNMET');
      };
      const timer = setTimeout(() => {
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
          graceTimer = setTimeout(unmet, Math.min(this.deps.failGraceMs, timeoutMs));
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
        applyReplicaWrite(this.deps.store, key, plan.merged, this.deps.limits).catch((error: unknown) =>
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
   * Hands the request to the first reachable replica that answers (one hop). Resolves with the
   * forwarded result, or 'unreachable' when no replica could be reached (the caller then
   * coordinates here, which reports the quorum failure with its counts).
   */
  private async forward(
    replicas: readonly string[],
    timeoutMs: number,
    request: Parameters<Transport['coordinate']>[1],
  ): Promise<VersionedObject | undefined | 'unreachable'> {
    const deadline = this.deps.nowMs() + timeoutMs;
    for (const replica of replicas) {
      const member = this.deps.membership.member(replica);
      if (member === undefined || !this.deps.membership.isReachable(replica)) continue;
      const remaining = deadline - this.deps.nowMs();
      if (remaining <= 0) break;
      let result;
      try {
        result = await this.deps.transport.coordinate(member, { ...request, timeoutMs: remaining }, remaining);
      } catch (error) {
        this.deps.logger.debug({ err: error, target: replica }, 'forward failed; trying the next replica');
        continue;
      }
      this.deps.events?.forwarded?.(request.kind);
      if (!result.ok) throw new KvError(result.code, result.message, result.details);
      return result.object;
    }
    return 'unreachable';
  }
}
