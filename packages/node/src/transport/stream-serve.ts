/**
 * One accepted stream, served (docs/transport.md). Frames are judged from their header before
 * their body is buffered (frame.ts); request ids must rise; each request is timed from when it
 * arrived and dropped unanswered, its work never started, if its time budget passed while it
 * waited. At most `servingMax` requests are served at once; more wait in order, and past
 * `waitingBytesMax` waiting bytes the socket is paused, so TCP pushes back on the dialer (whose
 * in-flight bound then fails its requests fast).
 *
 * The connection is closed, with a coded reason logged and counted, never a throw, when the
 * peer sends a frame of a type a dialer may not send, an oversize frame, nonzero flags, a
 * request id that does not rise, a body that does not decode, a frame it takes longer than
 * `frameTimeoutMs` to finish, or leaves our answers unread for longer than that (`slow-peer`).
 */
import type { Socket } from 'node:net';
import { KvError } from '../errors.js';
import { encodeFrameHeader, FRAME_TYPES, FrameError, FrameReader, TurnWriter, type Frame, type FrameType } from './frame.js';
import { decodeBatch, decodeCoordinate, encodeBatchResults, encodeCoordinateResult } from './messages.js';
import type { PeerHandler } from './transport.js';
import { decodeTreeRequest, encodeTreeResponse } from './tree-messages.js';

/** Defaults of ServeLimits. */
export const SERVING_MAX_DEFAULT = 64;
export const WAITING_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

export interface ServeLimits {
  /** Largest request body (checked from the header). */
  readonly frameBytesMax: number;
  /** A frame begun must be complete, and unread answers read, within this. */
  readonly frameTimeoutMs: number;
  /** Requests served at once on one connection. */
  readonly servingMax?: number;
  /** Bytes of requests waiting to be served before the socket is paused. */
  readonly waitingBytesMax?: number;
  readonly nowMs: () => number;
  readonly peer: PeerHandler;
  readonly isStopping: () => boolean;
}

const EMPTY = new Uint8Array(0);

const REQUEST_TYPES: ReadonlySet<number> = new Set([FRAME_TYPES.batch, FRAME_TYPES.coordinate, FRAME_TYPES.tree]);

interface Waiting {
  readonly frame: Frame;
  readonly arrivedMs: number;
}

/** Runs a request's work; returns the answer's type and body. Decoding errors are the peer's. */
function work(frame: Frame, peer: PeerHandler, sender: string, frameBytesMax: number): { decoded: () => Promise<Uint8Array>; answerType: FrameType } {
  const decodeOrClose = <T>(decode: () => T): T => {
    try {
      return decode();
    } catch (error) {
      throw new FrameError('undecodable-body', `request ${frame.requestId}: ${(error as Error).message}`);
    }
  };
  if (frame.type === FRAME_TYPES.batch) {
    const ops = decodeOrClose(() => decodeBatch(frame.body));
    return { answerType: FRAME_TYPES.batchResult, decoded: async () => encodeBatchResults(await peer.replicaBatch(ops, sender), frameBytesMax) };
  }
  if (frame.type === FRAME_TYPES.coordinate) {
    const request = decodeOrClose(() => decodeCoordinate(frame.body));
    return { answerType: FRAME_TYPES.coordinateResult, decoded: async () => encodeCoordinateResult(await peer.coordinate(request, sender)) };
  }
  const request = decodeOrClose(() => decodeTreeRequest(frame.body));
  return { answerType: FRAME_TYPES.treeResult, decoded: async () => encodeTreeResponse(await peer.tree(request, sender)) };
}

/** The body of an ERROR frame: the same JSON as an HTTP error body. */
function errorBody(error: unknown): Buffer {
  const coded = error instanceof KvError ? error : new KvError('KV_ERR_INTERNAL', 'the request failed on the peer');
  const message = coded.message.length > 1_000 ? `${coded.message.slice(0, 1_000)}…` : coded.message;
  const reason = typeof coded.details.reason === 'string' ? { reason: coded.details.reason } : {};
  return Buffer.from(JSON.stringify({ error: { code: coded.code, message, ...reason } }));
}

export class ServedConnection {
  private readonly reader: FrameReader;
  private lastRequestId = 0;
  private serving = 0;
  private waiting: Waiting[] = [];
  private waitingBytes = 0;
  private readonly writer: TurnWriter;
  private paused = false;
  private closed = false;
  private slowTimer: NodeJS.Timeout | undefined;
  /** Frames completed and drains: what the slow-peer timer looks for. */
  private progress = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly servingMax: number;
  private readonly waitingBytesMax: number;

  constructor(
    private readonly socket: Socket,
    readonly sender: string,
    private readonly limits: ServeLimits,
    private readonly events: { expired(): void; closed(reason: string, error?: KvError): void },
  ) {
    this.servingMax = limits.servingMax ?? SERVING_MAX_DEFAULT;
    this.waitingBytesMax = limits.waitingBytesMax ?? WAITING_BYTES_MAX_DEFAULT;
    this.reader = new FrameReader((type) => (type === FRAME_TYPES.ping ? 0 : REQUEST_TYPES.has(type) ? limits.frameBytesMax : undefined));
    this.writer = new TurnWriter(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => this.drainedWrites());
    socket.on('close', () => this.close('closed'));
  }

  /** Bytes taken in as frames so far (headers judged, bodies buffered): what the tests measure. */
  get consumed(): number {
    return this.reader.consumed;
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    try {
      const nowMs = this.limits.nowMs();
      for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) {
        if (frame.requestId <= this.lastRequestId) throw new FrameError('unknown-request', `request id ${frame.requestId} does not rise (last ${this.lastRequestId})`);
        this.lastRequestId = frame.requestId;
        this.progress++;
        // A probe is answered here, ahead of queued work and whatever the disk is doing: it
        // tests the process and the link, not the store (the dialer's liveness check).
        if (frame.type === FRAME_TYPES.ping) {
          this.answer(FRAME_TYPES.pong, frame.requestId, EMPTY);
          continue;
        }
        this.waiting.push({ frame, arrivedMs: nowMs });
        this.waitingBytes += frame.body.length;
      }
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      return this.close(error.reason, error);
    }
    this.pump();
    this.watchSlow();
  }

  /** Serves waiting requests while there is room; pauses or resumes the socket to match. */
  private pump(): void {
    while (!this.closed && this.serving < this.servingMax && this.waiting.length > 0) {
      const { frame, arrivedMs } = this.waiting.shift()!;
      this.waitingBytes -= frame.body.length;
      if (this.limits.nowMs() - arrivedMs > frame.budgetMs) {
        this.events.expired(); // the dialer gave up on it already: no work, no answer
        continue;
      }
      this.serve(frame);
    }
    const full = this.waitingBytes > this.waitingBytesMax || this.socket.writableNeedDrain;
    if (full && !this.paused) this.socket.pause();
    else if (!full && this.paused) this.socket.resume();
    this.paused = full;
  }

  private serve(frame: Frame): void {
    if (this.limits.isStopping()) {
      this.answer(FRAME_TYPES.error, frame.requestId, errorBody(new KvError('KV_ERR_SHUTTING_DOWN', 'this node is stopping')));
      return;
    }
    let job: ReturnType<typeof work>;
    try {
      job = work(frame, this.limits.peer, this.sender, this.limits.frameBytesMax);
    } catch (error) {
      return this.close((error as FrameError).reason ?? 'undecodable-body', error as KvError);
    }
    this.serving++;
    job
      .decoded()
      .then(
        (body) => this.answer(job.answerType, frame.requestId, body),
        (error: unknown) => this.answer(FRAME_TYPES.error, frame.requestId, errorBody(error)),
      )
      .finally(() => {
        this.serving--;
        this.pump();
        this.settle();
      });
  }

  /** Writes an answer; every answer of this turn leaves in one write. */
  private answer(type: FrameType, requestId: number, body: Uint8Array): void {
    if (this.closed) return;
    this.writer.write(encodeFrameHeader(type, requestId, 0, body.length), body);
    if (this.socket.writableNeedDrain) this.watchSlow();
  }

  private drainedWrites(): void {
    this.progress++;
    this.watchSlow();
    this.pump();
  }

  /**
   * Arms the slow-peer timer while a frame is half received or our answers sit unread; it
   * closes the stream if neither a frame completed nor the socket drained before it fired.
   */
  private watchSlow(): void {
    const stalled = this.reader.partial || this.socket.writableNeedDrain;
    if (!stalled) {
      clearTimeout(this.slowTimer);
      this.slowTimer = undefined;
      return;
    }
    if (this.slowTimer !== undefined) return;
    const seen = this.progress;
    this.slowTimer = setTimeout(() => {
      this.slowTimer = undefined;
      if (this.progress !== seen) return this.watchSlow();
      if (this.reader.partial || this.socket.writableNeedDrain) {
        this.close('slow-peer', new KvError('KV_ERR_PEER_PROTOCOL', `a frame or an answer did not move for ${this.limits.frameTimeoutMs} ms`, { reason: 'slow-peer' }));
      }
    }, this.limits.frameTimeoutMs);
  }

  /** Resolves once nothing is being served (close() waits for it within its grace). */
  drained(): Promise<void> {
    if (this.closed || this.serving === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private settle(): void {
    if (this.serving > 0 && !this.closed) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Closes the stream; `error` when the peer broke the protocol (logged as a warning). Idempotent. */
  close(reason: string, error?: KvError): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.slowTimer);
    this.waiting = [];
    this.socket.destroy();
    this.settle();
    this.events.closed(reason, error);
  }
}
