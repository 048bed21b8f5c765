/**
 * Node-to-node routes under /internal/. Every request is authenticated with the cluster secret
 * (transport/auth.ts) over the exact bytes received, before anything is decoded or applied:
 * a missing, forged or stale signature is 401 KV_ERR_UNAUTHORIZED and changes nothing.
 */
import type { Context, Hono } from 'hono';
import { KvError } from '../errors.js';
import { AUTH_HEADERS, verifyRequest } from '../transport/auth.js';
import {
  decodeBatch,
  decodeCoordinate,
  encodeBatchResults,
  encodeCoordinateResult,
} from '../transport/messages.js';
import type { PeerHandler } from '../transport/transport.js';
import type { StaticPeer } from '../membership/static-membership.js';
import { readBody } from './request.js';

export interface InternalDeps {
  readonly secret: string;
  readonly nowMs: () => number;
  /** Largest internal request body (a batch of whole objects). */
  readonly bodyBytesMax: number;
  readonly peer: PeerHandler;
  /** Replaces the static member list (absent once membership comes from gossip). */
  readonly setMembers?: (members: StaticPeer[]) => void;
  readonly refused: (reason: string) => void;
}

async function authenticated(c: Context, deps: InternalDeps): Promise<{ body: Uint8Array; sender: string }> {
  // Refuse requests without any credentials before reading (and buffering) their bodies.
  if (c.req.header(AUTH_HEADERS.tag) === undefined) {
    deps.refused('unauthenticated');
    throw new KvError('KV_ERR_UNAUTHORIZED', 'missing cluster authentication');
  }
  const body = await readBody(c.req.raw, deps.bodyBytesMax);
  try {
    return { body, sender: verifyRequest(deps.secret, c.req.raw.headers, c.req.path, body, deps.nowMs()) };
  } catch (error) {
    deps.refused('unauthenticated');
    throw error;
  }
}

function binary(c: Context, bytes: Uint8Array): Response {
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
}

function parseMembers(body: Uint8Array): StaticPeer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new KvError('KV_ERR_BAD_REQUEST', 'members must be JSON');
  }
  const list = (parsed as { members?: unknown }).members;
  const valid =
    Array.isArray(list) &&
    list.length <= 1024 &&
    list.every((m) => typeof m?.id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(m.id) && typeof m?.address === 'string' && /^https?:\/\/[^\s/]+$/.test(m.address));
  if (!valid) throw new KvError('KV_ERR_BAD_REQUEST', 'members must be [{id, address: "http://host:port"}]');
  return (list as StaticPeer[]).map(({ id, address }) => ({ id, address }));
}

export function internalRoutes(app: Hono, deps: InternalDeps): void {
  app.post('/internal/batch', async (c) => {
    const { body, sender } = await authenticated(c, deps);
    const ops = decodeBatch(body);
    return binary(c, encodeBatchResults(await deps.peer.replicaBatch(ops, sender)));
  });

  app.post('/internal/coordinate', async (c) => {
    const { body, sender } = await authenticated(c, deps);
    return binary(c, encodeCoordinateResult(await deps.peer.coordinate(decodeCoordinate(body), sender)));
  });

  app.post('/internal/members', async (c) => {
    const { body } = await authenticated(c, deps);
    if (deps.setMembers === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'membership is not static on this node');
    deps.setMembers(parseMembers(body));
    return c.body(null, 204);
  });
}
