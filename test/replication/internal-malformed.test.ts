// Correctly signed but malformed /internal/ requests against a real node (in-process, port 0,
// MemoryStore): 400 KV_ERR_BAD_REQUEST, nothing applied, and the node keeps serving. A bad
// member list leaves the membership unchanged.
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { AUTH_HEADERS, KvError, Keyring, MemoryStore, defaultConfig, helloNode, signDeclared, signRequest, startNode, testConfig, validateConfig, type Receiver, type RingkvNode } from '@ringkv/node';
import { decodeBatchResults, decodeCoordinateResult, encodeBatch, encodeCoordinate, encodeObject, update, type VersionedObject } from '@ringkv/node/testing';
import { errorCode, http, httpAgent } from '../helpers/process.js';
import { RawConnection } from '../helpers/raw-http.js';

const SECRET = 'internal-malformed-secret';
const KEY = new Keyring([SECRET]).internalKeys[0]!;
const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const utf8 = (s: string) => new TextEncoder().encode(s);

interface Started {
  readonly node: RingkvNode;
  readonly store: MemoryStore;
  /** A signed POST of `body` to `path`, as a peer would send it. */
  post(path: string, body: Uint8Array, sender?: string): ReturnType<typeof http>;
  /** A POST of `body` to `path` with the given (authentication) headers. */
  postWith(path: string, body: Uint8Array, headers: Record<string, string>): ReturnType<typeof http>;
  /** The node's id and boot epoch, as its hello answered. */
  readonly receiver: Receiver;
  /** Headers signed for this node (or `options.to`), as a peer would send them. */
  sign(path: string, body: Uint8Array, options?: { sender?: string; nowMs?: number; to?: Receiver; key?: Uint8Array }): Record<string, string>;
  get(path: string): ReturnType<typeof http>;
}

async function started(t: Test): Promise<Started> {
  const store = new MemoryStore({ nowMs: Date.now });
  const node = await startNode(validateConfig({ nodeId: 'node-1', secret: SECRET, host: '127.0.0.1', httpPort: 0, processMetrics: false }, testConfig), { store });
  t.teardown(() => node.close());
  const agent = httpAgent(t);
  const receiver = await helloNode(node.url, SECRET, 'peer-x');
  const sign: Started['sign'] = (path, body, options = {}) =>
    signRequest(options.key ?? KEY, options.sender ?? 'peer-x', options.to ?? receiver, path, body, options.nowMs ?? Date.now());
  return {
    node,
    store,
    receiver,
    sign,
    post: (path, body, sender = 'peer-x') =>
      http(agent, 'POST', `${node.url}${path}`, { body, headers: { 'content-type': 'application/octet-stream', ...sign(path, body, { sender }) } }),
    postWith: (path, body, headers) => http(agent, 'POST', `${node.url}${path}`, { body, headers: { 'content-type': 'application/octet-stream', ...headers } }),
    get: (path) => http(agent, 'GET', `${node.url}${path}`),
  };
}

function written(value: string, coordinatorId = 'peer-x'): VersionedObject {
  return update(undefined, { coordinatorId, context: [], deleted: false, value: utf8(value), contentType: 'text/plain', nowMs: 1_000 }, limits);
}

const concat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

/** Checks the node still serves: a valid signed batch, a client PUT and GET. */
async function stillServes(t: Test, s: Started, tag: string): Promise<void> {
  const batch = await s.post('/internal/batch', encodeBatch([{ kind: 'put', key: `ok-${tag}`, object: written(`v-${tag}`) }, { kind: 'get', key: `ok-${tag}` }]));
  t.equal(batch.status, 200, `${tag}: a valid batch is still answered`);
  const results = decodeBatchResults(batch.body);
  t.equal(results.length, 2);
  t.same(results[0], { ok: true }, `${tag}: the put is applied`);
  const put = await http(httpAgent(t), 'PUT', `${s.node.url}/kv/client-${tag}`, { body: 'client value' });
  t.equal(put.status, 204, `${tag}: client writes still work`);
  const got = await s.get(`/kv/client-${tag}`);
  t.equal(got.status, 200);
  t.equal(got.body.toString(), 'client value');
}

t.test('malformed /internal/batch bodies get 400 KV_ERR_BAD_REQUEST, apply nothing, and the node keeps serving', async (t) => {
  const s = await started(t);
  const valid = encodeBatch([
    { kind: 'put', key: 'partial', object: written('partial') },
    { kind: 'get', key: 'partial' },
  ]);
  const object = encodeObject(written('x'));
  t.ok(object.length < 127, 'fixture: the object length fits one varint byte');
  const cases: Array<[string, Uint8Array]> = [
    ['an empty body', new Uint8Array(0)],
    ['a wrong version', concat([2], valid.subarray(1))],
    ['version 0', concat([0, 0])],
    ['an unknown op kind', concat([1, 1, 7, 1, 0x61])],
    ['more than 1024 ops', concat([1, 0x81, 0x08], ...Array.from({ length: 1025 }, () => [1, 1, 0x61]))],
    ['a count of 2^40', concat([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])],
    ['a truncated batch (a valid put, then half an op)', valid.subarray(0, valid.length - 3)],
    ['a valid batch with trailing bytes', concat(valid, [0])],
    ['a put whose object has an unknown format version', concat([1, 1, 2, 1, 0x6b], [object.length], [2], object.subarray(1))],
    ['a put whose object is cut short', concat([1, 1, 2, 1, 0x6b], [object.length - 1], object.subarray(0, object.length - 1))],
    ['a put whose object has trailing bytes', concat([1, 1, 2, 1, 0x6b], [object.length + 1], object, [0])],
    ['a key that is not UTF-8', concat([1, 1, 1, 2, 0xc3, 0x28])],
    ['JSON', utf8('{"ops":[]}')],
    ['random bytes', Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff)],
  ];
  for (const [what, body] of cases) {
    const answer = await s.post('/internal/batch', body);
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(errorCode(answer), 'KV_ERR_BAD_REQUEST', `${what}: KV_ERR_BAD_REQUEST`);
  }
  t.equal(s.store.get('partial'), undefined, 'the valid put at the head of a malformed batch was not applied');
  t.equal(s.store.get('k'), undefined);
  t.equal(s.store.keyCount(), 0, 'nothing was written');
  await stillServes(t, s, 'after-batch');
});

t.test('malformed /internal/coordinate bodies get 400 KV_ERR_BAD_REQUEST, apply nothing, and the node keeps serving', async (t) => {
  const s = await started(t);
  const put = encodeCoordinate({ kind: 'put', key: 'fwd', write: { context: [], deleted: false, value: utf8('forwarded'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 1_000 } });
  const get = encodeCoordinate({ kind: 'get', key: 'fwd', r: 1, timeoutMs: 1_000 });
  const cases: Array<[string, Uint8Array]> = [
    ['an empty body', new Uint8Array(0)],
    ['a wrong version', concat([9], put.subarray(1))],
    ['an unknown kind', concat([1, 3], put.subarray(2))],
    ['a truncated put', put.subarray(0, put.length - 1)],
    ['a put with trailing bytes', concat(put, [0])],
    ['a get with trailing bytes', concat(get, [1, 2])],
    ['a context of 4097 entries', concat(put.subarray(0, put.length - 2), [0x81, 0x20], [0])], // the frame ends: context length 0, ttl 0
    ['a key that is not UTF-8', concat([1, 1, 2, 0xc3, 0x28, 1, 1])],
    ['a non-canonical varint', concat([1, 1, 1, 0x61, 0x81, 0x00, 1])],
    ['JSON', utf8('{"kind":"get","key":"fwd"}')],
  ];
  for (const [what, body] of cases) {
    const answer = await s.post('/internal/coordinate', body);
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(errorCode(answer), 'KV_ERR_BAD_REQUEST', `${what}: KV_ERR_BAD_REQUEST`);
  }
  t.equal(s.store.get('fwd'), undefined, 'no malformed forward was coordinated');
  const ok = await s.post('/internal/coordinate', put);
  t.equal(ok.status, 200, 'a valid forwarded put is still coordinated');
  t.same(decodeCoordinateResult(ok.body), { ok: true });
  const read = await s.post('/internal/coordinate', get);
  t.equal(read.status, 200);
  const result = decodeCoordinateResult(read.body);
  t.equal(result.ok && result.object?.siblings[0] ? new TextDecoder().decode(result.object.siblings[0].value) : undefined, 'forwarded', 'and read back');
  await stillServes(t, s, 'after-coordinate');
});

t.test('a malformed body with a bad signature is refused as unauthorized first (401, not 400)', async (t) => {
  const s = await started(t);
  const body = Uint8Array.from([0xde, 0xad]);
  const answer = await http(httpAgent(t), 'POST', `${s.node.url}/internal/batch`, {
    body,
    headers: { 'content-type': 'application/octet-stream', ...s.sign('/internal/batch', body, { key: new Keyring(['not-the-secret']).internalKeys[0]! }) },
  });
  t.equal(answer.status, 401);
  t.equal(errorCode(answer), 'KV_ERR_UNAUTHORIZED');
});

t.test('a signed /internal/members with a bad member list gets 400 and leaves the membership unchanged', async (t) => {
  const s = await started(t);
  const members = async () => {
    const answer = await s.get('/admin/members');
    t.equal(answer.status, 200);
    return answer.json as Array<{ id: string; address: string }>;
  };
  const before = await members();
  t.same(before.map((m) => m.id), ['node-1'], 'fixture: the node alone');
  const bad: Array<[string, string]> = [
    ['not JSON', 'members: node-2'],
    ['an empty body', ''],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a bare array', '[{"id":"node-2","address":"http://127.0.0.1:1"}]'],
    ['no members field', '{}'],
    ['members not a list', '{"members":"node-2=http://127.0.0.1:1"}'],
    ['a null member', '{"members":[null]}'],
    ['a member without an address', '{"members":[{"id":"node-2"}]}'],
    ['an id with a space', '{"members":[{"id":"node 2","address":"http://127.0.0.1:1"}]}'],
    ['an id of 65 characters', `{"members":[{"id":"${'n'.repeat(65)}","address":"http://127.0.0.1:1"}]}`],
    ['an empty id', '{"members":[{"id":"","address":"http://127.0.0.1:1"}]}'],
    ['an address without a scheme', '{"members":[{"id":"node-2","address":"127.0.0.1:1"}]}'],
    ['an address with a path', '{"members":[{"id":"node-2","address":"http://127.0.0.1:1/x"}]}'],
    ['an ftp address', '{"members":[{"id":"node-2","address":"ftp://127.0.0.1:1"}]}'],
    ['a numeric id', '{"members":[{"id":2,"address":"http://127.0.0.1:1"}]}'],
    ['one good and one bad member', '{"members":[{"id":"node-2","address":"http://127.0.0.1:1"},{"id":"node-3","address":"nope"}]}'],
    ['1025 members', JSON.stringify({ members: Array.from({ length: 1025 }, (_, i) => ({ id: `n${i}`, address: `http://127.0.0.1:${1000 + i}` })) })],
  ];
  for (const [what, body] of bad) {
    const answer = await s.post('/internal/members', utf8(body));
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(errorCode(answer), 'KV_ERR_BAD_REQUEST', `${what}: KV_ERR_BAD_REQUEST`);
  }
  t.same(await members(), before, 'the membership is unchanged');
  t.same(s.node.membership.members().map((m) => m.id), ['node-1']);
  await stillServes(t, s, 'after-members');
  // Control: a good list is taken, so the 400s above were about the lists.
  const good = await s.post('/internal/members', utf8(JSON.stringify({ members: [{ id: 'node-1', address: s.node.url }, { id: 'node-2', address: 'http://127.0.0.1:1' }] })));
  t.equal(good.status, 204, 'a valid list is accepted');
  t.same((await members()).map((m) => m.id), ['node-1', 'node-2'], 'and applied');
  const after = await members();
  const again = await s.post('/internal/members', utf8('{"members":[{"id":"node-3","address":"bad"}]}'));
  t.equal(again.status, 400);
  t.same(await members(), after, 'a bad list after a good one changes nothing either');
});

// ---- Regression tests (review of the transport and internal routes).

/** The value of ringkv_internal_refused_total for `reason` on the node's /metrics. */
async function refusedCount(t: Test, s: Started, reason: string): Promise<number> {
  const metrics = await s.get('/metrics');
  t.equal(metrics.status, 200);
  const line = metrics.body
    .toString()
    .split('\n')
    .find((l) => l.startsWith('ringkv_internal_refused_total{') && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

t.test('replay protection: the same signed request sent twice is refused the second time (401, counted as replayed) and applied once', async (t) => {
  const s = await started(t);
  const forward = encodeCoordinate({ kind: 'put', key: 'once', write: { context: [], deleted: false, value: utf8('forwarded'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 1_000 } });
  const headers = s.sign('/internal/coordinate', forward);
  const first = await s.postWith('/internal/coordinate', forward, headers);
  t.equal(first.status, 200, 'the first forwarded put is coordinated');
  t.same(decodeCoordinateResult(first.body), { ok: true });
  const replay = await s.postWith('/internal/coordinate', forward, headers);
  t.equal(replay.status, 401, 'its replay is refused');
  t.equal(errorCode(replay), 'KV_ERR_UNAUTHORIZED');
  t.match(replay.json, { error: { message: /replayed/ } });
  t.equal(s.store.get('once')?.siblings.length, 1, 'one write, not two concurrent siblings of the same value');

  const batch = encodeBatch([{ kind: 'put', key: 'batched', object: written('b') }]);
  const batchHeaders = s.sign('/internal/batch', batch);
  t.equal((await s.postWith('/internal/batch', batch, batchHeaders)).status, 200);
  t.equal((await s.postWith('/internal/batch', batch, batchHeaders)).status, 401, 'a replayed batch is refused too');
  t.equal(await refusedCount(t, s, 'replayed'), 2, 'both replays counted with reason "replayed"');

  // Honest repeats are not replays: each signature has its own nonce.
  t.equal((await s.post('/internal/batch', batch)).status, 200, 'the same batch signed afresh is accepted');
  t.equal((await s.post('/internal/batch', batch)).status, 200, 'and again');
  await stillServes(t, s, 'after-replays');
});

t.test('replay protection: replaying an old /internal/members cannot roll the member list back', async (t) => {
  const s = await started(t);
  const first = utf8(JSON.stringify({ members: [{ id: 'node-1', address: s.node.url }, { id: 'node-2', address: 'http://127.0.0.1:2' }] }));
  const second = utf8(JSON.stringify({ members: [{ id: 'node-1', address: s.node.url }, { id: 'node-3', address: 'http://127.0.0.1:3' }] }));
  const firstHeaders = s.sign('/internal/members', first, { sender: 'ringkv-cli' });
  t.equal((await s.postWith('/internal/members', first, firstHeaders)).status, 204);
  t.equal((await s.post('/internal/members', second)).status, 204);
  t.same(s.node.membership.members().map((m) => m.id), ['node-1', 'node-3']);
  const replay = await s.postWith('/internal/members', first, firstHeaders);
  t.equal(replay.status, 401, 'the captured first list is refused');
  t.equal(errorCode(replay), 'KV_ERR_UNAUTHORIZED');
  t.same(s.node.membership.members().map((m) => m.id), ['node-1', 'node-3'], 'the membership was not rolled back');
});

t.test('auth is checked before the body: a stale, non-numeric, malformed or replayed request is refused without the node buffering its body', async (t) => {
  const s = await started(t);
  const empty = new Uint8Array(0);
  const declared = 64 * 1024 * 1024; // under the 80 MiB body limit: only the auth check can refuse it early
  // The tag covers the Content-Length, so these headers are signed for a 64 MiB body.
  const zeros = Buffer.alloc(declared);
  const digest = createHash('sha256').update(zeros).digest('base64url');
  const signedFor = (options: { nowMs?: number; to?: Receiver; key?: Uint8Array } = {}) =>
    signDeclared(options.key ?? KEY, 'peer-x', options.to ?? s.receiver, '/internal/batch', { length: declared, digest }, options.nowMs ?? Date.now());
  const valid = signedFor();
  // Sent once in full, so its tag is known to the node (400: 64 MiB of zeros is no batch).
  const accepted = signedFor();
  t.equal((await s.postWith('/internal/batch', zeros, accepted)).status, 400, 'fixture: a valid signature over the declared body is read (400: not a batch)');
  const cases: Array<[string, Record<string, string>, string]> = [
    ['no credentials', {}, 'unauthenticated'],
    ['no time', { ...valid, [AUTH_HEADERS.time]: '' }, 'unauthenticated'],
    ['a non-numeric time', { ...valid, [AUTH_HEADERS.time]: 'now' }, 'unauthenticated'],
    ['a stale time', signedFor({ nowMs: Date.now() - 10 * 60_000 }), 'stale-time'],
    ['a time far in the future', signedFor({ nowMs: Date.now() + 10 * 60_000 }), 'stale-time'],
    ['a malformed sender', { ...valid, [AUTH_HEADERS.sender]: 'peer x' }, 'unauthenticated'],
    ['a malformed tag', { ...valid, [AUTH_HEADERS.tag]: 'not-a-tag' }, 'unauthenticated'],
    ['a forged tag of the right form', { ...valid, [AUTH_HEADERS.tag]: 'A'.repeat(42) + 'A' }, 'unauthenticated'],
    ['a wrong secret', signedFor({ key: new Keyring(['not-the-secret']).internalKeys[0]! }), 'unauthenticated'],
    ['a malformed nonce', { ...valid, [AUTH_HEADERS.nonce]: '!' }, 'unauthenticated'],
    ['another receiver in the headers than signed', { ...valid, [AUTH_HEADERS.receiver]: 'node-2' }, 'unauthenticated'],
    ['signed for another node', signedFor({ to: { ...s.receiver, id: 'node-2' } }), 'misdirected'],
    ['signed for an earlier boot of this node', signedFor({ to: { ...s.receiver, epoch: 'AAAAAAAAAAAAAAAA' } }), 'stale-epoch'],
    ['a tag already accepted', accepted, 'replayed'],
  ];
  for (const [what, headers, reason] of cases) {
    const connection = await RawConnection.open(s.node.port);
    t.teardown(() => connection.destroy());
    const head = [
      'POST /internal/batch HTTP/1.1',
      'host: 127.0.0.1',
      'content-type: application/octet-stream',
      `content-length: ${declared}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n');
    await connection.write(head + 'x'.repeat(1024));
    const answer = await connection.nextResponse(3_000);
    t.equal(answer.status, 401, `${what}: 401 before the body was sent`);
    t.equal((answer.json as { error?: { code?: string } }).error?.code, 'KV_ERR_UNAUTHORIZED', `${what}: KV_ERR_UNAUTHORIZED`);
    t.equal((answer.json as { error?: { reason?: string } }).error?.reason, reason, `${what}: reason ${reason}`);
    t.equal(answer.headers['connection'], 'close', `${what}: the connection is closed, the body never read`);
    t.ok(answer.bytesWrittenAtResponse < 64 * 1024, `${what}: answered after ${answer.bytesWrittenAtResponse} of ${declared} bytes`);
  }
  t.ok((await refusedCount(t, s, 'unauthenticated')) >= cases.length - 5, 'counted as unauthenticated');
  t.equal(await refusedCount(t, s, 'stale-time'), 2, 'counted as stale-time (the sender says hello again and retries once)');
  t.equal(await refusedCount(t, s, 'misdirected'), 1, 'counted as misdirected');
  t.equal(await refusedCount(t, s, 'stale-epoch'), 1, 'counted as stale-epoch');
  t.equal(await refusedCount(t, s, 'replayed'), 1, 'the reused tag counted as replayed');
  await stillServes(t, s, 'after-early-refusals');
});

t.test('POST /internal/members with JSON null, an array or a non-object is 400 KV_ERR_BAD_REQUEST, not a 500', async (t) => {
  const s = await started(t);
  for (const body of ['null', '[]', '[null]', 'true', '"members"', '0']) {
    const answer = await s.post('/internal/members', utf8(body));
    t.equal(answer.status, 400, `${body}: 400`);
    t.equal(errorCode(answer), 'KV_ERR_BAD_REQUEST', `${body}: KV_ERR_BAD_REQUEST`);
  }
  t.same(s.node.membership.members().map((m) => m.id), ['node-1'], 'the membership is unchanged');
});

t.test('internalBodyBytesMax: the default is 80 MiB, and it must exceed valueBytesMax × siblingsMax plus overhead', async (t) => {
  t.equal(defaultConfig.internalBodyBytesMax, 80 * 1024 * 1024);
  t.ok(defaultConfig.internalBodyBytesMax > defaultConfig.valueBytesMax * defaultConfig.siblingsMax, 'the defaults hold a full object');
  t.doesNotThrow(() => validateConfig({ secret: SECRET }), 'the defaults validate');
  const tooSmall = () => validateConfig({ secret: SECRET, valueBytesMax: 1024 * 1024, siblingsMax: 64, internalBodyBytesMax: 64 * 1024 * 1024 });
  t.throws(tooSmall, { code: 'KV_ERR_CONFIG', details: { field: 'internalBodyBytesMax' } }, 'exactly valueBytesMax × siblingsMax leaves no room for the rest of the object');
  t.throws(() => validateConfig({ secret: SECRET, valueBytesMax: 2 * 1024 * 1024 }), KvError, 'a larger value limit needs a larger body limit');
  t.doesNotThrow(() => validateConfig({ secret: SECRET, valueBytesMax: 2 * 1024 * 1024, siblingsMax: 32 }), 'or fewer siblings');
  t.throws(() => validateConfig({ secret: SECRET, batchBytesMax: 100 * 1024 * 1024 }), { code: 'KV_ERR_CONFIG', details: { field: 'internalBodyBytesMax' } }, 'a full batch must fit too');
  t.throws(() => validateConfig({ secret: SECRET, peerQueueBytesMax: 1024 }), { code: 'KV_ERR_CONFIG', details: { field: 'peerQueueBytesMax' } }, 'the queue must hold at least a batch');
  t.match(validateConfig({ secret: SECRET }), { batchBytesMax: 8 * 1024 * 1024, peerQueueBytesMax: 256 * 1024 * 1024 }, 'byte bounds of the per-peer queues');
});

t.test('malformed /internal/tree bodies get 400 KV_ERR_BAD_REQUEST and the node keeps serving', async (t) => {
  const s = await started(t);
  const frames: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['an unknown version', Uint8Array.from([9, 1, 0])],
    ['an unknown kind', Uint8Array.from([1, 7, 0])],
    ['an empty range', Uint8Array.from([1, 1, 1, 1, 5, 5])],
    ['a truncated range list', Uint8Array.from([1, 2, 1, 3, 0])],
    ['too many keys asked', Uint8Array.from([1, 3, 0x81, 0x10])],
  ];
  for (const [what, body] of frames) {
    const answer = await s.post('/internal/tree', body);
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(errorCode(answer), 'KV_ERR_BAD_REQUEST', `${what}: KV_ERR_BAD_REQUEST`);
  }
  const forged = await s.postWith('/internal/tree', Uint8Array.from([1, 1, 0]), { 'x-ringkv-sender': 'peer-x' });
  t.equal(forged.status, 401, 'an unsigned tree request is refused');
  await stillServes(t, s, 'tree');
});
