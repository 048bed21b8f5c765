/**
 * The node-to-node stream transport (docs/transport.md), the default between nodes: one
 * long-lived, authenticated connection per peer (stream-dial.ts, stream-auth.ts), requests as
 * frames (frame.ts) multiplexed and pipelined on it (stream-connection.ts), bodies in the same
 * codecs as the HTTP fallback. Replica ops are still batched per peer and per event-loop turn
 * (peer-queue.ts): one BATCH frame carries a turn's ops.
 *
 * A dial that fails makes the next one wait (backoff.ts: exponential with jitter, injected
 * randomness); while it waits, requests to that peer fail at once with KV_ERR_PEER_UNREACHABLE
 * (`delivered: false`), as a refused connection does over HTTP. A connection that closes fails
 * its requests in flight (`delivered: true`) and the next request dials again at once. Injected
 * partitions (fault-plan.ts) hang requests until their deadline, exactly as in HttpTransport.
 */
import { isErrorCode, statusOf } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import { Backoff, RECONNECT_BASE_MS_DEFAULT, RECONNECT_MAX_MS_DEFAULT } from './backoff.js';
import type { FaultPlan } from './fault-plan.js';
import { FRAME_TYPES, type Frame, type FrameType } from './frame.js';
import { CLOSE_GRACE_MS_DEFAULT } from './http-transport.js';
import type { ReplicaOp, ReplicaResult } from './messages.js';
import { NetworkTransport, peerEntry, type Exchange } from './network-transport.js';
import { refusal } from './peer-errors.js';
import { PeerQueue, type PeerQueueLimits } from './peer-queue.js';
import { dialPeer, type DialOptions } from './stream-dial.js';
import { PeerConnection } from './stream-connection.js';

const EMPTY = new Uint8Array(0);

/** Default bound on the bytes in flight to one peer (stream-connection.ts). */
export const INFLIGHT_BYTES_MAX_DEFAULT = 128 * 1024 * 1024;

export interface StreamTransportOptions extends PeerQueueLimits, DialOptions {
  readonly faults?: FaultPlan;
  /** Deadline of a batch (dial included) before its ops fail with KV_ERR_TIMEOUT. */
  readonly peerTimeoutMs: number;
  /** Largest answer body accepted from a peer (and largest request sent). */
  readonly frameBytesMax: number;
  /** Most bytes in flight to one peer; past it requests fail at once with KV_ERR_OVERLOADED. */
  readonly inflightBytesMax?: number;
  /** How long close() lets requests in flight finish before it closes the connections. */
  readonly closeGraceMs?: number;
  /** Uniform in [0, 1): the reconnect jitter. Required: no part picks its own randomness. */
  readonly random: () => number;
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Told why a connection closed (the node logs it). */
  readonly onConnectionClosed?: (peerId: string, reason: string, error: KvError) => void;
}

/** One peer: its turn batching and its connection, dialled on demand. */
class PeerLink {
  connection: PeerConnection | undefined;
  private dialing: Promise<PeerConnection> | undefined;
  private retryAtMs = 0;
  /** Set by close(): a dial that completes afterwards is hung up at once. */
  closed = false;
  readonly queue: PeerQueue;

  constructor(
    private readonly member: Member,
    private readonly options: StreamTransportOptions,
    private readonly backoff: Backoff,
    sendBatch: (ops: ReplicaOp[]) => Promise<ReplicaResult[]>,
  ) {
    this.queue = new PeerQueue(member.id, options, sendBatch);
  }

  /** Stops this link for good: what waits in its queue fails with `error`, its connection closes. */
  retire(error: KvError): void {
    this.closed = true;
    this.queue.drain(error);
    this.connection?.close('retired', error);
  }

  /** The open connection, or a dial (shared by concurrent callers), or a fast refusal while backing off. */
  connect(): Promise<PeerConnection> {
    if (this.connection?.open === true) return Promise.resolve(this.connection);
    if (this.dialing !== undefined) return this.dialing;
    const waitMs = this.retryAtMs - this.options.nowMs();
    if (waitMs > 0) {
      const { id } = this.member;
      return Promise.reject(new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${id} unreachable: redialling in ${Math.ceil(waitMs)} ms`, { peer: id, delivered: false }));
    }
    this.dialing = dialPeer(this.member, this.options, this.options.peerTimeoutMs).then(
      ({ socket, head }) => {
        this.dialing = undefined;
        if (this.closed) {
          socket.destroy();
          throw new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
        }
        this.backoff.reset();
        const connection: PeerConnection = new PeerConnection(socket, head, {
          peerId: this.member.id,
          responseBytesMax: this.options.frameBytesMax,
          inflightBytesMax: this.options.inflightBytesMax ?? INFLIGHT_BYTES_MAX_DEFAULT,
          silenceMs: this.options.peerTimeoutMs,
          onClose: (reason, error) => {
            if (this.connection === connection) this.connection = undefined;
            this.options.onConnectionClosed?.(this.member.id, reason, error);
          },
        });
        this.connection = connection;
        return connection;
      },
      (error: unknown) => {
        this.retryAtMs = this.options.nowMs() + this.backoff.fail();
        this.dialing = undefined;
        throw error;
      },
    );
    return this.dialing;
  }
}

/** Waits for `promise` at most `timeoutMs`; a timer only while it is pending. */
function within<T>(promise: Promise<T>, timeoutMs: number, member: Member): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new KvError('KV_ERR_TIMEOUT', `peer ${member.id}: no connection within ${timeoutMs} ms`, { peer: member.id, delivered: false })), timeoutMs);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** An ERROR frame: the peer refused or failed the request as a whole (JSON like an HTTP error body). */
function errorFrame(member: Member, what: string, body: Uint8Array): KvError {
  let code: unknown;
  try {
    code = (JSON.parse(Buffer.from(body).toString('utf8')) as { error?: { code?: unknown } } | null)?.error?.code;
  } catch {
    code = undefined;
  }
  return refusal(member, what, isErrorCode(code) ? statusOf(code) : 500, body);
}

/** Each exchange's request frame type and answer frame type. */
const FRAMES: Readonly<Record<Exchange, readonly [FrameType, FrameType]>> = {
  batch: [FRAME_TYPES.batch, FRAME_TYPES.batchResult],
  coordinate: [FRAME_TYPES.coordinate, FRAME_TYPES.coordinateResult],
  tree: [FRAME_TYPES.tree, FRAME_TYPES.treeResult],
};

export class StreamTransport extends NetworkTransport {
  private readonly links = new Map<string, PeerLink>();

  constructor(private readonly options: StreamTransportOptions) {
    super(options);
  }

  protected queueOf(member: Member): PeerQueue {
    return this.link(member).queue;
  }

  protected send(member: Member, exchange: Exchange, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const [type, answerType] = FRAMES[exchange];
    return this.exchange(this.link(member), member, type, answerType, body, timeoutMs);
  }

  protected ping(member: Member, timeoutMs: number): Promise<void> {
    return this.exchange(this.link(member), member, FRAME_TYPES.ping, FRAME_TYPES.pong, EMPTY, timeoutMs).then(() => undefined);
  }

  /** The link to `member` (by id and address: network-transport.ts peerEntry). */
  private link(member: Member): PeerLink {
    return peerEntry(
      this.links,
      member,
      () => {
        const backoff = new Backoff(this.options.random, this.options.reconnectBaseMs ?? RECONNECT_BASE_MS_DEFAULT, this.options.reconnectMaxMs ?? RECONNECT_MAX_MS_DEFAULT);
        return new PeerLink(member, this.options, backoff, (ops) => this.sendBatch(member, ops));
      },
      (old, error) => old.retire(error),
    );
  }

  /** One request and its answer's body, within `timeoutMs` (a dial included). */
  private async exchange(link: PeerLink, member: Member, type: FrameType, answerType: FrameType, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (body.length > this.options.frameBytesMax) {
      throw new KvError('KV_ERR_OVERLOADED', `a ${body.length}-byte request to peer ${member.id} is over the frame limit`, { peer: member.id, limit: this.options.frameBytesMax, delivered: false });
    }
    const startedMs = this.options.nowMs();
    const open = link.connection;
    const connection = open?.open === true ? open : await within(link.connect(), timeoutMs, member);
    const frame: Frame = await connection.request(type, answerType, body, Math.max(1, timeoutMs - (this.options.nowMs() - startedMs)));
    if (frame.type === FRAME_TYPES.error) throw errorFrame(member, `stream request 0x${type.toString(16)}`, frame.body);
    return frame.body;
  }

  /** Refuses what waits, lets requests in flight finish within the grace, then closes every connection. */
  protected async shutDown(): Promise<void> {
    this.closed = true;
    const error = new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    for (const link of this.links.values()) {
      link.closed = true;
      link.queue.drain(error);
    }
    const graceMs = this.options.closeGraceMs ?? CLOSE_GRACE_MS_DEFAULT;
    const connections = [...this.links.values()].flatMap((link) => (link.connection === undefined ? [] : [link.connection]));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(connections.map((c) => c.idle())), expired]);
    clearTimeout(timer);
    for (const connection of connections) connection.close('closing', error);
  }
}
