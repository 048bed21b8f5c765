// Idempotent retries of causal writes (issue 17.3, docs/idempotency.md), on fully wired nodes
// over the in-memory twins (testing/memory-cluster.ts). A write's first attempt is applied on
// one replica and its answer lost (links cut: the coordinator answers 503 after writing its own
// copy, an unknown outcome for the client); the retry with the same X-Ringkv-Request-Id goes
// through another coordinator to the other replicas. After a read and its repair the key holds
// the write once: one sibling on every replica, and every read of the history sees the value
// once. The same retry with a fresh id is a second write (two siblings), so the checks can fail.
import t, { type Test } from 'tap';
import { memoryCluster, type ClusterNode } from '@ringkv/node/testing';
import { waitFor } from '../helpers/process.js';

const REQUEST_ID = 'x-ringkv-request-id';
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (v: Uint8Array) => new TextDecoder().decode(v);

type Cluster = ReturnType<typeof memoryCluster>;

/** One client-visible event: a write and how it ended, or a read and the live values it saw. */
type Event = { op: 'write'; via: string; requestId: string; value: string; status: number } | { op: 'read'; via: string; values: string[] };

/** What the client saw, in order, and the questions asked of it. */
class History {
  readonly events: Event[] = [];
  /** How many times the most generous read saw `value`: 1 = the write is there once. */
  applications(value: string): number {
    return Math.max(0, ...this.events.flatMap((e) => (e.op === 'read' ? [e.values.filter((v) => v === value).length] : [])));
  }
}

function links(cluster: Cluster, from: ClusterNode, to: readonly ClusterNode[], up: boolean): void {
  for (const node of to) cluster.network.setLink(from.id, node.address, up);
}

/** A write at `w`, strict (sloppy=false): a replica the coordinator just failed to reach is not replaced by a fallback. */
async function write(history: History, node: ClusterNode, key: string, value: string, requestId: string, w: number, method: 'PUT' | 'DELETE' = 'PUT'): Promise<number> {
  const res = await node.app.request(`/kv/${key}?w=${w}&sloppy=false&timeout_ms=2000`, { method, body: method === 'PUT' ? utf8(value) : null, headers: { 'content-type': 'text/plain', [REQUEST_ID]: requestId } });
  history.events.push({ op: 'write', via: node.id, requestId, value, status: res.status });
  return res.status;
}

/** GET ?r=3 through `node`: the merged live values (a 200's one, a 300's siblings). */
async function read(history: History, node: ClusterNode, key: string): Promise<string[]> {
  const res = await node.app.request(`/kv/${key}?r=3`);
  let values: string[] = [];
  if (res.status === 200) values = [await res.text()];
  else if (res.status === 300) values = ((await res.json()) as { siblings: Array<{ value?: string }> }).siblings.flatMap((s) => (s.value === undefined ? [] : [Buffer.from(s.value, 'base64').toString()]));
  history.events.push({ op: 'read', via: node.id, values });
  return values;
}

const localValues = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).filter((s) => !s.deleted).map((s) => text(s.value));
const localDots = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).map((s) => `${s.dot.id}:${s.dot.counter}`);

/**
 * The forced unknown outcome, then the retry through another coordinator: the first attempt
 * lands on `a` alone (503 to the client), the retry (id `retryId`) on `b` and `c` only. Links
 * are restored, a read at r=3 through `c` repairs the replicas; resolves once all three hold
 * the same siblings.
 */
async function retriedThroughAnother(t: Test, retryId: string): Promise<{ history: History; nodes: ClusterNode[] }> {
  const cluster = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const history = new History();
  links(cluster, a, [b, c], false);
  const first = await write(history, a, 'k', 'v1', 'req-1', 3);
  t.equal(first, 503, 'the first attempt: written on a, quorum missed, outcome unknown to the client');
  t.same(localValues(a, 'k'), ['v1'], 'a holds the first attempt');
  t.same([localValues(b, 'k'), localValues(c, 'k')], [[], []], 'b and c do not');
  links(cluster, a, [b, c], true);
  links(cluster, b, [a], false);
  t.equal(await write(history, b, 'k', 'v1', retryId, 2), 204, `the retry (${retryId}) through b, acknowledged by b and c`);
  links(cluster, b, [a], true);
  await read(history, c, 'k');
  await waitFor(() => {
    const dots = cluster.nodes.map((node) => localDots(node, 'k').join(','));
    return dots.every((d) => d === dots[0]) || undefined;
  }, 10_000, 'read repair to bring the three replicas to the same siblings');
  for (const node of cluster.nodes) await read(history, node, 'k');
  return { history, nodes: cluster.nodes };
}

t.test('a retry with the same request id, through another coordinator, is applied once', async (t) => {
  const { history, nodes } = await retriedThroughAnother(t, 'req-1');
  for (const node of nodes) t.same(localValues(node, 'k'), ['v1'], `${node.id} holds one sibling`);
  t.equal(history.applications('v1'), 1, 'every read of the history sees v1 once');
  t.comment(JSON.stringify(history.events));
});

t.test('control: the same retry with a fresh id is a second write (two siblings)', async (t) => {
  const { history, nodes } = await retriedThroughAnother(t, 'req-fresh');
  for (const node of nodes) t.same(localValues(node, 'k'), ['v1', 'v1'], `${node.id} holds both writes`);
  t.equal(history.applications('v1'), 2, 'the reads see v1 twice');
});

t.test('a retry through the coordinator holding the first attempt re-sends that version: no new dot, w replicas', async (t) => {
  const cluster = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const history = new History();
  links(cluster, a, [b, c], false);
  t.equal(await write(history, a, 'k', 'v1', 'req-1', 3), 503);
  const firstDot = localDots(a, 'k');
  links(cluster, a, [b, c], true);
  t.equal(await write(history, a, 'k', 'v1', 'req-1', 3), 204, 'the retry reaches w = 3');
  for (const node of [a, b, c]) t.same(localDots(node, 'k'), firstDot, `${node.id} holds the first attempt's dot, no other`);
  const reused = await a.app.request('/kv/k?w=3', { method: 'PUT', body: utf8('other'), headers: { 'content-type': 'text/plain', [REQUEST_ID]: 'req-1' } });
  t.equal(reused.status, 422, 'the id reused for another value');
  t.match(await reused.json(), { error: { code: 'KV_ERR_REQUEST_ID_REUSED', requestId: 'req-1' } });
  const asDelete = await a.app.request('/kv/k?w=3', { method: 'DELETE', headers: { [REQUEST_ID]: 'req-1' } });
  t.equal(asDelete.status, 422, 'and for a DELETE');
  for (const node of [a, b, c]) t.same(localValues(node, 'k'), ['v1'], `${node.id}: nothing written by either`);
  const bad = await a.app.request('/kv/k', { method: 'PUT', body: utf8('x'), headers: { [REQUEST_ID]: 'not valid' } });
  t.equal(bad.status, 400, 'a malformed id is a coded 400');
  t.match(await bad.json(), { error: { code: 'KV_ERR_BAD_REQUEST' } });
});

t.test('a DELETE retried with its id leaves one tombstone', async (t) => {
  const cluster = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const history = new History();
  t.equal(await write(history, a, 'k', 'v0', 'put-0', 3), 204);
  links(cluster, a, [b, c], false);
  t.equal(await write(history, a, 'k', '', 'del-1', 3, 'DELETE'), 503, 'a blind delete applied on a only');
  links(cluster, a, [b, c], true);
  links(cluster, c, [a], false);
  t.equal(await write(history, c, 'k', '', 'del-1', 2, 'DELETE'), 204, 'retried through c');
  links(cluster, c, [a], true);
  await read(history, b, 'k');
  await waitFor(() => cluster.nodes.every((node) => (node.store.get('k')?.siblings ?? []).filter((s) => s.deleted).length === 1 && localValues(node, 'k').length === 1) || undefined, 10_000, 'one tombstone beside v0 on every replica');
  t.pass('every replica holds v0 and one tombstone');
});

t.test('a write forwarded by a node outside the preference list carries its id', async (t) => {
  const cluster = memoryCluster({ nodes: 4, config: { n: 3 } });
  const outsider = cluster.nodes[3]!;
  const key = Array.from({ length: 200 }, (_, i) => `fwd-${i}`).find((k) => !outsider.coordinator.preferenceList(k).includes(outsider.id))!;
  const [firstReplica, ...others] = outsider.coordinator.preferenceList(key).map((id) => cluster.nodes.find((n) => n.id === id)!);
  const history = new History();
  links(cluster, firstReplica!, others, false);
  t.equal(await write(history, firstReplica!, key, 'v1', 'req-1', 3), 503, `the first attempt on ${firstReplica!.id} alone`);
  const firstDot = localDots(firstReplica!, key);
  links(cluster, firstReplica!, others, true);
  t.equal(await write(history, outsider, key, 'v1', 'req-1', 3), 204, `the retry through ${outsider.id}, forwarded to ${firstReplica!.id}`);
  for (const node of [firstReplica!, ...others]) t.same(localDots(node, key), firstDot, `${node.id}: the first attempt's dot only`);
});
