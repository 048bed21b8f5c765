/**
 * Raw HTTP/1.1 over node:net for requests an HTTP client will not send as-is: a body shorter
 * than its Content-Length, a chunked body written piece by piece while watching for an early
 * answer. `RawConnection` parses the first response as soon as it is complete, without waiting
 * for the connection to close, and counts the bytes actually written.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
  /** Bytes this side had written when the response was complete. */
  bytesWrittenAtResponse: number;
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine, ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers };
}

/** Decodes a complete chunked body, or returns undefined while it is incomplete. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    // The last chunk: complete once the (possibly empty) trailer section has ended.
    if (size === 0) return data.indexOf('\r\n\r\n', lineEnd) === -1 ? undefined : Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

export class RawConnection {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private closed = false;
  private response: RawResponse | undefined;
  private waiters: Array<() => void> = [];
  /** Socket errors (EPIPE, ECONNRESET) seen after or while the server answered. */
  readonly errors: Error[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.tryParse();
    });
    socket.on('error', (error) => {
      this.errors.push(error);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.tryParse();
      this.wake();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get hasResponse(): boolean {
    return this.response !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private tryParse(): void {
    if (this.response !== undefined) return;
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const { status, headers } = parseHead(this.received.subarray(0, headEnd).toString('latin1'));
    const rest = this.received.subarray(headEnd + 4);
    let body: Buffer | undefined;
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (rest.length >= length) body = rest.subarray(0, length);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      body = dechunk(rest);
    } else if (this.closed) {
      body = rest;
    }
    if (body === undefined) return;
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
    this.response = { status, headers, body, json, bytesWrittenAtResponse: this.socket.bytesWritten };
    this.wake();
  }

  /** Writes bytes, waiting for 'drain' when the socket buffers; false if the socket is gone. */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false;
    const flushed = this.socket.write(data);
    if (!flushed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
    }
    return !this.closed && !this.socket.destroyed;
  }

  /** Resolves with the first complete response; rejects at the deadline or on close without one. */
  async nextResponse(deadlineMs: number): Promise<RawResponse> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      if (this.response !== undefined) return this.response;
      if (this.closed) throw new Error(`connection closed without a complete response (${this.received.length} bytes received)`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${deadlineMs} ms (${this.received.length} bytes received)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true once the server closed the connection, false at the deadline. */
  async closedWithin(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (!this.closed && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
