/**
 * The Transport interface between nodes, and the handler a node exposes to its peers. Two
 * implementations pass one contract suite (test/contract/transport.contract.ts): HttpTransport
 * (undici, authenticated /internal/ routes) and MemoryTransport (in-process twin).
 */
import type { Member } from '../membership/membership.js';
import type { CoordinateRequest, CoordinateResult, ReplicaOp, ReplicaResult } from './messages.js';
import type { TreeRequest, TreeResponse } from './tree-messages.js';

/** What a node serves to its peers (the receiving side of a Transport). */
export interface PeerHandler {
  /** Applies a batch of replica ops; one result per op, in order. Writes are durable when it resolves. */
  replicaBatch(ops: readonly ReplicaOp[], sender: string): Promise<ReplicaResult[]>;
  /** Coordinates a client request forwarded by a node outside the key's preference list. */
  coordinate(request: CoordinateRequest, sender: string): Promise<CoordinateResult>;
  /**
   * Anti-entropy and reaping: summarizes or lists what this node holds in ring ranges
   * (tree-messages.ts). A holdings answer resolves only once the state it reports is durable.
   */
  tree(request: TreeRequest, sender: string): TreeResponse | Promise<TreeResponse>;
  /**
   * Answers a liveness probe. The network transports answer probes in their read loop without
   * calling this; the in-process twin calls it so a simulation can delay, lose or withhold
   * (a paused node) the answer. Resolves at once on a running node.
   */
  probe?(sender: string): Promise<void>;
}

/**
 * What a forward may take beyond the client's timeout: the peer enforces that timeout itself
 * and answers 504 at it, so the hop gets a little more before the forwarding node gives up.
 */
export const FORWARD_HOP_ALLOWANCE_MS = 1_000;

export interface Transport {
  /**
   * Sends one replica op to `peer`; ops for the same peer issued in the same event-loop turn
   * travel in one request. Resolves with the replica's result; rejects with a KvError
   * (KV_ERR_PEER_UNREACHABLE, KV_ERR_TIMEOUT, KV_ERR_OVERLOADED) when no result came.
   */
  replica(peer: Member, op: ReplicaOp): Promise<ReplicaResult>;
  /**
   * Forwards a client request to `peer` to coordinate (one hop). Rejects with KV_ERR_TIMEOUT
   * when no answer came within `timeoutMs` + FORWARD_HOP_ALLOWANCE_MS, KV_ERR_PEER_UNREACHABLE
   * when the peer could not be reached or gave no usable answer, KV_ERR_SHUTTING_DOWN after
   * close().
   */
  coordinate(peer: Member, request: CoordinateRequest, timeoutMs: number): Promise<CoordinateResult>;
  /**
   * Anti-entropy: asks `peer` about the ranges in `request`. Rejects like `coordinate` (the
   * deadline is `timeoutMs`; a malformed answer is KV_ERR_PEER_UNREACHABLE).
   */
  tree(peer: Member, request: TreeRequest, timeoutMs: number): Promise<TreeResponse>;
  /**
   * A liveness probe: resolves when `peer`'s process answered over the link, which it does at
   * once, ahead of queued work and regardless of its disk. Rejects with KV_ERR_TIMEOUT when no
   * answer came within `timeoutMs`, KV_ERR_PEER_UNREACHABLE when the peer could not be reached,
   * KV_ERR_SHUTTING_DOWN after close(). The coordinator asks it of a replica that is late, to
   * tell a cut link or a dead process (fail now, try another) from a slow one (keep waiting).
   */
  probe(peer: Member, timeoutMs: number): Promise<void>;
  /** Counters for /metrics. */
  stats(): TransportStats;
  /** Rejects waiting and later calls with KV_ERR_SHUTTING_DOWN and releases connections; idempotent. */
  close(): Promise<void>;
}

export interface TransportStats {
  /** Replica ops sent. */
  readonly opsSent: number;
  /** Requests (batches) that carried them: opsSent / batchesSent is the batching factor. */
  readonly batchesSent: number;
  /** Batches that failed as a whole (peer unreachable, timeout, refused). */
  readonly batchesFailed: number;
  readonly forwards: number;
  /** Liveness probes sent (Transport.probe). */
  readonly probes: number;
}
