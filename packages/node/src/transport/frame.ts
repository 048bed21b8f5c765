/**
 * Frames of the node-to-node stream (docs/transport.md): a fixed 16-byte header, then the body.
 *
 *   offset 0  u32  body length in bytes
 *          4  u8   type (FRAME_TYPES)
 *          5  u8   flags (0; anything else is refused)
 *          6  u16  reserved (0)
 *          8  u32  request id (the dialer numbers its requests 1, 2, 3 …; an answer repeats it)
 *         12  u32  time budget in ms (requests: the receiver drops the work once it has passed;
 *                  answers: 0)
 *
 * All big-endian. Bodies are the existing codecs (messages.ts, tree-messages.ts), so the stream
 * and the HTTP fallback carry the same bytes. The reader is pure and incremental: it is fed
 * socket chunks and hands out whole frames, and it judges each header (length against the
 * limit for its type, type, flags) before it buffers a byte of the body, so an oversize or
 * unknown frame costs the receiver 16 bytes. Every refusal is a FrameError with a coded reason;
 * the connection that sent it is closed.
 *
 * Sources: Cassandra's internode messaging (length-prefixed frames on long-lived connections)
 * and etcd's rafthttp streams; the deadline in the header follows gRPC's propagated timeouts.
 */
import { KvError } from '../errors.js';

export const FRAME_HEADER_BYTES = 16;

/** Frame types. Requests go from the dialer to the acceptor, answers back. */
export const FRAME_TYPES = Object.freeze({
  batch: 0x01,
  coordinate: 0x02,
  tree: 0x03,
  /**
   * A liveness probe (empty body), answered by PONG from the read loop at once, ahead of any
   * queued work: an answer says the peer's process and the link are up, whatever its disk does.
   */
  ping: 0x04,
  batchResult: 0x81,
  coordinateResult: 0x82,
  treeResult: 0x83,
  pong: 0x84,
  /** A request refused or failed as a whole: body is JSON {code, message, reason?}. */
  error: 0xff,
});

export type FrameType = (typeof FRAME_TYPES)[keyof typeof FRAME_TYPES];

/** Largest ERROR frame body: a code, a short message and a reason. */
export const ERROR_BODY_BYTES_MAX = 4096;

/** Largest request id and time budget (u32). */
const U32_MAX = 0xffff_ffff;

export interface Frame {
  readonly type: FrameType;
  readonly requestId: number;
  readonly budgetMs: number;
  readonly body: Uint8Array;
}

/** Why a connection was closed for what its peer sent (logged, counted, docs/transport.md). */
export type FrameRefusal = 'oversize-frame' | 'unknown-type' | 'malformed-header' | 'unknown-request' | 'undecodable-body';

/** A peer broke the frame protocol: the connection is closed with `reason`. */
export class FrameError extends KvError {
  constructor(
    readonly reason: FrameRefusal,
    message: string,
  ) {
    super('KV_ERR_PEER_PROTOCOL', message, { reason });
  }
}

/** The 16-byte header of a frame of `bodyBytes` bytes. */
export function encodeFrameHeader(type: FrameType, requestId: number, budgetMs: number, bodyBytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(bodyBytes, 0);
  header.writeUInt8(type, 4);
  header.writeUInt8(0, 5);
  header.writeUInt16BE(0, 6);
  header.writeUInt32BE(requestId, 8);
  header.writeUInt32BE(Math.max(0, Math.min(U32_MAX, Math.ceil(budgetMs))), 12);
  return header;
}

/**
 * Incremental frame reader. `bodyBytesMax(type)` is the largest body accepted for a frame of
 * that type, or undefined when this side never accepts the type (a request arriving at a
 * dialer, an answer arriving at an acceptor): refused as `unknown-type`.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The header of the frame whose body is still arriving. */
  private header: { type: FrameType; length: number; requestId: number; budgetMs: number } | undefined;
  /** Bytes this reader has taken in as frames: headers judged, bodies buffered (the tests' measure). */
  consumed = 0;

  constructor(private readonly bodyBytesMax: (type: number) => number | undefined) {}

  /** True while a frame is partly received (the slow-peer timer runs only then). */
  get partial(): boolean {
    return this.header !== undefined || this.buffered > 0;
  }

  /** Adds bytes from the socket. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole frame, or undefined until more bytes come; throws FrameError. */
  next(): Frame | undefined {
    if (this.header === undefined) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      this.header = this.judge(this.take(FRAME_HEADER_BYTES));
    }
    const { type, length, requestId, budgetMs } = this.header;
    if (this.buffered < length) return undefined;
    this.header = undefined;
    const body = length === 0 ? new Uint8Array(0) : this.take(length);
    this.consumed += length;
    return { type, requestId, budgetMs, body };
  }

  /** Checks a header before any of its body is buffered. */
  private judge(bytes: Buffer): { type: FrameType; length: number; requestId: number; budgetMs: number } {
    this.consumed += FRAME_HEADER_BYTES;
    const length = bytes.readUInt32BE(0);
    const type = bytes.readUInt8(4);
    const limit = this.bodyBytesMax(type);
    if (limit === undefined) throw new FrameError('unknown-type', `frame type 0x${type.toString(16)} is not accepted here`);
    if (bytes.readUInt8(5) !== 0 || bytes.readUInt16BE(6) !== 0) throw new FrameError('malformed-header', 'frame flags and reserved bits must be 0');
    if (length > limit) throw new FrameError('oversize-frame', `frame of ${length} bytes is over the limit of ${limit}`);
    return { type: type as FrameType, length, requestId: bytes.readUInt32BE(8), budgetMs: bytes.readUInt32BE(12) };
  }

  /** Removes `count` bytes from the front (count ≤ buffered); zero-copy when one chunk holds them. */
  private take(count: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= count) {
      out = first.subarray(0, count);
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
    } else {
      out = Buffer.allocUnsafe(count);
      let filled = 0;
      while (filled < count) {
        const chunk = this.chunks[0]!;
        const part = Math.min(chunk.length, count - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      }
    }
    this.buffered -= count;
    return out;
  }
}

/**
 * Writes frames to a socket so that every frame of one event-loop turn leaves in one write:
 * the socket is corked at the first frame of a turn and uncorked at the end of it.
 */
export class TurnWriter {
  private corked = false;

  constructor(private readonly socket: { cork(): void; uncork(): void; write(chunk: Uint8Array): boolean }) {}

  write(header: Buffer, body: Uint8Array): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(header);
    if (body.length > 0) this.socket.write(body);
  }
}
