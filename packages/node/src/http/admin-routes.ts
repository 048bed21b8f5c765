/**
 * Operator routes: /admin/status, /admin/members, /admin/ring, /admin/preflist/{key},
 * /admin/local/{key} (this node's own replica, no coordination), POST /admin/anti-entropy
 * (GET: its partners), POST /admin/snapshot (snapshot-route.ts) and /metrics.
 */
import type { Hono } from 'hono';
import { fallbacks, ownershipShares, preferenceList, replicaShares, type Ring, type StatusBody } from '@ringkv/protocol';
import type { Registry } from 'prom-client';
import { KvError } from '../errors.js';
import { visibleAt, type VersionedObject } from '../core/versioned.js';
import type { MembershipView } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import type { AntiEntropy } from '../replication/anti-entropy.js';
import type { OwnershipTransfer } from '../replication/ownership-transfer.js';
import type { MembershipControl } from '../membership/control.js';
import { parseExchangePeer, parseKey, parseRemoveTarget, parseTransferAction } from './parse.js';
import { siblingsBody } from './render.js';
import { snapshotRoute } from './snapshot-route.js';

export interface AdminDeps {
  readonly n: number;
  readonly keyBytesMax: number;
  readonly store: Store;
  readonly membership: MembershipView;
  readonly ring: () => Ring;
  readonly status: () => StatusBody;
  /** The context of `object`, bound to `key` (core/context-codec.ts). */
  readonly encodeContext: (object: VersionedObject, key: string) => string;
  readonly registry: Registry;
  readonly antiEntropy: Pick<AntiEntropy, 'exchange' | 'partners'>;
  readonly transfer: Pick<OwnershipTransfer, 'status' | 'setPaused'>;
  readonly nowMs: () => number;
  /** Leave and remove; absent with static membership. */
  readonly control?: MembershipControl;
}

/** The status, members, ring and key routes and /metrics; the rest are registered by the functions below. */
export function adminRoutes(app: Hono, deps: AdminDeps): void {
  app.get('/admin/status', (c) => c.json(deps.status()));

  // zone: null for a member without one (the fixed fields first, as SPEC.md lists them).
  app.get('/admin/members', (c) => c.json(deps.membership.members().map((m) => ({ id: m.id, address: m.address, status: m.status, incarnation: m.incarnation, zone: m.zone ?? null }))));

  membershipChangeRoutes(app, deps);
  antiEntropyRoutes(app, deps);
  snapshotRoute(app, deps.store);
  ringRoutes(app, deps);

  app.get('/metrics', async (c) => c.text(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType }));
}

/**
 * Ownership changes (docs/healing.md). Leave: this node announces it leaves the ring, hands its
 * data to the new owners, then stops (202: it has only begun). Remove: an operator drops a dead
 * member for good; refused for a member that is not dead. Transfers: pause or resume this
 * node's handoff of data it no longer owns.
 */
function membershipChangeRoutes(app: Hono, deps: AdminDeps): void {
  const control = (): MembershipControl => {
    if (deps.control === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'membership is static on this node: change the peer list instead');
    return deps.control;
  };
  app.post('/admin/leave', async (c) => {
    await control().leave();
    return c.json({ leaving: true, transfers: deps.transfer.status() }, 202);
  });
  app.post('/admin/remove', (c) => {
    const id = parseRemoveTarget(c.req.query('id'), deps.membership);
    control().remove(id);
    return c.json({ removed: id });
  });
  app.post('/admin/transfers', (c) => {
    deps.transfer.setPaused(parseTransferAction(c.req.query('action')) === 'pause');
    return c.json(deps.transfer.status());
  });
  app.get('/admin/transfers', (c) => c.json(deps.transfer.status()));
}

/**
 * Runs anti-entropy now: with ?peer=<id>, one exchange with that member; without, one with
 * every reachable member this node shares arcs with, one after another. Answers the reports.
 * GET lists those partners (ringkv repair asks them one by one).
 */
function antiEntropyRoutes(app: Hono, deps: AdminDeps): void {
  app.post('/admin/anti-entropy', async (c) => {
    const peer = parseExchangePeer(c.req.query('peer'), deps.membership);
    const reports = [];
    for (const id of peer === undefined ? deps.antiEntropy.partners() : [peer]) reports.push(await deps.antiEntropy.exchange(id));
    return c.json({ exchanges: reports });
  });
  app.get('/admin/anti-entropy', (c) => c.json({ partners: deps.antiEntropy.partners() }));
}

/** The ring's ownership, a key's preference list, and this node's own replica of a key. */
function ringRoutes(app: Hono, deps: AdminDeps): void {
  const describe = (id: string) => {
    const member = deps.membership.member(id);
    return { id, address: member?.address ?? null, status: member?.status ?? 'dead', zone: member?.zone ?? null };
  };

  app.get('/admin/ring', (c) => {
    const ring = deps.ring();
    const shares = ownershipShares(ring);
    const replicas = replicaShares(ring, deps.n);
    // zone is the one the ring was built with (what placement used), null for none.
    // share: of the key space as primary owner; replicaShare: of the keys it holds a copy of.
    return c.json({
      n: deps.n,
      tokensPerNode: ring.tokensPerNode,
      zones: [...new Set(ring.zones)].filter((zone) => zone !== '').sort(),
      nodes: ring.nodes.map((id, i) => ({
        ...describe(id),
        zone: ring.zones[i] === '' ? null : ring.zones[i]!,
        tokens: ring.tokensPlaced,
        share: shares.get(id) ?? 0,
        replicaShare: replicas.get(id) ?? 0,
      })),
    });
  });

  app.get('/admin/preflist/*', (c) => {
    const key = parseKey(c.req.url, '/admin/preflist/', deps.keyBytesMax);
    const ring = deps.ring();
    return c.json({
      key,
      preferenceList: preferenceList(ring, key, deps.n).map(describe),
      fallbacks: fallbacks(ring, key, deps.n).map(describe),
    });
  });

  app.get('/admin/local/*', (c) => {
    const key = parseKey(c.req.url, '/admin/local/', deps.keyBytesMax);
    const stored = deps.store.get(key);
    if (stored === undefined) throw new KvError('KV_ERR_NOT_FOUND', 'this node holds nothing for the key', { key });
    const object = visibleAt(stored, deps.nowMs()); // an expired value shows as deleted, as reads see it
    return c.json({ key, ...siblingsBody(object, deps.encodeContext(object, key)) });
  });
}
