/**
 * The `ringkv` CLI against real processes (SPEC.md "CLI"): `ringkv up` starts a ring and prints
 * each node's URL and PID, get/put/status talk to it, a missing key is a non-zero exit, and
 * SIGTERM to `up` stops it with status 0 and takes its node processes down with it.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pidAlive, runCli, spawnCli, START_DEADLINE_MS, STOP_GRACE_MS, tempDir, trackPid, waitExit, waitFor } from '../helpers/process.js';

const CLI_DEADLINE_MS = 20_000;

t.test('ringkv up, put, get, status, then SIGTERM stops the ring', async (t) => {
  const dir = await tempDir(t);
  const up = spawnCli(t, ['up', '--port', '0', '--dir', dir]);

  // "  node1  http://127.0.0.1:PORT  pid N" once the node answers.
  const line = /^\s*(\S+)\s+(http:\/\/127\.0\.0\.1:\d+)\s+pid (\d+)\s*$/;
  const match = await waitFor(
    () => {
      if (up.child.exitCode !== null || up.child.signalCode !== null) {
        throw new Error(`ringkv up exited (${up.child.exitCode ?? up.child.signalCode}); stderr:\n${up.logs.stderr}`);
      }
      return up.logs.stdout.map((l) => line.exec(l)).find((m) => m !== null);
    },
    START_DEADLINE_MS,
    'ringkv up to print the node URL and pid',
    50,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nstdout:\n${up.logs.stdout.join('\n')}\nstderr:\n${up.logs.stderr}`);
  });
  const [, id, url, pidText] = match;
  const nodePid = Number(pidText);
  trackPid(t, nodePid); // stopped by PID in teardown even if `up` dies first
  t.equal(id, 'node1', 'the first node is node1');
  t.match(up.logs.stderr, /waiting: 3\/3 nodes see all members alive/, 'ringkv up showed its progress on stderr, up to convergence');
  t.ok(pidAlive(nodePid), `the node process ${nodePid} is running`);
  t.not(nodePid, up.pid, 'the node runs in its own process');
  t.ok(existsSync(join(dir, 'node1')), 'the node keeps its data under --dir');

  const put = await runCli(t, ['put', 'k', 'v', '--url', url!], CLI_DEADLINE_MS);
  t.equal(put.code, 0, `ringkv put exits 0 ${put.stderr}`);

  const get = await runCli(t, ['get', 'k', '--url', url!], CLI_DEADLINE_MS);
  t.equal(get.code, 0, 'ringkv get exits 0');
  t.equal(get.stdout, 'v', 'ringkv get prints the value');
  t.match(get.stderr, /context: \S+/, 'and the context on stderr');

  const status = await runCli(t, ['status', '--url', url!], CLI_DEADLINE_MS);
  t.equal(status.code, 0, 'ringkv status exits 0');
  t.match(status.stdout, /node1/, 'ringkv status names node1');
  t.match(status.stdout, new RegExp(`pid\\s+${nodePid}\\b`), 'and the node pid that up printed');

  const members = await runCli(t, ['members', '--url', url!], CLI_DEADLINE_MS);
  t.equal(members.code, 0, `ringkv members exits 0 ${members.stderr}`);
  t.match(members.stdout, /^node\s+status\s+incarnation/, 'ringkv members prints a table');
  t.match(members.stdout, /\nnode1\s+alive\s+\d+/, 'with node1 alive');
  const membersJson = await runCli(t, ['members', '--json', '--url', url!], CLI_DEADLINE_MS);
  t.same((JSON.parse(membersJson.stdout) as Array<{ id: string }>).map((m) => m.id).sort(), ['node1', 'node2', 'node3'], 'ringkv members --json: the three members');
  const preflist = await runCli(t, ['preflist', 'k', '--json', '--url', url!], CLI_DEADLINE_MS);
  t.equal(preflist.code, 0, 'ringkv preflist exits 0');
  const list = JSON.parse(preflist.stdout) as { key: string; preferenceList: Array<{ id: string }> };
  t.equal(list.key, 'k', 'ringkv preflist --json names the key');
  t.equal(list.preferenceList.length, 3, 'and its three replicas (N=3)');
  const preflistTable = await runCli(t, ['preflist', 'k', '--url', url!], CLI_DEADLINE_MS);
  t.match(preflistTable.stdout, /\nreplica 1\s+node\d/, 'ringkv preflist prints the replicas in order');
  const noKey = await runCli(t, ['preflist', '--url', url!], CLI_DEADLINE_MS);
  t.equal(noKey.code, 64, 'ringkv preflist without KEY is a usage error');

  const missing = await runCli(t, ['get', 'missing', '--url', url!], CLI_DEADLINE_MS);
  t.not(missing.code, 0, `ringkv get of a missing key exits non-zero (${missing.code})`);
  t.equal(missing.stdout, '', 'and prints no value');
  t.match(missing.stderr, /not found/, 'it says not found');

  process.kill(up.pid, 'SIGTERM');
  const exit = await waitExit(up.child, STOP_GRACE_MS + 10_000);
  t.same(exit, { code: 0, signal: null }, 'ringkv up exits 0 on SIGTERM');
  await waitFor(() => !pidAlive(nodePid), 10_000, `node pid ${nodePid} to be gone`);
  t.throws(() => process.kill(nodePid, 0), { code: 'ESRCH' }, 'the node process is gone (kill(pid, 0) → ESRCH)');
});

t.test('ringkv get against no node exits non-zero with a clear error', async (t) => {
  // A port nothing listens on: bind one, note it, close it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const result = await runCli(t, ['get', 'k', '--url', `http://127.0.0.1:${port}`, '--timeout-ms', '2000'], CLI_DEADLINE_MS);
  t.equal(result.code, 1, 'exit status 1');
  t.match(result.stderr, /KV_ERR_UNREACHABLE/, 'the error names KV_ERR_UNREACHABLE');
});
