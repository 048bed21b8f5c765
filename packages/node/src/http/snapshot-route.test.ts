// POST /admin/snapshot over a Hono app: the file is streamed whole with its SHA-256, deleted
// after; one snapshot at a time (a second is 503 KV_ERR_OVERLOADED until the first is sent or
// its client goes away); the temporary file is deleted when the client cancels mid-stream; a
// store that cannot snapshot (the memory twin), and a full disk, are coded errors.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { KvError } from '../errors.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { SnapshotFile } from '../storage/snapshot.js';
import { SNAPSHOT_HEADERS, snapshotRoute } from './snapshot-route.js';

function appOver(store: { snapshot?: () => Promise<SnapshotFile> }, stallMs?: number): Hono {
  const app = new Hono();
  snapshotRoute(app, store, stallMs);
  app.onError((error, c) => (error instanceof KvError ? c.json({ error: { code: error.code } }, error.status as 400) : c.json({ error: { code: 'KV_ERR_INTERNAL' } }, 500)));
  return app;
}

/** A store whose snapshots are `bytes` random-ish bytes in files of `dir`. */
function fakeStore(t: Test, bytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-snapshot-route-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  const content = Buffer.alloc(bytes, 'ringkv snapshot bytes ');
  return {
    files,
    content,
    snapshot: async (): Promise<SnapshotFile> => {
      const path = join(dir, `snapshot-${files.length}.tmp`);
      writeFileSync(path, content);
      files.push(path);
      return { path, bytes, nodeId: 'node-1', takenMs: 42 };
    },
  };
}

const post = (app: Hono) => app.request('/admin/snapshot', { method: 'POST' });

t.test('the snapshot is streamed whole with its hash and node, then deleted', async (t) => {
  const store = fakeStore(t, 1_000_000);
  const app = appOver(store);
  const response = await post(app);
  t.equal(response.status, 200);
  t.equal(response.headers.get(SNAPSHOT_HEADERS.node), 'node-1');
  t.equal(response.headers.get(SNAPSHOT_HEADERS.takenMs), '42');
  t.equal(response.headers.get('content-length'), '1000000');
  const body = Buffer.from(await response.arrayBuffer());
  t.ok(body.equals(store.content), 'the body is the file');
  t.equal(response.headers.get(SNAPSHOT_HEADERS.sha256), createHash('sha256').update(store.content).digest('hex'));
  await t.resolves(waitGone(store.files[0]!), 'the temporary file is deleted once sent');
  t.equal((await post(app)).status, 200, 'the next snapshot may begin');
});

t.test('one at a time: a second is refused until the first client goes away; its file is deleted', async (t) => {
  const store = fakeStore(t, 4_000_000);
  const app = appOver(store);
  const first = await post(app);
  t.equal(first.status, 200);
  const reader = first.body!.getReader();
  await reader.read(); // the client has begun to read
  const second = await post(app);
  t.equal(second.status, 503, 'a second snapshot meanwhile is refused');
  t.equal(((await second.json()) as { error: { code: string } }).error.code, 'KV_ERR_OVERLOADED');
  t.equal(store.files.length, 1, 'and took no copy');
  await reader.cancel(); // the client goes away mid-stream
  await t.resolves(waitGone(store.files[0]!), 'the temporary file is deleted when the client goes away');
  const third = await post(app);
  t.equal(third.status, 200, 'then a new snapshot is taken');
  await third.arrayBuffer();
});

t.test('over a real HTTP server: a client that disconnects mid-stream frees the slot and the file', async (t) => {
  const store = fakeStore(t, 48_000_000); // far more than loopback socket buffers hold
  const server = createAdaptorServer({ fetch: appOver(store).fetch });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/snapshot`;
  const response = await request(url, { method: 'POST' });
  t.equal(response.statusCode, 200);
  for await (const chunk of response.body) {
    if ((chunk as Buffer).length > 0) break; // one chunk, then the client goes away
  }
  response.body.destroy();
  await t.resolves(waitGone(store.files[0]!), 'the node deleted the temporary file');
  const next = await request(url, { method: 'POST' });
  t.equal(next.statusCode, 200, 'and takes the next snapshot');
  await next.body.dump({ limit: Infinity });
});

t.test('a client that stops reading loses the slot after the stall bound; the file is deleted', async (t) => {
  const store = fakeStore(t, 4_000_000);
  const app = appOver(store, 200);
  const first = await post(app);
  const reader = first.body!.getReader();
  await reader.read(); // then reads no more
  await t.resolves(waitGone(store.files[0]!), 'the temporary file is deleted after the stall bound');
  await t.rejects(drain(reader), 'the stalled stream ends with an error');
  const next = await post(app);
  t.equal(next.status, 200, 'and the next snapshot may begin');
  await next.arrayBuffer();
});

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
}

t.test('coded errors: a memory store, a full disk', async (t) => {
  const memory = await post(appOver(new MemoryStore({ nowMs: Date.now })));
  t.equal(memory.status, 400);
  t.equal(((await memory.json()) as { error: { code: string } }).error.code, 'KV_ERR_BAD_REQUEST', 'the memory twin has nothing to snapshot');
  const full = appOver({ snapshot: () => Promise.reject(new KvError('KV_ERR_STORAGE_FULL', 'taking a snapshot: disk full')) });
  const answer = await post(full);
  t.equal(answer.status, 507);
  t.equal(((await answer.json()) as { error: { code: string } }).error.code, 'KV_ERR_STORAGE_FULL');
  t.equal((await post(full)).status, 507, 'a failed snapshot does not leave the node busy');
});

/** Resolves once `path` no longer exists (the deletion is asynchronous), within 5 s. */
async function waitGone(path: string): Promise<void> {
  const until = Date.now() + 5_000;
  while (existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} still exists`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
