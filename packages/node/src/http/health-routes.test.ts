// GET /livez and /readyz (SPEC "HTTP API"): readiness reasons over a membership view, and the
// routes through a fully wired in-memory node.
import t from 'tap';
import { StaticMembership } from '../membership/static-membership.js';
import { memoryCluster } from '../testing/memory-cluster.js';
import { notReadyReasons } from './health-routes.js';

const peers = ['b', 'c', 'd', 'e'].map((id) => ({ id, address: `http://${id}` }));

t.test('ready with a quorum of the ring reachable; each missing condition is a reason', async (t) => {
  const membership = new StaticMembership('a', 'http://a', peers);
  let stopping = false;
  const deps = { membership, isStopping: () => stopping };
  t.same(notReadyReasons(deps), [], 'all five alive');
  membership.setStatus('b', 'dead');
  membership.setStatus('c', 'dead');
  t.same(notReadyReasons(deps), [], '3 of 5 reachable is a quorum');
  membership.setStatus('d', 'dead');
  t.match(notReadyReasons(deps), [/only 2 of 5 ring members are reachable \(a quorum is 3\)/]);
  membership.setStatus('d', 'suspect');
  t.same(notReadyReasons(deps), [], 'a suspect member still counts as reachable');
  stopping = true;
  t.match(notReadyReasons(deps), [/stopping/]);
  stopping = false;
  membership.setStatus('a', 'left');
  t.match(notReadyReasons(deps), [/leaving/, /not a member/]);
});

t.test('the routes: /livez 200, /readyz 200 or 503 KV_ERR_NOT_READY with the reasons', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a] = nodes;
  t.same(await (await a!.app.request('/livez')).json(), { status: 'ok' });
  const ready = await a!.app.request('/readyz');
  t.equal(ready.status, 200);
  t.match(await ready.json(), { status: 'ready', members: 3 });
  for (const id of ['node2', 'node3']) a!.membership.setStatus(id, 'dead');
  const cut = await a!.app.request('/readyz');
  t.equal(cut.status, 503);
  t.match(await cut.json(), { error: { code: 'KV_ERR_NOT_READY', reasons: /only 1 of 3/ } });
  t.equal((await a!.app.request('/livez')).status, 200, 'still alive');
  t.equal((await a!.app.request('/readyz', { method: 'POST' })).status, 405);
});

t.test('issue 16: draining, a far-off clock and peers that stop answering are reasons too', async (t) => {
  const membership = new StaticMembership('a', 'http://a', peers);
  let draining = false;
  let skewMs = 0;
  const silent = new Set<string>();
  const deps = {
    membership,
    isStopping: () => false,
    isDraining: () => draining,
    clock: () => ({ skewMs, peers: 4, ...(Math.abs(skewMs) > 5_000 ? { warning: `clock is ${skewMs / 1000} s ahead` } : {}) }),
    answers: (id: string) => !silent.has(id),
  };
  t.same(notReadyReasons(deps), []);
  draining = true;
  t.match(notReadyReasons(deps), [/draining/]);
  draining = false;
  skewMs = 20_000;
  t.same(notReadyReasons(deps), [], 'a 20 s skew is warned about (status, log), not a reason');
  skewMs = 45_000;
  t.match(notReadyReasons(deps), [/clock is 45 s ahead.*more than 30 s/]);
  skewMs = 0;
  for (const id of ['b', 'c', 'd']) silent.add(id);
  t.match(notReadyReasons(deps), [/only 2 of 5/], 'gossip still calls them alive, but they leave this node unanswered');
});
