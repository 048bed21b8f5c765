/**
 * Authentication of /internal/ requests with the cluster secret. The sender signs
 * `time \n path \n sender-id \n body` with HMAC-SHA256 and sends the time, its id and the
 * tag in headers; the receiver recomputes the tag over the body it read and refuses (401
 * KV_ERR_UNAUTHORIZED, before anything is applied) a missing or wrong tag, or a time more than
 * `skewMs` away from its own clock. A captured request can be replayed within that window, but
 * every internal operation is idempotent (a replica write is a merge), so a replay changes
 * nothing. Traffic is not encrypted: run rings on a trusted network, as with Riak or memberlist
 * without keys.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KvError } from '../errors.js';

export const AUTH_HEADERS = {
  time: 'x-ringkv-time',
  sender: 'x-ringkv-sender',
  tag: 'x-ringkv-auth',
} as const;

/** Largest accepted difference between the sender's and the receiver's clocks. */
export const AUTH_SKEW_MS_DEFAULT = 30_000;

function tag(secret: string, timeMs: string, path: string, sender: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timeMs}\n${path}\n${sender}\n`).update(body).digest();
}

/** Headers that authenticate a request to `path` with `body`. */
export function signRequest(secret: string, sender: string, path: string, body: Uint8Array, nowMs: number): Record<string, string> {
  const timeMs = String(Math.floor(nowMs));
  return {
    [AUTH_HEADERS.time]: timeMs,
    [AUTH_HEADERS.sender]: sender,
    [AUTH_HEADERS.tag]: tag(secret, timeMs, path, sender, body).toString('base64url'),
  };
}

/** Verifies a request; returns the sender id or throws 401 KV_ERR_UNAUTHORIZED. */
export function verifyRequest(
  secret: string,
  headers: { get(name: string): string | null },
  path: string,
  body: Uint8Array,
  nowMs: number,
  skewMs = AUTH_SKEW_MS_DEFAULT,
): string {
  const timeMs = headers.get(AUTH_HEADERS.time);
  const sender = headers.get(AUTH_HEADERS.sender);
  const given = headers.get(AUTH_HEADERS.tag);
  if (timeMs === null || sender === null || given === null) throw new KvError('KV_ERR_UNAUTHORIZED', 'missing cluster authentication');
  if (!/^\d{1,16}$/.test(timeMs) || Math.abs(Number(timeMs) - nowMs) > skewMs) {
    throw new KvError('KV_ERR_UNAUTHORIZED', 'request time outside the accepted window');
  }
  const expected = tag(secret, timeMs, path, sender, body);
  const actual = Buffer.from(given, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KvError('KV_ERR_UNAUTHORIZED', 'bad cluster authentication');
  }
  return sender;
}
