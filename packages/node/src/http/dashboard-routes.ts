/**
 * The ring dashboard (docs/dashboard.md): GET /ui serves the page (static, no data, open);
 * the page polls these read-only admin routes, which the access checks guard like every other
 * read-only /admin/ route (http/access.ts):
 *
 * - GET /admin/dashboard: members, the ring's ownership, replica health, this node's figures.
 * - GET /admin/dashboard/self: this node's own figures only (what peers are asked for).
 * - GET /admin/dashboard/nodes[?node=ID]: every member's figures, asked of each member by this
 *   node (dashboard/peer-fetch.ts: members only, bounded, timed out).
 * - GET /admin/dashboard/key/{key}: the key inspector, the key's preference list and each
 *   replica's stored siblings; it needs the admin token, as /admin/local/{key} does.
 */
import type { Context, Hono } from 'hono';
import { preferenceList, fallbacks } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { visibleAt, type VersionedObject } from '../core/versioned.js';
import { isReachableStatus } from '../membership/membership.js';
import type { Store } from '../storage/store.js';
import { dashboardBody, nodeFigures, type FiguresDeps, type NodeFigures } from '../dashboard/figures.js';
import type { PeerAnswer, PeerFetch } from '../dashboard/peer-fetch.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from '../dashboard/page.js';
import { headerOf, parseDashboardNode, parseKey } from './parse.js';
import { siblingsBody } from './render.js';

/** Members whose figures one /admin/dashboard/nodes call asks for (sorted by id). */
export const NODES_MAX = 64;
/** A fan-out answer is reused this long, so that many open pages cost the ring one fan-out. */
export const NODES_REUSE_MS = 1_000;
/** Fallbacks listed by the key inspector. */
const FALLBACKS_SHOWN = 3;

export interface DashboardDeps {
  readonly figures: FiguresDeps;
  readonly keyBytesMax: number;
  readonly store: Store;
  readonly encodeContext: (object: VersionedObject, key: string) => string;
  readonly peers: Pick<PeerFetch, 'get'>;
  /** Whether an Authorization header carries the admin token; absent, every caller is (in-process tests). */
  readonly isAdmin?: (authorization: string | undefined) => boolean;
}

export interface NodeEntry {
  readonly id: string;
  readonly status: string;
  readonly figures?: NodeFigures;
  /** Why there are no figures: the member is down, or did not answer, or refused. */
  readonly error?: string;
}

const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The page runs only its own script and talks only to its own origin.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function refusal(answer: PeerAnswer): string {
  if (answer.status === 0) return answer.error ?? 'no answer';
  const code = (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
  return `HTTP ${answer.status}${code ? ` ${code}` : ''}`;
}

export function dashboardRoutes(app: Hono, deps: DashboardDeps): void {
  const { membership } = deps.figures;
  const page = (body: string, type: string) => (c: Context) => c.body(body, 200, { ...PAGE_HEADERS, 'content-type': type });
  app.get('/ui', page(DASHBOARD_HTML, 'text/html; charset=utf-8'));
  app.get('/ui/dashboard.js', page(DASHBOARD_JS, 'text/javascript; charset=utf-8'));
  app.get('/ui/dashboard.css', page(DASHBOARD_CSS, 'text/css; charset=utf-8'));

  app.get('/admin/dashboard', (c) => c.json(dashboardBody(deps.figures)));
  app.get('/admin/dashboard/self', (c) => c.json(nodeFigures(deps.figures)));

  const entryOf = async (id: string, authorization: string | undefined): Promise<NodeEntry> => {
    const member = membership.member(id);
    const status = member?.status ?? 'dead';
    if (id === membership.selfId) return { id, status, figures: nodeFigures(deps.figures) };
    if (member === undefined || !isReachableStatus(status)) return { id, status, error: `not asked: the member is ${status}` };
    const answer = await deps.peers.get(member.address, '/admin/dashboard/self', authorization);
    const figures = answer.json as NodeFigures | undefined;
    if (answer.status !== 200 || typeof figures?.nodeId !== 'string') return { id, status, error: refusal(answer) };
    if (figures.nodeId !== id) return { id, status, error: `the address answered as ${figures.nodeId}` };
    return { id, status, figures };
  };

  // Reused only for the same Authorization: peers may grant different callers differently.
  let reused: { atMs: number; authorization: string | undefined; answer: Promise<{ nodes: NodeEntry[]; truncated: boolean }> } | undefined;
  const everyNode = (authorization: string | undefined) => {
    const now = deps.figures.nowMs();
    if (reused === undefined || reused.authorization !== authorization || now - reused.atMs >= NODES_REUSE_MS || now < reused.atMs) {
      const ids = membership.members().map((m) => m.id).sort();
      reused = { atMs: now, authorization, answer: Promise.all(ids.slice(0, NODES_MAX).map((id) => entryOf(id, authorization))).then((nodes) => ({ nodes, truncated: ids.length > NODES_MAX })) };
    }
    return reused.answer;
  };

  app.get('/admin/dashboard/nodes', async (c) => {
    const authorization = headerOf(c, 'authorization');
    const node = parseDashboardNode(c.req.query('node'), membership);
    if (node === undefined) return c.json(await everyNode(authorization));
    return c.json({ nodes: [await entryOf(node, authorization)], truncated: false });
  });

  app.get('/admin/dashboard/key/*', async (c) => {
    const authorization = headerOf(c, 'authorization');
    if (deps.isAdmin !== undefined && !deps.isAdmin(authorization)) {
      throw new KvError('KV_ERR_UNAUTHORIZED', 'the key inspector needs the admin token (Authorization: Bearer <admin token>), as /admin/local/{key} does');
    }
    const key = parseKey(c.req.url, '/admin/dashboard/key/', deps.keyBytesMax);
    const ring = deps.figures.ring();
    const n = deps.figures.n;
    const describe = (id: string) => {
      const member = membership.member(id);
      return { id, address: member?.address ?? null, status: member?.status ?? 'dead' };
    };
    const replicaOf = (id: string) => storedOn(deps, id, key, authorization);
    const owners = preferenceList(ring, key, n);
    return c.json({
      key,
      preferenceList: owners.map(describe),
      fallbacks: fallbacks(ring, key, n, FALLBACKS_SHOWN).map(describe),
      replicas: await Promise.all(owners.map(replicaOf)),
    });
  });
}

/** What replica `id` stores for `key`: read here for this node, asked of a reachable peer. */
async function storedOn(deps: DashboardDeps, id: string, key: string, authorization: string | undefined) {
  const { membership } = deps.figures;
  const member = membership.member(id);
  const status = member?.status ?? 'dead';
  if (id === membership.selfId) {
    const stored = deps.store.get(key);
    if (stored === undefined) return { id, status, found: false };
    const object = visibleAt(stored, deps.figures.nowMs()); // as /admin/local shows it
    return { id, status, found: true, stored: siblingsBody(object, deps.encodeContext(object, key)) };
  }
  if (member === undefined || !isReachableStatus(status)) return { id, status, found: null, error: `not asked: the member is ${status}` };
  const answer = await deps.peers.get(member.address, `/admin/local/${encodeURIComponent(key)}`, authorization);
  if (answer.status === 200) return { id, status, found: true, stored: answer.json };
  const code = (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
  if (answer.status === 404 && code === 'KV_ERR_NOT_FOUND') return { id, status, found: false };
  return { id, status, found: null, error: refusal(answer) };
}
