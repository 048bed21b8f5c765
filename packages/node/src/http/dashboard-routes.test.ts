// The dashboard routes (dashboard-routes.ts, docs/dashboard.md) over a fully wired in-memory
// ring: the page is served with its CSP, /admin/dashboard shows members, ring and replica
// health, the fan-out and the key inspector reach peers only through `peers` (here: the other
// nodes' apps), bad keys and unknown node ids get coded errors, the inspector needs the admin token.
import t from 'tap';
import { Hono } from 'hono';
import { pino } from 'pino';
import { testConfig, validateConfig } from '../config.js';
import { assemble } from '../node.js';
import { MemoryStore } from '../storage/memory-store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { tokenDigest } from '../access/bearer.js';
import { parseAuthFile, type TokenTable } from '../access/client-tokens.js';
import { KvError } from '../errors.js';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';
import { ExchangeLog } from '../dashboard/exchange-log.js';
import { RequestWindow } from '../dashboard/request-window.js';
import type { PeerAnswer } from '../dashboard/peer-fetch.js';
import { dashboardRoutes, type DashboardDeps } from './dashboard-routes.js';

const ADMIN = 'the-admin-token';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field
type Json = any;
const json = async (answer: Response | Promise<Response>): Promise<Json> => (await answer).json();

function dashboardOf(nodes: ClusterNode[], options: { admin?: boolean; down?: Set<string> } = {}) {
  const [self] = nodes;
  const asked: string[] = [];
  const clock = { ms: 1_000_000 };
  const requests = new RequestWindow({ slotMs: 1_000, slots: 60, nowMs: () => clock.ms });
  const exchanges = new ExchangeLog();
  const peers = {
    async get(address: string, path: string, authorization: string | undefined): Promise<PeerAnswer> {
      asked.push(`${address}${path}`);
      const peer = nodes.find((node) => node.address === address);
      if (peer === undefined || options.down?.has(peer.id)) return { status: 0, error: 'no answer (ECONNREFUSED)' };
      if (path === '/admin/dashboard/self') return { status: 200, json: { nodeId: peer.id, nowMs: clock.ms } };
      const answer = await peer.app.request(path, { headers: authorization === undefined ? {} : { authorization } });
      return { status: answer.status, json: await answer.json() };
    },
  };
  const deps: DashboardDeps = {
    figures: {
      selfId: self!.id,
      n: 3,
      membership: self!.membership,
      ring: () => self!.coordinator.ring(),
      nowMs: () => clock.ms,
      startedMs: clock.ms - 5_000,
      keyCount: () => self!.store.keyCount(),
      hintOwners: () => [{ owner: 'node3', count: 7, bytes: 700 }],
      transfers: () => self!.transfer.status(),
      exchangeRunning: () => undefined,
      requests,
      requestSlotMs: 1_000,
      exchanges,
    },
    keyBytesMax: 1_024,
    store: self!.store,
    encodeContext: () => 'ctx',
    peers,
    ...(options.admin ? { isAdmin: (authorization: string | undefined) => authorization === `Bearer ${ADMIN}` } : {}),
  };
  const app = new Hono();
  dashboardRoutes(app, deps);
  app.onError((error, c) => (error instanceof KvError ? c.json(error.toBody(), error.status as 400) : c.json({ unexpected: String(error) }, 500)));
  return { app, asked, clock, requests, exchanges };
}

t.test('the page: HTML, script and stylesheet, with a CSP that allows only its own origin', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const { app } = dashboardOf(nodes);
  const page = await app.request('/ui');
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  t.match(await page.text(), /<script src="\/ui\/dashboard.js" defer>/);
  const script = await app.request('/ui/dashboard.js');
  t.match(script.headers.get('content-type'), /^text\/javascript/);
  t.match(await script.text(), /\/admin\/dashboard\/nodes/);
  t.match((await app.request('/ui/dashboard.css')).headers.get('content-type'), /^text\/css/);
});

t.test('/admin/dashboard: members, ring arcs by owner, replica health as members die', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const { app, requests, exchanges } = dashboardOf(nodes);
  requests.record('get', 200, 0.003);
  exchanges.record({ peer: 'node2', startedMs: 999_000, durationMs: 10, sharedRanges: 1, setsCompared: 1, keysCompared: 4, keysIn: 2, keysOut: 1, keysFailed: 0, bytes: 100 });
  let body = await json(app.request('/admin/dashboard'));
  t.same(body.members.map((m: { id: string; status: string }) => [m.id, m.status]), [['node1', 'alive'], ['node2', 'alive'], ['node3', 'alive']]);
  t.equal(body.ring.nodes.length, 3);
  t.ok(body.ring.segments.length >= 3, 'the ring is drawn arc by arc');
  t.equal(body.ring.segments[0][0], 0, 'the first arc starts at the top of the ring');
  const shares = body.ring.nodes.reduce((sum: number, node: { share: number }) => sum + node.share, 0);
  t.ok(Math.abs(shares - 1) < 1e-9, 'primary shares sum to the whole ring');
  t.same(body.health.share, { all: 1, quorum: 0, fewer: 0 });
  t.same(body.health.ranges, []);
  t.equal(body.self.requests.totals.requests, 1);
  t.same(body.self.hints.owners, [{ owner: 'node3', count: 7, bytes: 700 }]);
  t.match(body.self.antiEntropy.peers, [{ peer: 'node2', exchanges: 1, lastKeysIn: 2, lastKeysOut: 1, keysInTotal: 2, keysOutTotal: 1, lastError: null }]);

  nodes[0]!.membership.setStatus('node3', 'dead');
  body = await json(app.request('/admin/dashboard'));
  t.equal(body.members.find((m: { id: string }) => m.id === 'node3').status, 'dead');
  t.equal(body.ring.nodes.find((m: { id: string }) => m.id === 'node3').status, 'dead');
  t.same(body.health.share, { all: 0, quorum: 1, fewer: 0 }, 'N=3 on 3 nodes: every range lost one replica, keeps a quorum');
  t.ok(body.health.ranges.length > 0 && body.health.ranges.every((r: { alive: number; owners: string[] }) => r.alive === 2 && r.owners.includes('node3')));
  t.equal(body.health.ranges.length, Math.min(200, body.health.arcs.quorum), 'ranges listed are bounded');
  t.equal(body.health.truncated, body.health.arcs.quorum > 200, 'and say when they were cut');
  t.same(body.health.bands, [{ start: 0, end: 1, belowQuorum: false }], 'drawn as one band: the whole ring is short of one replica');
  t.match(body.health.groups, [{ down: ['node3'], arcs: body.health.arcs.quorum, alive: 2 }]);
  t.ok(Math.abs(body.health.groups[0].share - 1) < 1e-9, 'the group covers the whole key space');
  nodes[0]!.membership.setStatus('node2', 'suspect');
  body = await json(app.request('/admin/dashboard'));
  t.same(body.health.share, { all: 0, quorum: 1, fewer: 0 }, 'a suspect member still counts: it is still asked');
  nodes[0]!.membership.setStatus('node2', 'dead');
  body = await json(app.request('/admin/dashboard'));
  t.same(body.health.share, { all: 0, quorum: 0, fewer: 1 });
  t.same(body.health.bands, [{ start: 0, end: 1, belowQuorum: true }]);
  t.match(body.health.groups, [{ down: ['node2', 'node3'], alive: 1 }]);
});

t.test('/admin/dashboard/nodes asks each reachable member, never a dead one; a bad node id is a 400', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const { app, asked, clock } = dashboardOf(nodes, { down: new Set(['node2']) });
  nodes[0]!.membership.setStatus('node3', 'dead');
  const body = await json(app.request('/admin/dashboard/nodes'));
  t.same(asked, ['http://node2.test/admin/dashboard/self'], 'only the live peer was asked, at its member address');
  t.equal(body.nodes[0].figures.nodeId, 'node1', 'this node answers from its own figures');
  t.match(body.nodes[1], { id: 'node2', status: 'alive', error: /no answer/ });
  t.match(body.nodes[2], { id: 'node3', status: 'dead', error: 'not asked: the member is dead' });
  await app.request('/admin/dashboard/nodes');
  t.equal(asked.length, 1, 'a second call within a second reuses the answer');
  clock.ms += 1_000;
  await app.request('/admin/dashboard/nodes');
  t.equal(asked.length, 2, 'and asks again once it is a second old');
  await app.request('/admin/dashboard/nodes', { headers: { authorization: 'Bearer other' } });
  t.equal(asked.length, 3, 'another caller\'s token is never answered from the reuse');

  const bad = await app.request('/admin/dashboard/nodes?node=nosuch');
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { code: 'KV_ERR_BAD_REQUEST', node: 'nosuch' } });
  const one = await json(app.request('/admin/dashboard/nodes?node=node1'));
  t.equal(one.nodes.length, 1);
});

t.test('a peer answering as another node is not believed', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const { app } = dashboardOf([nodes[0]!, { ...nodes[1]!, id: 'impostor' } as ClusterNode, nodes[2]!]);
  const body = await json(app.request('/admin/dashboard/nodes?node=node2'));
  t.match(body.nodes[0], { id: 'node2', error: 'the address answered as impostor' });
});

t.test('key inspector: preference list and every replica\'s siblings; admin token; bad keys', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const put = await nodes[0]!.app.request('/kv/user%2F42?w=3', { method: 'PUT', body: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(put.status, 204);
  const { app, asked } = dashboardOf(nodes, { admin: true });
  const auth = { authorization: `Bearer ${ADMIN}` };

  const refused = await app.request('/admin/dashboard/key/user%2F42');
  t.equal(refused.status, 401);
  t.match(await refused.json(), { error: { code: 'KV_ERR_UNAUTHORIZED' } });
  t.equal((await app.request('/admin/dashboard/key/user%2F42', { headers: { authorization: 'Bearer wrong' } })).status, 401);
  t.same(asked, [], 'nothing was asked of any peer without the token');

  const body = await json(app.request('/admin/dashboard/key/user%2F42', { headers: auth }));
  t.equal(body.key, 'user/42');
  t.same(body.preferenceList.map((m: { id: string }) => m.id).sort(), ['node1', 'node2', 'node3']);
  t.equal(body.replicas.length, 3);
  for (const replica of body.replicas) {
    t.equal(replica.found, true, `${replica.id} holds the key`);
    t.equal(replica.stored.value ?? replica.stored.siblings?.[0]?.value, Buffer.from('hello').toString('base64'));
  }
  t.ok(asked.every((url) => url.endsWith('/admin/local/user%2F42')), 'peers are asked for /admin/local with the key encoded');

  const missing = await json(app.request('/admin/dashboard/key/nothing-here', { headers: auth }));
  t.ok(missing.replicas.every((r: { found: boolean }) => r.found === false), 'a key nobody holds: found false everywhere, not an error');

  nodes[0]!.membership.setStatus('node2', 'dead');
  const withDead = await json(app.request('/admin/dashboard/key/user%2F42', { headers: auth }));
  t.match(withDead.replicas.find((r: { id: string }) => r.id === 'node2'), { found: null, error: 'not asked: the member is dead' });

  for (const [path, reason] of [['/admin/dashboard/key/%E0%A4%A', 'encoding'], [`/admin/dashboard/key/${'k'.repeat(1_025)}`, 'too-long']] as const) {
    const answer = await app.request(path, { headers: auth });
    t.equal(answer.status, 400, `${reason}: 400`);
    t.match(await answer.json(), { error: { code: 'KV_ERR_BAD_KEY', reason } });
  }
  const empty = await app.request('/admin/dashboard/key/', { headers: auth });
  t.equal(empty.status, 400);
});

t.test('through the node\'s own app: routes are registered, a wrong method is a 405', async (t) => {
  const { nodes } = memoryCluster({ nodes: 1, config: { n: 1 } });
  const app = nodes[0]!.app;
  t.equal((await app.request('/ui')).status, 200);
  const body = await json(app.request('/admin/dashboard'));
  t.equal(body.nodeId, 'node1');
  const self = await json(app.request('/admin/dashboard/self'));
  t.equal(self.nodeId, 'node1');
  await app.request('/kv/a', { method: 'PUT', body: 'x' });
  const after = await json(app.request('/admin/dashboard/self'));
  t.equal(after.requests.totals.requests, 1, 'a /kv request is counted in the window');
  t.same(after.requests.totals.byOp, { put: 1 });
  const post = await app.request('/admin/dashboard', { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET');
  t.equal((await app.request('/admin/dashboard/nope')).status, 404);
});

t.test('access through a fully wired node: page open, JSON as read-only admin routes, inspector admin-only', async (t) => {
  const admin = 'unit-admin-token-0123456789';
  const client = 'a-client-token';
  const makeApp = (tokens: TokenTable | undefined) => {
    const config = validateConfig({ adminToken: admin, n: 1 }, testConfig);
    const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
    const access = { adminToken: admin, clientTokens: () => tokens, peerCertificateRequired: false };
    return assemble(config, 'http://node.test', { transport, access }, pino({ level: 'silent' }), () => 1_000, new MemoryStore({ nowMs: Date.now })).app;
  };
  const as = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

  const open = makeApp(undefined);
  t.equal((await open.request('/ui')).status, 200);
  t.equal((await open.request('/admin/dashboard')).status, 200, 'read-only: open without --auth-file');
  t.equal((await open.request('/admin/dashboard/nodes')).status, 200);
  t.equal((await open.request('/admin/dashboard/key/k')).status, 401, 'the inspector needs the admin token even so');
  t.equal((await open.request('/admin/dashboard/key/k', as('guess'))).status, 401);
  const inspected = await open.request('/admin/dashboard/key/k', as(admin));
  t.equal(inspected.status, 200);
  t.match(await inspected.json(), { key: 'k', replicas: [{ id: 'node1', found: false }] });

  const tokens = parseAuthFile(JSON.stringify({ tokens: [{ name: 'app', sha256: tokenDigest(client).toString('hex'), grants: [{ prefix: '', ops: ['read'] }] }] }));
  const guarded = makeApp(tokens);
  t.equal((await guarded.request('/ui')).status, 200, 'the page holds no data: open');
  for (const path of ['/admin/dashboard', '/admin/dashboard/self', '/admin/dashboard/nodes']) {
    t.equal((await guarded.request(path)).status, 401, `${path}: 401 without a token under --auth-file`);
    t.equal((await guarded.request(path, as(client))).status, 200, `${path}: a client token will do`);
    t.equal((await guarded.request(path, as(admin))).status, 200, `${path}: so will the admin token`);
  }
  t.equal((await guarded.request('/admin/dashboard/key/k', as(client))).status, 401, 'a client token cannot inspect stored values');
  t.equal((await guarded.request('/admin/dashboard/key/k', as(admin))).status, 200);
});
