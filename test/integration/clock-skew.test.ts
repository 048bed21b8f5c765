/**
 * A node whose clock is far off (issue 16 point 5 and its acceptance): started 45 s ahead of
 * the others under libfaketime, it used to be cut off silently (gossip and internal requests
 * outside the 30 s window: it never joined and answered 503 to everything). Now it joins and
 * replicates (gossip accepts 5 minutes, internal requests are stamped in the receiver's time),
 * and it says what is wrong: an error in its log, /readyz 503 with the reason, and the skew in
 * /admin/status, while the others report no skew of their own.
 */
import t from 'tap';
import { http, httpAgent, spawnNode, waitFor } from '../helpers/process.js';
import { faketimeEnv } from '../helpers/faketime.js';
import { gossipAddressOf, startRing, waitConverged } from '../helpers/ring.js';

t.setTimeout(180_000);

t.test('issue 16.5: a node started 45 s ahead joins, replicates, and says its clock is off', async (t) => {
  const ring = await startRing(t, { nodes: 2, n: 3 });
  const ahead = await spawnNode(t, { id: 'node3', n: 3, logLevel: 'info', extraArgs: ['--seeds', gossipAddressOf(ring[0]!)], env: faketimeEnv(45_000) });
  const all = [...ring, ahead];
  await waitConverged(t, all, 3, 60_000);
  const agent = httpAgent(t);

  // The data path works through it, both ways (w=3 needs every node's internal requests to pass).
  t.equal((await http(agent, 'PUT', `${ahead.url}/kv/skewed?w=3`, { body: 'from-the-fast-node' })).status, 204, 'w=3 coordinated by the skewed node');
  t.equal((await http(agent, 'PUT', `${ring[0]!.url}/kv/other?w=3`, { body: 'to-the-fast-node' })).status, 204, 'w=3 that needs the skewed node as a replica');
  t.equal((await http(agent, 'GET', `${ring[1]!.url}/kv/skewed?r=3`)).body.toString(), 'from-the-fast-node');

  const status = await waitFor(async () => {
    const body = (await http(agent, 'GET', `${ahead.url}/admin/status`)).json as { clock?: { skewMs: number; peers: number; warning?: string } };
    return body.clock !== undefined && body.clock.peers === 2 ? body.clock : undefined;
  }, 20_000, 'the skewed node to have samples from both peers');
  t.ok(status.skewMs > 40_000 && status.skewMs < 50_000, `status shows the skew: ${status.skewMs} ms`);
  t.match(status.warning, /4\d\.\d s ahead of the ring's median clock \(2 peer/);

  const ready = await http(agent, 'GET', `${ahead.url}/readyz`);
  t.equal(ready.status, 503, '/readyz: not ready');
  t.match(ready.json, { error: { code: 'KV_ERR_NOT_READY', reasons: /clock is 4\d\.\d s ahead/ } }, 'with the reason');
  await waitFor(() => ahead.logs.stdout.some((line) => line.includes('clock skew') && line.includes('ahead')) || undefined, 10_000, 'the skew to be logged');
  t.pass('the skewed node logged its skew');

  for (const node of ring) {
    const body = (await http(agent, 'GET', `${node.url}/readyz`)).json as { status?: string; clock?: { skewMs: number } };
    t.equal(body.status, 'ready', `${node.id} is ready`);
    t.ok(Math.abs(body.clock?.skewMs ?? Infinity) < 2_000, `${node.id} does not blame itself (${body.clock?.skewMs} ms: the median of its own, a good and a fast clock)`);
  }
});
