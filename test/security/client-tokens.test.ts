/**
 * Client tokens against a real process (issue #18 acceptance): with --auth-file, /kv/ needs a
 * token: no token or an unknown one 401, a key or an operation not granted 403, granted ones
 * work, through raw HTTP, the client library and the CLI. SIGHUP reloads the grants without a
 * restart; a bad file on reload keeps the old grants. A bad file at start-up exits 2.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { RingkvClient } from '@ringkv/client';
import { DEFAULT_ADMIN_TOKEN, errorCode, http, httpAgent, nodeArgs, pidAlive, runCli, spawnNode, tempDir, waitFor } from '../helpers/process.js';

t.setTimeout(120_000);
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
const APP = 'app-token-1f0c9e';
const READER = 'reader-token-77aa';

function authFile(grants: Record<string, Array<{ prefix: string; ops: string[] }>>): string {
  const tokens = Object.entries(grants).map(([token, list]) => ({ name: token.split('-')[0], sha256: sha256(token), grants: list }));
  return JSON.stringify({ tokens }, null, 2);
}

const firstGrants = { [APP]: [{ prefix: 'cart/', ops: ['read', 'write'] }], [READER]: [{ prefix: 'cart/', ops: ['read'] }] };

t.test('401 without a known token, 403 not granted, granted works; SIGHUP reloads', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'auth.json');
  writeFileSync(file, authFile(firstGrants));
  const node = await spawnNode(t, { extraArgs: ['--auth-file', file] });
  const agent = httpAgent(t);
  const kv = (key: string, method: 'GET' | 'PUT' | 'DELETE', token?: string) =>
    http(agent, method, `${node.url}/kv/${encodeURIComponent(key)}`, {
      headers: { 'content-type': 'text/plain', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      ...(method === 'PUT' ? { body: `by ${token ?? 'nobody'}` } : {}),
    });
  const cases: Array<[key: string, method: 'GET' | 'PUT' | 'DELETE', token: string | undefined, status: number, code?: string]> = [
    ['cart/1', 'PUT', undefined, 401, 'KV_ERR_UNAUTHORIZED'],
    ['cart/1', 'GET', undefined, 401, 'KV_ERR_UNAUTHORIZED'],
    ['cart/1', 'PUT', 'unknown-token', 401, 'KV_ERR_UNAUTHORIZED'],
    ['cart/1', 'PUT', sha256(APP), 401, 'KV_ERR_UNAUTHORIZED'], // the digest in the file is not a token
    ['cart/1', 'PUT', APP, 204],
    ['cart/1', 'GET', APP, 200],
    ['cart/1', 'GET', READER, 200],
    ['cart/1', 'PUT', READER, 403, 'KV_ERR_FORBIDDEN'], // operation not granted
    ['cart/1', 'DELETE', READER, 403, 'KV_ERR_FORBIDDEN'],
    ['orders/1', 'PUT', APP, 403, 'KV_ERR_FORBIDDEN'], // key not granted
    ['orders/1', 'GET', APP, 403, 'KV_ERR_FORBIDDEN'],
    ['orders/1', 'PUT', DEFAULT_ADMIN_TOKEN, 204], // the admin token may do everything
  ];
  for (const [key, method, token, status, code] of cases) {
    const answer = await kv(key, method, token);
    t.equal(answer.status, status, `${method} ${key} with ${token === undefined ? 'no token' : token.slice(0, 12)} → ${status}`);
    if (code !== undefined) t.equal(errorCode(answer), code, code);
  }
  t.equal((await kv('cart/1', 'GET', APP)).body.toString(), `by ${APP}`, 'the refused writes changed nothing');

  // Read-only admin routes and /metrics need a token now; health probes would not.
  const open = await request(`${node.url}/admin/status`, { dispatcher: agent });
  t.equal(open.statusCode, 401, '/admin/status without a token → 401 under --auth-file');
  await open.body.dump();
  t.equal((await http(agent, 'GET', `${node.url}/admin/status`, { headers: { authorization: `Bearer ${READER}` } })).status, 200, 'with a client token → 200');
  t.equal((await http(agent, 'GET', `${node.url}/metrics`, { headers: { authorization: `Bearer ${READER}` } })).status, 200, '/metrics with a client token → 200');
  const metrics = (await http(agent, 'GET', `${node.url}/metrics`, { headers: { authorization: `Bearer ${DEFAULT_ADMIN_TOKEN}` } })).body.toString();
  t.match(metrics, /ringkv_access_refused_total\{area="kv",code="KV_ERR_FORBIDDEN"[^}]*\} 4/, 'refusals are counted by area and code');

  // The client library and the CLI send tokens.
  const client = new RingkvClient({ urls: [node.url], token: APP });
  t.teardown(() => client.close());
  await client.put('cart/lib', 'from the library');
  t.equal(Buffer.from((await client.get('cart/lib')).value!).toString(), 'from the library', 'the client library with a token');
  const noToken = new RingkvClient({ urls: [node.url] });
  t.teardown(() => noToken.close());
  await t.rejects(noToken.get('cart/lib'), { code: 'KV_ERR_UNAUTHORIZED', status: 401 }, 'the client library without a token gets 401');
  await t.rejects(client.put('orders/lib', 'x'), { code: 'KV_ERR_FORBIDDEN', status: 403 }, 'and 403 outside its grants');
  const cliPut = await runCli(t, ['put', 'cart/cli', 'from the cli', '--url', node.url, '--token', APP]);
  t.equal(cliPut.code, 0, `ringkv put --token: ${cliPut.stderr}`);
  const cliGet = await runCli(t, ['get', 'cart/cli', '--url', node.url], 20_000, { RINGKV_TOKEN: READER, RINGKV_ADMIN_TOKEN: '' });
  t.equal(cliGet.stdout, 'from the cli', 'ringkv get with RINGKV_TOKEN');
  const cliDenied = await runCli(t, ['put', 'cart/cli', 'x', '--url', node.url], 20_000, { RINGKV_TOKEN: READER, RINGKV_ADMIN_TOKEN: '' });
  t.equal(cliDenied.code, 1, 'ringkv put outside the grants fails');
  t.match(cliDenied.stderr, /KV_ERR_FORBIDDEN/);
  const cliStatus = await runCli(t, ['status', '--url', node.url, '--token', READER], 20_000, { RINGKV_ADMIN_TOKEN: '' });
  t.equal(cliStatus.code, 0, `ringkv status --token under --auth-file: ${cliStatus.stderr}`);

  // SIGHUP: the reader may now write orders/, nothing else changes, same process.
  writeFileSync(file, authFile({ ...firstGrants, [READER]: [{ prefix: 'cart/', ops: ['read'] }, { prefix: 'orders/', ops: ['write'] }] }));
  process.kill(node.pid, 'SIGHUP');
  await waitFor(async () => (await kv('orders/2', 'PUT', READER)).status === 204, 10_000, 'the reloaded grant to apply');
  t.pass('after SIGHUP the new grant applies');
  t.equal((await kv('cart/1', 'PUT', READER)).status, 403, 'and what was not granted still is not');
  t.ok(pidAlive(node.pid), 'without a restart');

  // A bad file on reload: an error in the log, the grants in force stay.
  const reloadsBefore = node.logs.stdout.filter((line) => line.includes('auth file not reloaded')).length;
  writeFileSync(file, '{"tokens": [{"name": "broken"');
  process.kill(node.pid, 'SIGHUP');
  await waitFor(() => node.logs.stdout.filter((line) => line.includes('auth file not reloaded')).length > reloadsBefore, 10_000, 'the reload error in the log');
  t.pass('a bad file on reload is logged as an error');
  t.equal((await kv('orders/3', 'PUT', READER)).status, 204, 'the previous grants stay in force');
  t.equal((await kv('cart/1', 'GET', APP)).status, 200);
  t.equal((await kv('cart/1', 'GET', 'unknown-token')).status, 401);
  t.ok(pidAlive(node.pid), 'and the node keeps running');
});

t.test('a bad auth file at start-up: exit 2 with a one-line reason', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[name: string, content: string | undefined, reason: RegExp]> = [
    ['missing file', undefined, /cannot read the auth file/],
    ['not JSON', '{', /is not JSON/],
    ['a typo in a field', JSON.stringify({ tokens: [{ name: 'a', sha256: sha256('a'), grant: [] }] }), /tokens\[0\] has unknown field "grant"/],
    ['an unknown operation', JSON.stringify({ tokens: [{ name: 'a', sha256: sha256('a'), grants: [{ prefix: '', ops: ['admin'] }] }] }), /only "read" and "write" exist/],
  ];
  for (const [name, content, reason] of cases) {
    const file = join(dir, `${name.replace(/\W/g, '-')}.json`);
    if (content !== undefined) writeFileSync(file, content);
    const run = await runCli(t, nodeArgs({ dir: join(dir, `data-${name.replace(/\W/g, '-')}`), extraArgs: ['--auth-file', file] }));
    t.equal(run.code, 2, `${name}: exit 2`);
    const lines = run.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${name}: one line`);
    t.match(lines[0], /^ringkv: cannot start: KV_ERR_CONFIG: /, `${name}: coded`);
    t.match(lines[0], reason, `${name}: says why`);
  }
});
