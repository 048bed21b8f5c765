/**
 * The dashboard's one way to another node: GET of a fixed read-only path on a ring member's
 * own HTTP address, bounded in time and size. A page served by one node cannot fetch its peers
 * itself (other origins, TLS with the ring's CA, addresses reachable only inside the ring), so
 * the serving node asks for it. Callers pass a member id, never a URL: the address comes from
 * the membership view and the path from this module's callers, so the route cannot be turned
 * into a fetch of arbitrary URLs (SSRF). The caller's Authorization header is forwarded as it
 * came: a peer grants the page exactly what it would grant the caller directly, nothing more.
 */
import { Agent } from 'undici';

/** A peer's answer; `status` 0 when it did not answer (refused, reset, timed out, too large). */
export interface PeerAnswer {
  readonly status: number;
  readonly json?: unknown;
  /** Why there is no usable answer. */
  readonly error?: string;
}

export interface PeerFetchOptions {
  /** Whole-request deadline. */
  readonly timeoutMs: number;
  /** Answers larger than this are cut off and reported as an error. */
  readonly responseBytesMax: number;
  /** TLS options for https members (the ring's CA; node.ts passes peerConnectOptions). */
  readonly tls?: { ca?: Buffer; cert: Buffer; key: Buffer; rejectUnauthorized: true };
}

export class PeerFetch {
  private readonly agent: Agent;

  constructor(private readonly options: PeerFetchOptions) {
    this.agent = new Agent({
      connections: 4,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      maxResponseSize: options.responseBytesMax,
      keepAliveTimeout: 10_000,
      ...(options.tls ? { connect: { ...options.tls } } : {}),
    });
  }

  /** GET `address` + `path` (path starts with '/', already percent-encoded). Never throws. */
  async get(address: string, path: string, authorization: string | undefined): Promise<PeerAnswer> {
    try {
      const answer = await this.agent.request({
        origin: address,
        path,
        method: 'GET',
        headers: authorization === undefined ? {} : { authorization },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await answer.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { status: answer.statusCode, error: 'the answer is not JSON' };
      }
      return { status: answer.statusCode, json };
    } catch (error) {
      const name = error instanceof Error ? ((error as { code?: string }).code ?? error.name) : 'error';
      return { status: 0, error: `no answer (${name})` };
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
