/**
 * Addresses beyond IPv4 literals (issue 16 point 1), on real processes:
 * - IPv6: three nodes on ::1 (one of them bound to the wildcard :: and advertising [::1]) join
 *   through a bracketed seed, form a ring by gossip and replicate; the wildcard :: without an
 *   advertised address is refused like 0.0.0.0.
 * - Host names: two nodes advertise the name `localhost` for HTTP and gossip and join through
 *   the seed name `localhost:PORT`, so every dial (UDP probes, TCP push/pull, the undici pools
 *   between nodes) goes through name resolution. This machine's /etc/hosts maps localhost to
 *   127.0.0.1 only, so names are tested over IPv4.
 */
import t from 'tap';
import { http, httpAgent, nodeArgs, runCli, spawnNode, tempDir, waitFor } from '../helpers/process.js';
import { gossipAddressOf, startRing } from '../helpers/ring.js';

t.setTimeout(300_000);

const START_DEADLINE_MS = 60_000;

t.test('the IPv6 wildcard without --advertise refuses to start with the reason', async (t) => {
  const result = await runCli(t, [...nodeArgs({ dir: await tempDir(t) }), '--host', '::'], START_DEADLINE_MS);
  t.equal(result.code, 2, 'exit status 2');
  t.match(result.stderr, /KV_ERR_CONFIG.*advertise.*::/, 'the line names --advertise and the wildcard');
});

t.test('three nodes on ::1 form a ring by gossip and replicate', async (t) => {
  const ring = await startRing(t, {
    nodes: 3,
    n: 3,
    startDeadlineMs: START_DEADLINE_MS,
    argsOf: (i) => (i === 2 ? ['--host', '::', '--advertise', '[::1]', '--gossip-advertise', '[::1]'] : ['--host', '::1']),
  });
  for (const node of ring) t.match(node.url, /^http:\/\/\[::1\]:\d+$/, `${node.id} serves and advertises http://[::1]:port`);
  t.match(gossipAddressOf(ring[0]!), /^\[::1\]:\d+$/, 'gossip addresses are bracketed IPv6 (node2 and node3 joined through it)');
  const agent = httpAgent(t);
  const members = (await http(agent, 'GET', `${ring[2]!.url}/admin/members`)).json as Array<{ id: string; address: string; status: string }>;
  t.same(members.map((m) => [m.id, m.address, m.status]), ring.map((node) => [node.id, node.url, 'alive']), 'every member alive at its [::1] address');
  for (let i = 0; i < 10; i++) {
    const put = await http(agent, 'PUT', `${ring[i % 3]!.url}/kv/v6-${i}?w=3`, { body: `value-${i}` });
    t.equal(put.status, 204, `PUT v6-${i} at w=3: every replica over IPv6`);
  }
  for (const node of ring) {
    const local = await http(agent, 'GET', `${node.url}/admin/local/v6-7`);
    t.equal(local.status, 200, `${node.id} holds its own copy of v6-7`);
  }
  const read = await http(agent, 'GET', `${ring[1]!.url}/kv/v6-3?r=3`);
  t.equal(read.body.toString(), 'value-3', 'and it reads back at r=3');
});

t.test('host names: nodes advertising `localhost` join through the seed name `localhost:PORT`', async (t) => {
  const names = ['--advertise', 'localhost', '--gossip-advertise', 'localhost', '--n', '2'];
  const first = await spawnNode(t, { id: 'named1', n: 2, extraArgs: names, startDeadlineMs: START_DEADLINE_MS });
  t.match(first.url, /^http:\/\/localhost:\d+$/, 'the advertised URL is the name');
  const gossip = gossipAddressOf(first);
  t.match(gossip, /^localhost:\d+$/, 'and so is the gossip address');
  const second = await spawnNode(t, { id: 'named2', n: 2, extraArgs: [...names, '--seeds', gossip], startDeadlineMs: START_DEADLINE_MS });
  const agent = httpAgent(t);
  for (const node of [first, second]) {
    await waitFor(async () => {
      const list = (await http(agent, 'GET', `${node.url}/admin/members`)).json as Array<{ status: string }>;
      return (list.length === 2 && list.every((m) => m.status === 'alive')) || undefined;
    }, 30_000, `${node.id} sees both members alive`);
  }
  const members = (await http(agent, 'GET', `${first.url}/admin/members`)).json as Array<{ address: string }>;
  t.same(members.map((m) => m.address).sort(), [first.url, second.url].sort(), 'members carry the names');
  t.equal((await http(agent, 'PUT', `${first.url}/kv/named?w=2`, { body: 'v' })).status, 204, 'a w=2 write reaches the peer by name');
  t.equal((await http(agent, 'GET', `${second.url}/kv/named?r=2`)).body.toString(), 'v', 'and reads back at r=2');
});
