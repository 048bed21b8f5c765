/**
 * Transport over HTTP: one undici Pool per peer (keep-alive; `fetch` is 7x slower here),
 * replica ops batched per peer (peer-queue.ts) into `POST /internal/batch`, forwarded client
 * requests as `POST /internal/coordinate`, every request signed with the cluster's internal key
 * (auth.ts) for the peer's id and boot epoch, which a hello learns once per peer and again
 * after any failed request (the peer may have restarted: its new epoch refuses requests signed
 * for the old one, with reason `stale-epoch`, before reading them, and such a refusal is
 * retried once after a fresh hello). A peer that cannot be reached, answers late or answers
 * garbage makes the affected ops fail with a coded error; the coordinator counts them as
 * replica failures:
 *
 * - no whole answer within the request's deadline (undici's headers and body timeouts are idle
 *   timers, so the deadline is a total one, enforced with an abort signal): KV_ERR_TIMEOUT;
 * - a refused connection, a reset, an answer over `responseBytesMax`, a status other than 200,
 *   or a 200 whose body does not decode: KV_ERR_PEER_UNREACHABLE (no result came from it).
 */
import { Pool } from 'undici';
import type { FaultPlan } from './fault-plan.js';
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import { HELLO_PATH, newNonce, readHelloAnswer, signHello, signRequest, type Receiver } from './auth.js';
import { PeerQueue, type PeerQueueLimits } from './peer-queue.js';
import { refusal } from './peer-errors.js';
import { NetworkTransport, peerEntry, type Exchange } from './network-transport.js';

/** Default of `closeGraceMs`. */
export const CLOSE_GRACE_MS_DEFAULT = 1_000;

export interface HttpTransportOptions extends PeerQueueLimits {
  /** Injected partitions (fault harness only). */
  readonly faults?: FaultPlan;
  readonly selfId: string;
  /** Internal keys of the keyring, primary first (the primary signs; any verifies a hello answer). */
  readonly keys: () => readonly Uint8Array[];
  readonly nowMs: () => number;
  /** Total time a batch may take (connect, send, whole answer) before its ops fail with KV_ERR_TIMEOUT. */
  readonly peerTimeoutMs: number;
  /**
   * A new connection must be up within this (undici's default is 10 s): a peer whose packets
   * are dropped fails as not delivered, so a forwarded write may go to the next replica.
   */
  readonly connectTimeoutMs?: number;
  /** Told each peer's wall clock as its hello answered (membership/clock-skew.ts). */
  readonly onPeerClock?: (peer: string, peerTimeMs: number, nowMs: number) => void;
  readonly connectionsPerPeer: number;
  /** Largest response accepted from a peer. */
  readonly responseBytesMax: number;
  /** How long close() lets requests in flight finish before it destroys the connections. */
  readonly closeGraceMs?: number;
  /**
   * TLS to peers (https:// addresses): the CA their certificates must chain to, and this
   * node's certificate and key, presented as a client certificate (mutual TLS).
   */
  readonly tls?: { readonly ca?: Buffer; readonly cert: Buffer; readonly key: Buffer; readonly rejectUnauthorized: true };
}

/** A peer as its last hello answered: id, boot epoch, and its clock minus ours. */
interface KnownReceiver extends Receiver {
  readonly offsetMs: number;
}

interface Peer {
  readonly pool: Pool;
  readonly queue: PeerQueue;
}

/** Maps whatever undici (or the deadline) raised for a request to `member` to a coded error. */
function requestError(error: unknown, member: Member, path: string, timeoutMs: number): KvError {
  if (error instanceof KvError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if ((typeof code === 'string' && code.includes('TIMEOUT')) || name === 'TimeoutError') {
    return new KvError('KV_ERR_TIMEOUT', `peer ${member.id} did not answer ${path} within ${timeoutMs} ms`, { peer: member.id }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  // Errors that happen before a byte of the request left: the peer surely did nothing, so a
  // forwarded write may be tried elsewhere. Anything else (a reset mid-answer) may have acted.
  const delivered = !(typeof code === 'string' && NOT_DELIVERED.has(code));
  return new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} unreachable: ${message}`, { peer: member.id, delivered }, { cause: error });
}

const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** Closes `pool`, destroying it (failing what is still in flight with `error`) after `graceMs`. */
async function closeWithin(pool: Pool, graceMs: number, error: KvError): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = pool.close().then(
    () => true,
    () => true,
  );
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const gracefully = await Promise.race([closed, expired]);
  clearTimeout(timer);
  if (!gracefully) await pool.destroy(error).catch(() => {});
}

/** Refusals after which a request is sent once more, after a fresh hello: nothing was applied. */
const RETRIED_REASONS = new Set(['stale-epoch', 'misdirected', 'stale-time']);

/** The liveness route a probe asks (http/health-routes). */
const LIVEZ_PATH = '/livez';

/** The route of each exchange. */
const PATHS: Readonly<Record<Exchange, string>> = { batch: '/internal/batch', coordinate: '/internal/coordinate', tree: '/internal/tree' };

export class HttpTransport extends NetworkTransport {
  private readonly peers = new Map<string, Peer>();
  /** Each peer's id and boot epoch, by address, as its last hello answered. */
  private readonly receivers = new Map<string, Promise<KnownReceiver>>();

  constructor(private readonly options: HttpTransportOptions) {
    super(options);
  }

  protected queueOf(member: Member): PeerQueue {
    return this.peer(member).queue;
  }

  protected send(member: Member, exchange: Exchange, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.post(this.peer(member).pool, member, PATHS[exchange], body, timeoutMs);
  }

  /** The probe over HTTP: the peer's unauthenticated `GET /livez`, answered by its event loop alone. */
  protected async ping(member: Member, timeoutMs: number): Promise<void> {
    const { status, bytes } = await this.exchange(this.peer(member).pool, member, LIVEZ_PATH, {}, undefined, timeoutMs, 'GET');
    if (status !== 200) throw refusal(member, LIVEZ_PATH, status, bytes);
  }

  /** The pool and queue for `member` (by id and address: network-transport.ts peerEntry). */
  private peer(member: Member): Peer {
    return peerEntry(
      this.peers,
      member,
      () => ({
        pool: new Pool(member.address, {
          connections: this.options.connectionsPerPeer,
          ...(this.options.connectTimeoutMs !== undefined ? { connectTimeout: this.options.connectTimeoutMs } : {}),
          maxResponseSize: this.options.responseBytesMax,
          ...(this.options.tls ? { connect: { ...this.options.tls } } : {}),
        }),
        queue: new PeerQueue(member.id, this.options, (ops) => this.sendBatch(member, ops)),
      }),
      (old, error) => {
        old.queue.drain(error);
        void old.pool.destroy(error).catch(() => {});
      },
    );
  }

  /**
   * POSTs a signed `body` to `path` and returns the body of a 200 answer. The whole exchange,
   * the hello when one is needed and the answer's body included, must finish within
   * `timeoutMs`: a peer that drips its answer byte by byte is cut off at the deadline like one
   * that never answers.
   */
  private async post(pool: Pool, member: Member, path: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    // Monotonic: a wall clock step must not stretch the exchange (timers.ts monotonicMs).
    const deadlineMs = performance.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const known = this.receiverOf(pool, member, timeoutMs);
      let to: KnownReceiver;
      try {
        to = await known;
      } catch (error) {
        // The request itself never left: a forward may safely be tried elsewhere.
        throw error instanceof KvError ? new KvError(error.code, error.message, { ...error.details, delivered: false }, { cause: error }) : error;
      }
      try {
        // Stamped in the receiver's time (the hello measured the offset): see auth.ts.
        const headers = { 'content-type': 'application/octet-stream', ...signRequest(this.options.keys()[0]!, this.options.selfId, to, path, body, this.options.nowMs() + to.offsetMs) };
        const { status, bytes } = await this.exchange(pool, member, path, headers, body, Math.max(1, Math.floor(deadlineMs - performance.now())));
        if (status !== 200) throw refusal(member, path, status, bytes);
        return bytes;
      } catch (error) {
        // Whatever failed, the peer may have restarted: learn its epoch again next time.
        if (this.receivers.get(member.address) === known) this.receivers.delete(member.address);
        const reason = error instanceof KvError ? error.details.reason : undefined;
        if (attempt === 0 && typeof reason === 'string' && RETRIED_REASONS.has(reason) && performance.now() < deadlineMs) continue;
        throw error;
      }
    }
  }

  /** The peer's id and boot epoch: from the cache, or from a hello (shared by concurrent requests). */
  private receiverOf(pool: Pool, member: Member, timeoutMs: number): Promise<KnownReceiver> {
    let known = this.receivers.get(member.address);
    if (known === undefined) {
      known = this.hello(pool, member, timeoutMs);
      this.receivers.set(member.address, known);
      known.catch(() => {
        if (this.receivers.get(member.address) === known) this.receivers.delete(member.address);
      });
    }
    return known;
  }

  private async hello(pool: Pool, member: Member, timeoutMs: number): Promise<KnownReceiver> {
    const nonce = newNonce();
    const sentAtMs = this.options.nowMs();
    const headers = signHello(this.options.keys()[0]!, this.options.selfId, sentAtMs, nonce);
    const { status, bytes } = await this.exchange(pool, member, HELLO_PATH, headers, new Uint8Array(0), timeoutMs);
    const midpointMs = (sentAtMs + this.options.nowMs()) / 2;
    if (status !== 200) throw refusal(member, HELLO_PATH, status, bytes);
    let answer: unknown;
    try {
      answer = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      answer = undefined;
    }
    const receiver = readHelloAnswer(answer, this.options.keys(), nonce);
    if (receiver === undefined) throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} answered an unauthenticated hello`, { peer: member.id, delivered: false });
    if (receiver.id !== member.id) {
      throw new KvError('KV_ERR_PEER_UNREACHABLE', `${member.address} answers as node ${receiver.id}, not ${member.id}`, { peer: member.id, delivered: false });
    }
    this.options.onPeerClock?.(member.id, receiver.timeMs, midpointMs);
    return { id: receiver.id, epoch: receiver.epoch, offsetMs: Math.round(receiver.timeMs - midpointMs) };
  }

  /** One request with a total deadline; returns the status and the whole answer. */
  private async exchange(
    pool: Pool,
    member: Member,
    path: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    timeoutMs: number,
    method: 'POST' | 'GET' = 'POST',
  ): Promise<{ status: number; bytes: Uint8Array }> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new KvError('KV_ERR_TIMEOUT', `peer ${member.id} did not answer ${path} within ${timeoutMs} ms`, { peer: member.id })),
      timeoutMs,
    );
    try {
      const response = await pool.request({ method, path, ...(body === undefined ? {} : { body }), headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: deadline.signal });
      return { status: response.statusCode, bytes: new Uint8Array(await response.body.arrayBuffer()) };
    } catch (error) {
      throw requestError(error, member, path, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  protected async shutDown(): Promise<void> {
    this.closed = true;
    const error = new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
    for (const peer of this.peers.values()) peer.queue.drain(error);
    const graceMs = this.options.closeGraceMs ?? CLOSE_GRACE_MS_DEFAULT;
    await Promise.all([...this.peers.values()].map((peer) => closeWithin(peer.pool, graceMs, error)));
  }
}
