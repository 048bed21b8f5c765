// Idempotent retries of causal writes (issue 17.3, docs/idempotency.md) on real node
// processes: the id goes through SQLite, the node-to-node stream and hints as the nodes really
// store and send it. Three nodes, N = 3, links cut with --fault-injection: the first attempt is
// stored by node1 alone (503 to the client: an unknown outcome), the retry with the same
// X-Ringkv-Request-Id goes through node2 to node2 and node3. Once the links are back, a read at
// r = 3 and the hints bring every replica to one sibling. The in-memory tier
// (idempotent-retry.test.ts) has the fresh-id control and the other cases.
import t from 'tap';
import { DEFAULT_SECRET, http, httpAgent, waitFor, type NodeProcess } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';
import { internalHeaders } from '@ringkv/node';

// Real processes on a shared 2-core machine: generous deadlines.
t.setTimeout(120_000);

async function block(agent: ReturnType<typeof httpAgent>, node: NodeProcess, ids: string[]): Promise<void> {
  const body = Buffer.from(JSON.stringify({ block: ids }));
  const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, DEFAULT_SECRET, 'test', '/internal/faults', body)) };
  const answer = await http(agent, 'POST', `${node.url}/internal/faults`, { headers, body });
  if (answer.status !== 200) throw new Error(`${node.id} refused the fault plan: ${answer.status} ${answer.body.toString()}`);
}

async function localValues(agent: ReturnType<typeof httpAgent>, node: NodeProcess, key: string): Promise<string[]> {
  const answer = await http(agent, 'GET', `${node.url}/admin/local/${key}`);
  if (answer.status === 404) return [];
  return (answer.json as { siblings: Array<{ value?: string }> }).siblings.map((s) => (s.value === undefined ? '<deleted>' : Buffer.from(s.value, 'base64').toString()));
}

t.test('a retry with the same request id through another coordinator, on real processes, leaves one sibling', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3, extraArgs: ['--fault-injection', '--anti-entropy-interval-ms', '0'] });
  const agent = httpAgent(t);
  const [a, b, c] = ring as [NodeProcess, NodeProcess, NodeProcess];
  const put = (node: NodeProcess, w: number) => http(agent, 'PUT', `${node.url}/kv/order-17?w=${w}&sloppy=false`, { body: 'paid', headers: { 'content-type': 'text/plain', 'x-ringkv-request-id': 'pay-order-17' } });

  await block(agent, a, [b.id, c.id]);
  const first = await put(a, 3);
  t.ok(first.status === 503 || first.status === 504, `the first attempt: ${first.status} (stored by ${a.id} only, outcome unknown to the client)`);
  t.same(await localValues(agent, a, 'order-17'), ['paid']);
  t.same([await localValues(agent, b, 'order-17'), await localValues(agent, c, 'order-17')], [[], []], 'node2 and node3 hold nothing');

  await block(agent, b, [a.id]);
  const retry = await put(b, 2);
  t.equal(retry.status, 204, `the retry through ${b.id}: 204 (${retry.body.toString().slice(0, 200)})`);
  await block(agent, a, []);
  await block(agent, b, []);

  const read = await http(agent, 'GET', `${c.url}/kv/order-17?r=3`);
  t.equal(read.status, 200, `a read at r=3 sees one value (${read.status})`);
  t.equal(read.body.toString(), 'paid');
  const converged = async () => {
    for (const node of ring) if ((await localValues(agent, node, 'order-17')).join() !== 'paid') return undefined;
    return true;
  };
  t.ok(await waitFor(converged, 30_000, 'one sibling on every replica'), 'every replica holds the write once');
});
