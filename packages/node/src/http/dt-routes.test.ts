// The /dt/ routes under client tokens (--auth-file): guarded as /kv/ is, a POST being a write,
// so a data type is no way around a token's grants (http/access.ts).
import t from 'tap';
import { pino } from 'pino';
import { testConfig, validateConfig } from '../config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
import { assemble } from '../node.js';
import { tokenDigest } from '../access/bearer.js';
import { parseAuthFile } from '../access/client-tokens.js';

const ADMIN = 'unit-admin-token-0123456789';
const digest = (token: string) => tokenDigest(token).toString('hex');

t.test('client tokens and grants apply to /dt/ as to /kv/', async (t) => {
  const tokens = parseAuthFile(JSON.stringify({
    tokens: [{ name: 'app', sha256: digest('app-token'), grants: [{ prefix: 'cart/', ops: ['read', 'write'] }, { prefix: 'pub/', ops: ['read'] }] }],
  }));
  const config = validateConfig({ adminToken: ADMIN }, testConfig);
  const transport = new MemoryTransport(new MemoryNetwork(), config.nodeId);
  const access = { adminToken: ADMIN, clientTokens: () => tokens, peerCertificateRequired: false };
  const { app } = assemble(config, 'http://node.test', { transport, access }, pino({ level: 'silent' }), () => 1_000, new MemoryStore({ nowMs: () => 1_000 }));
  const cases: Array<[method: string, path: string, token: string | undefined, status: number]> = [
    ['POST', '/dt/cart%2F1', undefined, 401],
    ['POST', '/dt/cart%2F1', 'unknown-token', 401],
    ['POST', '/dt/cart%2F1', 'app-token', 200],
    ['GET', '/dt/cart%2F1', 'app-token', 200],
    ['POST', '/dt/pub%2Fx', 'app-token', 403],
    ['GET', '/dt/pub%2Fx', 'app-token', 404],
    ['POST', '/dt/other', 'app-token', 403],
    ['GET', '/dt/other', 'app-token', 403],
    ['POST', '/dt/other', ADMIN, 200],
  ];
  for (const [method, path, token, status] of cases) {
    const res = await app.request(path, { method, ...(method === 'POST' ? { body: '{"increment":1}' } : {}), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    t.equal(res.status, status, `${method} ${path} with ${token ?? 'no token'} → ${status}`);
  }
  const read = await app.request('/dt/cart%2F1', { headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(((await read.json()) as { value: number }).value, 1, 'only the granted increment was applied');
});
