/**
 * Addresses (SPEC "Addresses"; issue 16 point 1): `--host` is where a node binds, `--advertise`
 * and `--gossip-advertise` what other nodes and clients dial. A wildcard bind without an
 * advertised address would advertise 0.0.0.0, which nobody can reach: refused at start-up.
 * Two real processes bound to 0.0.0.0 and advertising 127.0.0.1 form one ring by gossip.
 */
import t from 'tap';
import { http, httpAgent, nodeArgs, runCli, spawnNode, tempDir, waitFor } from '../helpers/process.js';
import { gossipAddressOf } from '../helpers/ring.js';

t.setTimeout(90_000);

t.test('a wildcard bind without --advertise refuses to start with the reason', async (t) => {
  const result = await runCli(t, [...nodeArgs({ dir: await tempDir(t) }), '--host', '0.0.0.0'], 20_000);
  t.equal(result.code, 2, 'exit status 2');
  t.match(result.stderr, /KV_ERR_CONFIG.*advertise.*0\.0\.0\.0/, 'the line names --advertise and the wildcard');
  const malformed = await runCli(t, [...nodeArgs({ dir: await tempDir(t) }), '--advertise', 'host:99999'], 20_000);
  t.equal(malformed.code, 2, 'a malformed advertise address: exit 2');
  t.match(malformed.stderr, /advertise/);
});

t.test('nodes bound to 0.0.0.0 advertise what they were told and form a ring', async (t) => {
  const args = ['--host', '0.0.0.0', '--advertise', '127.0.0.1', '--gossip-advertise', '127.0.0.1', '--n', '2'];
  const first = await spawnNode(t, { id: 'adv1', n: 2, extraArgs: args });
  t.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the URL it logs is the advertised one, not 0.0.0.0');
  t.match(gossipAddressOf(first), /^127\.0\.0\.1:\d+$/, 'and so is its gossip address');
  const second = await spawnNode(t, { id: 'adv2', n: 2, extraArgs: [...args, '--seeds', gossipAddressOf(first)] });
  const agent = httpAgent(t);
  const members = await waitFor(async () => {
    const list = (await http(agent, 'GET', `${second.url}/admin/members`)).json as Array<{ id: string; address: string; status: string }>;
    return list.length === 2 && list.every((m) => m.status === 'alive') ? list : undefined;
  }, 30_000, 'both nodes see each other alive');
  t.same(members.map((m) => m.address).sort(), [first.url, second.url].sort(), 'members carry the advertised addresses');
  t.equal((await http(agent, 'PUT', `${first.url}/kv/adv?w=2`, { body: Buffer.from('v') })).status, 204, 'a w=2 write reaches both');
  t.equal((await http(agent, 'GET', `${second.url}/kv/adv?r=2`)).status, 200);
});
