/**
 * `--secret-file` (issue #18): the cluster secret read from a file stays out of the process's
 * argv (`ps`), keys the node's internal authentication, and a file other users can read is
 * refused at start-up (exit 2), as is giving --secret and --secret-file together (usage).
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveKeys, helloNode, signRequest } from '@ringkv/node';
import { errorCode, http, httpAgent, nodeArgs, runCli, spawnNode, tempDir } from '../helpers/process.js';

t.setTimeout(60_000);
const SECRET = 'from-a-file-9d41c0e2b7';

t.test('the secret comes from the file, not argv; it keys internal authentication', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cluster-secret.txt');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  const node = await spawnNode(t, { secret: '', env: { RINGKV_SECRET: '' }, extraArgs: ['--secret-file', file] });
  const argv = readFileSync(`/proc/${node.pid}/cmdline`, 'utf8');
  t.notOk(argv.includes(SECRET), 'the secret is not in the process arguments');
  t.ok(argv.includes(file), 'only the file name is');
  const agent = httpAgent(t);
  const body = Buffer.from('not a batch');
  // The receiver (id, boot epoch) is learned with the right secret; the request is then signed
  // with the internal key derived from `secret`.
  const receiver = await helloNode(node.url, SECRET, 'peer');
  const send = (secret: string) =>
    http(agent, 'POST', `${node.url}/internal/batch`, { headers: { 'content-type': 'application/octet-stream', ...signRequest(deriveKeys(secret).internal, 'peer', receiver, '/internal/batch', body, Date.now()) }, body });
  t.equal(errorCode(await send('some-other-secret')), 'KV_ERR_UNAUTHORIZED', 'a request signed with another secret → 401');
  t.equal(errorCode(await send(SECRET)), 'KV_ERR_BAD_REQUEST', 'signed with the file\'s secret it passes authentication (400: not a batch)');
});

t.test('a world-readable secret file, or --secret with --secret-file, is refused', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'open-secret.txt');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o644 });
  const exposed = await runCli(t, nodeArgs({ dir: join(dir, 'data'), secret: '', extraArgs: ['--secret-file', file] }), 20_000, { RINGKV_SECRET: '' });
  t.equal(exposed.code, 2, 'exit 2');
  t.match(exposed.stderr.trim(), /^ringkv: cannot start: KV_ERR_CONFIG: cannot use .*open-secret\.txt \(secretFile\): other users can access it \(mode 644\); run chmod 600 /);
  const both = await runCli(t, nodeArgs({ dir: join(dir, 'data2'), extraArgs: ['--secret-file', file] }));
  t.equal(both.code, 64, '--secret and --secret-file together is a usage error');
  t.match(both.stderr, /give --secret or --secret-file, not both/);
});
