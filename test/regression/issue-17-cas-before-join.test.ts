// Regression test for issue 17: a restarted node answered compare-and-set rounds before it had
// joined its ring. Found by the multi-host Jepsen-style run in CI (test/netns/jepsen-cas.ts,
// seeds 74718 and 90134: a cas() told 412 "not applied" whose value was then read).
//
// A SWIM node starts knowing only itself; until a seed answers its join, its ring is itself
// alone, so every key's preference list is [self] and a majority of it is this node. A CAS
// round there reads this node's own acceptor record (stale: it missed what the ring decided
// while it was down), answers from it, and writes the stale state back under a fresh ballot
// above every ballot the ring used. Once the node joins, that state wins the learn's
// "highest ballot" and comes back into the ring: a stale read, a fork, a lost update.
//
// Here: 3 nodes, N=3; a key is set to v2 through node1, node3 is killed, the key goes to v3 and
// v4 without it; node3 is started again on its data dir with a seed nobody listens on, so it
// never joins. Before the fix a consistent read at node3 answered 200 with v2's value and a
// cas(if_version=2) at node3 answered 204, and once node3 rejoined, that fork (under a ballot
// above node1's) won the learn: v4 was lost. Now both are 503 KV_ERR_QUORUM_UNMET, surely not
// applied, and /readyz says why. Started again with a live seed, node3 joins and reads v4.
import { createServer } from 'node:net';
import t from 'tap';
import { errorCode, http, httpAgent, killByPid, spawnNode, waitFor, type NodeProcess } from '../helpers/process.js';
import { respawnNode, startRing, waitConverged } from '../helpers/ring.js';

const N = 3;
t.setTimeout(240_000);

/** A loopback TCP port nothing listens on (the OS picks it; closed again at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('issue-17 a node that has not joined its ring answers no compare-and-set round', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: N });
  const agent = httpAgent(t);
  const [node1, , node3] = ring as [NodeProcess, NodeProcess, NodeProcess];
  const key = 'claimed';
  const put = (node: NodeProcess, query: string, body: string) =>
    http(agent, 'PUT', `${node.url}/kv/${key}?${query}&timeout_ms=3000`, { body, headers: { 'content-type': 'text/plain' }, timeoutMs: 10_000 });
  const read = (node: NodeProcess) => http(agent, 'GET', `${node.url}/kv/${key}?consistent=1&timeout_ms=3000`, { timeoutMs: 10_000 });

  t.equal((await put(node1, 'if_absent=1', 'v1')).status, 204, 'v1 set through node1');
  // v2 through node3: its ballot clock reserves a block of counters (persisted), so after its
  // restart its ballots are above node1's, and a state it writes alone would win a later learn.
  t.equal((await put(node3, 'if_version=1', 'v2')).status, 204, 'v2 set through node3');
  // Wait until node3's own record holds v2, so the stale state it would answer from is v2.
  await waitFor(async () => (await read(node3)).body.toString() === 'v2' || undefined, 20_000, 'node3 reads v2');

  await killByPid(node3.pid);
  t.equal((await put(node1, 'if_version=2', 'v3')).status, 204, 'v3 set without node3');
  t.equal((await put(node1, 'if_version=3', 'v4')).status, 204, 'v4 set without node3');

  // node3 again, on its data dir, with a seed that never answers: it stays outside its ring.
  const alone = await spawnNode(t, { id: node3.id, dir: node3.dir, n: N, extraArgs: ['--seeds', `127.0.0.1:${await closedPort()}`] });
  const staleRead = await read(alone);
  t.equal(staleRead.status, 503, `a consistent read at the unjoined node is refused (got ${staleRead.status} ${staleRead.body.toString().slice(0, 160)})`);
  t.equal(errorCode(staleRead), 'KV_ERR_QUORUM_UNMET', 'coded as a round that could not run');
  const fork = await put(alone, 'if_version=2', 'fork');
  t.equal(fork.status, 503, `a cas at the unjoined node is refused (got ${fork.status} ${fork.body.toString().slice(0, 160)})`);
  t.match(fork.json, { error: { code: 'KV_ERR_QUORUM_UNMET', attempted: false } }, 'and said not to have applied');
  const ready = await http(agent, 'GET', `${alone.url}/readyz`);
  t.equal(ready.status, 503, '/readyz: not ready');
  t.match(ready.body.toString(), /not joined/, '/readyz says it has not joined its ring');

  // Started again with a live seed: it joins, and the ring's register is intact everywhere.
  await killByPid(alone.pid);
  const back = await respawnNode(t, alone, ring, N);
  ring.splice(2, 1, back);
  await waitConverged(t, ring, ring.length);
  for (const node of ring) {
    const answer = await waitFor(async () => {
      const got = await read(node);
      return got.status === 200 ? got : undefined;
    }, 20_000, `${node.id} answers a consistent read`);
    t.equal(answer.body.toString(), 'v4', `${node.id} reads v4`);
  }
  t.equal((await put(back, 'if_version=4', 'v5')).status, 204, 'the rejoined node coordinates the next cas');
});
