// GET /kv with client tokens (docs/listing.md, docs/security.md): a token lists only keys under
// its read grants, intersected with the prefix asked; a prefix outside every grant is 403, no
// token 401; the admin token lists everything. Through app.request() on one node.
import t from 'tap';
import { pino } from 'pino';
import { testConfig, validateConfig } from '../config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { assemble } from '../node.js';
import { tokenDigest } from '../access/bearer.js';
import { parseAuthFile } from '../access/client-tokens.js';
import { listablePrefixes } from '../access/list-grants.js';

const ADMIN = 'unit-admin-token-0123456789';
const digest = (token: string) => tokenDigest(token).toString('hex');
const tokens = parseAuthFile(JSON.stringify({
  tokens: [
    { name: 'app', sha256: digest('app-token'), grants: [{ prefix: 'cart/', ops: ['read', 'write'] }, { prefix: 'pub/a', ops: ['read'] }, { prefix: 'pub/b', ops: ['read'] }, { prefix: 'pub/bb', ops: ['read'] }, { prefix: 'priv/', ops: ['write'] }] },
  ],
}));

function makeApp() {
  const config = validateConfig({ adminToken: ADMIN }, testConfig);
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const access = { adminToken: ADMIN, clientTokens: () => tokens, peerCertificateRequired: false };
  const { app } = assemble(config, 'http://node.test', { transport, access }, pino({ level: 'silent' }), () => 1_000, new MemoryStore({ nowMs: Date.now }));
  return (path: string, token?: string, method = 'GET', body?: string) =>
    app.request(path, { method, ...(body === undefined ? {} : { body }), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
}

t.test('listablePrefixes: the prefix asked within a grant, or the grants under it, disjoint and in order', async (t) => {
  const app = tokens.values().next().value!;
  t.same(listablePrefixes(app, 'cart/x'), ['cart/x'], 'under a grant: the prefix asked');
  t.same(listablePrefixes(app, ''), ['cart/', 'pub/a', 'pub/b'], 'every read grant; pub/bb is inside pub/b; write-only priv/ is not listed');
  t.same(listablePrefixes(app, 'pub/'), ['pub/a', 'pub/b']);
  t.same(listablePrefixes(app, 'priv/'), [], 'write is not read');
  t.same(listablePrefixes(app, 'zzz'), []);
});

t.test('a token lists only its granted prefixes; outside every grant is 403; no token 401', async (t) => {
  const call = makeApp();
  const keys = ['cart/1', 'cart/2', 'pub/a1', 'pub/b1', 'pub/c1', 'priv/1', 'other'];
  for (const key of keys) t.equal((await call(`/kv/${encodeURIComponent(key)}`, ADMIN, 'PUT', 'v')).status, 204);
  const list = async (query: string, token?: string) => {
    const response = await call(`/kv?${query}`, token);
    return { status: response.status, body: (await response.json()) as { keys?: string[]; next?: string | null; error?: { code: string } } };
  };
  t.same((await list('', ADMIN)).body, { keys: [...keys].sort(), next: null }, 'the admin token lists every key');
  t.same((await list('', 'app-token')).body, { keys: ['cart/1', 'cart/2', 'pub/a1', 'pub/b1'], next: null }, 'the token: its read grants only');
  t.same((await list('prefix=pub%2F', 'app-token')).body, { keys: ['pub/a1', 'pub/b1'], next: null }, 'a prefix over several grants');
  t.same((await list('prefix=cart%2F&limit=1', 'app-token')).body, { keys: ['cart/1'], next: 'cart/1' }, 'pages within a grant');
  const paged: string[] = [];
  let after = '';
  for (let i = 0; i < 10; i++) {
    const { body } = await list(`limit=1&after=${encodeURIComponent(after)}`, 'app-token');
    paged.push(...body.keys!);
    if (body.next === null) break;
    after = body.next!;
  }
  t.same(paged, ['cart/1', 'cart/2', 'pub/a1', 'pub/b1'], 'pages of one across grants: each key once, in order');
  t.match(await list('prefix=priv%2F', 'app-token'), { status: 403, body: { error: { code: 'KV_ERR_FORBIDDEN' } } }, 'write-only grant: 403');
  t.match(await list('prefix=other', 'app-token'), { status: 403, body: { error: { code: 'KV_ERR_FORBIDDEN' } } }, 'outside every grant: 403');
  t.match(await list(''), { status: 401, body: { error: { code: 'KV_ERR_UNAUTHORIZED' } } }, 'no token: 401');
  t.match(await list('', 'wrong-token'), { status: 401, body: { error: { code: 'KV_ERR_UNAUTHORIZED' } } }, 'unknown token: 401');
});
