// Merkle anti-entropy over fully wired in-memory nodes (Dynamo §4.7): exchanges move only what
// differs, merge through the versioning core, converge, and fail cleanly on bad peers.
import t from 'tap';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';
import { update, type VersionedObject } from '../core/versioned.js';
import { encodeObject } from '../core/object-codec.js';
import { RING_SPACE } from '@ringkv/protocol';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const written = (text: string, coordinatorId = 'node1'): VersionedObject =>
  update(undefined, { coordinatorId, context: [], deleted: false, value: Buffer.from(text), contentType: 'text/plain', nowMs: 1_000 }, limits);
const texts = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).map((s) => Buffer.from(s.value).toString()).sort();
const hex = (node: ClusterNode) => Buffer.from(node.store.summarize(0, RING_SPACE).hash).toString('hex');

/** Three nodes, N=3: every key is on all three, so every pair shares every arc. */
async function seeded(keys: number) {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  await Promise.all(nodes.flatMap((node) => Array.from({ length: keys }, (_, i) => node.store.put(`k${i}`, written(`v${i}`)))));
  return nodes;
}

t.test('a replica missing keys gets exactly those from one exchange, and the cost follows the difference', async (t) => {
  const nodes = await seeded(2_000);
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  const equal = await a.antiEntropy.exchange('node2');
  t.match(equal, { peer: 'node2', keysIn: 0, keysOut: 0, keysCompared: 0 }, 'equal replicas: nothing listed, nothing moved');
  t.equal(equal.sharedRanges, 1, 'with N = 3 of 3 nodes the pair shares the whole ring');
  t.equal(equal.setsCompared, 1, `equal replicas compare one summary (${equal.bytes} bytes)`);

  // b loses 10 keys' worth of difference: 5 it never got, 5 it holds in an older form.
  const extra = Array.from({ length: 5 }, (_, i) => `new${i}`);
  await Promise.all(extra.map((key) => a.store.put(key, written(key))));
  const changed = ['k1', 'k2', 'k3', 'k4', 'k5'];
  await Promise.all(changed.map((key) => a.store.put(key, update(a.store.get(key), { coordinatorId: 'node1', context: a.store.get(key)!.clock, deleted: false, value: Buffer.from('newer'), contentType: 'text/plain', nowMs: 2_000 }, limits))));
  const report = await b.antiEntropy.exchange('node1');
  t.equal(report.error, undefined);
  t.equal(report.keysIn, 10, 'b fetched the 5 missing and the 5 changed keys');
  t.equal(report.keysOut, 5, 'and sent back its merge of the 5 changed ones (the same object)');
  for (const key of extra) t.same(texts(b, key), [key]);
  for (const key of changed) t.same(texts(b, key), ['newer'], `${key}: the newer value replaced the older one`);
  t.equal(hex(a), hex(b), 'the two replicas now hash the same');
  const dataBytes = [...Array(2_005).keys()].reduce((sum, i) => sum + (a.store.get(i < 2_000 ? `k${i}` : `new${i - 2_000}`) ? encodeObject(a.store.get(i < 2_000 ? `k${i}` : `new${i - 2_000}`)!).length : 0), 0);
  t.comment(`exchange moved ${report.keysIn + report.keysOut} keys in ${report.bytes} bytes; the replica holds ${dataBytes} bytes of objects`);
  t.ok(report.bytes < dataBytes / 5, 'bytes exchanged are a small fraction of the data set');
  t.match(await b.antiEntropy.exchange('node1'), { keysIn: 0, keysOut: 0 }, 'a second exchange finds nothing');
});

t.test('concurrent versions on two replicas merge into the same siblings on both', async (t) => {
  const nodes = await seeded(50);
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  await a.store.put('k7', update(a.store.get('k7'), { coordinatorId: 'node1', context: a.store.get('k7')!.clock, deleted: false, value: Buffer.from('from-a'), contentType: 'text/plain', nowMs: 2_000 }, limits));
  await b.store.put('k7', update(b.store.get('k7'), { coordinatorId: 'node2', context: b.store.get('k7')!.clock, deleted: false, value: Buffer.from('from-b'), contentType: 'text/plain', nowMs: 2_000 }, limits));
  const report = await a.antiEntropy.exchange('node2');
  t.match(report, { keysIn: 1, keysOut: 1 });
  t.same(texts(a, 'k7'), ['from-a', 'from-b'], 'a holds both concurrent writes');
  t.same(texts(b, 'k7'), ['from-a', 'from-b'], 'and so does b');
  t.equal(hex(a), hex(b));
});

t.test('a whole replica rebuilt from empty, through the admin route, under the rate limit', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3, antiEntropyKeysPerSecond: 2_000 } });
  await Promise.all(nodes.slice(0, 2).flatMap((node) => Array.from({ length: 3_000 }, (_, i) => node.store.put(`k${i}`, written(`v${i}`)))));
  const empty = nodes[2]!;
  const started = Date.now();
  const res = await empty.app.request('/admin/anti-entropy?peer=node1', { method: 'POST' });
  t.equal(res.status, 200);
  const { exchanges } = (await res.json()) as { exchanges: Array<{ keysIn: number; error?: string }> };
  t.match(exchanges, [{ peer: 'node1', keysIn: 3_000, keysOut: 0 }]);
  t.ok(Date.now() - started >= 450, 'moving 3,000 keys at 2,000 keys/s (one second banked) took at least 0.5 s');
  t.equal(empty.store.keyCount(), 3_000);
  t.equal(hex(empty), hex(nodes[0]!));
  const status = (await (await empty.app.request('/admin/status')).json()) as { antiEntropy: { peers: Array<{ peer: string; exchanges: number; lastCompletedMs?: number }> } };
  t.match(status.antiEntropy.peers, [{ peer: 'node1', exchanges: 1, lastCompletedMs: Number }], '/admin/status shows the last completion per peer');
  const metrics = await (await empty.app.request('/metrics')).text();
  t.match(metrics, /ringkv_anti_entropy_keys_total\{direction="in"[^}]*\} 3000/);
  t.match(metrics, /ringkv_anti_entropy_exchanges_total\{peer="node1",result="ok"[^}]*\} 1/);
  t.match(metrics, /ringkv_anti_entropy_last_completed_timestamp_seconds\{peer="node1"[^}]*\} \d/);
  t.equal((await empty.app.request('/admin/anti-entropy?peer=nobody', { method: 'POST' })).status, 400, 'an unknown peer is a 400');
});

t.test('an unreachable or lying peer fails the exchange with a code; nothing is lost', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 3, config: { n: 3 } }) as ReturnType<typeof memoryCluster>;
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  await Promise.all(Array.from({ length: 20 }, (_, i) => a.store.put(`k${i}`, written(`v${i}`))));
  network.setLink('node1', b.address, false);
  const cut = await a.antiEntropy.exchange('node2');
  t.equal(cut.error, 'KV_ERR_PEER_UNREACHABLE');
  network.setLink('node1', b.address, true);
  // A peer that answers summaries for a different number of sets.
  const tree = b.replica.tree.bind(b.replica);
  (b.replica as { tree: typeof tree }).tree = async (request, sender) => {
    const answer = await tree(request, sender);
    return answer.kind === 'summaries' ? { kind: 'summaries', summaries: answer.summaries.slice(1) } : answer;
  };
  const lying = await a.antiEntropy.exchange('node2');
  t.equal(lying.error, 'KV_ERR_PEER_UNREACHABLE', 'a wrong number of summaries ends the exchange');
  t.equal(a.store.keyCount(), 20, 'nothing was lost on the node that ran it');
  (b.replica as { tree: typeof tree }).tree = tree;
  t.match(await a.antiEntropy.exchange('node2'), { keysOut: 20 }, 'the next exchange repairs');
  const status = a.antiEntropy.snapshot().peers.find((p) => p.peer === 'node2')!;
  t.match(status, { exchanges: 3, failures: 2 });
});
