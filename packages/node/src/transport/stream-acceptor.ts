/**
 * The receiving side of the node-to-node stream (docs/transport.md). The client port's HTTP(S)
 * server hands it every `Upgrade` request (node.ts); it judges the handshake from the request's
 * headers alone (stream-auth.ts: challenge, both ids, boot epoch, keyring; with mutual TLS a
 * verified peer certificate too) and answers 101 or refuses with 401/403 and closes, having read
 * no byte of the stream. An accepted connection is served by a ServedConnection.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { statusOf } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { Receiver } from './auth.js';
import type { PeerHandler } from './transport.js';
import { checkDial, STREAM_PATH, STREAM_PROTOCOL, STREAM_HEADERS, type ChallengeTable } from './stream-auth.js';
import { ServedConnection, type ServeLimits } from './stream-serve.js';

/** What a node logs with (pino's shape). */
export interface StreamLog {
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface StreamAcceptorDeps extends ServeLimits {
  /** Stream keys of the keyring, primary first (read per handshake: a reload takes effect at once). */
  readonly keys: () => readonly Uint8Array[];
  readonly self: Receiver;
  readonly challenges: ChallengeTable;
  readonly peer: PeerHandler;
  readonly isRemoved: (id: string) => boolean;
  /** With mutual TLS: a stream needs a client certificate that chains to the ring's CA. */
  readonly peerCertificateRequired: boolean;
  /** Counts a refused handshake by reason (the same metric as refused /internal/ requests). */
  readonly refused: (reason: string) => void;
  readonly log: StreamLog;
  readonly isStopping: () => boolean;
}

/** Connections and what became of them, for tests and /metrics. */
export interface AcceptorStats {
  accepted: number;
  refused: number;
  /** Requests dropped because their time budget had passed before they were served. */
  expired: number;
  /** Connections closed, by reason. */
  readonly closed: Record<string, number>;
  /** The last stream closed: why, and how many bytes of frames it had taken in (FrameReader.consumed). */
  lastClosed?: { readonly sender: string; readonly reason: string; readonly consumedBytes: number };
}

function headerSource(req: IncomingMessage): { get(name: string): string | null } {
  return {
    get: (name) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    },
  };
}

/** Writes a plain HTTP error answer and closes the socket. */
function refuse(socket: Socket, error: KvError): void {
  const status = statusOf(error.code);
  const body = JSON.stringify({ error: { code: error.code, message: error.message, ...error.details } });
  socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroySoon?.();
}

export class StreamAcceptor {
  private readonly connections = new Set<ServedConnection>();
  private closing = false;
  readonly stats: AcceptorStats = { accepted: 0, refused: 0, expired: 0, closed: {} };

  constructor(private readonly deps: StreamAcceptorDeps) {}

  /** Open streams (the tests' handle on them). */
  get open(): ReadonlySet<ServedConnection> {
    return this.connections;
  }

  /** The server's 'upgrade' event. Never throws: a bad request only closes its own socket. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    try {
      const claims = this.judge(req, socket, head);
      this.accept(socket, claims.sender, claims.acceptTag);
    } catch (error) {
      const refusal = error instanceof KvError ? error : new KvError('KV_ERR_INTERNAL', 'stream handshake failed');
      const reason = String(refusal.details.reason ?? refusal.code);
      this.stats.refused++;
      this.deps.refused(reason);
      this.deps.log.debug({ reason, remote: socket.remoteAddress }, 'refused a peer stream');
      refuse(socket, refusal);
    }
  }

  private judge(req: IncomingMessage, socket: Socket, head: Buffer): { sender: string; acceptTag: string } {
    if (this.closing || this.deps.isStopping()) throw new KvError('KV_ERR_SHUTTING_DOWN', 'this node is stopping', { reason: 'stopping' });
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== STREAM_PATH || String(req.headers.upgrade ?? '').toLowerCase() !== STREAM_PROTOCOL) {
      throw new KvError('KV_ERR_NO_ROUTE', `no upgrade to ${String(req.headers.upgrade ?? '')} at ${path}`, { reason: 'no-route' });
    }
    if (this.deps.peerCertificateRequired && (socket as TLSSocket).authorized !== true) {
      throw new KvError('KV_ERR_UNAUTHORIZED', "peer streams need a client certificate signed by the ring's CA (--tls-ca)", { reason: 'no-certificate' });
    }
    const { claims, acceptTag } = checkDial(headerSource(req), this.deps.keys(), this.deps.self, this.deps.challenges, this.deps.isRemoved);
    // The dialer waits for the 101 before it sends a frame; bytes already here break that.
    if (head.length > 0) throw new KvError('KV_ERR_BAD_REQUEST', 'stream data sent before the accept', { reason: 'data-before-accept' });
    return { sender: claims.sender, acceptTag };
  }

  private accept(socket: Socket, sender: string, acceptTag: string): void {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${STREAM_PROTOCOL}\r\nConnection: Upgrade\r\n${STREAM_HEADERS.tag}: ${acceptTag}\r\n\r\n`);
    this.stats.accepted++;
    const connection = new ServedConnection(socket, sender, this.deps, {
      expired: () => this.stats.expired++,
      closed: (reason, error) => {
        this.connections.delete(connection);
        this.stats.closed[reason] = (this.stats.closed[reason] ?? 0) + 1;
        this.stats.lastClosed = { sender, reason, consumedBytes: connection.consumed };
        if (error !== undefined) this.deps.log.warn({ peer: sender, reason, code: error.code, err: error.message }, 'closed a peer stream');
        else this.deps.log.debug({ peer: sender, reason }, 'peer stream closed');
      },
    });
    this.connections.add(connection);
  }

  /** Stops taking streams; lets requests being served finish within `graceMs`; closes every stream. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const open = [...this.connections];
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(open.map((c) => c.drained())), expired]);
    clearTimeout(timer);
    this.destroy();
  }

  /** Closes every stream now. */
  destroy(): void {
    this.closing = true;
    for (const connection of [...this.connections]) connection.close('closing');
  }
}
