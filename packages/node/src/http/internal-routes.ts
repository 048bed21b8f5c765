/**
 * Node-to-node routes under /internal/. Every request is authenticated with the cluster secret
 * (transport/auth.ts) over the exact bytes received, before anything is decoded or applied:
 * a missing, forged, stale or replayed signature is 401 KV_ERR_UNAUTHORIZED and changes
 * nothing. Everything that can be checked without the body (headers present and well formed,
 * time inside the window, tag not seen before) is checked before the body is read, so a client
 * without the secret cannot make the node buffer bodies. One ReplayGuard per node remembers
 * the tags it accepted.
 */
import type { Context, Hono } from 'hono';
import { KvError } from '../errors.js';
import { AUTH_SKEW_MS_DEFAULT, REPLAY_ENTRIES_MAX_DEFAULT, ReplayGuard, checkAuthHeaders, verifyRequestClaims, type AuthClaims } from '../transport/auth.js';
import {
  decodeBatch,
  decodeCoordinate,
  encodeBatchResults,
  encodeCoordinateResult,
} from '../transport/messages.js';
import type { PeerHandler } from '../transport/transport.js';
import { decodeTreeRequest, encodeTreeResponse } from '../transport/tree-messages.js';
import type { FaultPlan } from '../transport/fault-plan.js';
import type { StaticPeer } from '../membership/static-membership.js';
import { incomingOf, readBody } from './request.js';

export interface InternalDeps {
  readonly secret: string;
  readonly nowMs: () => number;
  /** Largest internal request body (a batch of whole objects). */
  readonly bodyBytesMax: number;
  readonly peer: PeerHandler;
  /** Replaces the static member list (absent once membership comes from gossip). */
  readonly setMembers?: (members: StaticPeer[]) => void;
  /** Counts a refused request by reason: 'unauthenticated' or 'replayed'. */
  readonly refused: (reason: string) => void;
  /** Present only on nodes run with fault injection: POST /internal/faults sets it. */
  readonly faults?: FaultPlan;
  /** Most accepted tags remembered against replays (default REPLAY_ENTRIES_MAX_DEFAULT). */
  readonly replayEntriesMax?: number;
  /** Largest accepted clock difference with a sender (default AUTH_SKEW_MS_DEFAULT). */
  readonly skewMs?: number;
}

/** Authenticates a request (see the module comment); returns its body and sender. */
type Authenticate = (c: Context) => Promise<{ body: Uint8Array; sender: string }>;

function replayed(): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', 'replayed request: its signature was already used');
}

/** Runs `check`; a KvError it throws is counted as refused for `reason` and rethrown. */
function refusing<T>(deps: InternalDeps, reason: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KvError) deps.refused(reason);
    throw error;
  }
}

function authenticator(deps: InternalDeps): Authenticate {
  const skewMs = deps.skewMs ?? AUTH_SKEW_MS_DEFAULT;
  const guard = new ReplayGuard(deps.replayEntriesMax ?? REPLAY_ENTRIES_MAX_DEFAULT, skewMs);
  return async (c) => {
    const headers = c.req.raw.headers;
    // Before the body: everything the headers alone can show.
    const early: AuthClaims = refusing(deps, 'unauthenticated', () => checkAuthHeaders(headers, deps.nowMs(), skewMs));
    if (guard.isReplay(early.tag, early.timeMs, deps.nowMs())) {
      deps.refused('replayed');
      throw replayed();
    }
    const body = await readBody(c.req.raw, deps.bodyBytesMax, incomingOf(c));
    // After it: the tag over the bytes received, the time again (the body took time), and
    // the guard again in one synchronous step (a copy may have been accepted meanwhile).
    const nowMs = deps.nowMs();
    const claims = refusing(deps, 'unauthenticated', () => verifyRequestClaims(deps.secret, headers, c.req.path, body, nowMs, skewMs));
    if (!guard.admit(claims.tag, claims.timeMs, nowMs)) {
      deps.refused('replayed');
      throw replayed();
    }
    return { body, sender: claims.sender };
  };
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
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KvError('KV_ERR_BAD_REQUEST', 'members must be a JSON object {"members": [...]}');
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
  const authenticated = authenticator(deps);

  app.post('/internal/batch', async (c) => {
    const { body, sender } = await authenticated(c);
    const ops = decodeBatch(body);
    return binary(c, encodeBatchResults(await deps.peer.replicaBatch(ops, sender)));
  });

  app.post('/internal/coordinate', async (c) => {
    const { body, sender } = await authenticated(c);
    return binary(c, encodeCoordinateResult(await deps.peer.coordinate(decodeCoordinate(body), sender)));
  });

  app.post('/internal/tree', async (c) => {
    const { body, sender } = await authenticated(c);
    return binary(c, encodeTreeResponse(await deps.peer.tree(decodeTreeRequest(body), sender)));
  });

  app.post('/internal/members', async (c) => {
    const { body } = await authenticated(c);
    if (deps.setMembers === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'membership is not static on this node');
    deps.setMembers(parseMembers(body));
    return c.body(null, 204);
  });

  const faults = deps.faults;
  if (faults !== undefined) {
    // Fault injection (only with --fault-injection): {"block": ["node2", ...]} cuts this
    // node's traffic to those members; {"block": []} heals.
    app.post('/internal/faults', async (c) => {
      const { body } = await authenticated(c);
      let block: unknown;
      try {
        block = (JSON.parse(Buffer.from(body).toString('utf8')) as { block?: unknown } | null)?.block;
      } catch {
        block = undefined;
      }
      if (!Array.isArray(block) || block.length > 1024 || !block.every((id) => typeof id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(id))) {
        throw new KvError('KV_ERR_BAD_REQUEST', 'faults must be {"block": [member ids]}');
      }
      faults.block(block as string[]);
      return c.json({ block: faults.list() });
    });
  }
}
