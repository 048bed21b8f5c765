// Sloppy quorum and hinted handoff over fully wired in-memory nodes (Dynamo §4.6).
import t from 'tap';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';

const text = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).map((s) => Buffer.from(s.value).toString());

/** A 4-node cluster (N=3) and a key whose preference list holds node4, with node4 marked dead everywhere. */
function clusterWithDeadOwner() {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 3 } });
  let key = '';
  for (let i = 0; ; i++) {
    key = `k${i}`;
    const owners = nodes[0]!.coordinator.preferenceList(key);
    if (owners.includes('node4') && owners[0] !== 'node4') break;
  }
  const owners = nodes[0]!.coordinator.preferenceList(key);
  const coordinator = nodes.find((n) => n.id === owners[0])!;
  const fallback = nodes.find((n) => !owners.includes(n.id))!;
  const owner = nodes.find((n) => n.id === 'node4')!;
  for (const node of nodes) node.membership.setStatus('node4', 'dead');
  return { nodes, network, key, coordinator, fallback, owner };
}

t.test('an unreachable primary is replaced by a fallback that keeps a hint and counts toward W', async (t) => {
  const { key, coordinator, fallback, owner } = clusterWithDeadOwner();
  const res = await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v1' });
  t.equal(res.status, 204, 'W=3 met with two primaries and one fallback');
  t.same(text(owner, key), [], 'the dead owner got nothing');
  t.same(fallback.store.hints.owners(), [{ owner: 'node4', count: 1, bytes: fallback.store.hints.owners()[0]!.bytes }]);
  t.equal(fallback.store.get(key), undefined, 'a hint is not a replica of the fallback');
});

t.test('strict quorums: sloppy=false and pw refuse to count fallbacks', async (t) => {
  const { key, coordinator, fallback } = clusterWithDeadOwner();
  const strict = await coordinator.app.request(`/kv/${key}?w=3&sloppy=false`, { method: 'PUT', body: 'v' });
  t.equal(strict.status, 503);
  t.match(await strict.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', needed: 3, answered: 0, failures: /node4=KV_ERR_PEER_UNREACHABLE/ } }, 'refused before writing: node4 is known dead');
  const pw = await coordinator.app.request(`/kv/${key}?w=3&pw=3`, { method: 'PUT', body: 'v' });
  t.equal(pw.status, 503, 'PW=3 cannot be met with a primary down');
  t.match(await pw.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', failures: /primaries: 0\/3/ } });
  t.equal((await coordinator.app.request(`/kv/${key}?w=2&pw=3`, { method: 'PUT', body: 'v' })).status, 400, 'pw above w is refused');
  t.equal((await coordinator.app.request(`/kv/${key}?sloppy=maybe`, { method: 'PUT', body: 'v' })).status, 400);
  t.equal(fallback.store.hints.count(), 0, 'no attempt left a hint: strict writes never use fallbacks, an impossible PW writes nothing');
  t.equal(coordinator.store.get(key), undefined, 'the impossible PW=3 write left no partial copy');
});

t.test('hints are delivered once the owner is back, then deleted; newer writes merge into the hint', async (t) => {
  const { nodes, key, coordinator, fallback, owner } = clusterWithDeadOwner();
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v1' })).status, 204);
  const ctx = (await coordinator.app.request(`/kv/${key}?r=2`)).headers.get('x-ringkv-context')!;
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v2', headers: { 'x-ringkv-context': ctx } })).status, 204);
  t.equal(fallback.store.hints.count(), 1, 'one hint per (owner, key): v2 merged into it');
  // While the owner is still dead, delivery does nothing.
  t.same(await fallback.handoff.deliverOnce(), { delivered: 0, dropped: 0 });
  for (const node of nodes) node.membership.setStatus('node4', 'alive');
  t.same(await fallback.handoff.deliverOnce(), { delivered: 1, dropped: 0 });
  t.same(text(owner, key), ['v2'], 'the owner now holds the latest value');
  t.equal(fallback.store.hints.count(), 0, 'the delivered hint is gone');
});

t.test('a hint changed after it was taken for delivery is not deleted (sequence check)', async (t) => {
  const { fallback } = clusterWithDeadOwner();
  const hints = fallback.store.hints;
  const object = { clock: [{ id: 'x~e', counter: 1, timestampMs: 1 }], siblings: [{ dot: { id: 'x~e', counter: 1 }, deleted: false, value: new Uint8Array([1]), contentType: '', timestampMs: 1 }] };
  await hints.add('node4', 'k', object);
  const [taken] = hints.take('node4', 10);
  const newer = { clock: [{ id: 'x~e', counter: 2, timestampMs: 2 }], siblings: [{ dot: { id: 'x~e', counter: 2 }, deleted: false, value: new Uint8Array([2]), contentType: '', timestampMs: 2 }] };
  await hints.add('node4', 'k', newer);
  t.equal(hints.remove([{ id: taken!.id, seq: taken!.seq }]), 0, 'the stale delivery deletes nothing');
  t.equal(hints.count(), 1);
});

t.test('hints for an owner that left, or that no member knows, go to the key\'s current owners', async (t) => {
  const { nodes, key, coordinator, fallback } = clusterWithDeadOwner();
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'kept' })).status, 204);
  t.equal(fallback.store.hints.count(), 1, 'a hint for node4');
  // A hint for a member nobody knows (a forged or stale owner id): it must not be lost either.
  await fallback.store.hints.add('ghost', 'ghost-key', fallback.store.hints.take('node4', 1)[0]!.object);
  for (const node of nodes) node.membership.setStatus('node4', 'left'); // removed: the ring no longer has it
  t.same(await fallback.handoff.deliverOnce(), { delivered: 2, dropped: 0 }, 'both hints delivered');
  t.equal(fallback.store.hints.count(), 0, 'and deleted');
  for (const target of [key, 'ghost-key']) {
    const owners = fallback.coordinator.preferenceList(target);
    t.notOk(owners.includes('node4'), `${target}: node4 is out of the ring`);
    for (const id of owners) t.same(text(nodes.find((n) => n.id === id)!, target), ['kept'], `${target} is on its current owner ${id}`);
  }
});

t.test('issue 19.6: a leaving node hands the hints it cannot deliver to another live node', async (t) => {
  const { nodes, network, key, coordinator, fallback, owner } = clusterWithDeadOwner();
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v1' })).status, 204);
  t.equal(fallback.store.hints.count(), 1, 'the fallback holds the hint for the dead owner');
  for (const node of nodes) network.setLink(node.id, owner.address, false); // really unreachable
  t.equal(await fallback.handoff.handOverOnce(), 1, 'the fallback (now leaving) hands it over');
  t.equal(fallback.store.hints.count(), 0, 'and holds nothing any more');
  const holders = nodes.filter((node) => node !== fallback && node.store.hints.count() === 1);
  t.equal(holders.length, 1, 'exactly one other node keeps the hint');
  t.not(holders[0], owner, 'not the dead owner itself');
  // The owner returns: the new holder delivers it.
  for (const node of nodes) node.membership.setStatus('node4', 'alive');
  for (const node of nodes) network.setLink(node.id, owner.address, true);
  t.match(await holders[0]!.handoff.deliverOnce(), { delivered: 1 });
  t.same(text(owner, key), ['v1'], 'the write reached its owner');
});

// Found by the data-type simulation (issue 15, seed 354): a leaving node handed its hint to the
// write's coordinator, an owner that already held the same write; that node's disk was then
// lost, and with it both copies of an acknowledged write. A hint handed over must stay a copy
// of its own: it goes to a node outside the key's preference list when there is one.
t.test('issue 15: a leaving node hands a hint to a node outside the preference list, not to an owner that may hold the write already', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 5, config: { n: 3 } });
  let key = '';
  for (let i = 0; ; i++) {
    key = `k${i}`;
    const owners = nodes[0]!.coordinator.preferenceList(key);
    if (owners[0] !== 'node5' && owners.includes('node5')) break;
  }
  const owners = nodes[0]!.coordinator.preferenceList(key);
  const coordinator = nodes.find((n) => n.id === owners[0])!;
  const owner = nodes.find((n) => n.id === 'node5')!;
  for (const node of nodes) node.membership.setStatus('node5', 'dead');
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v1' })).status, 204);
  const holder = nodes.find((n) => n.store.hints.count() === 1)!;
  t.notOk(owners.includes(holder.id), `a fallback (${holder.id}) holds the hint`);
  for (const node of nodes) network.setLink(node.id, owner.address, false);
  t.equal(await holder.handoff.handOverOnce(), 1, 'the fallback, leaving, hands it over');
  const next = nodes.filter((n) => n !== holder && n.store.hints.count() === 1);
  t.equal(next.length, 1, 'one node holds it now');
  t.notOk(owners.includes(next[0]!.id), `a node outside the preference list ${owners.join(',')} (${next[0]!.id}): the write keeps a copy apart from its owners'`);
});

t.test('issue 19.6: a leaving node whose view calls every peer dead still delivers or hands over its hints', async (t) => {
  const { nodes, key, coordinator, fallback, owner } = clusterWithDeadOwner();
  t.equal((await coordinator.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'v1' })).status, 204);
  // The leaver's view is stale (it left during a partition): it believes everyone dead.
  for (const node of nodes) if (node !== fallback) fallback.membership.setStatus(node.id, 'dead');
  t.equal(await fallback.handoff.handOverOnce(), 1, 'the hint went out all the same');
  t.equal(fallback.store.hints.count(), 0);
  t.same(text(owner, key), ['v1'], 'straight to its owner, which answers');
});
