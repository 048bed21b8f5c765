/**
 * Start-up failures of `ringkv node` (SPEC.md "What bad input gets": a corrupt database file at
 * start-up; main.ts: start-up failures print one clear line to stderr and exit with status 2).
 * Each case runs the real process to its exit within a deadline.
 */
import t from 'tap';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeArgs, runCli, spawnNode, tempDir } from '../helpers/process.js';

const EXIT_DEADLINE_MS = 20_000;

t.test('a garbage ringkv.db → exit 2, KV_ERR_STORAGE_CORRUPT, file left as it was', async (t) => {
  const dir = await tempDir(t);
  const garbage = Buffer.concat([Buffer.from('this is not an SQLite database\n'), randomBytes(64 * 1024)]);
  await writeFile(join(dir, 'ringkv.db'), garbage);
  const result = await runCli(t, nodeArgs({ dir }), EXIT_DEADLINE_MS);
  t.same({ code: result.code, signal: result.signal }, { code: 2, signal: null }, 'exit status 2');
  t.match(result.stderr, /KV_ERR_STORAGE_CORRUPT/, 'stderr names KV_ERR_STORAGE_CORRUPT');
  t.notMatch(result.stdout, /node started/, 'the node never started');
  t.ok((await readFile(join(dir, 'ringkv.db'))).equals(garbage), 'the refused file is not modified (nothing lost)');
});

t.test('--dir under a regular file → exit 2, KV_ERR_DATA_DIR', async (t) => {
  const base = await tempDir(t);
  const file = join(base, 'plain-file');
  await writeFile(file, 'not a directory');
  for (const withSecret of [true, false]) {
    // Without --secret the node first tries to keep a generated secret in the directory.
    const args = nodeArgs({ dir: join(file, 'data'), ...(withSecret ? {} : { secret: '' }) });
    const result = await runCli(t, args, EXIT_DEADLINE_MS, { RINGKV_SECRET: '' });
    t.same({ code: result.code, signal: result.signal }, { code: 2, signal: null }, `exit status 2 (${withSecret ? 'with' : 'without'} --secret)`);
    t.match(result.stderr, /KV_ERR_DATA_DIR/, `stderr names KV_ERR_DATA_DIR (${withSecret ? 'with' : 'without'} --secret)`);
  }
  t.equal(await readFile(file, 'utf8'), 'not a directory', 'the file in the way is untouched');
});

t.test('an invalid --id → exit 2, KV_ERR_CONFIG, nothing written', async (t) => {
  const dir = await tempDir(t);
  const result = await runCli(t, nodeArgs({ dir, id: 'bad id!' }), EXIT_DEADLINE_MS);
  t.same({ code: result.code, signal: result.signal }, { code: 2, signal: null }, 'exit status 2');
  t.match(result.stderr, /KV_ERR_CONFIG/, 'stderr names KV_ERR_CONFIG');
  t.match(result.stderr, /nodeId/, 'stderr names the bad field');
  t.same(readdirSync(dir), [], 'no database was created for a config that is refused');
});

t.test('a port already in use → exit 2', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as AddressInfo).port;

  const dir = await tempDir(t);
  const result = await runCli(t, nodeArgs({ dir, port }), EXIT_DEADLINE_MS);
  t.same({ code: result.code, signal: result.signal }, { code: 2, signal: null }, 'exit status 2');
  t.match(result.stderr, /cannot listen|EADDRINUSE/, 'stderr says the port cannot be listened on');
  t.notMatch(result.stdout, /node started/, 'the node never started');

  // The failed start released the database: a node on an OS-chosen port opens the same dir.
  const node = await spawnNode(t, { dir });
  t.ok(node.url.startsWith('http://127.0.0.1:'), 'the same directory serves after the port is free of conflict');
  t.ok(existsSync(join(dir, 'ringkv.db')), 'the database exists');
});
