/**
 * The in-process twin of HttpTransport, for the fast deterministic tiers and the simulation:
 * nodes register their PeerHandler on a MemoryNetwork under their address; ops are batched
 * per peer and per turn exactly like the HTTP transport (same PeerQueue), delivered through
 * the injected scheduler, and fail with KV_ERR_PEER_UNREACHABLE when the address has no
 * handler or the network has cut the link. Like HttpTransport it refuses everything with
 * KV_ERR_SHUTTING_DOWN once closed, and a forward that gets no answer within its timeout (plus
 * the same hop allowance) fails with KV_ERR_TIMEOUT.
 */
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import type { CoordinateRequest, CoordinateResult, ReplicaOp, ReplicaResult } from './messages.js';
import { PeerQueue, type PeerQueueLimits } from './peer-queue.js';
import { decodeTreeRequest, decodeTreeResponse, encodeTreeRequest, encodeTreeResponse, type TreeRequest, type TreeResponse } from './tree-messages.js';
import { FORWARD_HOP_ALLOWANCE_MS, type PeerHandler, type Transport, type TransportStats } from './transport.js';

/** Starts a timer; returns its cancel function. Injected so a simulation can run on virtual time. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

const realTimer: SetTimer = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export class MemoryNetwork {
  private readonly handlers = new Map<string, PeerHandler>();
  private readonly cut = new Set<string>();

  register(address: string, handler: PeerHandler): void {
    this.handlers.set(address, handler);
  }

  unregister(address: string): void {
    this.handlers.delete(address);
  }

  /** Cuts (or restores) the one-way link from `fromId` to the node at `toAddress`. */
  setLink(fromId: string, toAddress: string, up: boolean): void {
    const link = `${fromId}->${toAddress}`;
    if (up) this.cut.delete(link);
    else this.cut.add(link);
  }

  handler(fromId: string, address: string): PeerHandler | undefined {
    return this.cut.has(`${fromId}->${address}`) ? undefined : this.handlers.get(address);
  }
}

export class MemoryTransport implements Transport {
  private readonly queues = new Map<string, PeerQueue>();
  private counters = { opsSent: 0, batchesSent: 0, batchesFailed: 0, forwards: 0, probes: 0 };
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly selfId: string,
    private readonly limits: PeerQueueLimits = { batchOpsMax: 256, inflightMax: 4, queueOpsMax: 10_000 },
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
    private readonly setTimer: SetTimer = realTimer,
  ) {}

  private target(member: Member): PeerHandler {
    const handler = this.network.handler(this.selfId, member.address);
    if (handler === undefined) throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} unreachable`, { peer: member.id, delivered: false });
    return handler;
  }

  replica(peer: Member, op: ReplicaOp): Promise<ReplicaResult> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
    let queue = this.queues.get(peer.address);
    if (queue === undefined) {
      queue = new PeerQueue(
        peer.id,
        this.limits,
        async (ops) => {
          this.counters.opsSent += ops.length;
          this.counters.batchesSent++;
          try {
            return await this.target(peer).replicaBatch(ops, this.selfId);
          } catch (error) {
            this.counters.batchesFailed++;
            throw error;
          }
        },
        this.schedule,
      );
      this.queues.set(peer.address, queue);
    }
    return queue.push(op);
  }

  async coordinate(peer: Member, request: CoordinateRequest, timeoutMs: number): Promise<CoordinateResult> {
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    this.counters.forwards++;
    const deadlineMs = timeoutMs + FORWARD_HOP_ALLOWANCE_MS;
    return new Promise<CoordinateResult>((resolve, reject) => {
      const cancel = this.setTimer(
        () => reject(new KvError('KV_ERR_TIMEOUT', `peer ${peer.id} did not answer /internal/coordinate within ${deadlineMs} ms`, { peer: peer.id })),
        deadlineMs,
      );
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        cancel();
        fn(value);
      };
      this.schedule(() => {
        if (this.closed) return settle(reject)(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
        let answer: Promise<CoordinateResult>;
        try {
          answer = this.target(peer).coordinate(request, this.selfId);
        } catch (error) {
          answer = Promise.reject(error);
        }
        answer.then(settle(resolve), settle(reject));
      });
    });
  }

  /** Goes through the codecs both ways, as over HTTP, so the twin refuses what the wire would. */
  async tree(peer: Member, request: TreeRequest, timeoutMs: number): Promise<TreeResponse> {
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    const bytes = encodeTreeRequest(request);
    return new Promise<TreeResponse>((resolve, reject) => {
      const cancel = this.setTimer(() => reject(new KvError('KV_ERR_TIMEOUT', `peer ${peer.id} did not answer /internal/tree within ${timeoutMs} ms`, { peer: peer.id })), timeoutMs);
      this.schedule(() => {
        cancel();
        try {
          if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
          Promise.resolve(this.target(peer).tree(decodeTreeRequest(bytes), this.selfId)).then(
            (response) => resolve(decodeTreeResponse(encodeTreeResponse(response))),
            reject,
          );
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Answered by the peer's `probe` (a simulation delays or withholds it), or at once. */
  probe(peer: Member, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
    this.counters.probes++;
    return new Promise<void>((resolve, reject) => {
      const cancel = this.setTimer(() => reject(new KvError('KV_ERR_TIMEOUT', `peer ${peer.id} did not answer a probe within ${timeoutMs} ms`, { peer: peer.id })), timeoutMs);
      this.schedule(() => {
        let answer: Promise<void>;
        try {
          if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
          answer = this.target(peer).probe?.(this.selfId) ?? Promise.resolve();
        } catch (error) {
          answer = Promise.reject(error);
        }
        answer.then(
          () => (cancel(), resolve()),
          (error: unknown) => (cancel(), reject(error)),
        );
      });
    });
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.queues.values()) queue.drain(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
  }
}
