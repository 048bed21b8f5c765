/**
 * Dialing a peer's stream (stream-auth.ts has the handshake): a challenge request, then the
 * upgrade request on a fresh connection to the peer's client port (HTTPS with mutual TLS when
 * the ring runs TLS), then the check of the 101's tag. Resolves with the raw socket, ready for
 * frames; rejects with KV_ERR_PEER_UNREACHABLE (`delivered: false`: no request went out) or
 * KV_ERR_TIMEOUT when the handshake did not finish within the deadline.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { KvError } from '../errors.js';
import type { Member } from '../membership/membership.js';
import { refusal } from './peer-errors.js';
import { CHALLENGE_PATH, checkAccept, signChallengeRequest, signDial, STREAM_PATH, STREAM_PROTOCOL, STREAM_HEADERS, type DialClaims } from './stream-auth.js';

/** Largest answer to a challenge or a refused upgrade that a dialer reads. */
const HANDSHAKE_ANSWER_BYTES_MAX = 16 * 1024;

export interface DialOptions {
  readonly selfId: string;
  /** Stream keys of the keyring, primary first. */
  readonly keys: () => readonly Uint8Array[];
  readonly nowMs: () => number;
  readonly tls?: { readonly ca?: Buffer; readonly cert: Buffer; readonly key: Buffer; readonly rejectUnauthorized: true };
}

type Outcome = { readonly kind: 'answer'; readonly status: number; readonly body: Buffer } | { readonly kind: 'upgrade'; readonly response: IncomingMessage; readonly socket: Socket; readonly head: Buffer };

function nonce(): string {
  return randomBytes(16).toString('base64url');
}

function unreachable(member: Member, message: string, cause?: unknown): KvError {
  return new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${member.id} unreachable: ${message}`, { peer: member.id, delivered: false }, cause === undefined ? undefined : { cause });
}

/** Reads a bounded answer body. */
function readAnswer(response: IncomingMessage, done: (outcome: Outcome) => void, fail: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > HANDSHAKE_ANSWER_BYTES_MAX) response.destroy(new Error('handshake answer too large'));
    else chunks.push(chunk);
  });
  response.on('end', () => done({ kind: 'answer', status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
  response.on('error', fail);
}

/** One HTTP exchange on its own connection, with a total deadline. */
function exchange(member: Member, options: DialOptions, request: RequestOptions, timeoutMs: number): Promise<Outcome> {
  const url = new URL(member.address);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Outcome>((resolve, reject) => {
    let req: ClientRequest | undefined;
    const timer = setTimeout(() => {
      req?.destroy();
      reject(new KvError('KV_ERR_TIMEOUT', `peer ${member.id} did not finish the stream handshake within ${timeoutMs} ms`, { peer: member.id, delivered: false }));
    }, timeoutMs);
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(unreachable(member, error.message, error));
    };
    req = send({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      agent: false,
      ...(url.protocol === 'https:' && options.tls ? { ...options.tls } : {}),
      ...request,
    });
    req.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => done({ kind: 'upgrade', response, socket, head }));
    req.on('response', (response: IncomingMessage) => readAnswer(response, done, fail));
    req.on('error', fail);
    req.end();
  });
}

/** Step 1: the peer's id, boot epoch and a challenge for this node. */
async function challenge(member: Member, options: DialOptions, timeoutMs: number): Promise<{ id: string; epoch: string; challenge: string }> {
  const headers = signChallengeRequest(options.keys()[0]!, options.selfId, options.nowMs(), nonce());
  const outcome = await exchange(member, options, { method: 'POST', path: CHALLENGE_PATH, headers: { ...headers, 'content-length': '0' } }, timeoutMs);
  if (outcome.kind !== 'answer') {
    outcome.socket.destroy();
    throw unreachable(member, 'upgraded a challenge request');
  }
  if (outcome.status !== 200) throw refusal(member, CHALLENGE_PATH, outcome.status, outcome.body);
  let answer: { node?: unknown; epoch?: unknown; challenge?: unknown } | null;
  try {
    answer = JSON.parse(outcome.body.toString('utf8')) as typeof answer;
  } catch {
    answer = null;
  }
  const { node, epoch, challenge: issued } = answer ?? {};
  if (typeof node !== 'string' || typeof epoch !== 'string' || typeof issued !== 'string') throw unreachable(member, 'malformed challenge answer');
  if (node !== member.id) throw unreachable(member, `${member.address} answers as node ${node}`);
  return { id: node, epoch, challenge: issued };
}

/** Steps 2 and 3: the authenticated upgrade. The socket is the peer's, and the peer is proven. */
export async function dialPeer(member: Member, options: DialOptions, timeoutMs: number): Promise<{ socket: Socket; head: Buffer }> {
  const startedMs = Date.now();
  const issued = await challenge(member, options, timeoutMs);
  const claims: DialClaims = { sender: options.selfId, to: { id: issued.id, epoch: issued.epoch }, challenge: issued.challenge, nonce: nonce() };
  const headers = { connection: 'Upgrade', upgrade: STREAM_PROTOCOL, ...signDial(options.keys()[0]!, claims) };
  const remainingMs = Math.max(1, timeoutMs - (Date.now() - startedMs));
  const outcome = await exchange(member, options, { method: 'GET', path: STREAM_PATH, headers }, remainingMs);
  if (outcome.kind === 'answer') throw refusal(member, STREAM_PATH, outcome.status, outcome.body);
  const { response, socket, head } = outcome;
  if (response.headers.upgrade !== STREAM_PROTOCOL || !checkAccept(String(response.headers[STREAM_HEADERS.tag] ?? ''), options.keys(), claims)) {
    socket.destroy();
    throw unreachable(member, 'the stream accept is not authenticated by a key of this ring');
  }
  return { socket, head };
}
