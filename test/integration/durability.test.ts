/**
 * Durability of acknowledged writes across process deaths (SPEC.md "Storage": a write
 * acknowledged to a coordinator survives kill -9 of the replica). A node takes 300 concurrent
 * writes, two concurrent writes to one key (siblings) and a delete; it is SIGKILLed right after
 * the last 204 and restarted on the same directory, and every acknowledged write must read back
 * exactly. A graceful SIGTERM must exit 0 and keep the data too.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { encodeKey } from '@ringkv/client';
import { errorCode, headerOf, http, httpAgent, spawnNode, STOP_GRACE_MS, tempDir, waitExit, type HttpAnswer } from '../helpers/process.js';

const KEYS = 300;
const CONTEXT_HEADER = 'x-ringkv-context';

interface Written {
  key: string;
  value: Buffer;
  contentType: string;
}

/** 300 distinct keys (ASCII, '/', spaces and non-ASCII), values of varied sizes and types. */
function workload(): Written[] {
  const types = ['application/octet-stream', 'text/plain; charset=utf-8', 'application/json', 'image/x-test'];
  return Array.from({ length: KEYS }, (_, i) => ({
    key: i % 3 === 0 ? `durable/${i}` : i % 3 === 1 ? `clé ${i} ключ` : `k${i}/with/slashes?&=#`,
    value: i === 7 ? Buffer.alloc(0) : randomBytes(1 + ((i * 977) % 20_000)),
    contentType: types[i % types.length]!,
  }));
}

const kvUrl = (base: string, key: string) => `${base}/kv/${encodeKey(key)}`;

t.test('acknowledged writes survive SIGKILL right after the last 204', async (t) => {
  const agent = httpAgent(t);
  const dir = await tempDir(t);
  const first = await spawnNode(t, { id: 'dur1', dir, secret: 'durability-secret' });
  const writes = workload();

  const put = (key: string, value: Buffer | string, contentType: string, headers: Record<string, string> = {}) =>
    http(agent, 'PUT', kvUrl(first.url, key), { headers: { 'content-type': contentType, ...headers }, body: value });

  // The deleted key: written, read for its context, deleted with that context.
  const deleteFlow = async (): Promise<HttpAnswer[]> => {
    const created = await put('to-delete', 'soon gone', 'text/plain');
    const read = await http(agent, 'GET', kvUrl(first.url, 'to-delete'));
    const context = headerOf(read, CONTEXT_HEADER);
    t.ok(context, 'the read before the delete carries a context');
    const deleted = await http(agent, 'DELETE', kvUrl(first.url, 'to-delete'), { headers: { [CONTEXT_HEADER]: context ?? '' } });
    return [created, deleted];
  };

  const answers = await Promise.all([
    ...writes.map((w) => put(w.key, w.value, w.contentType)),
    // Two writes without a context to one key: concurrent, so both are kept as siblings.
    put('siblings', 'sibling-a', 'text/plain; charset=utf-8'),
    put('siblings', 'sibling-b', 'application/x-b'),
    deleteFlow(),
  ]).then((all) => all.flat());
  // Kill at once: no graceful close, no chance to flush anything the acknowledgements skipped.
  process.kill(first.pid, 'SIGKILL');

  const statuses = answers.map((a) => a.status);
  t.same(
    statuses.filter((s) => s !== 204),
    [],
    `all ${answers.length} writes were answered 204`,
  );
  t.equal(answers.length, KEYS + 4, 'every write was sent');
  const exit = await waitExit(first.child, 10_000);
  t.equal(exit.signal, 'SIGKILL', 'the first process died of SIGKILL');

  const second = await spawnNode(t, { id: 'dur1', dir, secret: 'durability-secret' });
  t.not(second.pid, first.pid, 'a new process serves the same directory');

  const reads = await Promise.all(writes.map((w) => http(agent, 'GET', kvUrl(second.url, w.key))));
  const wrong: string[] = [];
  reads.forEach((read, i) => {
    const w = writes[i]!;
    if (read.status !== 200) wrong.push(`${w.key}: status ${read.status}`);
    else if (!read.body.equals(w.value)) wrong.push(`${w.key}: value differs (${read.body.length} vs ${w.value.length} bytes)`);
    else if (headerOf(read, 'content-type') !== w.contentType) wrong.push(`${w.key}: content-type ${headerOf(read, 'content-type')}`);
    else if (!headerOf(read, CONTEXT_HEADER)) wrong.push(`${w.key}: no context header`);
  });
  t.same(wrong, [], `all ${KEYS} values read back exactly after restart`);

  const siblings = await http(agent, 'GET', kvUrl(second.url, 'siblings'));
  t.equal(siblings.status, 300, 'the key written twice concurrently answers 300');
  t.ok(headerOf(siblings, CONTEXT_HEADER), '300 carries the context header');
  const body = siblings.json as { context: string; siblings: Array<{ value?: string; contentType?: string; deleted?: boolean }> };
  t.equal(body.siblings.length, 2, 'both siblings survived');
  t.equal(body.context, headerOf(siblings, CONTEXT_HEADER), 'the body context equals the header context');
  t.same(
    body.siblings.map((s) => `${s.contentType}=${Buffer.from(s.value ?? '', 'base64').toString('utf8')}`).sort(),
    ['application/x-b=sibling-b', 'text/plain; charset=utf-8=sibling-a'],
    'sibling values and content types are exact',
  );

  const deleted = await http(agent, 'GET', kvUrl(second.url, 'to-delete'));
  t.equal(deleted.status, 404, 'the deleted key stays deleted');
  t.equal(errorCode(deleted), 'KV_ERR_NOT_FOUND', 'with KV_ERR_NOT_FOUND');
  t.ok(headerOf(deleted, CONTEXT_HEADER), 'the 404 of a tombstone carries X-Ringkv-Context');

  const status = await http(agent, 'GET', `${second.url}/admin/status`);
  t.equal((status.json as { keys?: number }).keys, KEYS + 2, 'the store holds exactly the keys written (tombstone included)');
  t.equal((status.json as { pid?: number }).pid, second.pid, 'status reports the new process');
});

t.test('SIGTERM stops the node with exit 0 and keeps the data', async (t) => {
  const agent = httpAgent(t);
  const dir = await tempDir(t);
  const first = await spawnNode(t, { id: 'graceful', dir, secret: 'graceful-secret' });
  const keys = Array.from({ length: 20 }, (_, i) => `graceful-${i}`);
  const puts = await Promise.all(
    keys.map((key) => http(agent, 'PUT', kvUrl(first.url, key), { headers: { 'content-type': 'text/plain' }, body: `value of ${key}` })),
  );
  t.same(puts.map((p) => p.status), keys.map(() => 204), 'writes acknowledged');

  const started = Date.now();
  process.kill(first.pid, 'SIGTERM');
  const exit = await waitExit(first.child, STOP_GRACE_MS);
  t.same(exit, { code: 0, signal: null }, `SIGTERM → exit 0 (in ${Date.now() - started} ms)`);
  t.match(first.logs.stderr, /SIGTERM/, 'the node says why it stops');

  const second = await spawnNode(t, { id: 'graceful', dir, secret: 'graceful-secret' });
  const reads = await Promise.all(keys.map((key) => http(agent, 'GET', kvUrl(second.url, key))));
  t.same(
    reads.map((r) => `${r.status} ${r.body.toString('utf8')}`),
    keys.map((key) => `200 value of ${key}`),
    'every value is present after the restart',
  );
});
