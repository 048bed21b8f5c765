/**
 * The admin token against real processes (issue #18 acceptance): every admin mutation and
 * /admin/local without the token, or with a wrong one, is 401 KV_ERR_UNAUTHORIZED and changes
 * nothing (the node keeps serving, no leave, no pause); with the token they work. A node given
 * no token generates one into <dir>/admin-token (0600) and reuses it on restart; the data
 * directory is 0700 and the database 0600; the CLI finds the token of `ringkv up`'s ring.
 */
import t from 'tap';
import { request, type Dispatcher } from 'undici';
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE } from '@ringkv/node';
import { DEFAULT_ADMIN_TOKEN, errorCode, http, httpAgent, pidAlive, runCli, spawnCli, spawnNode, stopByPid, tempDir, trackPid, waitExit, waitFor } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';

t.setTimeout(240_000);
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A request with no Authorization header at all (the helpers' http() adds the admin token). */
async function bare(dispatcher: Dispatcher, method: 'GET' | 'POST', url: string): Promise<{ status: number; code: string | undefined }> {
  const response = await request(url, { dispatcher, method, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = (await response.body.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return { status: response.statusCode, code: body?.error?.code };
}

t.test('admin mutations and /admin/local: 401 without the right token, nothing changes; with it they work', async (t) => {
  const ring = await startRing(t, { nodes: 2, n: 2 });
  const [stays, leaver] = ring as [(typeof ring)[0], (typeof ring)[0]];
  const agent = httpAgent(t);
  const put = await http(agent, 'PUT', `${leaver.url}/kv/secret-key?w=2`, { headers: { 'content-type': 'text/plain' }, body: 'private' });
  t.equal(put.status, 204, 'a key is written');

  const mutations = ['/admin/leave', '/admin/remove?id=node1', '/admin/transfers?action=pause', '/admin/anti-entropy', '/admin/not-a-route'];
  for (const path of mutations) t.same(await bare(agent, 'POST', `${leaver.url}${path}`), { status: 401, code: 'KV_ERR_UNAUTHORIZED' }, `POST ${path} without Authorization → 401`);
  t.same(await bare(agent, 'GET', `${leaver.url}/admin/local/secret-key`), { status: 401, code: 'KV_ERR_UNAUTHORIZED' }, 'GET /admin/local without Authorization → 401');
  const wrong: Array<[string, Record<string, string>]> = [
    ['an empty Authorization header', { authorization: '' }],
    ['a wrong token', bearer('not-the-admin-token-000')],
    ['the token with a character changed', bearer(`${DEFAULT_ADMIN_TOKEN.slice(0, -1)}X`)],
    ['another scheme', { authorization: `Basic ${Buffer.from(`admin:${DEFAULT_ADMIN_TOKEN}`).toString('base64')}` }],
  ];
  for (const [label, headers] of wrong) {
    for (const path of mutations) {
      const answer = await http(agent, 'POST', `${leaver.url}${path}`, { headers });
      t.equal(answer.status, 401, `POST ${path} with ${label} → 401`);
      t.equal(errorCode(answer), 'KV_ERR_UNAUTHORIZED', 'KV_ERR_UNAUTHORIZED');
    }
    const local = await http(agent, 'GET', `${leaver.url}/admin/local/secret-key`, { headers });
    t.equal(local.status, 401, `GET /admin/local with ${label} → 401`);
    t.notOk(local.body.toString().includes(Buffer.from('private').toString('base64')), 'and the stored value is not in the answer');
  }
  // Nothing changed: the node still serves, did not leave, did not pause its transfers.
  t.ok(pidAlive(leaver.pid), 'the node process is still running');
  const status = (await http(agent, 'GET', `${leaver.url}/admin/status`)).json as { pid: number; ringSize: number; members: { alive: number }; transfers: { paused: boolean } };
  t.match(status, { pid: leaver.pid, ringSize: 2, members: { alive: 2 }, transfers: { paused: false } }, '/admin/status: same process, both members alive, transfers not paused');
  const members = (await http(agent, 'GET', `${stays.url}/admin/members`)).json as Array<{ id: string; status: string }>;
  t.same(members.map((m) => `${m.id}:${m.status}`).sort(), ['node1:alive', 'node2:alive'], 'the other node sees no leave');
  t.equal((await http(agent, 'GET', `${leaver.url}/kv/secret-key`)).body.toString(), 'private', 'the key reads as before');

  // With the token: each works.
  const local = await http(agent, 'GET', `${leaver.url}/admin/local/secret-key`);
  t.equal(local.status, 200, 'GET /admin/local with the token → 200');
  const paused = await http(agent, 'POST', `${leaver.url}/admin/transfers?action=pause`);
  t.match(paused.json, { paused: true }, 'transfers pause with the token');
  t.match((await http(agent, 'POST', `${leaver.url}/admin/transfers?action=resume`)).json, { paused: false }, 'and resume');
  t.equal((await http(agent, 'POST', `${leaver.url}/admin/anti-entropy`)).status, 200, 'anti-entropy with the token → 200');
  const remove = await http(agent, 'POST', `${leaver.url}/admin/remove?id=node1`);
  t.equal(errorCode(remove), 'KV_ERR_BAD_REQUEST', 'remove with the token reaches the route (node1 is alive, so it is refused there)');
  const leave = await http(agent, 'POST', `${leaver.url}/admin/leave`);
  t.equal(leave.status, 202, 'leave with the token → 202');
  const exit = await waitExit(leaver.child, 60_000);
  t.same(exit, { code: 0, signal: null }, 'and the node hands off and exits');
  t.equal((await http(agent, 'GET', `${stays.url}/kv/secret-key?r=1`)).body.toString(), 'private', 'its data lives on');
});

t.test('no token given: generated into <dir>/admin-token (0600), reused on restart; dir 0700, database 0600', async (t) => {
  const dir = join(await tempDir(t), 'fresh-node'); // created by the node itself
  const env = { RINGKV_ADMIN_TOKEN: '' };
  const first = await spawnNode(t, { dir, env });
  const tokenFile = join(dir, 'admin-token');
  const token = readFileSync(tokenFile, 'utf8').trim();
  t.match(token, /^[A-Za-z0-9_-]{43}$/, 'a random 256-bit token');
  t.equal(mode(tokenFile), '600', 'admin-token is 0600');
  t.equal(mode(dir), '700', 'the data directory is 0700');
  const agent = httpAgent(t);
  t.equal((await http(agent, 'PUT', `${first.url}/kv/k`, { body: 'v' })).status, 204);
  for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) t.equal(mode(join(dir, file)), '600', `${file} is 0600`);
  t.notOk(existsSync(join(dir, `${DATABASE_FILE}-shm`)), 'no -shm file: the node holds its database alone (docs/storage.md)');
  t.equal((await http(agent, 'POST', `${first.url}/admin/transfers?action=pause`)).status, 401, 'the helpers\' token is not this node\'s');
  t.equal((await http(agent, 'POST', `${first.url}/admin/transfers?action=pause`, { headers: bearer(token) })).status, 200, 'the generated one works');

  await stopByPid(first.pid);
  const again = await spawnNode(t, { dir, env });
  t.equal(readFileSync(tokenFile, 'utf8').trim(), token, 'a restart keeps the token file');
  t.equal((await http(agent, 'POST', `${again.url}/admin/transfers?action=resume`, { headers: bearer(token) })).status, 200, 'and the same token works');
});

t.test('the CLI sends the token: ringkv up keeps one for its nodes, admin commands find it with --dir', async (t) => {
  const dir = join(await tempDir(t), 'ring');
  const env = { RINGKV_ADMIN_TOKEN: '' };
  const up = spawnCli(t, ['up', '--nodes', '1', '--port', '0', '--dir', dir], env);
  const urlLine = /^\s+node1\s+(http:\/\/\S+)\s+pid (\d+)/;
  const match = await waitFor(() => {
    if (up.child.exitCode !== null) throw new Error(`ringkv up exited: ${up.logs.stderr}`);
    return up.logs.stdout.map((line) => urlLine.exec(line)).find((m) => m !== null);
  }, 60_000, 'ringkv up to print the node');
  trackPid(t, Number(match[2]));
  const url = match[1]!;
  const tokenFile = join(dir, 'admin-token');
  t.ok(up.logs.stdout.some((line) => line.startsWith('admin token: ') && line.includes(tokenFile)), 'ringkv up prints where the token is');
  t.equal(mode(tokenFile), '600', 'the ring\'s admin-token is 0600');

  const refused = await runCli(t, ['transfers', 'pause', '--url', url, '--dir', await tempDir(t)], 20_000, env);
  t.equal(refused.code, 1, 'without a token the command fails');
  t.match(refused.stderr, /KV_ERR_UNAUTHORIZED/, 'with the 401 of the node');
  t.match(refused.stderr, /no admin token found/, 'and says where a token comes from');
  const paused = await runCli(t, ['transfers', 'pause', '--url', url, '--dir', dir], 20_000, env);
  t.equal(paused.code, 0, `ringkv transfers pause --dir finds the ring's token: ${paused.stderr}`);
  t.match(JSON.parse(paused.stdout), { paused: true });
  const ae = await runCli(t, ['anti-entropy', '--url', url, '--token', readFileSync(tokenFile, 'utf8').trim()], 20_000, env);
  t.equal(ae.code, 0, `ringkv anti-entropy --token: ${ae.stderr}`);
  const viaEnv = await runCli(t, ['transfers', 'resume', '--url', url], 20_000, { RINGKV_ADMIN_TOKEN: readFileSync(tokenFile, 'utf8').trim() });
  t.equal(viaEnv.code, 0, 'RINGKV_ADMIN_TOKEN works too');
  process.kill(up.pid, 'SIGTERM');
  t.same(await waitExit(up.child, 30_000), { code: 0, signal: null }, 'ringkv up stops');
});
