/**
 * Per-peer batching (the main throughput lever, issue 3): replica ops for one peer are queued
 * and flushed once per event-loop turn as batches of at most `batchOpsMax` ops and about
 * `batchBytesMax` bytes, with at most `inflightMax` batches outstanding; while those are in
 * flight new ops accumulate, so batches grow with load. An op larger than `batchBytesMax` on
 * its own travels alone. The queue is bounded by count and by bytes: past `queueOpsMax`
 * waiting ops or `queueBytesMax` waiting bytes a new op is refused with KV_ERR_OVERLOADED
 * instead of growing memory without limit. Gets of one key in one batch travel as one op and
 * share its result (unless a write to the key comes between them): 300 concurrent reads of a
 * hot key cost one copy of its object per batch, not 300. The sending itself is injected.
 *
 * Sources: Cassandra's outbound message coalescing and etcd's rafthttp pipeline, which batch
 * per peer the same way.
 */
import { KvError } from '../errors.js';
import type { ReplicaOp, ReplicaResult } from './messages.js';
import { messageValueBytes } from '../consensus/codec.js';
import { TurnBatcher, type Scheduler } from '../core/turn-batcher.js';

/** Default bound on the estimated bytes of one batch (see `estimateOpBytes`). */
export const BATCH_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
/** Default bound on the estimated bytes waiting for one peer. */
export const QUEUE_BYTES_MAX_DEFAULT = 256 * 1024 * 1024;
/** Estimated framing of one sibling beyond its value: dot, flags, timestamp, content type. */
export const SIBLING_OVERHEAD_BYTES = 64;

export interface PeerQueueLimits {
  readonly batchOpsMax: number;
  readonly inflightMax: number;
  readonly queueOpsMax: number;
  /** Most estimated bytes in one batch (a bigger single op travels alone); default 8 MiB. */
  readonly batchBytesMax?: number;
  /** Most estimated bytes waiting for the peer; default 256 MiB. */
  readonly queueBytesMax?: number;
}

interface Pending {
  readonly op: ReplicaOp;
  readonly bytes: number;
  readonly resolve: (result: ReplicaResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What an op weighs in a batch, estimated cheaply: the key's UTF-8 bytes plus, for a put,
 * each sibling's value bytes and SIBLING_OVERHEAD_BYTES. Clocks are left out (bounded and
 * small next to values).
 */
export function estimateOpBytes(op: ReplicaOp): number {
  let bytes = Buffer.byteLength(op.key);
  if (op.kind === 'put' || op.kind === 'hint') for (const sibling of op.object.siblings) bytes += sibling.value.length + SIBLING_OVERHEAD_BYTES;
  if (op.kind === 'paxos') bytes += messageValueBytes(op.message) + SIBLING_OVERHEAD_BYTES;
  return bytes;
}

export class PeerQueue {
  private waiting: Pending[] = [];
  private waitingBytes = 0;
  private inflight = 0;
  /**
   * Asks for one send per turn (core/turn-batcher.ts). The ops themselves wait in `waiting`,
   * not in the batcher's batch: while `inflightMax` batches are out they stay for later turns.
   */
  private readonly turn: TurnBatcher<undefined>;
  private readonly batchBytesMax: number;
  private readonly queueBytesMax: number;

  constructor(
    private readonly peerId: string,
    private readonly limits: PeerQueueLimits,
    private readonly sendBatch: (ops: ReplicaOp[]) => Promise<ReplicaResult[]>,
    schedule: Scheduler = (fn) => void setImmediate(fn),
  ) {
    this.turn = new TurnBatcher(schedule, () => undefined, () => this.flush());
    this.batchBytesMax = limits.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT;
    this.queueBytesMax = limits.queueBytesMax ?? QUEUE_BYTES_MAX_DEFAULT;
  }

  /** Ops waiting (not yet sent). */
  get depth(): number {
    return this.waiting.length;
  }

  /** Estimated bytes of the ops waiting. */
  get depthBytes(): number {
    return this.waitingBytes;
  }

  push(op: ReplicaOp): Promise<ReplicaResult> {
    if (this.waiting.length >= this.limits.queueOpsMax) {
      return Promise.reject(
        new KvError('KV_ERR_OVERLOADED', `${this.waiting.length} ops already queued for peer ${this.peerId}`, { peer: this.peerId }),
      );
    }
    const bytes = estimateOpBytes(op);
    // An empty queue takes any op, so an op above the limit on its own can still be sent.
    if (this.waiting.length > 0 && this.waitingBytes + bytes > this.queueBytesMax) {
      return Promise.reject(
        new KvError('KV_ERR_OVERLOADED', `${this.waitingBytes} bytes already queued for peer ${this.peerId}`, {
          peer: this.peerId,
          queuedBytes: this.waitingBytes,
          limit: this.queueBytesMax,
        }),
      );
    }
    const result = new Promise<ReplicaResult>((resolve, reject) => this.waiting.push({ op, bytes, resolve, reject }));
    this.waitingBytes += bytes;
    this.turn.add();
    return result;
  }

  /** Takes the next batch off the queue: up to batchOpsMax ops and batchBytesMax bytes, at least one op. */
  private take(): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < this.waiting.length && count < this.limits.batchOpsMax) {
      const next = this.waiting[count]!.bytes;
      if (count > 0 && bytes + next > this.batchBytesMax) break;
      bytes += next;
      count++;
    }
    this.waitingBytes -= bytes;
    return this.waiting.splice(0, count);
  }

  /**
   * The ops to send for `batch`, with a get of a key already asked in the batch (and not
   * written since) folded into the earlier one; `slots[i]` is the op that answers batch[i].
   */
  private static coalesce(batch: readonly Pending[]): { ops: ReplicaOp[]; slots: number[] } {
    const ops: ReplicaOp[] = [];
    const slots: number[] = [];
    const asked = new Map<string, number>();
    for (const { op } of batch) {
      const earlier = op.kind === 'get' ? asked.get(op.key) : undefined;
      if (earlier !== undefined) {
        slots.push(earlier);
        continue;
      }
      if (op.kind === 'get') asked.set(op.key, ops.length);
      else asked.delete(op.key);
      slots.push(ops.length);
      ops.push(op);
    }
    return { ops, slots };
  }

  /** Calls sendBatch; a synchronous throw becomes a rejection, so the batch still settles. */
  private send(ops: ReplicaOp[]): Promise<ReplicaResult[]> {
    try {
      return this.sendBatch(ops);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.inflight < this.limits.inflightMax) {
      const batch = this.take();
      const { ops, slots } = PeerQueue.coalesce(batch);
      this.inflight++;
      this.send(ops)
        .then(
          (results) => {
            batch.forEach((pending, i) => {
              const result = Array.isArray(results) ? results[slots[i]!] : undefined;
              if (result === undefined) pending.reject(new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${this.peerId} answered too few results`, { peer: this.peerId }));
              else pending.resolve(result);
            });
          },
          (error: unknown) => batch.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          this.inflight--;
          this.flush();
        });
    }
  }

  /** Rejects everything still waiting (used on close). */
  drain(error: unknown): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    for (const pending of waiting) pending.reject(error);
  }
}
