// Regression test for issue 19, point 1: a coordinator that holds no copy of a key collapses
// blind writes into last-writer-wins.
//
// Checks fix 2 of issue 19 (the causality fix: a coordinator whose local copy lacks the key
// must not issue a dot whose clock entry claims dots it never held for that key; Riak's
// riak_kv#679, per-key actor epochs). 5 real nodes, N=3: the key's three primaries are
// SIGSTOPped until both other nodes see them dead; two blind writes (no context) `PUT ?w=1`,
// v1 then v2, through one of the two non-replicas both answer 204 (the other non-replica keeps
// hints for the owners); the primaries are resumed and the hints delivered. The two writes are
// concurrent (neither saw the other), so `GET ?r=3` must answer 300 with both. Before the fix
// v2's clock entry for the coordinator's actor covered v1's dot, every replica dropped v1, and
// the read answered 200 v2.
import t from 'tap';
import { continueByPid, http, httpAgent, waitFor, type NodeProcess } from '../helpers/process.js';
import { keysWhere, startRing, waitConverged, waitSeenAs } from '../helpers/ring.js';

const N = 3;
// Real processes on a shared 2-core machine: past tap's 120 s file limit (.taprc).
t.setTimeout(300_000);

type Status = { hints: Record<string, number> };

t.test('issue-19-1 coordinator without a copy keeps both blind writes', { timeout: 240_000 }, async (t) => {
  const ring = await startRing(t, { nodes: 5, n: N });
  const agent = httpAgent(t);
  const [key] = keysWhere(ring.map((node) => node.id), N, 1, 'blind-', (pref) => !pref.includes('node1'));
  const pref = ((await http(agent, 'GET', `${ring[0]!.url}/admin/preflist/${key}`)).json as { preferenceList: Array<{ id: string }> }).preferenceList.map((m) => m.id);
  const primaries = ring.filter((node) => pref.includes(node.id));
  const others = ring.filter((node) => !pref.includes(node.id));
  t.equal(primaries.length, 3, `${key}'s primaries: ${pref.join(', ')}`);
  const coordinator = others.find((node) => node.id === 'node1')!;
  t.ok(coordinator, 'node1 is not a replica of the key (the coordinator holds no copy)');

  const resume = () => primaries.forEach((node) => continueByPid(node.pid));
  t.teardown(resume);
  for (const node of primaries) process.kill(node.pid, 'SIGSTOP');
  for (const node of primaries) await waitSeenAs(t, others, node.id, ['dead'], 60_000);

  const put = (value: string) => http(agent, 'PUT', `${coordinator.url}/kv/${key}?w=1`, { body: value, headers: { 'content-type': 'text/plain' } });
  const first = await put('v1');
  t.equal(first.status, 204, `blind PUT v1 ?w=1 through ${coordinator.id}: 204 (${first.body.toString().slice(0, 200)})`);
  const second = await put('v2');
  t.equal(second.status, 204, `blind PUT v2 ?w=1 through ${coordinator.id}: 204 (${second.body.toString().slice(0, 200)})`);

  resume();
  await waitConverged(t, ring, ring.length, 60_000);
  const hintsLeft = async (node: NodeProcess) => Object.values(((await http(agent, 'GET', `${node.url}/admin/status`)).json as Status).hints).reduce((a, b) => a + b, 0);
  await waitFor(async () => {
    for (const node of ring) if ((await hintsLeft(node)) !== 0) return undefined;
    return true;
  }, 30_000, 'every hint delivered to the returned primaries');

  const read = await http(agent, 'GET', `${coordinator.url}/kv/${key}?r=3`);
  const values =
    read.status === 300
      ? (read.json as { siblings: Array<{ value?: string }> }).siblings.map((s) => (s.value === undefined ? '<deleted>' : Buffer.from(s.value, 'base64').toString())).sort()
      : [read.body.toString()];
  t.equal(read.status, 300, `GET ?r=3 answers 300 (got ${read.status} ${JSON.stringify(values)})`);
  t.same(values, ['v1', 'v2'], 'both acknowledged blind writes survive as siblings');
});
