// Access checks of the HTTP routes through app.request() (no socket): the admin token on
// admin-only routes, client tokens with grants on /kv/, read-only routes under --auth-file,
// and the peer-certificate rule of /internal/. Real-socket tests: test/security/.
import t from 'tap';
import { pino } from 'pino';
import { testConfig, validateConfig } from '../config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { assemble } from '../node.js';
import { tokenDigest } from '../access/bearer.js';
import { parseAuthFile, type TokenTable } from '../access/client-tokens.js';

const ADMIN = 'unit-admin-token-0123456789';
const digest = (token: string) => tokenDigest(token).toString('hex');

function makeApp(options: { tokens?: TokenTable; peerCertificateRequired?: boolean } = {}) {
  const config = validateConfig({ adminToken: ADMIN }, testConfig);
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const access = { adminToken: ADMIN, clientTokens: () => options.tokens, peerCertificateRequired: options.peerCertificateRequired ?? false };
  const { app } = assemble(config, 'http://node.test', { transport, access }, pino({ level: 'silent' }), () => 1_000, new MemoryStore({ nowMs: Date.now }));
  const call = (method: string, path: string, token?: string, body?: string) =>
    app.request(path, { method, ...(body === undefined ? {} : { body }), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { app, call };
}

async function codeOf(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { error?: { code?: string } }).error?.code;
}

t.test('admin-only routes need the admin token; read-only ones stay open without --auth-file', async (t) => {
  const { call } = makeApp();
  const adminOnly: Array<[string, string]> = [
    ['POST', '/admin/leave'],
    ['POST', '/admin/remove?id=x'],
    ['POST', '/admin/transfers?action=pause'],
    ['POST', '/admin/anti-entropy'],
    ['POST', '/admin/anything-new'],
    ['GET', '/admin/local/k'],
    ['HEAD', '/admin/local/k'],
    ['POST', '/%61dmin/transfers?action=pause'], // percent-encoded: the router would match it
  ];
  for (const [method, path] of adminOnly) {
    for (const token of [undefined, 'wrong-token-0123456789', `${ADMIN}x`]) {
      const res = await call(method, path, token);
      t.equal(res.status, 401, `${method} ${path} with ${token === undefined ? 'no' : 'a wrong'} token → 401`);
      if (method !== 'HEAD') t.equal(await codeOf(res), 'KV_ERR_UNAUTHORIZED');
      t.equal(res.headers.get('www-authenticate'), 'Bearer realm="ringkv"');
    }
  }
  const status = await call('GET', '/admin/transfers');
  t.same(await status.json(), { pending: 0, handedOff: 0, paused: false, waiting: 0 }, 'no refused request paused the transfers');
  t.equal((await call('POST', '/admin/transfers?action=pause', ADMIN)).status, 200, 'with the admin token it works');
  t.equal((await call('GET', '/admin/local/k', ADMIN)).status, 404, '/admin/local with the token reaches the route');
  for (const path of ['/admin/status', '/admin/members', '/admin/ring', '/admin/preflist/k', '/metrics']) {
    t.equal((await call('GET', path)).status, 200, `GET ${path} is open without client auth`);
  }
  t.equal((await call('PUT', '/kv/k', undefined, 'v')).status, 204, '/kv/ is open without client auth');
});

t.test('with client tokens: 401 unknown or missing, 403 not granted, granted works', async (t) => {
  const tokens = parseAuthFile(JSON.stringify({
    tokens: [
      { name: 'app', sha256: digest('app-token'), grants: [{ prefix: 'cart/', ops: ['read', 'write'] }, { prefix: 'pub/', ops: ['read'] }] },
      { name: 'nothing', sha256: digest('nothing-token'), grants: [] },
    ],
  }));
  const { app, call } = makeApp({ tokens });
  const cases: Array<[method: string, path: string, token: string | undefined, status: number, code?: string]> = [
    ['PUT', '/kv/cart%2F1', undefined, 401, 'KV_ERR_UNAUTHORIZED'],
    ['PUT', '/kv/cart%2F1', 'unknown-token', 401, 'KV_ERR_UNAUTHORIZED'],
    ['GET', '/kv/cart%2F1', undefined, 401, 'KV_ERR_UNAUTHORIZED'],
    ['PUT', '/kv/cart%2F1', 'app-token', 204],
    ['GET', '/kv/cart%2F1', 'app-token', 200],
    ['DELETE', '/kv/cart%2F1', 'app-token', 204],
    ['PUT', '/kv/other', 'app-token', 403, 'KV_ERR_FORBIDDEN'],
    ['GET', '/kv/other', 'app-token', 403, 'KV_ERR_FORBIDDEN'],
    ['GET', '/kv/pub%2Fx', 'app-token', 404, 'KV_ERR_NOT_FOUND'],
    ['PUT', '/kv/pub%2Fx', 'app-token', 403, 'KV_ERR_FORBIDDEN'],
    ['DELETE', '/kv/pub%2Fx', 'app-token', 403, 'KV_ERR_FORBIDDEN'],
    ['GET', '/kv/cart%2F1', 'nothing-token', 403, 'KV_ERR_FORBIDDEN'],
    ['PUT', '/kv/anything', ADMIN, 204], // the admin token may do everything
    ['GET', '/kv/%ZZ', 'app-token', 400, 'KV_ERR_BAD_KEY'], // authenticated, malformed key: the route's 400
    ['POST', '/kv/cart%2F1', 'app-token', 405, 'KV_ERR_METHOD_NOT_ALLOWED'],
    ['GET', '/admin/status', undefined, 401, 'KV_ERR_UNAUTHORIZED'],
    ['GET', '/metrics', 'unknown-token', 401, 'KV_ERR_UNAUTHORIZED'],
    ['GET', '/admin/ring', 'nothing-token', 200], // any valid client token reads the ring (key-aware routing)
    ['GET', '/metrics', ADMIN, 200],
    ['POST', '/admin/transfers?action=pause', 'app-token', 401, 'KV_ERR_UNAUTHORIZED'], // a client token is not the admin token
  ];
  for (const [method, path, token, status, code] of cases) {
    const res = await call(method, path, token, method === 'PUT' ? 'v' : undefined);
    t.equal(res.status, status, `${method} ${path} with ${token ?? 'no token'} → ${status}`);
    if (code !== undefined) t.equal(await codeOf(res), code, code);
  }
  const refused = await app.request('/kv/cart%2F2', { method: 'PUT', body: 'v', headers: { authorization: 'Bearer unknown-token', 'content-length': '1' } });
  t.equal(refused.headers.get('connection'), 'close', 'a refused request with a body closes the connection');
  t.equal((await call('GET', '/kv/cart%2F2', 'app-token')).status, 404, 'the refused write changed nothing');
});

t.test('/internal/ needs a verified peer certificate when --tls-ca is set', async (t) => {
  const { call } = makeApp({ peerCertificateRequired: true });
  const res = await call('POST', '/internal/batch', undefined, 'x');
  t.equal(res.status, 401);
  t.equal(await codeOf(res), 'KV_ERR_UNAUTHORIZED');
  t.match(((await makeApp({ peerCertificateRequired: true }).call('POST', '/internal/members', undefined, '{}')).status), 401);
  const open = makeApp();
  t.not((await open.call('POST', '/internal/batch', undefined, 'x')).status, 200, 'without the rule the signature check still refuses');
});
