/**
 * Transport over HTTP: one undici Pool per peer (keep-alive; `fetch` is 7x slower here),
 * replica ops batched per peer (peer-queue.ts) into `POST /internal/batch`, forwarded client
 * requests as `POST /internal/coordinate`, every request signed with the cluster secret
 * (auth.ts). A peer that cannot be reached, answers late or answers garbage makes the affected
 * ops fail with a coded error; the coordinator counts them as replica failures.
 */
import { Pool } from 'undici';
import { isErrorCode } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import { signRequest } from './auth.js';
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
import { PeerQueue, type PeerQueueLimits } from './peer-queue.js';
import type { Transport, TransportStats } from './transport.js';

export interface HttpTransportOptions extends PeerQueueLimits {
  readonly selfId: string;
  readonly secret: string;
  readonly nowMs: () => number;
  /** How long a batch may take before its ops fail with KV_ERR_TIMEOUT. */
  readonly peerTimeoutMs: number;
  readonly connectionsPerPeer: number;
  /** Largest response accepted from a peer. */
  readonly responseBytesMax: number;
}

interface Peer {
  readonly pool: Pool;
  readonly queue: PeerQueue;
}

export class HttpTransport implements Transport {
  private readonly peers = new Map<string, Peer>();
  private counters = { opsSent: 0, batchesSent: 0, batchesFailed: 0, forwards: 0 };
  private closed = false;

  constructor(private readonly options: HttpTransportOptions) {}

  private peer(member: Member): Peer {
    let peer = this.peers.get(member.address);
    if (peer === undefined) {
      const pool = new Pool(member.address, { connections: this.options.connectionsPerPeer, maxResponseSize: this.options.responseBytesMax });
      const queue = new PeerQueue(member.id, this.options, (ops) => this.sendBatch(pool, member, ops));
      peer = { pool, queue };
      this.peers.set(member.address, peer);
    }
    return peer;
  }

  private async post(pool: Pool, member: Member, path: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const headers = { 'content-type': 'application/octet-stream', ...signRequest(this.options.secret, this.options.selfId, path, body, this.options.nowMs()) };
    let response;
    try {
      response = await pool.request({ method: 'POST', path, body, headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code.includes('TIMEOUT')) throw new KvError('KV_ERR_TIMEOUT', `peer ${member.id} did not answer within ${timeoutMs} ms`, { peer: member.id });
      throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} unreachable: ${(error as Error).message}`, { peer: member.id }, { cause: error });
    }
    const bytes = new Uint8Array(await response.body.arrayBuffer());
    if (response.statusCode === 200) return bytes;
    let code: unknown;
    try {
      code = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    // Whatever the peer's reason (401 from a secret mismatch, 503 while it stops, 500), no
    // result came from it: the coordinator counts the replica as failed.
    throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} refused ${path}: ${response.statusCode} ${isErrorCode(code) ? code : ''}`, {
      peer: member.id,
      status: response.statusCode,
    });
  }

  private async sendBatch(pool: Pool, member: Member, ops: ReplicaOp[]): Promise<ReplicaResult[]> {
    this.counters.opsSent += ops.length;
    this.counters.batchesSent++;
    try {
      const results = decodeBatchResults(await this.post(pool, member, '/internal/batch', encodeBatch(ops), this.options.peerTimeoutMs));
      if (results.length !== ops.length) throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} answered ${results.length} results for ${ops.length} ops`);
      return results;
    } catch (error) {
      this.counters.batchesFailed++;
      throw error;
    }
  }

  replica(peer: Member, op: ReplicaOp): Promise<ReplicaResult> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
    return this.peer(peer).queue.push(op);
  }

  async coordinate(member: Member, request: CoordinateRequest, timeoutMs: number): Promise<CoordinateResult> {
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    this.counters.forwards++;
    // The peer enforces the client's timeout itself; allow a little more for the hop.
    const bytes = await this.post(this.peer(member).pool, member, '/internal/coordinate', encodeCoordinate(request), timeoutMs + 1_000);
    return decodeCoordinateResult(bytes);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.queue.drain(new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed'));
    await Promise.all([...this.peers.values()].map((peer) => peer.pool.close()));
  }
}
