/**
 * Authentication of /internal/ requests with the cluster secret. The sender signs
 * `time \n path \n sender-id \n nonce \n body` with HMAC-SHA256 and sends the time, its id, a
 * fresh random nonce and the tag in headers. The receiver refuses (401 KV_ERR_UNAUTHORIZED,
 * before anything is applied):
 *
 * - before it reads the body: a missing header, a time that is not a decimal integer or lies
 *   more than `skewMs` from its own clock, a malformed sender, nonce or tag, or a tag its
 *   ReplayGuard has already accepted (`checkAuthHeaders`, `ReplayGuard.isReplay`);
 * - after it read the body: a tag that does not match the body it read (`verifyRequest`), or
 *   one that another request carrying the same tag got accepted with in the meantime.
 *
 * Replays are not harmless: a forwarded put (/internal/coordinate) replayed is a second write
 * with a fresh dot (a spurious sibling, or a write resurrected after it was overwritten), and
 * a replayed /internal/members can roll the member list back. So every accepted tag is
 * remembered for as long as its time stays inside the window (ReplayGuard), and the nonce
 * keeps two honest requests with the same body in the same millisecond from sharing a tag.
 * Traffic is not encrypted: run rings on a trusted network, as with Riak or memberlist
 * without keys.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KvError } from '../errors.js';
import { NODE_ID_BYTES_MAX } from '../core/context-codec.js';

export const AUTH_HEADERS = {
  time: 'x-ringkv-time',
  sender: 'x-ringkv-sender',
  nonce: 'x-ringkv-nonce',
  tag: 'x-ringkv-auth',
} as const;

/** Largest accepted difference between the sender's and the receiver's clocks. */
export const AUTH_SKEW_MS_DEFAULT = 30_000;

/** How many accepted tags a ReplayGuard remembers at most (about 120 bytes each). */
export const REPLAY_ENTRIES_MAX_DEFAULT = 262_144;

const TIME_PATTERN = /^\d{1,16}$/;
/** Node ids (config.ts) and tool names such as `ringkv-cli`. */
const SENDER_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${NODE_ID_BYTES_MAX}}$`);
/** base64url, at least 96 random bits. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** An HMAC-SHA256 (32 bytes) in unpadded base64url: 43 characters. */
const TAG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The authentication headers of a request, checked for form and time but not yet for the tag. */
export interface AuthClaims {
  /** The time header exactly as sent (it is signed as text). */
  readonly time: string;
  readonly timeMs: number;
  readonly sender: string;
  readonly nonce: string;
  /** The tag in canonical base64url: the ReplayGuard's key. */
  readonly tag: string;
}

function unauthorized(message: string): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', message);
}

function hmac(secret: string, time: string, path: string, sender: string, nonce: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${time}\n${path}\n${sender}\n${nonce}\n`).update(body).digest();
}

/** A fresh random nonce (128 bits, base64url). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Headers that authenticate a request to `path` with `body`. `nonce` defaults to a fresh random
 * one; pass it only to reproduce a signature (tests).
 */
export function signRequest(secret: string, sender: string, path: string, body: Uint8Array, nowMs: number, nonce = newNonce()): Record<string, string> {
  const time = String(Math.floor(nowMs));
  return {
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.sender]: sender,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.tag]: hmac(secret, time, path, sender, nonce, body).toString('base64url'),
  };
}

/**
 * Checks everything about a request's authentication that does not need its body: every header
 * present and well formed, the time inside `skewMs` of `nowMs`. Cheap, so a receiver runs it
 * before it reads (and buffers) the body. Throws 401 KV_ERR_UNAUTHORIZED.
 */
export function checkAuthHeaders(headers: { get(name: string): string | null }, nowMs: number, skewMs = AUTH_SKEW_MS_DEFAULT): AuthClaims {
  const time = headers.get(AUTH_HEADERS.time);
  const sender = headers.get(AUTH_HEADERS.sender);
  const nonce = headers.get(AUTH_HEADERS.nonce);
  const tag = headers.get(AUTH_HEADERS.tag);
  if (time === null || sender === null || nonce === null || tag === null) throw unauthorized('missing cluster authentication');
  if (!TIME_PATTERN.test(time) || Math.abs(Number(time) - nowMs) > skewMs) {
    throw unauthorized('request time outside the accepted window');
  }
  if (!SENDER_PATTERN.test(sender)) throw unauthorized('bad cluster authentication: malformed sender');
  if (!NONCE_PATTERN.test(nonce)) throw unauthorized('bad cluster authentication: malformed nonce');
  // Only the canonical encoding is accepted: 43 base64url characters carry 2 spare bits, and a
  // replay must not get past the ReplayGuard by flipping them.
  if (!TAG_PATTERN.test(tag) || Buffer.from(tag, 'base64url').toString('base64url') !== tag) {
    throw unauthorized('bad cluster authentication: malformed tag');
  }
  return { time, timeMs: Number(time), sender, nonce, tag };
}

/** Checks the tag of `claims` over `path` and `body`; throws 401 KV_ERR_UNAUTHORIZED. */
export function verifyClaims(secret: string, claims: AuthClaims, path: string, body: Uint8Array): void {
  const expected = hmac(secret, claims.time, path, claims.sender, claims.nonce, body);
  const actual = Buffer.from(claims.tag, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw unauthorized('bad cluster authentication');
}

/** Verifies a request (headers, time and tag); returns its claims or throws 401 KV_ERR_UNAUTHORIZED. */
export function verifyRequestClaims(
  secret: string,
  headers: { get(name: string): string | null },
  path: string,
  body: Uint8Array,
  nowMs: number,
  skewMs = AUTH_SKEW_MS_DEFAULT,
): AuthClaims {
  const claims = checkAuthHeaders(headers, nowMs, skewMs);
  verifyClaims(secret, claims, path, body);
  return claims;
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
  return verifyRequestClaims(secret, headers, path, body, nowMs, skewMs).sender;
}

/**
 * Remembers the tags of accepted requests for as long as their time stays inside the skew
 * window, so each signed request is applied at most once. Bounded: past `entriesMax` it forgets
 * the entry with the oldest time and from then on refuses every request at least that old (the
 * `floorMs` horizon), so forgetting never lets a replay through; under that much load only
 * requests from a sender whose clock lags far behind are refused. Removing an expired entry
 * raises the horizon too, which keeps replays out even if the local clock steps back.
 * Entries sit in a binary min-heap by time: expiry and eviction pop the oldest in O(log n).
 */
export class ReplayGuard {
  private readonly seen = new Set<string>();
  private readonly heap: Array<{ readonly timeMs: number; readonly tag: string }> = [];
  private floorMs = -Infinity;

  constructor(
    private readonly entriesMax = REPLAY_ENTRIES_MAX_DEFAULT,
    private readonly skewMs = AUTH_SKEW_MS_DEFAULT,
  ) {
    if (!Number.isSafeInteger(entriesMax) || entriesMax < 1) throw new RangeError(`entriesMax must be a positive integer (got ${entriesMax})`);
  }

  /** Tags remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /** True when a request with this tag and time must be refused as a replay. Records nothing. */
  isReplay(tag: string, timeMs: number, nowMs: number): boolean {
    this.expire(nowMs);
    return this.seen.has(tag) || timeMs <= this.floorMs;
  }

  /**
   * Records an authenticated request. Returns false (and records nothing) when it is a replay:
   * its tag was accepted before, or its time is at or below the horizon.
   */
  admit(tag: string, timeMs: number, nowMs: number): boolean {
    if (this.isReplay(tag, timeMs, nowMs)) return false;
    if (this.seen.size >= this.entriesMax) {
      // Full: a request older than everything remembered would raise the horizon past itself.
      if (timeMs <= this.heap[0]!.timeMs) return false;
      while (this.seen.size >= this.entriesMax) this.forgetOldest();
      if (timeMs <= this.floorMs) return false;
    }
    this.seen.add(tag);
    this.push({ timeMs, tag });
    return true;
  }

  private expire(nowMs: number): void {
    while (this.heap.length > 0 && this.heap[0]!.timeMs + this.skewMs < nowMs) this.forgetOldest();
  }

  private forgetOldest(): void {
    const oldest = this.pop();
    if (oldest === undefined) return;
    this.seen.delete(oldest.tag);
    this.floorMs = Math.max(this.floorMs, oldest.timeMs);
  }

  private push(entry: { readonly timeMs: number; readonly tag: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.timeMs <= entry.timeMs) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { readonly timeMs: number; readonly tag: string } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.timeMs < heap[left]!.timeMs ? right : left;
      if (heap[child]!.timeMs >= last.timeMs) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
