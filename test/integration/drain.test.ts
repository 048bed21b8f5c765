/**
 * SIGTERM drains (issue 16 point 3 and its acceptance): readiness turns false at once, the
 * node tells its peers (they mark it dead, keeping its ring place), keeps serving what was
 * already routed to it, then stops accepting and exits, all within 2 s. Under a write/read load
 * at w=2/r=2 through the other nodes, no request fails: another replica could serve each one.
 * The order is measured, not assumed: the peers' view and the node's listening socket are
 * polled while it drains.
 */
import { connect } from 'node:net';
import t from 'tap';
import { http, httpAgent, waitFor, type NodeProcess } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';

t.setTimeout(180_000);

/** Whether a TCP connection to the node's HTTP port is accepted now. */
function accepts(node: NodeProcess): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(node.port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test('issue 16.3: SIGTERM under load: peers stop routing first, the node is gone within 2 s, no request fails', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const [a, b, c] = ring as [NodeProcess, NodeProcess, NodeProcess];
  const agent = httpAgent(t);

  // Load through the two nodes that stay: every key has c as a replica (N = 3 of 3).
  let stopLoad = false;
  const failures: string[] = [];
  let served = 0;
  const worker = async (w: number) => {
    for (let i = 0; !stopLoad && i < 100_000; i++) {
      const via = i % 2 === 0 ? a : b;
      const key = `drain-${w}-${i % 50}`;
      const put = await http(agent, 'PUT', `${via.url}/kv/${key}?w=2`, { body: `v${i}` });
      const get = await http(agent, 'GET', `${via.url}/kv/${key}?r=2`);
      if (put.status !== 204) failures.push(`PUT ${key} via ${via.id}: ${put.status} ${put.body.toString()}`);
      if (get.status !== 200 && get.status !== 300) failures.push(`GET ${key} via ${via.id}: ${get.status} ${get.body.toString()}`);
      served += 2;
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));
  await waitFor(() => served >= 200 || undefined, 30_000, 'the load to get going');

  // Requests sent to c itself while it drains: served, and each answer closes its connection.
  const exited = new Promise<number>((resolve) => c.child.once('exit', () => resolve(Date.now())));
  const signalledAt = Date.now();
  c.child.kill('SIGTERM');
  // Readiness turns false as soon as the signal is handled, well inside the drain period.
  const ready = await waitFor(async () => {
    const answer = await http(agent, 'GET', `${c.url}/readyz`).catch(() => undefined);
    return answer?.status === 503 ? answer : undefined;
  }, 700, '/readyz to answer 503 during the drain', 10).catch(() => undefined);
  const peersKnewAt = waitFor(async () => {
    const views = await Promise.all([a, b].map(async (peer) => ((await http(agent, 'GET', `${peer.url}/admin/members`)).json as Array<{ id: string; status: string }>).find((m) => m.id === c.id)?.status));
    return views.every((status) => status === 'dead') ? Date.now() : undefined;
  }, 5_000, 'both peers to mark the draining node dead', 10);
  const stoppedAcceptingAt = waitFor(async () => ((await accepts(c)) ? undefined : Date.now()), 5_000, 'the draining node to stop accepting', 10);
  const duringDrain = await http(agent, 'GET', `${c.url}/kv/drain-0-1?r=2`).catch((error: unknown) => ({ status: 0, headers: {}, error }));

  const [knew, stopped, exitAt] = await Promise.all([peersKnewAt, stoppedAcceptingAt, exited]);
  const servedAtExit = served;
  await waitFor(() => served >= servedAtExit + 200 || undefined, 30_000, '200 more requests after the exit');
  stopLoad = true;
  await load;

  t.ok(ready !== undefined && ready.status === 503, '/readyz answered 503 within 700 ms of SIGTERM, while the node still served');
  t.match(ready?.json, { error: { code: 'KV_ERR_NOT_READY', reasons: /draining/ } }, 'with the reason');
  t.ok(knew < stopped, `peers marked it dead ${knew - signalledAt} ms after SIGTERM, before it stopped accepting at ${stopped - signalledAt} ms`);
  t.ok(exitAt - signalledAt < 2_000, `the process exited ${exitAt - signalledAt} ms after SIGTERM (< 2 s)`);
  t.equal(duringDrain.status, 200, 'a read sent to the draining node was still served');
  t.equal((duringDrain.headers as Record<string, unknown>).connection, 'close', 'its answer closed the connection');
  t.same(failures, [], `no request through the remaining nodes failed (${served} served)`);
});
