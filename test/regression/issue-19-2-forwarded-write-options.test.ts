// Regression test for issue 19, point 2: a forwarded write drops `pw` and `sloppy`.
//
// Checks fix 3 of issue 19 ("one write request, end to end": the options a client sends keep
// one shape through a forward to the coordinating node). 5 real nodes, N=3; one primary of
// the key is SIGKILLed and every survivor sees it dead. A strict write (`w=3&sloppy=false`,
// or `w=3&pw=3`) cannot be met by the two live primaries: a primary answers 503
// KV_ERR_QUORUM_UNMET, and a node outside the preference list, which forwards the request to
// a primary, must answer the same. Before the fix the forward (`CoordinateRequest`) had no
// field for them, so the primary it reached wrote with the defaults (sloppy, pw=0), counted a
// fallback's hint toward w and answered 204.
import t from 'tap';
import { errorCode, http, httpAgent, killByPid } from '../helpers/process.js';
import { keysWhere, startRing, waitSeenAs } from '../helpers/ring.js';

const N = 3;
// Real processes on a shared 2-core machine: past tap's 120 s file limit (.taprc).
t.setTimeout(300_000);

t.test('issue-19-2 forwarded write keeps pw and sloppy', { timeout: 180_000 }, async (t) => {
  const ring = await startRing(t, { nodes: 5, n: N });
  const agent = httpAgent(t);
  const ids = ring.map((node) => node.id);
  const dead = ring[4]!;
  // Keys with the dead node among their primaries, node1 a primary and node2 outside the list.
  const keys = keysWhere(ids, N, 4, 'forwarded-', (pref) => pref.includes(dead.id) && pref.includes('node1') && !pref.includes('node2'));
  const primary = ring.find((node) => node.id === 'node1')!;
  const outsider = ring.find((node) => node.id === 'node2')!;

  await killByPid(dead.pid);
  await waitSeenAs(t, ring.filter((node) => node !== dead), dead.id, ['dead']);

  const cases = [
    { query: 'w=3&sloppy=false', via: primary, key: keys[0]! },
    { query: 'w=3&sloppy=false', via: outsider, key: keys[1]! },
    { query: 'w=3&pw=3', via: primary, key: keys[2]! },
    { query: 'w=3&pw=3', via: outsider, key: keys[3]! },
  ];
  for (const { query, via, key } of cases) {
    const role = via === primary ? 'a primary' : 'a non-replica node (forwarded)';
    const answer = await http(agent, 'PUT', `${via.url}/kv/${key}?${query}`, { body: `strict-${key}`, headers: { 'content-type': 'text/plain' } });
    t.equal(answer.status, 503, `PUT ?${query} through ${role} (${via.id}) with ${dead.id} dead answers 503 (got ${answer.status})`);
    t.equal(errorCode(answer), 'KV_ERR_QUORUM_UNMET', `… coded KV_ERR_QUORUM_UNMET (${answer.body.toString().slice(0, 200)})`);
  }
});
