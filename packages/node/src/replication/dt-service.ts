/**
 * Data types over the ordinary key-value path (docs/datatypes.md). A data type is stored as a
 * plain object whose value is its encoded state (content type DATA_TYPE_CONTENT_TYPE), so read
 * repair, hinted handoff, anti-entropy and ownership handoff carry it unchanged. Storage-level
 * siblings of such a key are transient: a read joins every live sibling by the type's join, and
 * a write reads, joins, applies the operation under a fresh dot (dt-actors.ts) and writes back
 * with the read's causal context, so the siblings it joined collapse into its one new version.
 *
 * Writes of one key through this node run one at a time (a bounded queue per key): that is what
 * keeps the node's dots on a key in one chain. Writes through different nodes run concurrently
 * and meet as siblings, joined by the next read.
 */
import {
  applyOperation,
  coversContext,
  DATA_TYPE_CONTENT_TYPE,
  DataTypeError,
  decodeDataType,
  encodeDataType,
  join,
  type DataType,
  type CausalContext,
  type DataTypeLimits,
  type Operation,
} from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { contextOf, visibleAt, type VersionedObject } from '../core/versioned.js';
import type { VersionVector } from '../core/clock.js';
import type { KvService, WriteOptions } from './kv-service.js';
import { DataTypeActors, dtPlantedBugs } from './dt-actors.js';

export interface DataTypeServiceDeps {
  readonly kv: KvService;
  readonly limits: DataTypeLimits;
  readonly nowMs: () => number;
  /** The clock deadlines are measured on (Timers.monotonicMs): a wall clock step must not stretch them. */
  readonly monotonicMs: () => number;
  readonly random: () => number;
  /** Keys whose actor this node remembers (least recently written forgotten first). */
  readonly actorKeysMax: number;
  /** Writes of one key that may wait behind the one in flight; past it, 503 KV_ERR_OVERLOADED. */
  readonly queuedPerKeyMax: number;
  /** Replicas of a key: a removal whose context the read at r did not cover reads again at n. */
  readonly n: number;
}

/** A key's data type as read: the joined state (undefined: none) and the storage context. */
export interface DataTypeRead {
  readonly state: DataType | undefined;
  /** The object's version vector: a write sends it so the siblings it joined collapse. */
  readonly storageContext: VersionVector;
}

/** DataTypeError → KvError (the node's one coded error), everything else untouched. */
export function asKvError(error: unknown): unknown {
  return error instanceof DataTypeError ? new KvError(error.code, error.message, error.details) : error;
}

/** Joins the live siblings of an object into one state; a sibling that is not a data type is a 409. */
export function joinSiblings(object: VersionedObject | undefined, nowMs: number, limits: DataTypeLimits): DataTypeRead {
  if (object === undefined) return { state: undefined, storageContext: [] };
  let state: DataType | undefined;
  for (const sibling of visibleAt(object, nowMs).siblings) {
    if (sibling.deleted) continue;
    if (sibling.contentType !== DATA_TYPE_CONTENT_TYPE) {
      throw new KvError('KV_ERR_DT_TYPE_MISMATCH', `the key holds a plain value (${sibling.contentType}), not a data type`, { reason: 'not-a-data-type' });
    }
    const decoded = decodeDataType(sibling.value, limits);
    if (state !== undefined && state.store.kind !== decoded.store.kind) {
      throw new KvError('KV_ERR_DT_TYPE_MISMATCH', `the key holds siblings of two types (${state.store.kind}, ${decoded.store.kind}); delete it through /kv with its context`, { reason: 'conflicting-types' });
    }
    state = state === undefined ? decoded : join(state, decoded);
  }
  return { state, storageContext: contextOf(object) };
}

export class DataTypeService {
  private readonly actors: DataTypeActors;
  private readonly queues = new Map<string, { tail: Promise<unknown>; length: number }>();

  constructor(private readonly deps: DataTypeServiceDeps) {
    this.actors = new DataTypeActors(deps.actorKeysMax, deps.random);
  }

  /** The key's joined state, read at `r`. */
  async read(key: string, options: { r: number; timeoutMs: number }): Promise<DataTypeRead> {
    try {
      return joinSiblings(await this.deps.kv.get(key, options), this.deps.nowMs(), this.deps.limits);
    } catch (error) {
      throw asKvError(error);
    }
  }

  /** Applies `op` to the key (read at `r`, written at `w`) and returns the state written. */
  update(key: string, op: Operation, options: WriteOptions & { r: number }): Promise<DataType> {
    const queue = this.queues.get(key) ?? { tail: Promise.resolve(), length: 0 };
    if (queue.length > this.deps.queuedPerKeyMax) {
      return Promise.reject(new KvError('KV_ERR_OVERLOADED', `${queue.length} writes of this data type already wait at this node; retry later`, { queued: queue.length }));
    }
    // The deadline runs from now, not from when the write's turn comes: a write queued behind
    // slow ones fails at its timeout instead of running long after its client gave up.
    const deadline = this.deps.monotonicMs() + options.timeoutMs;
    const run = queue.tail.then(() => this.updateNow(key, op, options, deadline));
    queue.length++;
    queue.tail = run.catch(() => {}).finally(() => {
      queue.length--;
      if (queue.length === 0 && this.queues.get(key) === queue) this.queues.delete(key);
    });
    this.queues.set(key, queue);
    return run;
  }

  /**
   * The state an operation applies to. A removal removes only the dots both its context and
   * this state hold, so when the read at r has not seen everything the client's context has
   * (a replica that missed an add the client's read saw: r + w ≤ n, sloppy quorums), it reads
   * again at n, once, within the deadline; if that read fails, the first one stands (what the
   * removal then leaves is documented: docs/datatypes.md, "Consistency").
   */
  private async readCovering(key: string, op: Operation, r: number, deadline: number): Promise<DataTypeRead> {
    const first = await this.read(key, { r, timeoutMs: deadline - this.deps.monotonicMs() });
    const observed = observedContexts(op);
    if (r >= this.deps.n || observed.length === 0 || observed.every((c) => first.state !== undefined && coversContext(first.state.context, c))) return first;
    const timeoutMs = deadline - this.deps.monotonicMs();
    if (timeoutMs < 1) return first;
    try {
      return await this.read(key, { r: this.deps.n, timeoutMs });
    } catch {
      return first;
    }
  }

  private async updateNow(key: string, op: Operation, options: WriteOptions & { r: number }, deadline: number): Promise<DataType> {
    if (deadline - this.deps.monotonicMs() < 1) {
      throw new KvError('KV_ERR_TIMEOUT', `the write waited behind earlier writes of this key for the whole timeout_ms (${options.timeoutMs}); nothing was written`, { timeoutMs: options.timeoutMs, attempted: false });
    }
    const { state, storageContext } = await this.readCovering(key, op, options.r, deadline);
    const timeoutMs = deadline - this.deps.monotonicMs();
    if (timeoutMs < 1) throw new KvError('KV_ERR_TIMEOUT', `the read took the whole timeout_ms (${options.timeoutMs}); nothing was written`, { timeoutMs: options.timeoutMs });
    const dot = this.actors.next(key, state?.context);
    let next: DataType;
    let value: Uint8Array;
    try {
      next = applyOperation(state, dtPlantedBugs.removeUnseen ? withoutContexts(op) : op, dot, this.deps.nowMs(), this.deps.limits);
      value = encodeDataType(next, this.deps.limits);
    } catch (error) {
      throw asKvError(error);
    }
    try {
      await this.deps.kv.put(key, { context: storageContext, deleted: false, value, contentType: DATA_TYPE_CONTENT_TYPE }, { ...options, timeoutMs });
    } catch (error) {
      this.actors.failed(key);
      throw error;
    }
    this.actors.written(key, dot);
    return next;
  }
}

/** The planted `removeUnseen` bug: the operation's (and its fields') observed contexts dropped. */
function withoutContexts(op: Operation): Operation {
  if (op.kind === 'map') return { kind: 'map', update: op.update.map(([name, field]) => [name, withoutContexts(field)] as const), remove: op.remove };
  if (op.kind === 'set' || op.kind === 'remove') return { ...op, context: undefined } as Operation;
  return op;
}

/** The contexts an operation removes under (its own and its fields'), at most one per level. */
function observedContexts(op: Operation): CausalContext[] {
  const own = (op.kind === 'set' || op.kind === 'map' || op.kind === 'remove') && op.context !== undefined ? [op.context] : [];
  return op.kind === 'map' ? [...own, ...op.update.flatMap(([, field]) => observedContexts(field))] : own;
}
