// The client library against a real node (in-process, real socket, real SQLite file).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startNode, validateConfig, testConfig, type RingkvNode } from '@ringkv/node';
import { RingkvClient, RingkvError, encodeKey, type Sibling } from '@ringkv/client';

async function node(t: { teardown(fn: () => unknown): void }, overrides = {}): Promise<RingkvNode> {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-client-'));
  const n = await startNode(validateConfig({ dataDir: dir, ...overrides }, testConfig));
  t.teardown(async () => {
    await n.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return n;
}

/** A URL on which nothing listens: bind a port, then close it. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const text = (v: Uint8Array | undefined) => Buffer.from(v ?? []).toString();

t.test('put, get, delete with contexts', async (t) => {
  const { url } = await node(t);
  const client = new RingkvClient({ urls: [url] });
  t.teardown(() => client.close());
  t.same(await client.get('k'), { found: false, siblings: [] });
  await client.put('k', 'v1');
  const one = await client.get('k');
  t.equal(one.found, true);
  t.equal(text(one.value), 'v1');
  t.equal(one.contentType, 'text/plain; charset=utf-8');
  t.type(one.context, 'string');
  await client.put('k', new Uint8Array([0, 1, 255]), { context: one.context! });
  const two = await client.get('k');
  t.same([...two.value!], [0, 1, 255]);
  t.equal(two.contentType, 'application/octet-stream');
  await client.delete('k', { context: two.context! });
  const gone = await client.get('k');
  t.equal(gone.found, false);
  t.type(gone.context, 'string', 'a deleted key still hands out its context');
  await client.put('k', 'again', { context: gone.context! });
  const back = await client.get('k');
  t.equal(back.siblings.length, 1);
  t.equal(text(back.value), 'again');
});

t.test('siblings come back with one context; the resolve hook merges and writes back', async (t) => {
  const { url } = await node(t);
  const client = new RingkvClient({ urls: [url] });
  t.teardown(() => client.close());
  await client.put('set', JSON.stringify(['a']));
  await client.put('set', JSON.stringify(['b']));
  const both = await client.get('set');
  t.equal(both.siblings.length, 2);
  t.equal(both.value, undefined, 'no single value while siblings exist');
  let calls = 0;
  const resolved = await client.get('set', {
    resolve: (siblings: readonly Sibling[]) => {
      calls++;
      const union = new Set<string>();
      for (const s of siblings) if (!s.deleted) for (const x of JSON.parse(text(s.value)) as string[]) union.add(x);
      return { value: JSON.stringify([...union].sort()) };
    },
  });
  t.equal(calls, 1);
  t.equal(text(resolved.value), '["a","b"]');
  const after = await client.get('set');
  t.equal(after.siblings.length, 1, 'the write-back collapsed the siblings on the node');
});

t.test('server errors arrive typed with the server code and status', async (t) => {
  const { url } = await node(t);
  const client = new RingkvClient({ urls: [url] });
  t.teardown(() => client.close());
  const error = await client.get('k', { r: 5 }).catch((e: unknown) => e);
  t.ok(error instanceof RingkvError);
  t.match(error, { code: 'KV_ERR_BAD_QUORUM', status: 400 });
  await t.rejects(client.put('k', 'v', { context: 'forged' }), { code: 'KV_ERR_BAD_CONTEXT', status: 400 });
  await t.rejects(client.put('k', 'x'.repeat(1024 * 1024 + 1)), { code: 'KV_ERR_VALUE_TOO_LARGE', status: 413 });
  t.equal((await client.get('k')).found, false, 'nothing was stored by the refused writes');
});

t.test('keys with reserved characters round-trip', async (t) => {
  const { url } = await node(t);
  const client = new RingkvClient({ urls: [url] });
  t.teardown(() => client.close());
  const keys = ['a/b', 'sp ace', 'q?x=1', 'h#frag', "it's(*)!", 'ünï©ødé ✓', '%41', '+plus'];
  for (const key of keys) await client.put(key, `value of ${key}`);
  for (const key of keys) t.equal(text((await client.get(key)).value), `value of ${key}`, key);
  t.equal(encodeKey("a/b'"), 'a%2Fb%27');
});

t.test('fails over from a dead node to a live one; all dead is KV_ERR_UNREACHABLE', async (t) => {
  const { url } = await node(t);
  const dead = await deadUrl();
  const client = new RingkvClient({ urls: [dead, url] });
  t.teardown(() => client.close());
  for (let i = 0; i < 4; i++) await client.put(`k${i}`, 'v'); // every call succeeds whichever node it starts at
  t.equal(text((await client.get('k3')).value), 'v');
  const lost = new RingkvClient({ urls: [dead], timeoutMs: 1_000 });
  t.teardown(() => lost.close());
  await t.rejects(lost.get('k'), { code: 'KV_ERR_UNREACHABLE', status: 0 });
});

t.test('regression A6: a ring listing unreachable replicas never uses up the attempts meant for the configured node', async (t) => {
  const dead = await Promise.all([deadUrl(), deadUrl(), deadUrl()]);
  const { createServer: createHttpServer } = await import('node:http');
  let kvRequests = 0;
  const stub = createHttpServer((req, res) => {
    if (req.url === '/admin/ring') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n: 3, tokensPerNode: 8, nodes: dead.map((address, i) => ({ id: `gone${i}`, address, status: 'alive' })) }));
      return;
    }
    kvRequests++;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'KV_ERR_NOT_FOUND', message: 'no value' } }));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => stub.close(resolve)));
  const url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  const client = new RingkvClient({ urls: [url], timeoutMs: 1_000 });
  t.teardown(() => client.close());
  for (let i = 0; i < 5; i++) t.same(await client.get(`k${i}`), { found: false, siblings: [] }, 'answered by the configured node');
  t.equal(kvRequests, 5);
});

t.test('regression C1: a write that timed out or missed its quorum is sent again only with its request id, a bounded number of times', async (t) => {
  const { createServer: createHttpServer } = await import('node:http');
  const ids: string[] = [];
  const stub = createHttpServer((req, res) => {
    if (req.method === 'PUT') ids.push(String(req.headers['x-ringkv-request-id']));
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'KV_ERR_QUORUM_UNMET', message: 'needed 2', needed: 2, answered: 1 } }));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => stub.close(resolve)));
  const url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  const client = new RingkvClient({ urls: [url, url.replace('127.0.0.1', 'localhost')], keyAware: false });
  t.teardown(() => client.close());
  await t.rejects(client.put('k', 'v'), { code: 'KV_ERR_QUORUM_UNMET', status: 503, mayHaveApplied: true });
  t.equal(ids.length, 3, 'the first send and two retries (the default), no more');
  t.equal(new Set(ids).size, 1, 'all with one request id: the nodes apply it at most once (docs/idempotency.md)');
  t.match(ids[0], /^[0-9a-f-]{36}$/);
  await t.rejects(client.put('k', 'v', { retries: 0 }), { code: 'KV_ERR_QUORUM_UNMET' });
  t.equal(ids.length, 4, 'retries: 0: one attempt only, the caller decides');
});

t.test('issue 19.7: a write that may have reached a node is never repeated on another (reset after send)', async (t) => {
  const { createServer: createHttpServer } = await import('node:http');
  const seen = { resetter: 0, healthy: 0 };
  // Reads the whole request, then drops the connection without answering: the write may have landed.
  const resetter = createHttpServer((req, res) => {
    seen.resetter++;
    req.resume();
    req.on('end', () => res.socket?.destroy());
  });
  const healthy = createHttpServer((req, res) => {
    seen.healthy++;
    req.resume();
    req.on('end', () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'KV_ERR_NOT_FOUND', message: 'not found' } }));
    });
  });
  for (const server of [resetter, healthy]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => server.close(resolve)));
  }
  const url = (server: typeof resetter) => `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // A fresh client per call: its first attempt goes to the first URL (later calls rotate).
  const fresh = () => {
    const client = new RingkvClient({ urls: [url(resetter), url(healthy)], keyAware: false, timeoutMs: 2_000 });
    t.teardown(() => client.close());
    return client;
  };
  // retries: 0 — this is the failover rule of one send; retries with the request id are test/client/retried-write.test.ts.
  for (const call of [() => fresh().put('k', 'v', { retries: 0 }), () => fresh().delete('k', { retries: 0 })]) {
    const before = { ...seen };
    await t.rejects(call(), { code: 'KV_ERR_OUTCOME_UNKNOWN', status: 0 }, 'the caller learns the outcome is unknown');
    t.equal(seen.resetter, before.resetter + 1, 'sent once');
    t.equal(seen.healthy, before.healthy, 'and not repeated on the other node');
  }
  const read = await fresh().get('k');
  t.equal(read.found, false, 'a read does fail over');
  t.equal(seen.healthy, 1);
  // Connection refused proves nothing was sent: a write may then try the next node.
  const refused = new RingkvClient({ urls: [await deadUrl(), url(healthy)], keyAware: false });
  t.teardown(() => refused.close());
  await t.rejects(refused.put('k', 'v'), { code: 'KV_ERR_NOT_FOUND' }, 'the write reached the second node after a refused connection');
  t.equal(seen.healthy, 2);
});

t.test('a node that answers as draining is tried last; a write it could not attempt goes to another node', async (t) => {
  const { createServer: createHttpServer } = await import('node:http');
  const seen = { draining: 0, other: 0, refusing: 0 };
  const draining = createHttpServer((req, res) => {
    seen.draining++;
    req.resume();
    req.on('end', () => {
      res.writeHead(204, { 'x-ringkv-draining': '1', connection: 'close' });
      res.end();
    });
  });
  const other = createHttpServer((req, res) => {
    seen.other++;
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  // Refuses every write before doing anything (a node that does not yet see its peers).
  const refusing = createHttpServer((req, res) => {
    seen.refusing++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'KV_ERR_QUORUM_UNMET', message: 'not attempted', needed: 2, answered: 0, attempted: false } }));
    });
  });
  for (const server of [draining, other, refusing]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => server.close(resolve)));
  }
  const url = (server: typeof other) => `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = new RingkvClient({ urls: [url(draining), url(other)], keyAware: false });
  t.teardown(() => client.close());
  await client.put('k', 'v'); // the first call goes to the first URL: the draining node
  t.equal(seen.draining, 1, 'the draining node served the first write');
  for (let i = 0; i < 6; i++) await client.put(`k${i}`, 'v');
  t.same(seen, { draining: 1, other: 6, refusing: 0 }, 'every later write went to the other node, whatever the rotation');
  const second = new RingkvClient({ urls: [url(refusing), url(other)], keyAware: false });
  t.teardown(() => second.close());
  await second.put('k', 'v');
  t.same(seen, { draining: 1, other: 7, refusing: 1 }, 'refused with attempted: false, then written on the other node');
});

t.test('node URLs: scheme://host:port only, a trailing slash allowed; anything else is a TypeError naming it', async (t) => {
  const ok = new RingkvClient({ urls: ['http://127.0.0.1:7070/', 'https://node.example:443'], keyAware: false });
  t.teardown(() => ok.close());
  for (const bad of ['http://127.0.0.1:7070/path', 'http://127.0.0.1:7070/?q=1', 'http://user:pw@127.0.0.1:7070', 'ftp://127.0.0.1', 'not a url']) {
    t.throws(() => new RingkvClient({ urls: [bad] }), { name: 'TypeError', message: new RegExp(bad.replace(/[.?*+()[\]/\\]/g, '\\$&')) }, bad);
  }
});
