// Regression test for issue 19, point 3: a write that a replica missed before gossip marked it
// dead leaves no hint.
//
// Checks fix 4 of issue 19 ("hints for missed writes": any preference-list replica that
// refused, reset or did not acknowledge by the deadline gets a durable hint, delivered when it
// answers again). 5 real nodes, N=3, anti-entropy on demand only (interval 0) and no reads, so
// only hints can bring a returning replica what it missed. A replica is SIGKILLed and 40 of
// its keys are written at w=2 through a live primary at once, before gossip declares it dead:
// the coordinator still counts it reachable, its connection is refused, and the other two
// replicas meet w. It is restarted on its data dir; within 10 s it must hold all 40. Before the
// fix no hint was kept for a refused replica and it held none of them (anti-entropy, every 30 s
// by default, would have brought them much later).
import t from 'tap';
import { http, httpAgent, killByPid, waitFor } from '../helpers/process.js';
import { keysWhere, membersSeenBy, restartNode, startRing } from '../helpers/ring.js';

const N = 3;
// Real processes on a shared 2-core machine: past tap's 120 s file limit (.taprc).
t.setTimeout(300_000);
const ARGS = ['--anti-entropy-interval-ms', '0'];

t.test('issue-19-3 a replica that missed writes before it was seen dead gets them by hints', { timeout: 180_000 }, async (t) => {
  const ring = await startRing(t, { nodes: 5, n: N, extraArgs: ARGS });
  const agent = httpAgent(t);
  const victim = ring.find((node) => node.id === 'node3')!;
  const coordinator = ring.find((node) => node.id === 'node1')!;
  const keys = keysWhere(ring.map((node) => node.id), N, 40, 'missed-', (pref) => pref.includes(victim.id) && pref.includes(coordinator.id));

  await killByPid(victim.pid);
  const killedAt = Date.now();
  const answers = await Promise.all(
    keys.map((key) => http(agent, 'PUT', `${coordinator.url}/kv/${key}?w=2`, { body: `missed-${key}`, headers: { 'content-type': 'text/plain' } })),
  );
  const writtenMs = Date.now() - killedAt;
  t.same(answers.map((a) => a.status).filter((s) => s !== 204), [], `all 40 writes at w=2 acknowledged (${writtenMs} ms after the kill)`);
  const view = (await membersSeenBy(agent, coordinator)).find((m) => m.id === victim.id)?.status;
  t.comment(`${coordinator.id} saw ${victim.id} as ${view} once the writes were acknowledged`);

  const back = await restartNode(t, victim, ring, N, ARGS);
  const restartedAt = Date.now();
  let held = 0;
  const heldNow = async () => {
    let count = 0;
    for (const key of keys) if ((await http(agent, 'GET', `${back.url}/admin/local/${key}`)).status === 200) count++;
    held = count;
    return count === keys.length || undefined;
  };
  await waitFor(heldNow, 10_000, `${victim.id} to hold the 40 writes it missed`).catch(() => undefined);
  t.equal(held, keys.length, `${victim.id} holds ${held} of the ${keys.length} writes it missed, ${Date.now() - restartedAt} ms after its restart (no reads, no anti-entropy)`);
});
