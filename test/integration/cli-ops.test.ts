/**
 * The CLI's read commands for scripts and its watch mode, against a real node: `get --json`,
 * `local [--json]`, `transfers status --json`, `repair` (no partners on a ring of one; an
 * unknown peer is a coded error), `status --watch` (refreshes, exits 0 on SIGINT; with --json
 * one object per line), and usage errors (one line, exit 64).
 */
import t from 'tap';
import { runCli, spawnCli, spawnNode, waitExit, waitFor } from '../helpers/process.js';

const DEADLINE_MS = 30_000;

t.test('read commands for scripts, watch, usage errors', async (t) => {
  const node = await spawnNode(t, { id: 'node1', n: 1 });
  const url = node.url;
  t.equal((await runCli(t, ['put', 'greeting', 'hello', '--url', url], DEADLINE_MS)).code, 0, 'put');

  const [get, missing] = await Promise.all([
    runCli(t, ['get', 'greeting', '--json', '--url', url], DEADLINE_MS),
    runCli(t, ['get', 'nothing-here', '--json', '--url', url], DEADLINE_MS),
  ]);
  t.equal(get.code, 0, 'get --json exits 0');
  const got = JSON.parse(get.stdout) as { key: string; found: boolean; context: string; siblings: Array<{ value: string; contentType: string }> };
  t.equal(got.key, 'greeting');
  t.equal(got.found, true);
  t.equal(Buffer.from(got.siblings[0]!.value, 'base64').toString(), 'hello', 'the value, base64');
  t.match(got.context, /^\S+$/, 'and the context');
  t.equal(missing.code, 1, 'get --json of a missing key exits 1');
  t.same(JSON.parse(missing.stdout), { key: 'nothing-here', found: false, context: null, siblings: [] }, 'and says so in JSON');

  const [local, table, noCopy, noToken] = await Promise.all([
    runCli(t, ['local', 'greeting', '--json', '--url', url], DEADLINE_MS),
    runCli(t, ['local', 'greeting', '--url', url], DEADLINE_MS),
    runCli(t, ['local', 'nothing-here', '--url', url], DEADLINE_MS),
    runCli(t, ['local', 'greeting', '--url', url, '--token', 'wrong-token'], DEADLINE_MS),
  ]);
  t.equal(local.code, 0, `local --json exits 0 ${local.stderr}`);
  const copy = JSON.parse(local.stdout) as { key: string; siblings: Array<{ value: string }> };
  t.equal(Buffer.from(copy.siblings[0]!.value, 'base64').toString(), 'hello', 'the node\'s own copy');
  t.match(table.stdout, /^0\s+text\/plain.*hello$/m, 'local prints a table of siblings');
  t.equal(noCopy.code, 1, 'local of a key the node lacks exits 1');
  t.match(noCopy.stderr, /KV_ERR_NOT_FOUND/, 'with the coded error');
  t.equal(noToken.code, 1, 'local without the admin token exits 1');
  t.match(noToken.stderr, /KV_ERR_UNAUTHORIZED/);

  const [transfers, repair, unknown] = await Promise.all([
    runCli(t, ['transfers', 'status', '--json', '--url', url], DEADLINE_MS),
    runCli(t, ['repair', '--url', url], DEADLINE_MS),
    runCli(t, ['anti-entropy', '--peer', 'node9', '--url', url], DEADLINE_MS),
  ]);
  t.equal(transfers.code, 0, 'transfers status --json exits 0');
  t.match(JSON.parse(transfers.stdout), { pending: Number, paused: false }, 'the handoff state');

  t.equal(repair.code, 0, 'repair on a ring of one exits 0');
  t.match(repair.stdout, /no anti-entropy partners/);
  t.equal(unknown.code, 1, 'repair with an unknown peer (through its old name) exits 1');
  t.match(unknown.stderr, /KV_ERR_BAD_REQUEST/, 'with the coded error');

  for (const json of [false, true]) {
    const watch = spawnCli(t, ['status', '--watch', '--interval-ms', '500', '--url', url, ...(json ? ['--json'] : [])]);
    const refreshes = () => watch.logs.stdout.filter((line) => (json ? line.startsWith('{"status":') : /^node\s+node1$/.test(line))).length;
    await waitFor(() => refreshes() >= 2 || undefined, DEADLINE_MS, `status --watch${json ? ' --json' : ''} to refresh twice`);
    if (json) t.equal(JSON.parse(watch.logs.stdout.find((line) => line.startsWith('{'))!).status.nodeId, 'node1', 'one JSON object per line');
    watch.child.kill('SIGINT');
    const exit = await waitExit(watch.child, DEADLINE_MS);
    t.equal(exit.code, 0, `status --watch${json ? ' --json' : ''} exits 0 on SIGINT after ${refreshes()} refreshes`);
  }

  // Two at a time: process start-up is most of each run, and the machine has two cores.
  const usage = [['snapshot'], ['restore', '--from', 'x'], ['status', '--watch', '--interval-ms', '10'], ['status', '--interval-ms', '1000'], ['local'], ['nosuchcommand']];
  for (let i = 0; i < usage.length; i += 2) {
    await Promise.all(
      usage.slice(i, i + 2).map(async (argv) => {
        const run = await runCli(t, [...argv, '--url', url], DEADLINE_MS);
        t.equal(run.code, 64, `ringkv ${argv.join(' ')}: usage error, exit 64`);
        t.equal(run.stderr.trim().split('\n').length, 1, `in one line: ${run.stderr.trim()}`);
      }),
    );
  }
});
