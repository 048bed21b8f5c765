/**
 * What the two network transports share (HttpTransport, StreamTransport): the Transport calls
 * turned into bodies in the wire codecs (messages.ts, tree-messages.ts), per-peer turn batching
 * (peer-queue.ts), injected partitions (fault-plan.ts), the counters, and what an answer that
 * does not decode or does not match the batch means. A subclass only carries a body to a peer
 * and returns the answer's body: as a signed HTTP request, or as a frame on a stream.
 */
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import type { FaultPlan } from './fault-plan.js';
import {
  decodeBatchResults,
  decodeCoordinateResult,
  encodeBatch,
  encodeCoordinate,
  type CoordinateRequest,
  type CoordinateResult,
  type ReplicaOp,
  type ReplicaResult,
} from './messages.js';
import { fromPeer, partitioned } from './peer-errors.js';
import type { PeerQueue } from './peer-queue.js';
import { decodeTreeResponse, encodeTreeRequest, type TreeRequest, type TreeResponse } from './tree-messages.js';
import { FORWARD_HOP_ALLOWANCE_MS, type Transport, type TransportStats } from './transport.js';

/**
 * The entry of `peers` for `member`, made by `make` when missing. Entries are keyed by id and
 * address: an address can come back as another member (a wiped node rejoining under a new id
 * on its old ports), and a peer's connections dial and sign for the id they were made for. An
 * entry left for the address's previous member is removed and handed to `retire`, with the
 * error its waiting requests fail with (undelivered).
 */
export function peerEntry<T>(peers: Map<string, T>, member: Member, make: () => T, retire: (old: T, error: KvError) => void): T {
  const key = `${member.id}@${member.address}`;
  let entry = peers.get(key);
  if (entry === undefined) {
    for (const [other, old] of peers) {
      if (!other.endsWith(`@${member.address}`)) continue;
      peers.delete(other);
      retire(old, new KvError('KV_ERR_PEER_UNREACHABLE', `${member.address} is now ${member.id}`, { delivered: false }));
    }
    entry = make();
    peers.set(key, entry);
  }
  return entry;
}

/** The three exchanges between nodes. */
export type Exchange = 'batch' | 'coordinate' | 'tree';

export abstract class NetworkTransport implements Transport {
  protected counters = { opsSent: 0, batchesSent: 0, batchesFailed: 0, forwards: 0, probes: 0 };
  protected closed = false;

  constructor(private readonly common: { readonly faults?: FaultPlan; readonly peerTimeoutMs: number }) {}

  /** The peer's turn batching queue (whose sending is `sendBatch`). */
  protected abstract queueOf(member: Member): PeerQueue;

  /** Carries `body` to `member` and returns its answer's body, all within `timeoutMs`; throws coded errors. */
  protected abstract send(member: Member, exchange: Exchange, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;

  /** Carries a liveness probe to `member` and waits for its answer, within `timeoutMs`. */
  protected abstract ping(member: Member, timeoutMs: number): Promise<void>;

  /** Refuses later calls, lets what is in flight finish within a grace, releases connections. */
  protected abstract shutDown(): Promise<void>;

  private closing: Promise<void> | undefined;

  /** Idempotent: every call gets the same shutdown. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  protected async sendBatch(member: Member, ops: ReplicaOp[]): Promise<ReplicaResult[]> {
    this.counters.opsSent += ops.length;
    this.counters.batchesSent++;
    try {
      const bytes = await this.send(member, 'batch', encodeBatch(ops), this.common.peerTimeoutMs);
      const results = fromPeer(member, 'batch result', () => decodeBatchResults(bytes));
      if (results.length !== ops.length) {
        throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} answered ${results.length} results for ${ops.length} ops`, { peer: member.id });
      }
      return results;
    } catch (error) {
      this.counters.batchesFailed++;
      throw error;
    }
  }

  replica(peer: Member, op: ReplicaOp): Promise<ReplicaResult> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
    if (this.common.faults?.blocks(peer.id)) return partitioned(peer, this.common.peerTimeoutMs);
    return this.queueOf(peer).push(op);
  }

  async coordinate(member: Member, request: CoordinateRequest, timeoutMs: number): Promise<CoordinateResult> {
    if (this.common.faults?.blocks(member.id)) return partitioned(member, timeoutMs);
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    this.counters.forwards++;
    const bytes = await this.send(member, 'coordinate', encodeCoordinate(request), timeoutMs + FORWARD_HOP_ALLOWANCE_MS);
    return fromPeer(member, 'coordinate result', () => decodeCoordinateResult(bytes));
  }

  async tree(member: Member, request: TreeRequest, timeoutMs: number): Promise<TreeResponse> {
    if (this.common.faults?.blocks(member.id)) return partitioned(member, timeoutMs);
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    const bytes = await this.send(member, 'tree', encodeTreeRequest(request), timeoutMs);
    return fromPeer(member, 'tree response', () => decodeTreeResponse(bytes));
  }

  async probe(member: Member, timeoutMs: number): Promise<void> {
    if (this.common.faults?.blocks(member.id)) return partitioned(member, timeoutMs);
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    this.counters.probes++;
    await this.ping(member, timeoutMs);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }
}
