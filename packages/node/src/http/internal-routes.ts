/**
 * Node-to-node routes under /internal/. Every request is authenticated with the cluster's
 * internal key (transport/auth.ts) before anything is decoded or applied, and the decision is
 * made from the headers alone, before the body is read: a missing, forged, stale, replayed,
 * misdirected (signed for another node) or stale-epoch (signed for an earlier boot of this
 * node) request is 401 KV_ERR_UNAUTHORIZED, changes nothing, and its body is never read (the
 * connection is closed instead: app.ts). Only then is the body read, exactly the signed
 * length, and checked against the signed digest. One ReplayGuard per node remembers the
 * tags it accepted; the boot epoch covers what it forgot in a restart.
 */
import type { Context, Hono } from 'hono';
import { KvError } from '../errors.js';
import { answerHello, checkBody, checkRequest, HELLO_PATH, type Receiver } from '../transport/auth.js';
import { AUTH_SKEW_MS_DEFAULT, PEER_CLOCK_WINDOW_MS, REPLAY_ENTRIES_MAX_DEFAULT, ReplayGuard } from '../transport/replay-guard.js';
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
import { CHALLENGE_PATH, checkChallengeRequest, type ChallengeTable } from '../transport/stream-auth.js';
import { incomingOf, parseFaultPlan, parseMembers } from './parse.js';
import { readBody } from './request.js';

export interface InternalDeps {
  /** Internal keys of the keyring, primary first (read per request: a reload takes effect at once). */
  readonly keys: () => readonly Uint8Array[];
  /** This node's id and boot epoch: what a request must be signed for. */
  readonly self: Receiver;
  readonly nowMs: () => number;
  /** Largest internal request body (a batch of whole objects). */
  readonly bodyBytesMax: number;
  readonly peer: PeerHandler;
  /** Replaces the static member list (absent once membership comes from gossip). */
  readonly setMembers?: (members: StaticPeer[]) => void;
  /** Counts a refused request by reason: unauthenticated, replayed, misdirected, stale-epoch. */
  readonly refused: (reason: string) => void;
  /** Present only on nodes run with fault injection: POST /internal/faults sets it. */
  readonly faults?: FaultPlan;
  /** Most accepted tags remembered against replays (default REPLAY_ENTRIES_MAX_DEFAULT). */
  readonly replayEntriesMax?: number;
  /** Largest accepted clock difference with a sender (default AUTH_SKEW_MS_DEFAULT). */
  readonly skewMs?: number;
  /** The stream handshake's first step (transport/stream-auth.ts); absent, no streams are offered. */
  readonly stream?: { readonly keys: () => readonly Uint8Array[]; readonly challenges: ChallengeTable };
}

/** Authenticates a request (see the module comment); returns its body and sender. */
type Authenticate = (c: Context) => Promise<{ body: Uint8Array; sender: string }>;

function replayed(): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', 'replayed request: its signature was already used', { reason: 'replayed' });
}

/** Runs `check`; a KvError it throws is counted as refused (by its reason) and rethrown. */
function refusing<T>(deps: InternalDeps, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KvError) deps.refused(String(error.details.reason ?? 'unauthenticated'));
    throw error;
  }
}

function authenticator(deps: InternalDeps): Authenticate {
  const skewMs = deps.skewMs ?? AUTH_SKEW_MS_DEFAULT;
  const guard = new ReplayGuard(deps.replayEntriesMax ?? REPLAY_ENTRIES_MAX_DEFAULT, skewMs);
  return async (c) => {
    const nowMs = deps.nowMs();
    // Everything is decided here, from the headers, before the body is read.
    const claims = refusing(deps, () => checkRequest(c.req.raw.headers, c.req.header('content-length') ?? null, deps.keys(), deps.self, c.req.path, nowMs, skewMs));
    // Admitted now, in the same synchronous step: a copy arriving while this body streams is
    // refused before its own body is read.
    if (!guard.admit(claims.tag, claims.timeMs, nowMs)) {
      deps.refused('replayed');
      throw replayed();
    }
    const body = await readBody(c.req.raw, Math.min(deps.bodyBytesMax, claims.contentLength), incomingOf(c));
    refusing(deps, () => checkBody(claims, body));
    return { body, sender: claims.sender };
  };
}

function binary(c: Context, bytes: Uint8Array): Response {
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
}

export function internalRoutes(app: Hono, deps: InternalDeps): void {
  const authenticated = authenticator(deps);

  // How a sender learns this node's boot epoch (transport/auth.ts). Side-effect free, so a
  // replayed hello only repeats an answer; an unauthenticated one is refused.
  app.post(HELLO_PATH, (c) => c.json(refusing(deps, () => answerHello(c.req.raw.headers, deps.keys(), deps.self, deps.nowMs()))));

  const stream = deps.stream;
  if (stream !== undefined) {
    // A challenge for a peer about to open a stream (docs/transport.md). Only key holders get
    // one (a signed, time-bound request); the table it lands in is bounded. The window is
    // gossip's (5 minutes), not the 30 s of requests that change state: a challenge changes
    // nothing by itself, and a node whose clock is tens of seconds off must still reach its
    // peers and say how far off it is (issue 16.5, docs/membership.md "Clock skew").
    app.post(CHALLENGE_PATH, (c) => {
      const sender = refusing(deps, () => checkChallengeRequest(c.req.raw.headers, stream.keys(), deps.nowMs(), PEER_CLOCK_WINDOW_MS));
      return c.json({ node: deps.self.id, epoch: deps.self.epoch, challenge: stream.challenges.issue(sender) });
    });
  }

  app.post('/internal/batch', async (c) => {
    const { body, sender } = await authenticated(c);
    const ops = decodeBatch(body);
    // Bounded in bytes: a huge key fails alone (KV_ERR_OVERLOADED), the others are answered.
    return binary(c, encodeBatchResults(await deps.peer.replicaBatch(ops, sender), deps.bodyBytesMax));
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
    // node's traffic to those members ({"block": []} heals); {"storeDelayMs": N} makes its
    // store slow (0 ends it). Either or both.
    app.post('/internal/faults', async (c) => {
      const { body } = await authenticated(c);
      const { block, storeDelayMs } = parseFaultPlan(body);
      if (block !== undefined) faults.block(block);
      if (storeDelayMs !== undefined) faults.storeDelayMs = storeDelayMs;
      return c.json({ block: faults.list(), storeDelayMs: faults.storeDelayMs });
    });
  }
}
