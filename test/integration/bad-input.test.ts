/**
 * Bad input over a real socket (SPEC.md "What bad input gets" and the fixed HTTP contract): a
 * clear coded error, nothing stored, and a node that keeps serving afterwards. One node (N=1)
 * takes every case in turn; the last test checks that the same process still answers correctly.
 */
import t, { type Test } from 'tap';
import { encodeKey } from '@ringkv/client';
import { createConnection } from 'node:net';
import { DEFAULT_ADMIN_TOKEN, errorCode, headerOf, http, httpAgent, spawnNode, waitFor, type HttpAnswer } from '../helpers/process.js';
import { RawConnection } from '../helpers/raw-http.js';

const CONTEXT_HEADER = 'x-ringkv-context';
const MIB = 1024 * 1024;
const RESPONSE_DEADLINE_MS = 10_000;

const node = await spawnNode(t, { id: 'badinput' });
const agent = httpAgent(t);
const kv = (key: string, query = '') => `${node.url}/kv/${encodeKey(key)}${query}`;

function open(t: Test): Promise<RawConnection> {
  return RawConnection.open(node.port).then((connection) => {
    t.teardown(() => connection.destroy());
    return connection;
  });
}

async function expectMissing(t: Test, key: string, why: string): Promise<void> {
  const read = await http(agent, 'GET', kv(key));
  t.equal(read.status, 404, `${why}: nothing was stored under "${key.slice(0, 40)}"`);
}

function expectError(t: Test, answer: HttpAnswer, status: number, code: string, what: string): void {
  t.equal(answer.status, status, `${what} → ${status}`);
  t.equal(errorCode(answer), code, `${what} → ${code}`);
  t.match(headerOf(answer, 'content-type') ?? '', /application\/json/, `${what}: the error is JSON`);
}

t.test('Content-Length of 2 MiB with 1 KiB sent → 413 before the rest of the body', async (t) => {
  const connection = await open(t);
  const head =
    `PUT /kv/too-large-declared HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: ${2 * MIB}\r\n\r\n`;
  await connection.write(head);
  await connection.write(Buffer.alloc(1024, 0x61));
  const sent = Buffer.byteLength(head) + 1024;
  // Nothing more is ever written: the answer must come while 2 MiB - 1 KiB are still owed.
  const response = await connection.nextResponse(RESPONSE_DEADLINE_MS);
  t.equal(response.status, 413, '413 Payload Too Large');
  t.match(response.headers['content-type'] ?? '', /application\/json/, 'JSON error body');
  t.equal((response.json as { error?: { code?: string } })?.error?.code, 'KV_ERR_VALUE_TOO_LARGE', 'KV_ERR_VALUE_TOO_LARGE');
  t.equal(response.bytesWrittenAtResponse, sent, 'the answer arrived with only the headers and 1 KiB of body sent');
  await expectMissing(t, 'too-large-declared', 'refused body');
});

t.test('a PUT whose client goes away halfway through its body: nothing stored, counted as a 400, never a 500', async (t) => {
  const count = async (status: number) => {
    const text = (await http(agent, 'GET', `${node.url}/metrics`)).body.toString('utf8');
    const line = text.split('\n').find((l) => l.startsWith('ringkv_requests_total{') && l.includes('op="put"') && l.includes(`status="${status}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const before = { bad: await count(400), internal: await count(500) };
  const connection = await open(t);
  await connection.write(
    `PUT /kv/cut-off-body HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\n` +
      'Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10),
  );
  connection.destroy();
  await waitFor(async () => (await count(400)) > before.bad, RESPONSE_DEADLINE_MS, 'the cut-off PUT to be counted');
  t.equal(await count(500), before.internal, 'no 500 recorded');
  await expectMissing(t, 'cut-off-body', 'body cut off');
  t.equal((await http(agent, 'PUT', kv('cut-off-body'), { body: 'whole' })).status, 204, 'the same key takes a whole PUT afterwards');
});

t.test('a chunked PUT past 1 MiB → 413', async (t) => {
  const connection = await open(t);
  await connection.write(
    `PUT /kv/too-large-chunked HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\n` +
      'Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
  );
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let bodyBytes = 0;
  // Stream up to 3 MiB, stopping as soon as the node answers (or closes the connection).
  while (bodyBytes < 3 * MIB && !connection.hasResponse) {
    if (!(await connection.write(framed))) break;
    bodyBytes += chunk.length;
  }
  if (!connection.hasResponse && !connection.isClosed) await connection.write('0\r\n\r\n');
  const response = await connection.nextResponse(RESPONSE_DEADLINE_MS);
  t.equal(response.status, 413, '413 Payload Too Large');
  t.equal((response.json as { error?: { code?: string } })?.error?.code, 'KV_ERR_VALUE_TOO_LARGE', 'KV_ERR_VALUE_TOO_LARGE');
  t.ok(bodyBytes > MIB, `the body really passed 1 MiB (${bodyBytes} bytes streamed)`);
  await expectMissing(t, 'too-large-chunked', 'refused chunked body');
});

t.test('a value of exactly 1 MiB is accepted', async (t) => {
  const value = Buffer.alloc(MIB, 0x63);
  const put = await http(agent, 'PUT', kv('exactly-1mib'), { headers: { 'content-type': 'application/octet-stream' }, body: value });
  t.equal(put.status, 204, 'PUT of 1 MiB → 204');
  const read = await http(agent, 'GET', kv('exactly-1mib'));
  t.ok(read.status === 200 && read.body.equals(value), 'reads back the 1 MiB value');
});

t.test('malformed key encoding → 400 KV_ERR_BAD_KEY', async (t) => {
  for (const path of ['/kv/%ZZ', '/kv/%E0%A4%A', '/kv/%C3%28']) {
    expectError(t, await http(agent, 'GET', `${node.url}${path}`), 400, 'KV_ERR_BAD_KEY', `GET ${path}`);
    expectError(t, await http(agent, 'PUT', `${node.url}${path}`, { body: 'x' }), 400, 'KV_ERR_BAD_KEY', `PUT ${path}`);
  }
  expectError(t, await http(agent, 'GET', `${node.url}/kv/`), 400, 'KV_ERR_BAD_KEY', 'an empty key');
});

t.test('key length: 1025 bytes → 400 KV_ERR_BAD_KEY, 1024 bytes works', async (t) => {
  const cases = [
    { name: 'ASCII', ok: 'k'.repeat(1024), tooLong: 'k'.repeat(1025) },
    // 512 two-byte characters are 1024 bytes though only 512 characters.
    { name: 'UTF-8', ok: 'é'.repeat(512), tooLong: `${'é'.repeat(512)}a` },
  ];
  for (const c of cases) {
    t.equal(Buffer.byteLength(c.ok), 1024);
    t.equal(Buffer.byteLength(c.tooLong), 1025);
    const refused = await http(agent, 'PUT', kv(c.tooLong), { headers: { 'content-type': 'text/plain' }, body: 'too long' });
    expectError(t, refused, 400, 'KV_ERR_BAD_KEY', `PUT of a 1025-byte ${c.name} key`);
    expectError(t, await http(agent, 'GET', kv(c.tooLong)), 400, 'KV_ERR_BAD_KEY', `GET of a 1025-byte ${c.name} key`);
    // The refused write must not have landed under a truncated key.
    await expectMissing(t, c.ok, 'refused long key');
    const put = await http(agent, 'PUT', kv(c.ok), { headers: { 'content-type': 'text/plain' }, body: `fits ${c.name}` });
    t.equal(put.status, 204, `PUT of a 1024-byte ${c.name} key → 204`);
    const read = await http(agent, 'GET', kv(c.ok));
    t.equal(`${read.status} ${read.body.toString('utf8')}`, `200 fits ${c.name}`, `GET of the 1024-byte ${c.name} key`);
  }
});

t.test('invalid quorum and timeout parameters → 400, nothing written', async (t) => {
  const body = { headers: { 'content-type': 'text/plain' }, body: 'should not be stored' };
  const cases: Array<[method: 'GET' | 'PUT' | 'DELETE', query: string, code: string]> = [
    ['GET', '?r=0', 'KV_ERR_BAD_QUORUM'],
    ['GET', '?r=2', 'KV_ERR_BAD_QUORUM'], // N = 1
    ['GET', '?r=abc', 'KV_ERR_BAD_QUORUM'],
    ['GET', '?r=-1', 'KV_ERR_BAD_QUORUM'],
    ['PUT', '?w=abc', 'KV_ERR_BAD_QUORUM'],
    ['PUT', '?w=0', 'KV_ERR_BAD_QUORUM'],
    ['PUT', '?w=2', 'KV_ERR_BAD_QUORUM'],
    ['PUT', '?w=1.5', 'KV_ERR_BAD_QUORUM'],
    ['DELETE', '?w=2', 'KV_ERR_BAD_QUORUM'],
    ['GET', '?timeout_ms=0', 'KV_ERR_BAD_TIMEOUT'],
    ['GET', '?timeout_ms=99999999', 'KV_ERR_BAD_TIMEOUT'],
    ['PUT', '?timeout_ms=0', 'KV_ERR_BAD_TIMEOUT'],
    ['PUT', '?timeout_ms=99999999', 'KV_ERR_BAD_TIMEOUT'],
    ['PUT', '?timeout_ms=1e3', 'KV_ERR_BAD_TIMEOUT'],
  ];
  for (const [method, query, code] of cases) {
    const answer = await http(agent, method, kv('quorum-key', query), method === 'PUT' ? body : {});
    expectError(t, answer, 400, code, `${method} ${query}`);
  }
  await expectMissing(t, 'quorum-key', 'writes with bad parameters');
  // The same parameters in range are accepted (so the 400s above are about the values).
  const ok = await http(agent, 'PUT', kv('quorum-key', '?w=1&timeout_ms=5000'), body);
  t.equal(ok.status, 204, 'w=1&timeout_ms=5000 → 204');
  const read = await http(agent, 'GET', kv('quorum-key', '?r=1&timeout_ms=5000'));
  t.equal(read.status, 200, 'r=1&timeout_ms=5000 → 200');
});

t.test('a garbage or forged X-Ringkv-Context → 400 KV_ERR_BAD_CONTEXT, key unchanged', async (t) => {
  const put = await http(agent, 'PUT', kv('ctx-key'), { headers: { 'content-type': 'text/plain' }, body: 'original' });
  t.equal(put.status, 204, 'the key is written');
  const before = await http(agent, 'GET', kv('ctx-key'));
  const context = headerOf(before, CONTEXT_HEADER)!;
  t.ok(context, 'a context was issued');
  // A valid context with one character in the middle changed: the tag no longer matches.
  const middle = Math.floor(context.length / 2);
  const forged = `${context.slice(0, middle)}${context[middle] === 'A' ? 'B' : 'A'}${context.slice(middle + 1)}`;
  const garbage = ['garbage!!', 'AAAA', 'not base64 at all', forged, 'x'.repeat(8000)];
  for (const token of garbage) {
    const label = token === forged ? 'a forged context' : `context ${JSON.stringify(token.slice(0, 20))}`;
    const overwrite = await http(agent, 'PUT', kv('ctx-key'), { headers: { 'content-type': 'text/plain', [CONTEXT_HEADER]: token }, body: 'overwritten' });
    expectError(t, overwrite, 400, 'KV_ERR_BAD_CONTEXT', `PUT with ${label}`);
    const del = await http(agent, 'DELETE', kv('ctx-key'), { headers: { [CONTEXT_HEADER]: token } });
    expectError(t, del, 400, 'KV_ERR_BAD_CONTEXT', `DELETE with ${label}`);
  }
  const after = await http(agent, 'GET', kv('ctx-key'));
  t.equal(after.status, 200, 'still one live value');
  t.equal(after.body.toString('utf8'), 'original', 'the value is unchanged');
  t.equal(headerOf(after, CONTEXT_HEADER), context, 'the context is unchanged (no write happened)');
});

t.test('regression issue 19 point 4 (real process): PUT b=x1; PUT a; GET a -> ctxA; PUT b=y with ctxA → 400 KV_ERR_BAD_CONTEXT, b keeps x1', async (t) => {
  const text = { 'content-type': 'text/plain' };
  t.equal((await http(agent, 'PUT', kv('i19p4-b'), { headers: text, body: 'x1' })).status, 204);
  t.equal((await http(agent, 'PUT', kv('i19p4-a'), { headers: text, body: 'a1' })).status, 204);
  const ctxA = headerOf(await http(agent, 'GET', kv('i19p4-a')), CONTEXT_HEADER)!;
  t.ok(ctxA, 'GET a hands out a context');
  expectError(t, await http(agent, 'PUT', kv('i19p4-b'), { headers: { ...text, [CONTEXT_HEADER]: ctxA }, body: 'y' }), 400, 'KV_ERR_BAD_CONTEXT', 'PUT b with the context of a');
  expectError(t, await http(agent, 'DELETE', kv('i19p4-b'), { headers: { [CONTEXT_HEADER]: ctxA } }), 400, 'KV_ERR_BAD_CONTEXT', 'DELETE b with the context of a');
  const b = await http(agent, 'GET', kv('i19p4-b'));
  t.equal(b.status, 200, 'b holds one live value');
  t.equal(b.body.toString('utf8'), 'x1', 'and it is still x1');
});

t.test('unknown route → 404 KV_ERR_NO_ROUTE; wrong method → 405 with Allow', async (t) => {
  for (const path of ['/nope', '/kvx/a', '/admin/nothing-here', '/']) {
    expectError(t, await http(agent, 'GET', `${node.url}${path}`), 404, 'KV_ERR_NO_ROUTE', `GET ${path}`);
  }
  const post = await http(agent, 'POST', `${node.url}/kv/x`, { body: 'x' });
  expectError(t, post, 405, 'KV_ERR_METHOD_NOT_ALLOWED', 'POST /kv/x');
  const allow = (headerOf(post, 'allow') ?? '').split(',').map((m) => m.trim()).sort();
  t.same(allow, ['DELETE', 'GET', 'PUT'], 'Allow lists GET, PUT, DELETE');
  await expectMissing(t, 'x', 'POST');
  const patch = await http(agent, 'PATCH', `${node.url}/admin/status`, { body: '{}' });
  expectError(t, patch, 405, 'KV_ERR_METHOD_NOT_ALLOWED', 'PATCH /admin/status');
  t.match(headerOf(patch, 'allow') ?? '', /GET/, 'Allow on /admin/status names GET');
});

/** A seeded PRNG (mulberry32): the same seed gives the same 2,000 requests. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** One fuzzed request as raw bytes: mostly well-framed HTTP with hostile parts, sometimes garbage. */
function fuzzedRequest(random: () => number, port: number): { bytes: Buffer; garbage: boolean } {
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const randomBytes = (max: number) => Buffer.from(Array.from({ length: Math.floor(random() * max) }, () => Math.floor(random() * 256)));
  const text = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
  if (random() < 0.08) return { bytes: randomBytes(600), garbage: true };
  const method = pick(['GET', 'GET', 'PUT', 'PUT', 'DELETE', 'POST', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'FOO', text(12).replace(/\s/g, '') || 'X']);
  const key = random() < 0.5 ? `fuzz-${Math.floor(random() * 50)}` : pick([encodeURIComponent(text(40)), text(30).replace(/\s/g, '%20'), '%ZZ', '%C3%28', 'k'.repeat(Math.floor(random() * 1100)), '', 'a/../b', '%2F%2E%2E', encodeURIComponent('é'.repeat(200))]);
  const routes = [
    `/kv/${key}`, `/kv/${key}`, `/kv/${key}`, `/admin/local/${key}`, `/admin/preflist/${key}`, '/admin/status', '/admin/members', '/admin/ring', '/metrics',
    '/admin/transfers', '/admin/anti-entropy', `/admin/remove`, '/internal/batch', '/internal/coordinate', '/internal/tree', '/internal/members', '/internal/faults',
    `/${text(20).replace(/\s/g, '')}`, '*', `/${'x'.repeat(Math.floor(random() * 9000))}`, '/%61dmin/status', '//kv//x',
  ];
  const query = random() < 0.7 ? '' : `?${Array.from({ length: 1 + Math.floor(random() * 4) }, () => `${pick(['r', 'w', 'pw', 'timeout_ms', 'ttl_ms', 'sloppy', 'action', 'id', 'peer', text(5)])}=${encodeURIComponent(pick(['0', '1', '2', '-1', '1.5', '1e3', '99999999999999', 'true', 'pause', '', text(8)]))}`).join('&')}`;
  let path = pick(routes) + query;
  if (path.startsWith('/admin/remove')) path = `/admin/remove?id=${encodeURIComponent(text(10))}`;
  const headers: string[] = [`Host: ${random() < 0.9 ? `127.0.0.1:${port}` : pick([text(20).replace(/\s/g, ''), ''])}`, 'Connection: close'];
  if (random() < 0.5) headers.push(`Content-Type: ${pick(['text/plain', 'application/octet-stream', text(300), 'application/json; charset=utf-8'])}`);
  if (random() < 0.4) headers.push(`X-Ringkv-Context: ${pick([text(60), randomBytes(40).toString('base64'), randomBytes(3000).toString('base64url'), ''])}`);
  // The real admin token sometimes, so admin routes are fuzzed past the token check too (never leave).
  if (random() < 0.4) headers.push(`Authorization: ${pick([`Bearer ${text(30).replace(/\s/g, '')}`, 'Bearer', text(40), `Bearer ${DEFAULT_ADMIN_TOKEN}`, `Bearer ${DEFAULT_ADMIN_TOKEN}`])}`);
  if (random() < 0.2) headers.push(`X-Ringkv-Time: ${pick([String(Date.now()), text(10)])}`, `X-Ringkv-Sender: ${text(20).replace(/\s/g, '')}`, `X-Ringkv-Nonce: ${text(22)}`, `X-Ringkv-Auth: ${text(43)}`);
  if (random() < 0.2) headers.push(`${pick(['X-A', 'Accept', 'Range', 'Expect', 'If-None-Match', text(10).replace(/[\s:]/g, '') || 'Y'])}: ${text(200)}`);
  const body = ['GET', 'HEAD'].includes(method) && random() < 0.8 ? Buffer.alloc(0) : randomBytes(random() < 0.1 ? 70_000 : 2_048);
  if (path.startsWith('/admin/leave')) path = '/admin/status';
  const chunked = body.length > 0 && random() < 0.2;
  headers.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
  const framed = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
  return { bytes: Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), framed]), garbage: false };
}

/** Sends one raw request and resolves with its status (0 when the node closed without an answer). */
function sendRaw(port: number, bytes: Buffer, endAfterWrite: boolean, deadlineMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within ${deadlineMs} ms (${received.length} bytes received)`));
    }, deadlineMs);
    socket.on('connect', () => {
      socket.write(bytes);
      // Garbage may look like the start of a request: end our side so the node is not left waiting.
      if (endAfterWrite) socket.end();
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (received.length < 64) received += chunk;
    });
    socket.on('error', () => {}); // a reset after an answer (or instead of one) is fine
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve(status === null ? 0 : Number(status[1]));
    });
  });
}

t.test('2,000 seeded fuzzed requests: no 500, no hang, the node stays up', async (t) => {
  const SEED = Number(process.env.RINGKV_FUZZ_SEED ?? 0x5eed18);
  const COUNT = 2_000;
  const random = seeded(SEED);
  const requests = Array.from({ length: COUNT }, () => fuzzedRequest(random, node.port));
  const statuses = new Map<number, number>();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      const { bytes, garbage } = requests[index]!;
      const status = await sendRaw(node.port, bytes, garbage, 15_000).catch((error: Error) => {
        throw new Error(`request ${index} of seed ${SEED} hung: ${error.message}\n${bytes.subarray(0, 300).toString('latin1')}`);
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 500) t.fail(`request ${index} of seed ${SEED} got a 500:\n${bytes.subarray(0, 300).toString('latin1')}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status || 'closed'}: ${count}`).join(', ');
  t.comment(`seed ${SEED}: ${COUNT} requests in ${Date.now() - started} ms; statuses ${summary}`);
  t.equal([...statuses.values()].reduce((a, b) => a + b, 0), COUNT, 'every request was answered or closed in time (no hang)');
  t.notOk(statuses.has(500), 'no 500');
  t.ok([...statuses.keys()].filter((s) => s >= 400 && s < 500).length >= 5, 'the fuzzer reached many refusal paths');
  t.ok((statuses.get(200) ?? 0) + (statuses.get(204) ?? 0) > 50, 'and many accepted ones');
  t.equal(node.child.exitCode, null, 'the node process is still running');
  t.equal((await http(agent, 'GET', `${node.url}/admin/status`)).status, 200, 'and answers');
});

t.test('after all of that the same process still serves correctly', async (t) => {
  t.equal(node.child.exitCode, null, 'the node process has not exited');
  const put = await http(agent, 'PUT', kv('still-alive'), { headers: { 'content-type': 'application/x-check' }, body: 'yes' });
  t.equal(put.status, 204, 'PUT → 204');
  const read = await http(agent, 'GET', kv('still-alive'));
  t.equal(read.status, 200, 'GET → 200');
  t.equal(read.body.toString('utf8'), 'yes', 'the value reads back');
  t.equal(headerOf(read, 'content-type'), 'application/x-check', 'with its content type');
  const status = await http(agent, 'GET', `${node.url}/admin/status`);
  t.equal(status.status, 200, '/admin/status → 200');
  t.equal((status.json as { pid?: number }).pid, node.pid, '/admin/status pid is the spawned process');
  t.equal((status.json as { nodeId?: string }).nodeId, 'badinput', 'and its node id');
});
