/**
 * One authenticated stream to a peer, dialer side (docs/transport.md): requests are numbered
 * 1, 2, 3 … and written as frames at once, many in flight (pipelined); answers come back in any
 * order and are matched by request id. Frames written in one event-loop turn leave in one
 * write (the socket is corked for the turn).
 *
 * Bounds and what breaks the connection:
 * - in-flight bytes: the requests awaiting answers plus what the socket has not yet written;
 *   past `inflightBytesMax` a new request fails at once with KV_ERR_OVERLOADED (it does not
 *   wait), unless nothing is in flight (a single large frame may always go);
 * - each request has a deadline (KV_ERR_TIMEOUT); if nothing at all arrived on the connection
 *   while a request waited a whole deadline of at least `silenceMs` (the peer timeout), the
 *   peer is taken for stuck and the connection is closed (`unresponsive`), so the next request
 *   dials afresh; a short request stuck behind a long one does not close it;
 * - an answer is judged from its header first (type, length ≤ `responseBytesMax`); an answer
 *   of the wrong type, to a request id never sent, or one that breaks the framing closes the
 *   connection with that reason. An answer to a request that already timed out is dropped.
 * Closing fails every request still waiting with KV_ERR_PEER_UNREACHABLE (`delivered`: the
 * peer may have acted on it).
 *
 * Sources: Cassandra's internode OutboundConnection and etcd's rafthttp stream (one long-lived,
 * pipelined connection per peer).
 */
import type { Socket } from 'node:net';
import { KvError } from '../errors.js';
import { encodeFrameHeader, ERROR_BODY_BYTES_MAX, FRAME_HEADER_BYTES, FRAME_TYPES, FrameError, FrameReader, TurnWriter, type Frame, type FrameType } from './frame.js';

/** The largest request id before a connection is retired (u32). */
const REQUEST_ID_MAX = 0xffff_ffff;

const ANSWER_TYPES: ReadonlySet<number> = new Set([FRAME_TYPES.batchResult, FRAME_TYPES.coordinateResult, FRAME_TYPES.treeResult]);

export interface ConnectionOptions {
  readonly peerId: string;
  /** Largest answer body accepted (checked from the header). */
  readonly responseBytesMax: number;
  /** Most bytes in flight (see the module comment). */
  readonly inflightBytesMax: number;
  /** Silence after which a connection counts as stuck (see the module comment). */
  readonly silenceMs: number;
  /** Called once, when the connection closed, with the reason. */
  readonly onClose: (reason: string, error: KvError) => void;
}

interface Pending {
  readonly answerType: FrameType;
  readonly bytes: number;
  /** `bytesIn` when the request was written: unchanged at its deadline means a silent peer. */
  readonly bytesInAtSend: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: unknown) => void;
}

export class PeerConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private inflightBytes = 0;
  private bytesIn = 0;
  private closed = false;
  private readonly reader: FrameReader;
  private readonly writer: TurnWriter;
  private idleWaiters: Array<() => void> = [];
  /** Answers that came after their request's deadline (dropped). */
  lateAnswers = 0;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    private readonly options: ConnectionOptions,
  ) {
    this.reader = new FrameReader((type) =>
      type === FRAME_TYPES.pong ? 0 : type === FRAME_TYPES.error ? ERROR_BODY_BYTES_MAX : ANSWER_TYPES.has(type) ? options.responseBytesMax : undefined,
    );
    this.writer = new TurnWriter(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    // The peer's end of the stream (its process exited, was killed, or closed the stream):
    // closed at once, not when the socket finally closes, so a request made meanwhile dials
    // afresh (and is refused, undelivered, if the peer is gone) instead of being written into
    // a dead connection, where its outcome would be unknown.
    socket.on('end', () => this.close('peer-closed', this.lost('the peer closed the stream')));
    socket.on('error', (error) => this.close('socket-error', this.lost(`connection error: ${error.message}`)));
    socket.on('close', () => this.close('closed', this.lost('connection closed')));
    if (head.length > 0) this.received(head);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Requests awaiting their answer. */
  get inflight(): number {
    return this.pending.size;
  }

  private lost(message: string): KvError {
    return new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${this.options.peerId}: ${message}`, { peer: this.options.peerId, delivered: true });
  }

  /**
   * Sends a request frame; resolves with its answer frame (of `answerType`, or an ERROR frame),
   * rejects with KV_ERR_OVERLOADED, KV_ERR_TIMEOUT or KV_ERR_PEER_UNREACHABLE.
   */
  request(type: FrameType, answerType: FrameType, body: Uint8Array, timeoutMs: number): Promise<Frame> {
    const peer = this.options.peerId;
    if (this.closed || this.nextId > REQUEST_ID_MAX) {
      if (!this.closed) this.close('ids-exhausted', this.lost('request ids exhausted; reconnecting'));
      return Promise.reject(new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${peer}: connection closed`, { peer, delivered: false }));
    }
    const bytes = FRAME_HEADER_BYTES + body.length;
    const queued = this.inflightBytes + this.socket.writableLength;
    if (this.pending.size > 0 && queued + bytes > this.options.inflightBytesMax) {
      return Promise.reject(
        new KvError('KV_ERR_OVERLOADED', `${queued} bytes already in flight to peer ${peer}`, { peer, inflightBytes: queued, limit: this.options.inflightBytesMax }),
      );
    }
    const id = this.nextId++;
    const answer = new Promise<Frame>((resolve, reject) => {
      // Expired from the check phase, after this loop turn's poll phase has read the socket: an
      // answer that arrived while this process was stalled (a busy machine) is taken, not
      // dropped as late behind a timer that fired first.
      const timer = setTimeout(() => setImmediate(() => this.expire(id, timeoutMs)), timeoutMs);
      this.pending.set(id, { answerType, bytes, bytesInAtSend: this.bytesIn, timer, resolve, reject });
    });
    this.inflightBytes += bytes;
    this.writer.write(encodeFrameHeader(type, id, timeoutMs, body.length), body);
    return answer;
  }

  private expire(id: number, timeoutMs: number): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    this.inflightBytes -= pending.bytes;
    pending.reject(new KvError('KV_ERR_TIMEOUT', `peer ${this.options.peerId} did not answer within ${timeoutMs} ms`, { peer: this.options.peerId }));
    this.settled();
    if (this.bytesIn === pending.bytesInAtSend && timeoutMs >= this.options.silenceMs) this.close('unresponsive', this.lost(`nothing received for ${timeoutMs} ms`));
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    this.reader.push(chunk);
    try {
      for (let frame = this.reader.next(); frame !== undefined && !this.closed; frame = this.reader.next()) this.answered(frame);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.close(error.reason, new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${this.options.peerId} broke the stream protocol: ${error.message}`, { peer: this.options.peerId, reason: error.reason, delivered: true }));
    }
  }

  private answered(frame: Frame): void {
    const pending = this.pending.get(frame.requestId);
    if (pending === undefined) {
      if (frame.requestId === 0 || frame.requestId >= this.nextId) throw new FrameError('unknown-request', `answer to request ${frame.requestId}, never sent`);
      this.lateAnswers++;
      return;
    }
    if (frame.type !== pending.answerType && frame.type !== FRAME_TYPES.error) {
      throw new FrameError('unknown-type', `answer of type 0x${frame.type.toString(16)} to a request expecting 0x${pending.answerType.toString(16)}`);
    }
    this.pending.delete(frame.requestId);
    clearTimeout(pending.timer);
    this.inflightBytes -= pending.bytes;
    pending.resolve(frame);
    this.settled();
  }

  /** Closes the connection; every request still waiting fails with `error`. Idempotent. */
  close(reason: string, error: KvError): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    this.inflightBytes = 0;
    this.settled();
    this.options.onClose(reason, error);
  }

  /** Resolves once no request awaits an answer (or the connection closed). */
  idle(): Promise<void> {
    if (this.closed || this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Settles `idle()` waiters when the last request was answered, expired or failed. */
  private settled(): void {
    if (this.pending.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
