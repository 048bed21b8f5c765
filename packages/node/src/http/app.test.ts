// The HTTP contract of one node, driven through app.request() (no socket) over the real
// versioning core and the in-memory store twin. Real-socket tests live in test/integration.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { CONTEXT_HEADER } from '@ringkv/protocol';
import { validateConfig, testConfig, type NodeConfig } from '../config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { assemble } from '../node.js';
import { KvError } from '../errors.js';
import type { Store } from '../storage/store.js';
import { allowTable } from './app.js';

function makeApp(overrides: Partial<NodeConfig> = {}, storeOverride?: Store) {
  const config = validateConfig(overrides, testConfig);
  const store = storeOverride ?? new MemoryStore({ nowMs: Date.now });
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const { app, stop } = assemble(config, 'http://node.test', { transport }, pino({ level: 'silent' }), () => 1_000, store);
  const put = (key: string, value: string, context?: string, query = '') =>
    app.request(`/kv/${key}${query}`, { method: 'PUT', body: value, headers: { 'content-type': 'text/plain', ...(context ? { [CONTEXT_HEADER]: context } : {}) } });
  const del = (key: string, context?: string) => app.request(`/kv/${key}`, { method: 'DELETE', headers: context ? { [CONTEXT_HEADER]: context } : {} });
  const get = (key: string, query = '') => app.request(`/kv/${key}${query}`);
  return { app, store, put, del, get, stop };
}

async function siblingValues(res: Response): Promise<string[]> {
  const body = (await res.json()) as { siblings: Array<{ value?: string; deleted?: boolean }> };
  return body.siblings.map((s) => (s.deleted ? '<deleted>' : Buffer.from(s.value!, 'base64').toString())).sort();
}

async function expectError(t: Test, res: Response, status: number, code: string) {
  t.equal(res.status, status, `status ${status}`);
  t.match(res.headers.get('content-type'), /application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, code);
  t.type(body.error.message, 'string');
  return body.error;
}

t.test('two writers without context make a 300; the 300 context collapses them', async (t) => {
  const { put, get } = makeApp();
  t.equal((await put('k', 'a')).status, 204);
  t.equal((await put('k', 'b')).status, 204);
  const res = await get('k');
  t.equal(res.status, 300);
  const context = res.headers.get(CONTEXT_HEADER)!;
  t.ok(context);
  t.same(await siblingValues(res), ['a', 'b']);
  t.equal((await put('k', 'merged', context)).status, 204);
  const after = await get('k');
  t.equal(after.status, 200);
  t.equal(await after.text(), 'merged');
  t.equal(after.headers.get('content-type'), 'text/plain');
});

t.test('a stale context never overwrites a newer value it did not see', async (t) => {
  const { put, get } = makeApp();
  await put('k', 'v1');
  const stale = (await get('k')).headers.get(CONTEXT_HEADER)!;
  await put('k', 'v2', stale);
  t.equal(await (await get('k')).text(), 'v2');
  await put('k', 'late', stale);
  const res = await get('k');
  t.equal(res.status, 300);
  t.same(await siblingValues(res), ['late', 'v2']);
});

t.test('delete with context gives 404 with a context; a put with it revives cleanly', async (t) => {
  const { put, get, del } = makeApp();
  await put('k', 'v1');
  const ctx = (await get('k')).headers.get(CONTEXT_HEADER)!;
  t.equal((await del('k', ctx)).status, 204);
  const gone = await get('k');
  const error = await expectError(t, gone, 404, 'KV_ERR_NOT_FOUND');
  t.equal((error as unknown as { deleted: boolean }).deleted, true);
  const tombstoneContext = gone.headers.get(CONTEXT_HEADER);
  t.ok(tombstoneContext, '404 of a deleted key carries a context');
  await put('k', 'back', tombstoneContext!);
  const res = await get('k');
  t.equal(res.status, 200, 'no tombstone sibling left');
  t.equal(await res.text(), 'back');
});

t.test('never-written key: 404 without a context', async (t) => {
  const { get } = makeApp();
  const res = await get('nothing');
  await expectError(t, res, 404, 'KV_ERR_NOT_FOUND');
  t.equal(res.headers.get(CONTEXT_HEADER), null);
});

t.test('a concurrent put and delete leave a sibling set with the tombstone', async (t) => {
  const { put, get, del } = makeApp();
  await put('k', 'x');
  const ctx = (await get('k')).headers.get(CONTEXT_HEADER)!;
  await put('k', 'y', ctx);
  await del('k', ctx);
  const res = await get('k');
  t.equal(res.status, 300);
  const body = (await res.clone().json()) as { siblings: unknown[] };
  t.ok(body.siblings.some((s) => JSON.stringify(s) === '{"deleted":true}'), 'tombstone shown as {"deleted": true}');
  t.same(await siblingValues(res), ['<deleted>', 'y']);
});

t.test('binary values and content types round-trip; encoded slashes stay in the key', async (t) => {
  const { app } = makeApp();
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const res = await app.request('/kv/dir%2Ffile%20%E2%9C%93', { method: 'PUT', body: bytes, headers: { 'content-type': 'application/x-thing' } });
  t.equal(res.status, 204);
  const got = await app.request('/kv/dir%2Ffile%20%E2%9C%93');
  t.equal(got.status, 200);
  t.equal(got.headers.get('content-type'), 'application/x-thing');
  t.same(new Uint8Array(await got.arrayBuffer()), bytes);
  const local = await app.request('/admin/local/dir%2Ffile%20%E2%9C%93');
  const body = (await local.json()) as { key: string; siblings: unknown[] };
  t.equal(body.key, 'dir/file ✓');
  t.equal(body.siblings.length, 1);
  t.equal((await app.request('/admin/local/absent')).status, 404);
});

t.test('bad input gets coded errors and changes nothing', async (t) => {
  const { app, put, get } = makeApp({ valueBytesMax: 1024 });
  await put('k', 'original');
  await expectError(t, await app.request('/kv/%ZZ'), 400, 'KV_ERR_BAD_KEY');
  await expectError(t, await app.request('/kv/%C3%28'), 400, 'KV_ERR_BAD_KEY'); // invalid UTF-8
  await expectError(t, await app.request('/kv/'), 400, 'KV_ERR_BAD_KEY');
  await expectError(t, await get('x'.repeat(1025)), 400, 'KV_ERR_BAD_KEY');
  t.equal((await put('y'.repeat(1024), 'ok')).status, 204, 'a 1024-byte key is accepted');
  await expectError(t, await get('%C3%A9'.repeat(513)), 400, 'KV_ERR_BAD_KEY'); // 1026 bytes in UTF-8
  for (const q of ['?r=0', '?r=2', '?r=abc', '?r=1.5', '?r=-1', '?r=']) await expectError(t, await get('k', q), 400, 'KV_ERR_BAD_QUORUM');
  for (const q of ['?w=0', '?w=2', '?w=x']) await expectError(t, await put('k', 'bad', undefined, q), 400, 'KV_ERR_BAD_QUORUM');
  for (const q of ['?timeout_ms=0', '?timeout_ms=99999999', '?timeout_ms=1e3']) await expectError(t, await get('k', q), 400, 'KV_ERR_BAD_TIMEOUT');
  for (const ctx of ['garbage', 'AAAA', '!!!', 'x'.repeat(100_000)]) await expectError(t, await put('k', 'bad', ctx), 400, 'KV_ERR_BAD_CONTEXT');
  await expectError(t, await put('k', 'x'.repeat(1025)), 413, 'KV_ERR_VALUE_TOO_LARGE');
  await expectError(t, await app.request('/kv/k', { method: 'PUT', body: 'v', headers: { 'content-type': 'x'.repeat(300) } }), 400, 'KV_ERR_BAD_REQUEST');
  const res = await get('k');
  t.equal(res.status, 200);
  t.equal(await res.text(), 'original', 'no bad request changed the key');
});

t.test('a context from another cluster is refused', async (t) => {
  const a = makeApp({ secret: 'cluster-a-secret' });
  const b = makeApp({ secret: 'cluster-b-secret' });
  await a.put('k', 'v');
  const ctx = (await a.get('k')).headers.get(CONTEXT_HEADER)!;
  await b.put('k', 'v');
  await expectError(t, await b.put('k', 'w', ctx), 400, 'KV_ERR_BAD_CONTEXT');
});

t.test('unknown routes are 404 and wrong methods 405 with Allow', async (t) => {
  const { app } = makeApp();
  await expectError(t, await app.request('/nope'), 404, 'KV_ERR_NO_ROUTE');
  const res = await app.request('/kv/x', { method: 'POST', body: 'v' });
  await expectError(t, res, 405, 'KV_ERR_METHOD_NOT_ALLOWED');
  t.equal(res.headers.get('allow'), 'GET, PUT, DELETE');
  const status = await app.request('/admin/status', { method: 'DELETE' });
  await expectError(t, status, 405, 'KV_ERR_METHOD_NOT_ALLOWED');
  t.equal(status.headers.get('allow'), 'GET');
});

t.test('Allow comes from the registered routes: every route answers a method it lacks with 405 and exactly its methods', async (t) => {
  t.same(allowTable([{ method: 'ALL', path: '*' }, { method: 'DELETE', path: '/kv/*' }, { method: 'GET', path: '/kv/*' }, { method: 'PUT', path: '/kv/*' }, { method: 'POST', path: '/a' }, { method: 'GET', path: '/a' }]), [
    ['/kv/', 'GET, PUT, DELETE'],
    ['/a', 'GET, POST'],
  ], 'middleware is not a route; methods in one order; a /* route covers its prefix');
  const { app } = makeApp();
  const table = allowTable(app.routes);
  t.ok(table.length >= 20, `${table.length} routes`);
  for (const [route, methods] of table) {
    const wrong = ['GET', 'PUT', 'POST', 'DELETE'].find((m) => !methods.split(', ').includes(m))!;
    const path = route.endsWith('/') ? `${route}some-key` : route;
    const res = await app.request(path, { method: wrong, ...(wrong === 'GET' ? {} : { body: 'x' }) });
    // Access checks may answer first (401 for admin-only or /internal/ routes without credentials).
    if (res.status === 401) continue;
    t.equal(res.status, 405, `${wrong} ${path}`);
    t.equal(res.headers.get('allow'), methods, `Allow of ${route}`);
  }
  const transfers = await app.request('/admin/transfers', { method: 'DELETE' });
  t.equal(transfers.status, 405, 'a route the old hand-kept table lacked');
  t.equal(transfers.headers.get('allow'), 'GET, POST');
});

t.test('more siblings than the limit is a 409 until resolved with the context', async (t) => {
  const { put, get } = makeApp({ siblingsMax: 2, clockEntriesMax: 4 });
  await put('k', 'a');
  await put('k', 'b');
  await expectError(t, await put('k', 'c'), 409, 'KV_ERR_TOO_MANY_SIBLINGS');
  const ctx = (await get('k')).headers.get(CONTEXT_HEADER)!;
  t.equal((await put('k', 'resolved', ctx)).status, 204);
  t.equal(await (await get('k')).text(), 'resolved');
});

t.test('quorums above the replicas that exist fail fast with needed and answered', async (t) => {
  const { get } = makeApp({ n: 3 });
  const error = await expectError(t, await get('k', '?r=2'), 503, 'KV_ERR_QUORUM_UNMET');
  t.match(error, { needed: 2, answered: 1 });
});

t.test('/admin/status reports the node', async (t) => {
  const { app } = makeApp({ nodeId: 'n7' });
  const body = (await (await app.request('/admin/status')).json()) as Record<string, unknown>;
  t.match(body, { nodeId: 'n7', pid: process.pid, ringSize: 1, n: 1, members: { alive: 1 } });
});

t.test('storage failures map to their codes; unexpected errors to 500 without details', async (t) => {
  const full: Store = {
    get: () => undefined,
    actorOf: () => undefined,
    syncNow: async () => {},
    committed: async () => true,
    put: () => Promise.reject(new KvError('KV_ERR_STORAGE_FULL', 'disk full')),
    merge: () => Promise.reject(new KvError('KV_ERR_STORAGE_FULL', 'disk full')),
    writeRefusal: () => undefined,
    keyCount: () => 0,
    summarize: () => ({ hash: new Uint8Array(16), count: 0 }),
    digests: () => [],
    removeIfUnchanged: () => 0,
    deadBefore: () => [],
    digestOf: () => undefined,
    stats: () => ({ commits: 0, writes: 0, failedCommits: 1 }),
    epoch: 'testepoc',
    hints: new MemoryStore({ nowMs: Date.now }).hints,
    close: async () => {},
    acceptorRecords: new MemoryStore({ nowMs: Date.now }).acceptorRecords,
    listKeys: () => ({ keys: [], through: null }),
  };
  // The coordinator's own commit fails (a one-node ring: nobody else can make the quorum): the
  // write fails with the disk's cause, and the round's counts.
  const fullError = await expectError(t, await makeApp({}, full).put('k', 'v'), 507, 'KV_ERR_STORAGE_FULL');
  t.match(fullError, { needed: 1, answered: 0 });
  const broken: Store = { ...full, get: () => { throw new Error('boom: secret internals'); } };
  const error = await expectError(t, await makeApp({}, broken).get('k'), 503, 'KV_ERR_QUORUM_UNMET');
  t.match(error, { failures: 'node1=KV_ERR_INTERNAL' });
  t.notMatch(error.message, /secret internals/, 'internal causes stay in the log');
});

t.test('a stopping node refuses new requests with 503', async (t) => {
  const { get, stop } = makeApp();
  stop();
  await expectError(t, await get('k'), 503, 'KV_ERR_SHUTTING_DOWN');
});

t.test('regression: a long non-ASCII Content-Type is refused, not stored unreadable', async (t) => {
  const { app, get } = makeApp();
  const longType = 'é'.repeat(120); // 120 characters, 240 bytes in UTF-8: fits
  t.equal((await app.request('/kv/ct', { method: 'PUT', body: 'v', headers: { 'content-type': `a/${longType}` } })).status, 204);
  t.equal((await get('ct')).status, 200, 'still readable');
  const tooLong = 'é'.repeat(130); // 260 bytes
  await expectError(t, await app.request('/kv/ct2', { method: 'PUT', body: 'v', headers: { 'content-type': tooLong } }), 400, 'KV_ERR_BAD_REQUEST');
  await expectError(t, await get('ct2'), 404, 'KV_ERR_NOT_FOUND');
});

t.test('regression issue 19 point 4: PUT b=x1; PUT a; GET a -> ctxA; PUT b=y with ctxA is 400 KV_ERR_BAD_CONTEXT and b keeps x1', async (t) => {
  const { put, get, del } = makeApp();
  t.equal((await put('b', 'x1')).status, 204);
  t.equal((await put('a', 'a1')).status, 204);
  const ctxA = (await get('a')).headers.get(CONTEXT_HEADER)!;
  t.ok(ctxA, 'a read of a hands out its context');
  const error = await expectError(t, await put('b', 'y', ctxA), 400, 'KV_ERR_BAD_CONTEXT');
  t.match(error.message, /another key/);
  await expectError(t, await del('b', ctxA), 400, 'KV_ERR_BAD_CONTEXT');
  const b = await get('b');
  t.equal(b.status, 200, 'b still holds one value');
  t.equal(await b.text(), 'x1', 'and it is x1: the cross-key context superseded nothing');
  t.equal((await put('a', 'a2', ctxA)).status, 204, 'control: on its own key the context works');
  t.equal(await (await get('a')).text(), 'a2');
});
