// GET /kv/{key}?changed_since= on a fully wired in-memory node (docs/watch.md): woken by a
// local write, 304 at the timeout, the bound on parked watches, a disconnect frees its slot at
// once, bad contexts are the context header's 400, a context from the future just waits, a
// store without the commit hook is still seen by the poll, and client tokens need the read grant.
import t, { type Test } from 'tap';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createAdaptorServer } from '@hono/node-server';
import { CONTEXT_HEADER } from '@ringkv/protocol';
import { testConfig, validateConfig, type NodeConfig } from '../config.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { Store } from '../storage/store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { assemble } from '../node.js';
import { Keyring } from '../security/keyring.js';
import { CONTEXT_ENTRIES_MAX, decodeContext, encodeContext } from '../core/context-codec.js';
import { tokenDigest } from '../access/bearer.js';
import { parseAuthFile } from '../access/client-tokens.js';

const ADMIN = 'unit-admin-token-0123456789';

/** One node (N = 1) on the twins; the poll is slow unless a test asks otherwise, so a quick answer is the commit hook's. */
function node(overrides: Partial<NodeConfig> = {}, store: Store = new MemoryStore({ nowMs: Date.now })) {
  const config = validateConfig({ watchPollIntervalMs: 60_000, ...overrides }, testConfig);
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const parts = assemble(config, 'http://node.test', { transport }, pino({ level: 'silent' }), Date.now, store);
  const put = async (key: string, value: string, context?: string) => {
    const res = await parts.app.request(`/kv/${key}`, { method: 'PUT', body: value, headers: context === undefined ? {} : { [CONTEXT_HEADER]: context } });
    if (res.status !== 204) throw new Error(`PUT ${key}: ${res.status}`);
  };
  const contextOf = async (key: string) => (await parts.app.request(`/kv/${key}`)).headers.get(CONTEXT_HEADER)!;
  return { ...parts, config, put, contextOf };
}

/** Waits for `check` with a deadline (no sleeps as synchronisation). */
async function until(check: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Parks a watch of `k` from `seen`, writes v2 over `seen`, and checks the watch answered it. */
async function writeWhileParked(t: Test, n: ReturnType<typeof node>, seen: string): Promise<Response> {
  const watching = n.app.request(`/kv/k?changed_since=${seen}&timeout_ms=20000`);
  await until(() => n.watch.parked === 1, 5_000, 'the watch to park');
  await n.put('k', 'v2', seen);
  const res = await watching;
  t.equal(res.status, 200);
  t.equal(await res.clone().text(), 'v2');
  return res;
}

t.test('a parked watch is woken by a local write and answers the new state', async (t) => {
  const n = node();
  await n.put('k', 'v1');
  const seen = await n.contextOf('k');
  const started = Date.now();
  const res = await writeWhileParked(t, n, seen);
  t.not(res.headers.get(CONTEXT_HEADER), seen, 'a new context');
  t.ok(Date.now() - started < 10_000, 'answered by the commit, not the 60 s poll or the timeout');
  t.equal(n.watch.parked, 0, 'its slot is free');
});

t.test('a watch without a context answers at once when the key exists; a deletion answers 404 with its context', async (t) => {
  const n = node();
  await n.put('k', 'v1');
  const first = await n.app.request('/kv/k?changed_since=&timeout_ms=20000');
  t.equal(first.status, 200);
  t.equal(await first.text(), 'v1');
  const seen = first.headers.get(CONTEXT_HEADER)!;
  const watching = n.app.request(`/kv/k?changed_since=${seen}&timeout_ms=20000`);
  await until(() => n.watch.parked === 1, 5_000, 'the watch to park');
  const del = await n.app.request('/kv/k', { method: 'DELETE', headers: { [CONTEXT_HEADER]: seen } });
  t.equal(del.status, 204);
  const res = await watching;
  t.equal(res.status, 404);
  t.equal(((await res.json()) as { error: { code: string; deleted: boolean } }).error.deleted, true);
  t.ok(res.headers.get(CONTEXT_HEADER), 'the tombstone\'s context');
});

t.test('304 Not Modified at the timeout, with no body and the same context', async (t) => {
  const n = node();
  await n.put('k', 'v1');
  const seen = await n.contextOf('k');
  const res = await n.app.request(`/kv/k?changed_since=${seen}&timeout_ms=150`);
  t.equal(res.status, 304);
  t.equal(res.headers.get(CONTEXT_HEADER), seen);
  t.equal(await res.text(), '');
  const missing = await n.app.request('/kv/nothing?changed_since=&timeout_ms=100');
  t.equal(missing.status, 304, 'a key that does not exist has not changed since nothing');
  t.equal(n.watch.parked, 0);
});

t.test('past watchersMax a watch is a coded 503; an aborted watch frees its slot at once', async (t) => {
  const n = node({ watchersMax: 2 });
  const aborts = [new AbortController(), new AbortController()];
  const parked = aborts.map((a) => n.app.request('/kv/k?changed_since=&timeout_ms=60000', { signal: a.signal }));
  await until(() => n.watch.parked === 2, 5_000, 'two watches to park');
  const refused = await n.app.request('/kv/other?changed_since=&timeout_ms=60000');
  t.equal(refused.status, 503);
  const body = (await refused.json()) as { error: { code: string; limit: number } };
  t.equal(body.error.code, 'KV_ERR_TOO_MANY_WATCHERS');
  t.equal(body.error.limit, 2);
  aborts[0]!.abort();
  t.equal(n.watch.parked, 1, 'the slot is free in the same turn');
  const third = new AbortController();
  const again = n.app.request('/kv/other?changed_since=&timeout_ms=60000', { signal: third.signal });
  await until(() => n.watch.parked === 2, 5_000, 'a new watch to take the freed slot');
  aborts[1]!.abort();
  third.abort();
  await Promise.allSettled([...parked, again]);
  t.equal(n.watch.parked, 0);
});

t.test('a client that disconnects frees its slot at once (a real socket)', async (t) => {
  const n = node({ watchersMax: 1 });
  const server = createAdaptorServer({ fetch: n.app.fetch });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const req = httpRequest({ host: '127.0.0.1', port, path: '/kv/k?changed_since=&timeout_ms=60000' });
  req.on('error', () => {});
  req.end();
  await until(() => n.watch.parked === 1, 10_000, 'the watch to park');
  req.destroy();
  await until(() => n.watch.parked === 0, 10_000, 'the slot to be freed by the disconnect');
  const res = await n.app.request('/kv/k?changed_since=&timeout_ms=50');
  t.equal(res.status, 304, 'the freed slot serves the next watch');
});

t.test('bad options and contexts are the coded 400s of GET; a context from the future waits', async (t) => {
  const n = node();
  await n.put('k', 'v1');
  await n.put('j', 'v1');
  const seen = await n.contextOf('k');
  const forged = seen.slice(0, -2) + (seen.endsWith('AA') ? 'AB' : 'AA');
  const cases: Array<[path: string, code: string]> = [
    [`/kv/k?changed_since=${forged}`, 'KV_ERR_BAD_CONTEXT'],
    ['/kv/k?changed_since=not*base64', 'KV_ERR_BAD_CONTEXT'],
    [`/kv/j?changed_since=${seen}`, 'KV_ERR_BAD_CONTEXT'],
    [`/kv/k?changed_since=${seen}&timeout_ms=0`, 'KV_ERR_BAD_TIMEOUT'],
    [`/kv/k?changed_since=${seen}&timeout_ms=300001`, 'KV_ERR_BAD_TIMEOUT'],
    [`/kv/k?changed_since=${seen}&r=9`, 'KV_ERR_BAD_QUORUM'],
  ];
  for (const [path, code] of cases) {
    const res = await n.app.request(path);
    t.equal(res.status, 400, path);
    t.equal(((await res.json()) as { error: { code: string } }).error.code, code, path);
  }
  t.equal(n.watch.parked, 0, 'nothing was parked');
  // A context signed by this cluster for k that has seen a write no replica holds yet.
  const codec = { tagKeys: new Keyring([n.config.secret]).contextKeys, entriesMax: CONTEXT_ENTRIES_MAX };
  const future = encodeContext(decodeContext(seen, 'k', codec).map(({ id, counter }) => ({ id, counter: counter + 5 })), 'k', codec);
  const res = await n.app.request(`/kv/k?changed_since=${future}&timeout_ms=150`);
  t.equal(res.status, 304, 'a context that covers more than exists is not a change');
});

t.test('without the commit hook the poll still sees a change', async (t) => {
  const inner = new MemoryStore({ nowMs: Date.now });
  // The same store with its onCommit hidden: watches must rely on their poll.
  const store = new Proxy(inner, { get: (target, name) => (name === 'onCommit' ? undefined : Reflect.get(target, name, target)) }) as Store;
  const n = node({ watchPollIntervalMs: 50 }, store);
  await n.put('k', 'v1');
  const seen = await n.contextOf('k');
  const res = await writeWhileParked(t, n, seen);
});

t.test('client tokens apply to a watch as to a GET: the read grant', async (t) => {
  const tokens = parseAuthFile(JSON.stringify({
    tokens: [{ name: 'app', sha256: tokenDigest('app-token').toString('hex'), grants: [{ prefix: 'pub/', ops: ['read'] }, { prefix: 'w/', ops: ['write'] }] }],
  }));
  const config = validateConfig({ adminToken: ADMIN, watchPollIntervalMs: 60_000 }, testConfig);
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const access = { adminToken: ADMIN, clientTokens: () => tokens, peerCertificateRequired: false };
  const { app, watch } = assemble(config, 'http://node.test', { transport, access }, pino({ level: 'silent' }), Date.now, new MemoryStore({ nowMs: Date.now }));
  const cases: Array<[path: string, token: string | undefined, status: number]> = [
    ['/kv/pub%2Fa?changed_since=&timeout_ms=50', undefined, 401],
    ['/kv/pub%2Fa?changed_since=&timeout_ms=50', 'app-token', 304],
    ['/kv/w%2Fa?changed_since=&timeout_ms=50', 'app-token', 403],
    ['/kv/other?changed_since=&timeout_ms=50', 'app-token', 403],
  ];
  for (const [path, token, status] of cases) {
    const res = await app.request(path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    t.equal(res.status, status, `${path} with ${token ?? 'no token'} → ${status}`);
  }
  t.equal(watch.parked, 0, 'no refused watch was parked');
});
