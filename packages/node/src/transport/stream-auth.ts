/**
 * The handshake of the node-to-node stream (docs/transport.md), keyed by the keyring's `stream`
 * purpose key (security/keyring.ts): challenge-response, mutual, bound to both node ids and the
 * receiver's boot epoch, decided entirely from HTTP headers before a byte of the stream is read.
 *
 * 1. Challenge. The dialer D sends `POST /internal/peer-challenge` with headers time, sender,
 *    nonce and tag = HMAC(k, "ringkv-peer-challenge/1" \n time \n sender \n nonce) (inside the
 *    30 s skew window, so only key holders get challenges). The receiver R answers JSON
 *    {node, epoch, challenge}: its id, its boot epoch and a fresh random challenge Cr that it
 *    remembers for D, single use, for CHALLENGE_TTL_MS.
 * 2. Dial. D opens `GET /internal/peer` with `Upgrade: ringkv-peer/1` and headers sender,
 *    receiver, epoch, challenge Cr, its own fresh nonce Nd and
 *      tag_D = HMAC(k, "ringkv-peer-dial/1" \n D \n R \n epoch \n Cr \n Nd).
 *    R checks tag_D under every key of its keyring, that it is the receiver and the epoch its
 *    own, that Cr is one it issued to D and not used yet (then forgets it), that D was not
 *    removed from the ring. Any failure: 401 (or 403 for a removed sender) and the connection
 *    closes; nothing of the stream was read.
 * 3. Accept. R answers `101 Switching Protocols` with
 *      tag_R = HMAC(k', "ringkv-peer-accept/1" \n D \n R \n epoch \n Cr \n Nd),
 *    k' being the key that verified tag_D (so rotation works: any key of the keyring). D checks
 *    tag_R, fresh by its own Nd, before it sends a frame.
 *
 * Replays: a captured dial carries a used challenge (refused as `replayed`); after R restarts
 * its epoch and its challenge table are new (`stale-epoch` / `replayed`); sent to another node
 * it names the wrong receiver (`misdirected`). A captured accept answers only the Nd it was made
 * for. Both sides prove knowledge of the key over fresh nonces of the other side.
 *
 * Source: the Erlang distribution handshake (mutual challenge-response keyed by the cookie),
 * here with HMAC-SHA256 and bound to the boot epoch so a recorded handshake cannot be replayed.
 */
import { timingSafeEqual } from 'node:crypto';
import { KvError } from '../errors.js';
import { NODE_ID_PATTERN } from '@ringkv/protocol';
import { mac, timedHeaders, type Receiver } from './auth.js';

/** The Upgrade token of the stream, and the paths of the handshake. */
export const STREAM_PROTOCOL = 'ringkv-peer/1';
export const STREAM_PATH = '/internal/peer';
export const CHALLENGE_PATH = '/internal/peer-challenge';
/** How long an issued challenge may be answered. */
export const CHALLENGE_TTL_MS = 10_000;
/** Most outstanding challenges a node remembers (the oldest is forgotten past it). */
export const CHALLENGES_MAX = 1024;

export const STREAM_HEADERS = {
  time: 'x-ringkv-time',
  sender: 'x-ringkv-sender',
  receiver: 'x-ringkv-receiver',
  epoch: 'x-ringkv-epoch',
  challenge: 'x-ringkv-challenge',
  nonce: 'x-ringkv-nonce',
  tag: 'x-ringkv-auth',
} as const;

const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const EPOCH_PATTERN = /^[A-Za-z0-9_-]{16}$/;
const TAG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const TIME_PATTERN = /^\d{1,16}$/;

/** Why a handshake was refused: in the refusal's details, the log and the refusal metric. */
export type HandshakeRefusal = 'unauthenticated' | 'misdirected' | 'stale-epoch' | 'replayed' | 'removed' | 'no-certificate';

type HeaderSource = { get(name: string): string | null };

function refused(message: string, reason: HandshakeRefusal): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', message, { reason });
}

/** The key of `keys` under which `tag` (canonical base64url) is `expected(key)`, if any. */
function verifyingKey(tag: string | null, keys: readonly Uint8Array[], expected: (key: Uint8Array) => Buffer): Uint8Array | undefined {
  if (tag === null || !TAG_PATTERN.test(tag)) return undefined;
  const actual = Buffer.from(tag, 'base64url');
  if (actual.toString('base64url') !== tag) return undefined;
  return keys.find((key) => timingSafeEqual(actual, expected(key)));
}

/**
 * Challenges a node issued and not yet seen answered: single use, bounded in count, forgotten
 * after `ttlMs`. Pure: time and randomness are injected.
 */
export class ChallengeTable {
  private readonly issued = new Map<string, { readonly sender: string; readonly expiresMs: number }>();

  constructor(
    private readonly nowMs: () => number,
    private readonly newChallenge: () => string,
    private readonly ttlMs = CHALLENGE_TTL_MS,
    private readonly entriesMax = CHALLENGES_MAX,
  ) {}

  get size(): number {
    return this.issued.size;
  }

  /** A fresh challenge for `sender`. Past `entriesMax` the oldest outstanding one is forgotten. */
  issue(sender: string): string {
    this.expire();
    while (this.issued.size >= this.entriesMax) this.issued.delete(this.issued.keys().next().value!);
    const challenge = this.newChallenge();
    this.issued.set(challenge, { sender, expiresMs: this.nowMs() + this.ttlMs });
    return challenge;
  }

  /** True (and forgets it) when `challenge` was issued to `sender` and is still outstanding. */
  take(challenge: string, sender: string): boolean {
    this.expire();
    const entry = this.issued.get(challenge);
    if (entry === undefined || entry.sender !== sender) return false;
    this.issued.delete(challenge);
    return true;
  }

  private expire(): void {
    const now = this.nowMs();
    for (const [challenge, { expiresMs }] of this.issued) {
      if (expiresMs > now) break; // insertion order is expiry order: the TTL is fixed
      this.issued.delete(challenge);
    }
  }
}

/** Headers of a challenge request, signed with `key` (the primary stream key). */
export function signChallengeRequest(key: Uint8Array, sender: string, nowMs: number, nonce: string): Record<string, string> {
  // STREAM_HEADERS names time, sender, nonce and tag as AUTH_HEADERS does.
  return timedHeaders(key, 'ringkv-peer-challenge/1', sender, nowMs, nonce);
}

/** Checks a challenge request; returns its sender. Throws 401 (`unauthenticated`). */
export function checkChallengeRequest(headers: HeaderSource, keys: readonly Uint8Array[], nowMs: number, skewMs: number): string {
  const time = headers.get(STREAM_HEADERS.time);
  const sender = headers.get(STREAM_HEADERS.sender);
  const nonce = headers.get(STREAM_HEADERS.nonce);
  if (time === null || sender === null || nonce === null || !TIME_PATTERN.test(time) || !NODE_ID_PATTERN.test(sender) || !NONCE_PATTERN.test(nonce)) {
    throw refused('missing or malformed stream challenge headers', 'unauthenticated');
  }
  if (Math.abs(Number(time) - nowMs) > skewMs) throw refused('challenge request time outside the accepted window', 'unauthenticated');
  if (verifyingKey(headers.get(STREAM_HEADERS.tag), keys, (key) => mac(key, ['ringkv-peer-challenge/1', time, sender, nonce])) === undefined) {
    throw refused('bad cluster authentication', 'unauthenticated');
  }
  return sender;
}

/** What both tags cover. */
export interface DialClaims {
  readonly sender: string;
  readonly to: Receiver;
  readonly challenge: string;
  readonly nonce: string;
}

function dialFields(label: string, claims: DialClaims): string[] {
  return [label, claims.sender, claims.to.id, claims.to.epoch, claims.challenge, claims.nonce];
}

/** Headers of the upgrade request (step 2), signed with `key` (the primary stream key). */
export function signDial(key: Uint8Array, claims: DialClaims): Record<string, string> {
  return {
    [STREAM_HEADERS.sender]: claims.sender,
    [STREAM_HEADERS.receiver]: claims.to.id,
    [STREAM_HEADERS.epoch]: claims.to.epoch,
    [STREAM_HEADERS.challenge]: claims.challenge,
    [STREAM_HEADERS.nonce]: claims.nonce,
    [STREAM_HEADERS.tag]: mac(key, dialFields('ringkv-peer-dial/1', claims)).toString('base64url'),
  };
}

/** The claims of an upgrade request, unverified; throws 401 when a header is missing or malformed. */
function dialClaims(headers: HeaderSource): DialClaims {
  const sender = headers.get(STREAM_HEADERS.sender);
  const id = headers.get(STREAM_HEADERS.receiver);
  const epoch = headers.get(STREAM_HEADERS.epoch);
  const challenge = headers.get(STREAM_HEADERS.challenge);
  const nonce = headers.get(STREAM_HEADERS.nonce);
  if (sender === null || id === null || epoch === null || challenge === null || nonce === null) throw refused('missing stream authentication', 'unauthenticated');
  if (!NODE_ID_PATTERN.test(sender) || !NODE_ID_PATTERN.test(id) || !EPOCH_PATTERN.test(epoch) || !NONCE_PATTERN.test(challenge) || !NONCE_PATTERN.test(nonce)) {
    throw refused('malformed stream authentication', 'unauthenticated');
  }
  return { sender, to: { id, epoch }, challenge, nonce };
}

/**
 * Judges an upgrade request (step 2) from its headers; returns its claims and the tag of the
 * 101 answer (step 3). Throws 401 KV_ERR_UNAUTHORIZED with the reason.
 */
export function checkDial(
  headers: HeaderSource,
  keys: readonly Uint8Array[],
  self: Receiver,
  challenges: ChallengeTable,
  isRemoved: (id: string) => boolean,
): { claims: DialClaims; acceptTag: string } {
  const claims = dialClaims(headers);
  const key = verifyingKey(headers.get(STREAM_HEADERS.tag), keys, (k) => mac(k, dialFields('ringkv-peer-dial/1', claims)));
  if (key === undefined) throw refused('bad cluster authentication', 'unauthenticated');
  // Authentic: the reasons below are for members only.
  if (claims.to.id !== self.id) throw refused(`stream signed for node ${claims.to.id}, not this node`, 'misdirected');
  if (claims.to.epoch !== self.epoch) throw refused('stream signed for an earlier boot of this node', 'stale-epoch');
  if (!challenges.take(claims.challenge, claims.sender)) throw refused('challenge unknown, expired or already used', 'replayed');
  if (isRemoved(claims.sender)) throw new KvError('KV_ERR_FORBIDDEN', `node ${claims.sender} was removed from the ring`, { reason: 'removed' });
  return { claims, acceptTag: mac(key, dialFields('ringkv-peer-accept/1', claims)).toString('base64url') };
}

/** True when `tag` is the receiver's accept tag for `claims` under a key of `keys` (step 3). */
export function checkAccept(tag: string | null, keys: readonly Uint8Array[], claims: DialClaims): boolean {
  return verifyingKey(tag, keys, (key) => mac(key, dialFields('ringkv-peer-accept/1', claims))) !== undefined;
}
