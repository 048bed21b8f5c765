/**
 * Per-peer batching (the main throughput lever, issue 3): replica ops for one peer are queued
 * and flushed once per event-loop turn as batches of at most `batchOpsMax` ops, with at most
 * `inflightMax` batches outstanding; while those are in flight new ops accumulate, so batches
 * grow with load. The queue is bounded: past `queueOpsMax` waiting ops a new op is refused with
 * KV_ERR_OVERLOADED instead of growing memory without limit. The sending itself is injected.
 */
import { KvError } from '../errors.js';
import type { ReplicaOp, ReplicaResult } from './messages.js';

export interface PeerQueueLimits {
  readonly batchOpsMax: number;
  readonly inflightMax: number;
  readonly queueOpsMax: number;
}

interface Pending {
  readonly op: ReplicaOp;
  readonly resolve: (result: ReplicaResult) => void;
  readonly reject: (error: unknown) => void;
}

export class PeerQueue {
  private waiting: Pending[] = [];
  private inflight = 0;
  private scheduled = false;

  constructor(
    private readonly peerId: string,
    private readonly limits: PeerQueueLimits,
    private readonly sendBatch: (ops: ReplicaOp[]) => Promise<ReplicaResult[]>,
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  push(op: ReplicaOp): Promise<ReplicaResult> {
    if (this.waiting.length >= this.limits.queueOpsMax) {
      return Promise.reject(
        new KvError('KV_ERR_OVERLOADED', `${this.waiting.length} ops already queued for peer ${this.peerId}`, { peer: this.peerId }),
      );
    }
    const result = new Promise<ReplicaResult>((resolve, reject) => this.waiting.push({ op, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    return result;
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.inflight < this.limits.inflightMax) {
      const batch = this.waiting.splice(0, this.limits.batchOpsMax);
      this.inflight++;
      this.sendBatch(batch.map((p) => p.op)).then(
        (results) => {
          batch.forEach((pending, i) => {
            const result = results[i];
            if (result === undefined) pending.reject(new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${this.peerId} answered too few results`));
            else pending.resolve(result);
          });
        },
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      ).finally(() => {
        this.inflight--;
        this.flush();
      });
    }
  }

  /** Rejects everything still waiting (used on close). */
  drain(error: unknown): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const pending of waiting) pending.reject(error);
  }
}
