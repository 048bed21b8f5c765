/**
 * Authentication of /internal/ requests (wire version 2). Every fact the receiver needs to
 * judge a request travels in its headers and is covered by one tag, so the whole decision is
 * made before a byte of the body is read:
 *
 *   tag = HMAC-SHA256(internal key, "ringkv-internal/2" \n path \n sender \n receiver \n
 *                     epoch \n time \n nonce \n content-length \n sha256(body))
 *
 * - `internal key`: derived from the cluster secret for this purpose only (security/keyring.ts);
 *   the receiver tries every key of its keyring, the sender signs with the primary.
 * - `receiver` and `epoch`: the receiver's node id and its boot epoch (random per process
 *   start), learned by the sender with a hello (below). A request captured on its way to node A
 *   is refused by node B (misdirected), and one captured before A restarted is refused after
 *   (stale epoch): replay protection that survives a restart without anything on disk.
 * - `content-length` and the body digest: the receiver refuses a forged request before it
 *   reads its body (a 50 MiB forged upload costs it nothing), then reads exactly that many
 *   bytes and checks their digest.
 *
 * Within one boot, accepted tags are remembered for the skew window (replay-guard.ts). Every
 * refusal is 401 KV_ERR_UNAUTHORIZED with `reason` in the details: `unauthenticated`,
 * `misdirected`, `stale-epoch` or `stale-time` (for the last three the sender says hello again
 * and retries once; nothing was applied).
 *
 * Hello: `POST /internal/hello` with headers time, sender, nonce and tag = HMAC(internal key,
 * "ringkv-hello/2" \n time \n sender \n nonce), no body. The answer is JSON `{node, epoch,
 * time, tag}` with tag = HMAC(the key that verified the hello, "ringkv-hello-answer/3" \n node
 * \n epoch \n the hello's nonce \n time), so the sender knows the epoch is its peer's and
 * fresh, and learns the receiver's wall clock: it stamps its requests to that receiver in the
 * receiver's time (its own clock plus the offset the hello measured), so a clock that is off by
 * more than the window does not cut a node off from its peers (issue 16.5), while each request
 * still expires 30 s after it was sent, by the receiver's clock. A hello changes nothing and
 * tells only what any member may learn, so its own time is not held to the window: a node
 * whose clock is far off can still measure how far, and say so.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KvError } from '../errors.js';
import { NODE_ID_PATTERN } from '@ringkv/protocol';
import { AUTH_SKEW_MS_DEFAULT } from './replay-guard.js';

export { AUTH_SKEW_MS_DEFAULT, REPLAY_ENTRIES_MAX_DEFAULT, ReplayGuard } from './replay-guard.js';

export const AUTH_HEADERS = {
  time: 'x-ringkv-time',
  sender: 'x-ringkv-sender',
  nonce: 'x-ringkv-nonce',
  receiver: 'x-ringkv-receiver',
  epoch: 'x-ringkv-epoch',
  bodyDigest: 'x-ringkv-body-sha256',
  tag: 'x-ringkv-auth',
} as const;

/** The hello route: how a sender learns a receiver's id and boot epoch. */
export const HELLO_PATH = '/internal/hello';

const TIME_PATTERN = /^\d{1,16}$/;
/** Node ids (config.ts) and tool names such as `ringkv-cli`. */
/** base64url, at least 96 random bits. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** A boot epoch: 96 random bits in base64url. */
const EPOCH_PATTERN = /^[A-Za-z0-9_-]{16}$/;
/** An HMAC-SHA256 or SHA-256 (32 bytes) in unpadded base64url: 43 characters. */
const DIGEST_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const LENGTH_PATTERN = /^\d{1,15}$/;

/** Who a request is for: the receiver's node id and the boot epoch it announced. */
export interface Receiver {
  readonly id: string;
  readonly epoch: string;
}

/** The authentication of a request whose tag verified; the body is still to be checked. */
export interface AuthClaims {
  readonly timeMs: number;
  readonly sender: string;
  /** The tag in canonical base64url: the ReplayGuard's key. */
  readonly tag: string;
  /** Bytes the body must have (signed). */
  readonly contentLength: number;
  /** SHA-256 of the body (signed). */
  readonly bodyDigest: Buffer;
}

/** Why a request was refused, in the 401's details and the refusal metric. */
/**
 * `stale-time`: stamped outside the window of the receiver's clock (a message held up that long,
 * or the receiver's clock stepped since the sender's hello measured it: the sender says hello
 * again and retries once).
 */
export type RefusalReason = 'unauthenticated' | 'misdirected' | 'stale-epoch' | 'stale-time';

function unauthorized(message: string, reason: RefusalReason = 'unauthenticated'): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', message, { reason });
}

/** A fresh random nonce (128 bits, base64url). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** A fresh boot epoch (96 bits, base64url): one per process start. */
export function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

/** HMAC-SHA256 over `fields` joined by newlines: every tag of the node-to-node handshakes. */
export function mac(key: Uint8Array, fields: readonly string[]): Buffer {
  return createHmac('sha256', key).update(fields.join('\n')).digest();
}

/**
 * The headers of a signed, timed message without a body (a hello, a stream challenge request):
 * time, sender, nonce and the tag over them under `label`, which names the message so a tag
 * made for one kind is never accepted as another.
 */
export function timedHeaders(key: Uint8Array, label: string, sender: string, nowMs: number, nonce: string): Record<string, string> {
  const time = String(Math.floor(nowMs));
  return {
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.sender]: sender,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.tag]: mac(key, [label, time, sender, nonce]).toString('base64url'),
  };
}

function requestTag(key: Uint8Array, path: string, sender: string, to: Receiver, time: string, nonce: string, length: number, digest: string): Buffer {
  return mac(key, ['ringkv-internal/2', path, sender, to.id, to.epoch, time, nonce, String(length), digest]);
}

/** True when `tag` (base64url) is the canonical spelling of 32 bytes equal to one of `expected`. */
function matchesAny(tag: string, expected: (key: Uint8Array) => Buffer, keys: readonly Uint8Array[]): Uint8Array | undefined {
  // Only the canonical encoding is accepted: 43 base64url characters carry 2 spare bits, and a
  // replay must not get past the ReplayGuard by flipping them.
  if (!DIGEST_PATTERN.test(tag)) return undefined;
  const actual = Buffer.from(tag, 'base64url');
  if (actual.toString('base64url') !== tag) return undefined;
  return keys.find((key) => timingSafeEqual(actual, expected(key)));
}

/**
 * Headers that authenticate a request of `body` to `path` on `to`, signed with `key` (the
 * primary internal key). `nonce` defaults to a fresh random one; pass it only to reproduce a
 * signature (tests). The HTTP client sends the matching Content-Length itself.
 */
export function signRequest(key: Uint8Array, sender: string, to: Receiver, path: string, body: Uint8Array, nowMs: number, nonce = newNonce()): Record<string, string> {
  return signDeclared(key, sender, to, path, { length: body.length, digest: createHash('sha256').update(body).digest('base64url') }, nowMs, nonce);
}

/**
 * Headers for a body known only by its length and SHA-256 (base64url): what signRequest signs.
 * Tests use it to sign for a body they never send.
 */
export function signDeclared(
  key: Uint8Array,
  sender: string,
  to: Receiver,
  path: string,
  body: { readonly length: number; readonly digest: string },
  nowMs: number,
  nonce = newNonce(),
): Record<string, string> {
  const time = String(Math.floor(nowMs));
  return {
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.sender]: sender,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.receiver]: to.id,
    [AUTH_HEADERS.epoch]: to.epoch,
    [AUTH_HEADERS.bodyDigest]: body.digest,
    [AUTH_HEADERS.tag]: requestTag(key, path, sender, to, time, nonce, body.length, body.digest).toString('base64url'),
  };
}

type HeaderSource = { get(name: string): string | null };

function timeOf(headers: HeaderSource, nowMs: number, skewMs: number): { time: string; sender: string; nonce: string } {
  const time = headers.get(AUTH_HEADERS.time);
  const sender = headers.get(AUTH_HEADERS.sender);
  const nonce = headers.get(AUTH_HEADERS.nonce);
  if (time === null || sender === null || nonce === null || headers.get(AUTH_HEADERS.tag) === null) throw unauthorized('missing cluster authentication');
  if (!TIME_PATTERN.test(time)) throw unauthorized('bad cluster authentication: malformed time');
  if (Math.abs(Number(time) - nowMs) > skewMs) throw unauthorized('request time outside the accepted window', 'stale-time');
  if (!NODE_ID_PATTERN.test(sender)) throw unauthorized('bad cluster authentication: malformed sender');
  if (!NONCE_PATTERN.test(nonce)) throw unauthorized('bad cluster authentication: malformed nonce');
  return { time, sender, nonce };
}

/**
 * Checks a request's authentication from its headers alone, before its body is read: every
 * header present and well formed, the time inside `skewMs` of `nowMs`, the tag valid under one
 * of `keys`, and the request meant for `self` (id and boot epoch). `contentLength` is the
 * request's Content-Length header (required: the tag covers it). Throws 401.
 */
export function checkRequest(
  headers: HeaderSource,
  contentLength: string | null,
  keys: readonly Uint8Array[],
  self: Receiver,
  path: string,
  nowMs: number,
  skewMs = AUTH_SKEW_MS_DEFAULT,
): AuthClaims {
  const { time, sender, nonce } = timeOf(headers, nowMs, skewMs);
  const receiver = headers.get(AUTH_HEADERS.receiver);
  const epoch = headers.get(AUTH_HEADERS.epoch);
  const digest = headers.get(AUTH_HEADERS.bodyDigest);
  if (receiver === null || epoch === null || digest === null) throw unauthorized('missing cluster authentication');
  if (!NODE_ID_PATTERN.test(receiver) || !EPOCH_PATTERN.test(epoch)) throw unauthorized('bad cluster authentication: malformed receiver');
  if (contentLength === null || !LENGTH_PATTERN.test(contentLength)) throw unauthorized('bad cluster authentication: a Content-Length is required');
  if (!DIGEST_PATTERN.test(digest)) throw unauthorized('bad cluster authentication: malformed body digest');
  const length = Number(contentLength);
  const tag = headers.get(AUTH_HEADERS.tag)!;
  const to = { id: receiver, epoch };
  if (matchesAny(tag, (key) => requestTag(key, path, sender, to, time, nonce, length, digest), keys) === undefined) {
    throw unauthorized('bad cluster authentication');
  }
  // Authentic, but for whom? Checked after the tag so that only members learn these reasons.
  if (receiver !== self.id) throw unauthorized(`request signed for node ${receiver}, not this node`, 'misdirected');
  if (epoch !== self.epoch) throw unauthorized('request signed for an earlier boot of this node; say hello again', 'stale-epoch');
  return { timeMs: Number(time), sender, tag, contentLength: length, bodyDigest: Buffer.from(digest, 'base64url') };
}

/** Checks that `body` is the one the claims were signed over; throws 401. */
export function checkBody(claims: AuthClaims, body: Uint8Array): void {
  if (body.length !== claims.contentLength) throw unauthorized('bad cluster authentication: body length differs from the signed one');
  const digest = createHash('sha256').update(body).digest();
  if (!timingSafeEqual(digest, claims.bodyDigest)) throw unauthorized('bad cluster authentication: body differs from the signed one');
}

/** Headers of a hello (no body), signed with `key`. */
export function signHello(key: Uint8Array, sender: string, nowMs: number, nonce = newNonce()): Record<string, string> {
  return timedHeaders(key, 'ringkv-hello/2', sender, nowMs, nonce);
}

/** The answer to a hello: who this node is, its boot epoch, and a tag the sender can check. */
export interface HelloAnswer {
  readonly node: string;
  readonly epoch: string;
  /** The receiver's wall clock when it answered (ms, decimal). */
  readonly time: string;
  readonly tag: string;
}

/** A verified hello answer: the receiver, and its wall clock when it answered. */
export interface HelloReceiver extends Receiver {
  readonly timeMs: number;
}

function answerTag(key: Uint8Array, node: string, epoch: string, nonce: string, time: string): Buffer {
  return mac(key, ['ringkv-hello-answer/3', node, epoch, nonce, time]);
}

/** Verifies a hello and returns the answer, tagged with the key that verified it; throws 401. */
export function answerHello(headers: HeaderSource, keys: readonly Uint8Array[], self: Receiver, nowMs: number): HelloAnswer {
  // Any time is accepted (see the header comment): the well-formedness checks still apply.
  const { time, sender, nonce } = timeOf(headers, nowMs, Number.POSITIVE_INFINITY);
  const key = matchesAny(headers.get(AUTH_HEADERS.tag)!, (k) => mac(k, ['ringkv-hello/2', time, sender, nonce]), keys);
  if (key === undefined) throw unauthorized('bad cluster authentication');
  const now = String(Math.floor(nowMs));
  return { node: self.id, epoch: self.epoch, time: now, tag: answerTag(key, self.id, self.epoch, nonce, now).toString('base64url') };
}

/**
 * Checks a hello answer (parsed JSON) against the nonce the hello was sent with; returns the
 * receiver it names, or undefined when it is malformed or not tagged by a key of `keys`.
 */
export function readHelloAnswer(answer: unknown, keys: readonly Uint8Array[], nonce: string): HelloReceiver | undefined {
  const a = answer as Partial<Record<keyof HelloAnswer, unknown>> | null;
  if (a === null || typeof a !== 'object' || typeof a.node !== 'string' || typeof a.epoch !== 'string' || typeof a.time !== 'string' || typeof a.tag !== 'string') return undefined;
  const { node, epoch, time, tag } = a;
  if (!NODE_ID_PATTERN.test(node) || !EPOCH_PATTERN.test(epoch) || !TIME_PATTERN.test(time)) return undefined;
  return matchesAny(tag, (key) => answerTag(key, node, epoch, nonce, time), keys) === undefined ? undefined : { id: node, epoch, timeMs: Number(time) };
}
