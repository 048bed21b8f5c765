/**
 * Wire form of SWIM messages (version 2), shared by the UDP datagrams and the TCP push/pull
 * frames, encrypted and authenticated with AES-256-GCM under the gossip key derived from the
 * cluster secret (security/keyring.ts):
 *
 *   version (1) = 2 ‖ flags (1) ‖ iv (12, random) ‖ ciphertext ‖ GCM tag (16)
 *   plaintext = time (6 bytes, ms, big-endian) ‖ JSON message
 *   additional data = version ‖ flags ‖ receiver id (UTF-8; empty unless flags bit 0 is set)
 *
 * Bit 0 of flags says the packet is bound to its receiver: the sender names the member it
 * sends to, and any other member fails to authenticate it, so a packet captured on its way to
 * A is nothing to B. A sender that does not yet know who listens at an address (a seed at
 * join, an unknown member's probe) sends it unbound; that is safe because every SWIM message
 * is a claim the precedence rules order by incarnation: repeating one to another member within
 * its time window can only repeat what the cluster already said.
 *
 * A receiver tries every gossip key of its keyring (memberlist's keyring.go does the same), so
 * a secret can be rotated while the ring runs. It drops (and counts, by reason) anything
 * oversize, unauthenticated (wrong key, altered, bound to another member, garbage), outside
 * the time window (stale), replayed (an iv seen within the window), or malformed (authentic
 * but not a well-formed message: validateMessage checks every field, addresses included).
 * Nothing a peer sends makes the decoder throw.
 *
 * Random 96-bit ivs under one key stay collision-free with overwhelming probability up to
 * about 2^32 packets (NIST SP 800-38D §8.3): at the default rates, centuries for a ring.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isZoneName, NODE_ID_PATTERN } from '@ringkv/protocol';
import type { SwimMessage, Update } from './types.js';

const VERSION = 2;
const FLAG_BOUND = 1;
const IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const TIME_BYTES = 6;
const PREFIX_BYTES = 2 + IV_BYTES;
/** Bytes a packet adds to its JSON message. */
export const PACKET_HEADER_BYTES = PREFIX_BYTES + GCM_TAG_BYTES + TIME_BYTES;

export type DropReason = 'oversize' | 'unauthenticated' | 'stale' | 'replayed' | 'malformed';

function additionalData(flags: number, receiver: string | undefined): Buffer {
  return Buffer.concat([Buffer.of(VERSION, flags), receiver === undefined ? Buffer.alloc(0) : Buffer.from(receiver, 'utf8')]);
}

/**
 * Encrypts `message` under `key` (the primary gossip key), bound to `receiver` when given.
 * `iv` defaults to a fresh random one; pass it only to reproduce a packet (tests).
 */
export function encodePacket(key: Uint8Array, message: SwimMessage, nowMs: number, receiver?: string, iv: Uint8Array = randomBytes(IV_BYTES)): Buffer {
  const flags = receiver === undefined ? 0 : FLAG_BOUND;
  const time = Buffer.alloc(TIME_BYTES);
  time.writeUIntBE(Math.max(0, Math.floor(nowMs)), 0, TIME_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(flags, receiver));
  const body = Buffer.concat([cipher.update(time), cipher.update(JSON.stringify(message), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION, flags), iv, body, cipher.getAuthTag()]);
}

/** Remembers ivs for the time window so a captured packet cannot be replayed; bounded. */
export class ReplayWindow {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAtMs = 0;

  constructor(private readonly windowMs: number, private readonly entriesMax = 200_000) {}

  /** True when the nonce is new (and records it). */
  admit(nonce: string, nowMs: number): boolean {
    if (nowMs - this.rotatedAtMs >= this.windowMs || this.current.size >= this.entriesMax) {
      this.previous = this.current;
      this.current = new Set();
      this.rotatedAtMs = nowMs;
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return false;
    this.current.add(nonce);
    return true;
  }
}

/** `timeMs`: the sender's wall clock when it sent (authenticated), for clock-skew estimates. */
export type Decoded = { ok: true; message: SwimMessage; bound: boolean; timeMs: number } | { ok: false; reason: DropReason };

/** The plaintext of `packet` under one of `keys`, or undefined when none authenticates it. */
function open(packet: Buffer, keys: readonly Uint8Array[], selfId: string): Buffer | undefined {
  const flags = packet[1]!;
  const iv = packet.subarray(2, PREFIX_BYTES);
  const body = packet.subarray(PREFIX_BYTES, packet.length - GCM_TAG_BYTES);
  const tag = packet.subarray(packet.length - GCM_TAG_BYTES);
  const aad = additionalData(flags, flags === FLAG_BOUND ? selfId : undefined);
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      // Not this key (or not authentic at all): try the next.
    }
  }
  return undefined;
}

/**
 * Authenticates and decodes a packet received by member `selfId`. Never throws: every failure
 * is a drop with its reason.
 */
export function decodePacket(
  keys: readonly Uint8Array[],
  packet: Uint8Array,
  nowMs: number,
  sizeMax: number,
  replay: ReplayWindow,
  windowMs: number,
  selfId: string,
): Decoded {
  if (packet.length > sizeMax) return { ok: false, reason: 'oversize' };
  const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  if (buffer.length <= PACKET_HEADER_BYTES || buffer[0] !== VERSION || (buffer[1] !== 0 && buffer[1] !== FLAG_BOUND)) return { ok: false, reason: 'unauthenticated' };
  const plain = open(buffer, keys, selfId);
  if (plain === undefined) return { ok: false, reason: 'unauthenticated' };
  const timeMs = plain.readUIntBE(0, TIME_BYTES);
  if (Math.abs(timeMs - nowMs) > windowMs) return { ok: false, reason: 'stale' };
  if (!replay.admit(buffer.subarray(2, PREFIX_BYTES).toString('base64'), nowMs)) return { ok: false, reason: 'replayed' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.subarray(TIME_BYTES).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const message = validateMessage(parsed);
  return message === undefined ? { ok: false, reason: 'malformed' } : { ok: true, message, bound: buffer[1] === FLAG_BOUND, timeMs };
}

/** A DNS name or IPv4 literal, or a bracketed IPv6 literal (what splitAddress and dgram accept). */
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]{2,45}\])`;
const GOSSIP_ADDRESS = new RegExp(`^${HOST}:(\\d{1,5})$`);
const HTTP_ADDRESS = new RegExp(`^https?://${HOST}:(\\d{1,5})$`);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length <= max;
const isPort = (digits: string | undefined) => digits !== undefined && Number(digits) >= 1 && Number(digits) <= 65535;

/** `host:port` a datagram can be sent to: a host name or IP literal, a port from 1 to 65535. */
export function isGossipAddress(value: unknown): value is string {
  return isStr(value) && isPort(GOSSIP_ADDRESS.exec(value)?.[1]);
}

/** `http(s)://host:port` with a port from 1 to 65535 and nothing after it. */
export function isHttpAddress(value: unknown): value is string {
  return isStr(value) && isPort(HTTP_ADDRESS.exec(value)?.[1]);
}

function validUpdate(value: unknown): value is Update {
  const u = value as Record<string, unknown>;
  if (u === null || typeof u !== 'object' || !isStr(u.id) || !NODE_ID_PATTERN.test(u.id) || !isInt(u.incarnation)) return false;
  // No zone (absent) is what members without --zone and versions before zones send.
  if (u.kind === 'alive') return isGossipAddress(u.gossipAddress) && isHttpAddress(u.httpAddress) && (u.zone === undefined || isZoneName(u.zone));
  return (u.kind === 'suspect' || u.kind === 'dead' || u.kind === 'left') && isStr(u.from) && NODE_ID_PATTERN.test(u.from);
}

function validUpdates(value: unknown, max: number): value is Update[] {
  return Array.isArray(value) && value.length <= max && value.every(validUpdate);
}

/** The message if it has exactly the shape of a SwimMessage, else undefined. */
export function validateMessage(value: unknown): SwimMessage | undefined {
  const m = value as Record<string, unknown>;
  if (m === null || typeof m !== 'object' || !isStr(m.from) || !NODE_ID_PATTERN.test(m.from)) return undefined;
  switch (m.type) {
    case 'ping':
      return isInt(m.seq) && isStr(m.target) && NODE_ID_PATTERN.test(m.target) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'ack':
    case 'nack':
      return isInt(m.seq) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'ping-req':
      return isInt(m.seq) && isStr(m.target) && NODE_ID_PATTERN.test(m.target) && isGossipAddress(m.targetAddress) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'gossip':
      return validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'push-pull':
      return typeof m.reply === 'boolean' && validUpdates(m.state, 100_000) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    default:
      return undefined;
  }
}
