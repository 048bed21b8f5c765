/**
 * docs/client.md and the README's "from code" snippet show the files under
 * test/docs/client-examples/ verbatim (each block is preceded by `<!-- example: PATH -->`), and
 * this test runs every one of those files against real node processes: a 3-node ring (N=3), and
 * one node with TLS and client tokens. The doc cannot show code that is not run here.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode, tempDir } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';
import { makeCa, makeNodeCert } from '../helpers/tls-certs.js';
import { quickstart } from './client-examples/quickstart.js';
import { basics } from './client-examples/basics.js';
import { siblings } from './client-examples/siblings.js';
import { counter } from './client-examples/counter.js';
import { errors } from './client-examples/errors.js';
import { abort } from './client-examples/abort.js';
import { getMany } from './client-examples/get-many.js';
import { secure } from './client-examples/secure.js';
import { listKeys } from './client-examples/list-keys.js';
import { watch } from './client-examples/watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examplesDir = 'test/docs/client-examples';
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every `<!-- example: PATH -->` followed by a ts block: [path, block]. */
function includedBlocks(markdown: string): Array<[string, string]> {
  return [...markdown.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]);
}

t.test('the docs show the example files verbatim, and every example file is shown', async (t) => {
  const doc = includedBlocks(read('docs/client.md'));
  const readme = includedBlocks(read('README.md'));
  t.ok(readme.some(([path]) => path === `${examplesDir}/quickstart.ts`), "the README's snippet is the quickstart example");
  for (const [path, block] of [...doc, ...readme]) t.equal(block, read(path), `the block of ${path} is the file`);
  const shown = new Set(doc.map(([path]) => path));
  for (const file of readdirSync(join(root, examplesDir))) t.ok(shown.has(`${examplesDir}/${file}`), `docs/client.md shows ${file}`);
});

t.test('the examples run against a real 3-node ring', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const urls = ring.map((node) => node.url);
  t.same(await quickstart(urls), { before: { items: ['apple'] }, after: { items: ['apple', 'pear'] } }, 'quickstart');
  t.same(await basics(urls), { text: 'hello', last: 'hi all', found: false }, 'basics');
  t.same(await siblings(urls), { before: 2, decoded: 2, after: 1, value: ['blue', 'red'] }, 'siblings');
  t.same(await counter(urls), { acknowledged: 20, total: 20 }, 'counter: every increment counted');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const closedPort = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  t.same(await errors(urls, `http://127.0.0.1:${closedPort}`), ['written', 'not-written'], 'errors');
  t.same(await abort(urls), { read: 'ready', cancelled: 'AbortError KV_ERR_ABORTED' }, 'abort');
  t.same(await getMany(urls), ['ada', 'grace', 'missing', 'KV_ERR_BAD_KEY'], 'getMany');
  t.same(await listKeys(urls), { first: { keys: ['order:1', 'order:2'], next: 'order:2' }, all: ['order:1', 'order:2', 'order:3'] }, 'list and listAll');
  t.same(await watch(urls), ['open', '(deleted)'], 'watch');
});

t.test('the TLS and token example runs against a node with --tls-* and --auth-file', async (t) => {
  const dir = await tempDir(t);
  const ca = makeCa(dir);
  const cert = makeNodeCert(dir, ca, 'node1');
  const token = 'app-token-0123456789';
  const authFile = join(dir, 'auth.json');
  const sha256 = createHash('sha256').update(token).digest('hex');
  writeFileSync(authFile, JSON.stringify({ tokens: [{ name: 'app', sha256, grants: [{ prefix: 'app/', ops: ['read', 'write'] }] }] }), { mode: 0o600 });
  const node = await spawnNode(t, { extraArgs: ['--tls-cert', cert.cert, '--tls-key', cert.key, '--tls-ca', ca.cert, '--auth-file', authFile] });
  t.match(node.url, /^https:/);
  t.same(await secure([node.url], ca.cert, token), { value: 'v1', denied: 'KV_ERR_FORBIDDEN' }, 'secure');
});
