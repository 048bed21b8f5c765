/**
 * Wire form of SWIM messages, shared by the UDP datagrams and the TCP push/pull frames:
 *
 *   tag (16 bytes) ‖ time (6 bytes, ms, big-endian) ‖ nonce (8 bytes) ‖ JSON message
 *
 * tag = first 16 bytes of HMAC-SHA256(cluster secret, time ‖ nonce ‖ JSON). A receiver drops
 * (and counts, by reason) anything oversize, unauthenticated, outside the time window,
 * replayed (a nonce seen within the window) or malformed; nothing a peer sends can crash it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SwimMessage, Update } from './types.js';

const TAG_BYTES = 16;
const TIME_BYTES = 6;
const NONCE_BYTES = 8;
export const PACKET_HEADER_BYTES = TAG_BYTES + TIME_BYTES + NONCE_BYTES;

export type DropReason = 'oversize' | 'unauthenticated' | 'stale' | 'replayed' | 'malformed';

function tag(secret: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, TAG_BYTES);
}

export function encodePacket(secret: string, message: SwimMessage, nowMs: number): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const body = Buffer.alloc(TIME_BYTES + NONCE_BYTES + json.length);
  body.writeUIntBE(Math.floor(nowMs), 0, TIME_BYTES);
  randomBytes(NONCE_BYTES).copy(body, TIME_BYTES);
  json.copy(body, TIME_BYTES + NONCE_BYTES);
  return Buffer.concat([tag(secret, body), body]);
}

/** Remembers nonces for the time window so a captured packet cannot be replayed; bounded. */
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

export type Decoded = { ok: true; message: SwimMessage } | { ok: false; reason: DropReason };

export function decodePacket(secret: string, packet: Uint8Array, nowMs: number, sizeMax: number, replay: ReplayWindow, windowMs: number): Decoded {
  if (packet.length > sizeMax) return { ok: false, reason: 'oversize' };
  if (packet.length <= PACKET_HEADER_BYTES) return { ok: false, reason: 'malformed' };
  const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  const body = buffer.subarray(TAG_BYTES);
  if (!timingSafeEqual(buffer.subarray(0, TAG_BYTES), tag(secret, body))) return { ok: false, reason: 'unauthenticated' };
  const timeMs = body.readUIntBE(0, TIME_BYTES);
  if (Math.abs(timeMs - nowMs) > windowMs) return { ok: false, reason: 'stale' };
  if (!replay.admit(body.subarray(TIME_BYTES, TIME_BYTES + NONCE_BYTES).toString('hex'), nowMs)) return { ok: false, reason: 'replayed' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(TIME_BYTES + NONCE_BYTES).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const message = validateMessage(parsed);
  return message === undefined ? { ok: false, reason: 'malformed' } : { ok: true, message };
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length <= max;

function validUpdate(value: unknown): value is Update {
  const u = value as Record<string, unknown>;
  if (u === null || typeof u !== 'object' || !isStr(u.id) || !ID.test(u.id) || !isInt(u.incarnation)) return false;
  if (u.kind === 'alive') return isStr(u.gossipAddress) && isStr(u.httpAddress);
  return (u.kind === 'suspect' || u.kind === 'dead' || u.kind === 'left') && isStr(u.from) && ID.test(u.from);
}

function validUpdates(value: unknown, max: number): value is Update[] {
  return Array.isArray(value) && value.length <= max && value.every(validUpdate);
}

/** The message if it has exactly the shape of a SwimMessage, else undefined. */
export function validateMessage(value: unknown): SwimMessage | undefined {
  const m = value as Record<string, unknown>;
  if (m === null || typeof m !== 'object' || !isStr(m.from) || !ID.test(m.from)) return undefined;
  switch (m.type) {
    case 'ping':
      return isInt(m.seq) && isStr(m.target) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'ack':
    case 'nack':
      return isInt(m.seq) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'ping-req':
      return isInt(m.seq) && isStr(m.target) && isStr(m.targetAddress) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'gossip':
      return validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    case 'push-pull':
      return typeof m.reply === 'boolean' && validUpdates(m.state, 100_000) && validUpdates(m.updates, 64) ? (m as SwimMessage) : undefined;
    default:
      return undefined;
  }
}
