// Ownership handoff over fully wired in-memory nodes: after a join or a leave every key ends on
// exactly its new preference list, and nothing is dropped before its owners hold it.
import t, { type Test } from 'tap';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';

const text = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).map((s) => Buffer.from(s.value).toString());
const keys = Array.from({ length: 600 }, (_, i) => `own-${i}`);

/** Runs transfer rounds on every node until none moves anything. */
async function settle(nodes: ClusterNode[]): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const moved = await Promise.all(nodes.map((node) => node.transfer.runOnce()));
    if (moved.every((count) => count === 0)) return;
  }
  throw new Error('transfers did not settle in 100 rounds');
}

/** Every key is on exactly the nodes of its preference list (as `view` computes it). */
function exactlyOnOwners(t: Test, nodes: ClusterNode[], view: ClusterNode): void {
  let misplaced = 0;
  for (const key of keys) {
    const owners = view.coordinator.preferenceList(key).sort();
    const holders = nodes.filter((node) => node.store.get(key) !== undefined).map((node) => node.id).sort();
    if (owners.join() !== holders.join() || holders.some((id) => text(nodes.find((n) => n.id === id)!, key)[0] !== `v-${key}`)) misplaced++;
  }
  t.equal(misplaced, 0, 'every key is on exactly its preference list, with its value');
}

t.test('join: the old owners hand off and drop what the newcomer now owns', async (t) => {
  const { nodes } = memoryCluster({ nodes: 4, config: { n: 3 } });
  for (const node of nodes) node.membership.setStatus('node4', 'left'); // not in the ring yet
  const [first] = nodes as [ClusterNode];
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => first.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: `v-${key}` })));
  t.equal(nodes[3]!.store.keyCount(), 0, 'node4 holds nothing before it joins');
  for (const node of nodes) node.membership.setStatus('node4', 'alive'); // node4 joins
  const pending = nodes.slice(0, 3).reduce((sum, node) => sum + node.transfer.status().pending, 0);
  t.ok(pending > 0, `the old owners hold ${pending} keys they no longer own`);
  await settle(nodes);
  t.same(nodes.map((node) => node.transfer.status().pending), [0, 0, 0, 0], 'nothing left to hand off');
  exactlyOnOwners(t, nodes, first);
});

t.test('leave: the leaving node hands everything off, and an unreachable owner makes keys wait', async (t) => {
  const { nodes } = memoryCluster({ nodes: 4, config: { n: 3 } });
  const [first] = nodes as [ClusterNode];
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => first.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: `v-${key}` })));
  const leaving = nodes[3]!;
  const held = leaving.store.keyCount();
  for (const node of nodes) node.membership.setStatus('node4', 'left');
  for (const node of nodes) node.membership.setStatus('node2', 'dead'); // an owner is down meanwhile
  t.equal(leaving.transfer.status().pending, held, 'all of its keys are to hand off');
  const dropped = await leaving.transfer.runOnce();
  t.equal(dropped, 0, 'keys whose owners include the dead node2 are kept (with 3 nodes left, all of them)');
  t.ok(leaving.transfer.status().waiting > 0, 'and counted as waiting');
  for (const node of nodes) node.membership.setStatus('node2', 'alive');
  await settle(nodes);
  t.equal(leaving.store.keyCount(), 0, 'the leaving node holds nothing');
  exactlyOnOwners(t, nodes, first);
});

t.test('a key written during the handoff is not dropped with its older copy', async (t) => {
  const { nodes } = memoryCluster({ nodes: 4, config: { n: 3 } });
  const [first] = nodes as [ClusterNode];
  await first.app.request('/kv/race?w=3', { method: 'PUT', body: 'old' });
  const holder = nodes.find((node) => node.store.get('race') !== undefined && !['node1'].includes(node.id))!;
  for (const node of nodes) node.membership.setStatus(holder.id, 'left');
  // A coordinator with an older ring writes to the holder while its handoff is in flight.
  const original = holder.store.removeIfUnchanged.bind(holder.store);
  holder.store.removeIfUnchanged = (entries) => {
    void holder.store.put('race', { ...holder.store.get('race')!, siblings: holder.store.get('race')!.siblings.map((s) => ({ ...s, value: Buffer.from('newer') })) });
    return original(entries);
  };
  t.equal(await holder.transfer.runOnce(), 0, 'the changed key is kept');
  holder.store.removeIfUnchanged = original;
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(await holder.transfer.runOnce(), 1, 'and handed off, newer copy included, next round');
});
