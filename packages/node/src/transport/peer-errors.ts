/**
 * What a peer's answer means when it is no answer: the coded errors both network transports
 * (http-transport.ts, stream-transport.ts) give for refusals, undecodable answers and injected
 * partitions, so the coordinator sees the same failures whichever carries its requests.
 */
import { isErrorCode } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';

/** A non-200 answer: whatever the peer's reason (401, 503 while it stops, 500), no result came. */
export function refusal(member: Member, path: string, status: number, bytes: Uint8Array): KvError {
  let code: unknown;
  let reason: unknown;
  try {
    const error = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { error?: { code?: unknown; reason?: unknown } } | null)?.error;
    code = error?.code;
    reason = error?.reason;
  } catch {
    code = undefined;
  }
  return new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} refused ${path}: ${status} ${isErrorCode(code) ? code : ''}`, {
    peer: member.id,
    status,
    ...(typeof reason === 'string' && /^[a-z-]{1,32}$/.test(reason) ? { reason } : {}),
    // A 4xx or a 503 (stopping) was refused before any work; an unexpected 5xx may have acted.
    delivered: status >= 500 && status !== 503,
  });
}

/**
 * Whether a failed peer request surely did nothing at the peer: it never left this node (no
 * connection, redial backoff, over the frame limit) or the peer refused it before any work.
 * Every transport sets `delivered` in its errors' details (false: surely not; true or absent:
 * it may have acted); this is the one place that reads it. Only then may a forwarded write be
 * sent to another replica without risking a second coordination (a spurious sibling).
 */
export function surelyUndelivered(error: unknown): boolean {
  return error instanceof KvError && error.details.delivered === false;
}

/** Decodes a 200 answer; one that does not decode is no answer at all (KV_ERR_PEER_UNREACHABLE). */
export function fromPeer<T>(member: Member, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof KvError) || error.code !== 'KV_ERR_BAD_REQUEST') throw error;
    throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} answered an undecodable ${what}: ${error.message}`, { peer: member.id }, { cause: error });
  }
}

/** A request across an injected partition (fault-plan.ts): no answer, then the deadline. */
export function partitioned<T>(peer: Member, timeoutMs: number): Promise<T> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new KvError('KV_ERR_TIMEOUT', `peer ${peer.id} did not answer within ${timeoutMs} ms (partitioned)`, { peer: peer.id })), timeoutMs).unref(),
  );
}
