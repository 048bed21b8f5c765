// Regression (found by the data-type workload of the cluster simulation, test/sim/dt-sim.test.ts):
// a removal sent with the context of a read that saw an element, through a node whose own read
// at r=1 missed that element's add, removed nothing and was acknowledged. A removal removes only
// what both its context and the node's read hold, so the node now reads again at n when its read
// has not seen everything the client's context has (replication/dt-service.ts, readCovering).
import t from 'tap';
import { memoryCluster } from '@ringkv/node/testing';

t.test('a removal whose context saw an add the node\'s own read missed still removes it', async (t) => {
  const { network, nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const call = async (i: number, method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await nodes[i]!.app.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as { value?: string[]; context?: string } };
  };
  t.equal((await call(0, 'POST', '/dt/s?w=3', { add: ['a'] })).status, 200);
  // node1 never gets x: node1's copy lacks it, node2's holds it (no loop runs in a memory cluster).
  network.setLink(nodes[0]!.id, nodes[1]!.address, false);
  t.equal((await call(0, 'POST', '/dt/s?w=2', { add: ['x'] })).status, 200, 'x acknowledged at w=2 (node1 and node3)');
  network.setLink(nodes[0]!.id, nodes[1]!.address, true);
  const seen = await call(2, 'GET', '/dt/s?r=1');
  t.same(seen.body.value, ['a', 'x'], 'the client reads x through node3');
  t.same((await call(1, 'GET', '/dt/s?r=1')).body.value, ['a'], 'node2 alone does not hold x');
  const removed = await call(1, 'POST', '/dt/s?r=1&w=2', { remove: ['x'], context: seen.body.context });
  t.equal(removed.status, 200, 'the removal is acknowledged');
  t.same(removed.body.value, ['a'], 'and the state it wrote holds no x');
  for (const i of [0, 1, 2]) t.same((await call(i, 'GET', '/dt/s?r=3')).body.value, ['a'], `node${i + 1} reads x removed`);
});
