// getJson/putJson, update(), getMany and the per-write options against a real node (in-process,
// real socket, real SQLite file), and update()'s retry rules against stub servers.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startNode, validateConfig, testConfig } from '@ringkv/node';
import { RingkvAbortError, RingkvClient, RingkvError, gCounterTotal, incrementGCounter, mergeGCounters, type GCounter } from '@ringkv/client';
import { waitFor } from '../helpers/process.js';

async function nodeClient(t: Test): Promise<RingkvClient> {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-client-json-'));
  const node = await startNode(validateConfig({ dataDir: dir }, testConfig));
  const client = new RingkvClient({ urls: [node.url] });
  t.teardown(async () => {
    await client.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return client;
}

async function stubClient(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RingkvClient> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new RingkvClient({ urls: [`http://127.0.0.1:${(server.address() as { port: number }).port}`], keyAware: false });
  t.teardown(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return client;
}

function answer(res: ServerResponse, status: number, body?: object): void {
  res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

t.test('putJson writes application/json; getJson decodes the value and every sibling', async (t) => {
  const kv = await nodeClient(t);
  await kv.putJson('cfg', { retries: 3, hosts: ['a', 'b'] });
  const raw = await kv.get('cfg');
  t.equal(raw.contentType, 'application/json');
  const one = await kv.getJson<{ retries: number; hosts: string[] }>('cfg');
  t.same(one.value, { retries: 3, hosts: ['a', 'b'] });
  t.type(one.context, 'string');
  t.same(await kv.getJson('missing'), { found: false, siblings: [] });

  await kv.putJson('set', ['x']);
  await kv.putJson('set', ['y']); // no context: a sibling
  const both = await kv.getJson<string[]>('set');
  t.equal(both.value, undefined, 'no single value while siblings exist');
  t.same(both.siblings.map((s) => (s.deleted ? null : s.value)).sort(), [['x'], ['y']], 'both siblings decoded');
  const merged = await kv.getJson<string[]>('set', { resolver: (values) => [...new Set(values.flat())].sort() });
  t.same(merged.value, ['x', 'y'], 'the resolver merges them (nothing written back)');
  t.equal((await kv.get('set')).siblings.length, 2);

  await kv.put('text', 'not json');
  await t.rejects(kv.getJson('text'), { code: 'KV_ERR_BAD_VALUE', details: { key: 'text' } });
  await t.rejects(kv.putJson('u', undefined), TypeError, 'undefined has no JSON form');
});

t.test('update: a missing key gives fn undefined; the result is written with the read context', async (t) => {
  const kv = await nodeClient(t);
  const seen: unknown[] = [];
  const first = await kv.update<number>('n', (current) => {
    seen.push(current);
    return (current ?? 0) + 1;
  });
  t.same(first, { value: 1, attempts: 1, siblingsMerged: 0 });
  await kv.update<number>('n', (current) => (seen.push(current), current! + 1));
  t.same(seen, [undefined, 1]);
  const read = await kv.getJson<number>('n');
  t.equal(read.value, 2);
  t.equal(read.siblings.length, 1, 'each write superseded the one it read');
});

t.test('update: two updaters that race make siblings; the next update merges them and loses neither', async (t) => {
  const kv = await nodeClient(t);
  // Both updaters read the same version before either writes: a barrier inside fn.
  let release!: () => void;
  const bothRead = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  const racer = (writer: string) =>
    kv.update<GCounter>('c', async (current) => {
      if (++reads === 2) release();
      await bothRead;
      return incrementGCounter(current, writer);
    }, { resolver: mergeGCounters });
  await Promise.all([racer('a'), racer('b')]);
  const raced = await kv.getJson<GCounter>('c');
  t.equal(raced.siblings.length, 2, 'the racing write-backs are siblings');

  await t.rejects(kv.update<GCounter>('c', (current) => incrementGCounter(current, 'a')), { code: 'KV_ERR_UNRESOLVED_SIBLINGS', status: 300, details: { siblings: 2 } });
  t.equal((await kv.get('c')).siblings.length, 2, 'nothing was written without a resolver');

  const third = await kv.update<GCounter>('c', (current) => incrementGCounter(current, 'a'), { resolver: mergeGCounters });
  t.equal(third.siblingsMerged, 2);
  t.same(third.value, { a: 2, b: 1 });
  const final = await kv.getJson<GCounter>('c');
  t.equal(final.siblings.length, 1, 'the merge collapsed the siblings');
  t.equal(gCounterTotal(final.value), 3, 'every increment counted');
});

t.test('update retries a cycle whose write surely did not land, never one whose outcome is open', async (t) => {
  const log: string[] = [];
  let puts = 0;
  const flaky = await stubClient(t, (req, res) => {
    req.resume();
    req.on('end', () => {
      log.push(req.method!);
      if (req.method === 'GET') return answer(res, 404, { error: { code: 'KV_ERR_NOT_FOUND', message: 'none' } });
      if (++puts === 1) return answer(res, 503, { error: { code: 'KV_ERR_QUORUM_UNMET', message: 'not attempted', needed: 2, answered: 0, attempted: false } });
      answer(res, 204);
    });
  });
  const done = await flaky.update<number>('k', (current) => (current ?? 0) + 1);
  t.equal(done.attempts, 2, 'the refused write-back was retried');
  t.same(log, ['GET', 'PUT', 'GET', 'PUT'], 'by reading again, then writing again');

  const late: string[] = [];
  const open = await stubClient(t, (req, res) => {
    req.resume();
    req.on('end', () => {
      late.push(req.method!);
      if (req.method === 'GET') return answer(res, 404, { error: { code: 'KV_ERR_NOT_FOUND', message: 'none' } });
      answer(res, 504, { error: { code: 'KV_ERR_TIMEOUT', message: 'late', needed: 2, answered: 1 } });
    });
  });
  await t.rejects(open.update<number>('k', () => 1), { code: 'KV_ERR_TIMEOUT', mayHaveApplied: true });
  t.same(late, ['GET', 'PUT', 'PUT', 'PUT'], 'a write that may have landed is not read and rewritten: only sent again with its request id (docs/idempotency.md)');

  let calls = 0;
  const refusing = await stubClient(t, (req, res) => {
    req.resume();
    req.on('end', () => answer(res, 503, { error: { code: 'KV_ERR_QUORUM_UNMET', message: 'reads fail', needed: 2, answered: 0 } }));
  });
  await t.rejects(refusing.update<number>('k', () => ++calls, { retries: 2 }), { code: 'KV_ERR_QUORUM_UNMET' });
  t.equal(calls, 0, 'fn never ran: every read failed, three cycles in all');
  await t.rejects(refusing.update<number>('k', () => 1, { retries: 21 }), TypeError);
});

t.test('update: an abort while fn runs writes nothing', async (t) => {
  const kv = await nodeClient(t);
  await kv.putJson('k', 1);
  const controller = new AbortController();
  const error = await kv
    .update<number>('k', (current) => {
      controller.abort();
      return current! + 1;
    }, { signal: controller.signal })
    .catch((e: unknown) => e);
  t.ok(error instanceof RingkvAbortError, 'RingkvAbortError');
  t.equal((await kv.getJson('k')).value, 1, 'the value is unchanged');
});

t.test('getMany: results in key order, a failing key is its own entry, bounded concurrency', async (t) => {
  const kv = await nodeClient(t);
  const keys = Array.from({ length: 12 }, (_, i) => `m${i}`);
  for (const key of keys.slice(0, 6)) await kv.put(key, `v-${key}`);
  const tooLong = 'x'.repeat(2_000);
  const entries = await kv.getMany([...keys, tooLong], { concurrency: 3 });
  t.same(entries.map((e) => e.key), [...keys, tooLong], 'one entry per key, in order');
  for (const [i, entry] of entries.slice(0, 12).entries()) {
    t.ok(entry.ok, `${entry.key} read`);
    if (entry.ok) t.equal(entry.result.found ? Buffer.from(entry.result.value!).toString() : null, i < 6 ? `v-${entry.key}` : null);
  }
  const bad = entries[12]!;
  t.ok(!bad.ok && bad.error instanceof RingkvError && bad.error.code === 'KV_ERR_BAD_KEY', 'the oversize key failed alone, with its code');
  await t.rejects(kv.getMany(keys, { concurrency: 0 }), TypeError);
  await t.rejects(kv.getMany(keys, { signal: AbortSignal.abort() }), { name: 'AbortError', code: 'KV_ERR_ABORTED' });
});

t.test('pw, sloppy and ttlMs reach the node', async (t) => {
  const kv = await nodeClient(t);
  await kv.put('p', 'v', { w: 1, pw: 1, sloppy: false });
  await t.rejects(kv.put('p', 'v', { w: 1, pw: 2 }), { code: 'KV_ERR_BAD_QUORUM', mayHaveApplied: false }, 'pw above w is refused by the node');
  await t.rejects(kv.delete('p', { w: 1, pw: 2 }), { code: 'KV_ERR_BAD_QUORUM' });
  await kv.delete('p', { w: 1, pw: 1, sloppy: false, context: (await kv.get('p')).context! });
  t.equal((await kv.get('p')).found, false);
  const queries: string[] = [];
  const recorder = await stubClient(t, (req, res) => {
    req.resume();
    req.on('end', () => (queries.push(req.url!.split('?')[1] ?? ''), answer(res, 204)));
  });
  await recorder.put('q', 'v', { w: 2, pw: 1, sloppy: false, ttlMs: 5_000, timeoutMs: 900 });
  await recorder.delete('q', { w: 3, sloppy: true });
  t.same(queries, ['w=2&pw=1&sloppy=false&timeout_ms=900&ttl_ms=5000', 'w=3&sloppy=true&timeout_ms=5000'], 'the query strings');
  await kv.putJson('short', 'lived', { ttlMs: 200 });
  await waitFor(async () => !(await kv.get('short')).found, 10_000, 'the TTL to expire');
  t.pass('the value expired');
});
