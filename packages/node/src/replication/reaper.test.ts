// Tombstone and TTL reaping over fully wired in-memory nodes on a manual clock: a deleted or
// expired key is reaped only when every member holds the same dead object or nothing, and it
// never comes back (anti-entropy and read repair included).
import t from 'tap';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';
import { MemoryStore } from '../storage/memory-store.js';
import { DEAD_CLOCK_SKEW_MS } from '../storage/store.js';

const GRACE = 10_000;

function cluster() {
  let now = 1_700_000_000_000;
  const { nodes, network } = memoryCluster({ nodes: 3, config: { n: 3, tombstoneGraceMs: GRACE }, nowMs: () => now });
  return { nodes: nodes as [ClusterNode, ClusterNode, ClusterNode], network, advance: (ms: number) => (now += ms), now: () => now };
}

const status = async (node: ClusterNode, key: string, r = 1) => (await node.app.request(`/kv/${key}?r=${r}`)).status;

t.test('a key deleted while a replica is down is reaped only once every replica holds the tombstone, and stays deleted', async (t) => {
  const { nodes, network, advance } = cluster();
  const [a, b, c] = nodes;
  t.equal((await a.app.request('/kv/gone?w=3', { method: 'PUT', body: 'v' })).status, 204);
  // c goes down; the delete reaches a and b only.
  for (const node of nodes) node.membership.setStatus('node3', 'dead');
  for (const node of [a, b]) network.setLink(node.id, c.address, false);
  const context = (await a.app.request('/kv/gone?r=2')).headers.get('x-ringkv-context')!;
  t.equal((await a.app.request('/kv/gone?w=2', { method: 'DELETE', headers: { 'x-ringkv-context': context } })).status, 204);
  advance(GRACE + 1);
  t.match(await a.reaper.runOnce(), { examined: 1, reaped: 0, blocked: /node3 is dead/ }, 'not while a member is down');
  // c returns still holding the value: the reaper must not drop the tombstone.
  for (const node of nodes) node.membership.setStatus('node3', 'alive');
  for (const node of [a, b]) network.setLink(node.id, c.address, true);
  t.match(await a.reaper.runOnce(), { examined: 1, reaped: 0 }, 'not while a replica holds another version (or a hint is pending)');
  // The coordinator kept a hint for c, which missed the delete (issue 19.3); it brings c the tombstone.
  t.equal(a.store.hints.count(), 1, 'a kept a hint for c');
  t.match(await a.handoff.deliverOnce(), { delivered: 1 }, 'hinted handoff brings c the tombstone');
  t.match(await a.antiEntropy.exchange('node3'), { keysOut: 0 }, 'so anti-entropy has nothing left to move');
  t.equal(c.store.get('gone')!.siblings.every((s) => s.deleted), true, 'c now holds the tombstone');
  t.match(await a.reaper.runOnce(), { reaped: 1 }, 'every replica holds the tombstone: a reaps');
  t.match(await b.reaper.runOnce(), { reaped: 1 }, 'b reaps (a holds nothing, c the same tombstone)');
  t.match(await a.antiEntropy.exchange('node3'), { keysIn: 0, keysOut: 0 }, 'anti-entropy does not copy the dead key back to a');
  t.equal(a.store.get('gone'), undefined);
  t.match(await c.reaper.runOnce(), { reaped: 1 }, 'c reaps');
  for (const node of nodes) {
    t.equal(node.store.keyCount(), 0, `${node.id} holds nothing`);
    t.equal(await status(node, 'gone', 3), 404, `${node.id} reads 404 at R=3`);
  }
  for (const [x, y] of [[a, 'node2'], [b, 'node3'], [c, 'node1']] as const) await x.antiEntropy.exchange(y);
  t.same(nodes.map((node) => node.store.keyCount()), [0, 0, 0], 'still nothing anywhere after more anti-entropy');
});

// A restarted node knows only itself until a seed answers its join: "every member answers" is
// then no one at all, and it would drop every tombstone past the grace on its own (issue 17's
// restart-before-join finding, test/regression/issue-17-cas-before-join.test.ts).
t.test('a node that has not joined its ring reaps nothing, even when it sees no other member', async (t) => {
  const { nodes, advance } = cluster();
  const [a] = nodes;
  t.equal((await a.app.request('/kv/gone?w=3', { method: 'PUT', body: 'v' })).status, 204);
  const context = (await a.app.request('/kv/gone?r=3')).headers.get('x-ringkv-context')!;
  t.equal((await a.app.request('/kv/gone?w=3', { method: 'DELETE', headers: { 'x-ringkv-context': context } })).status, 204);
  advance(GRACE + 1);
  // a restarts and sees itself alone, not joined yet.
  a.membership.replace([{ id: a.id, address: a.address }]);
  a.membership.setJoined(false);
  t.match(await a.reaper.runOnce(), { examined: 1, reaped: 0, blocked: /not joined/ }, 'blocked: it has not joined its ring');
  t.ok(a.store.get('gone'), 'the tombstone is kept');
  a.membership.setJoined(true);
  t.match(await a.reaper.runOnce(), { reaped: 1 }, 'the same check without the gate would reap (no other member to ask)');
});

t.test('a pending hint for the key, or a member that holds an older version, blocks the reap', async (t) => {
  const { nodes, advance } = cluster();
  const [a, b] = nodes;
  await a.app.request('/kv/h?w=3', { method: 'PUT', body: 'v' });
  const context = (await a.app.request('/kv/h?r=3')).headers.get('x-ringkv-context')!;
  await a.app.request('/kv/h?w=3', { method: 'DELETE', headers: { 'x-ringkv-context': context } });
  await b.store.hints.add('node9', 'h', a.store.get('h')!);
  advance(GRACE + 1);
  t.match(await a.reaper.runOnce(), { reaped: 0 }, 'a hint on b keeps the tombstone');
  b.store.hints.remove(b.store.hints.take('node9', 10).map(({ id, seq }) => ({ id, seq })));
  t.match(await a.reaper.runOnce(), { reaped: 1 }, 'gone once the hint is');
});

t.test('TTL: the value reads 404 everywhere from its expiry, stays gone through anti-entropy, and is reclaimed', async (t) => {
  const { nodes, advance } = cluster();
  const [a, b, c] = nodes;
  t.equal((await a.app.request('/kv/brief?ttl_ms=1000&w=3', { method: 'PUT', body: 'soon gone' })).status, 204);
  t.equal((await a.app.request('/kv/forever?w=3', { method: 'PUT', body: 'stays' })).status, 204);
  advance(999);
  for (const node of nodes) t.equal(await status(node, 'brief'), 200, `${node.id}: alive at 999 ms`);
  advance(1);
  for (const node of nodes) {
    const res = await node.app.request('/kv/brief?r=1');
    t.equal(res.status, 404, `${node.id}: 404 at 1,000 ms`);
    t.ok(res.headers.get('x-ringkv-context'), 'with the context, like a tombstone');
  }
  t.match(await a.antiEntropy.exchange('node2'), { keysIn: 0, keysOut: 0 }, 'expired values are identical everywhere: nothing to repair');
  advance(GRACE + 1);
  for (const node of nodes) await node.reaper.runOnce();
  t.same(nodes.map((node) => node.store.get('brief')), [undefined, undefined, undefined], 'reclaimed on every replica');
  t.same(nodes.map((node) => node.store.keyCount()), [1, 1, 1], 'the key without a TTL stays');
  await b.antiEntropy.exchange('node3');
  t.equal(c.store.get('brief'), undefined, 'and anti-entropy does not bring it back');
  // A write over an expired value with its context starts afresh; bad TTLs are refused.
  t.equal((await a.app.request('/kv/brief?ttl_ms=0', { method: 'PUT', body: 'x' })).status, 400);
  t.equal((await a.app.request('/kv/brief?ttl_ms=1.5', { method: 'PUT', body: 'x' })).status, 400);
  t.equal((await a.app.request('/kv/brief?ttl_ms=99999999999999', { method: 'PUT', body: 'x' })).status, 400);
});

t.test('issue 19.8: nobody reaps on state a power loss could undo (every holding is synced first)', async (t) => {
  const { nodes, advance } = cluster();
  const [a, b, c] = nodes;
  await a.app.request('/kv/s?w=3', { method: 'PUT', body: 'v' });
  const context = (await a.app.request('/kv/s?r=3')).headers.get('x-ringkv-context')!;
  await a.app.request('/kv/s?w=3', { method: 'DELETE', headers: { 'x-ringkv-context': context } });
  advance(GRACE + 1);
  // Hold every sync: the reaper must not decide before each store (its own included) synced.
  const held: Array<() => void> = [];
  for (const node of nodes) node.store.syncNow = () => new Promise<void>((resolve) => held.push(resolve));
  let settled = false;
  const round = a.reaper.runOnce().then((report) => ((settled = true), report));
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  t.equal(settled, false, 'no decision while syncs are pending');
  t.equal(a.store.get('s')?.siblings.length, 1, 'the tombstone is still there');
  while (!settled) {
    held.splice(0).forEach((release) => release());
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  t.match(await round, { reaped: 1 }, 'reaped once every holding was durable');
  t.ok(held.length === 0 && [b, c].every((node) => node.store.get('s') !== undefined), 'b and c reap in their own rounds');
});

t.test('issue 19.9: a tombstone from a coordinator whose clock is far behind is not reapable at once', async (t) => {
  const grace = 60_000; // the skew tolerance (DEAD_CLOCK_SKEW_MS, 30 s) is well inside the grace, as in production
  let now = 1_700_000_000_000;
  let skewMs = 0;
  // The nodes' clock (coordinating, reaping) can be skewed; the stores keep the true time.
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3, tombstoneGraceMs: grace }, nowMs: () => now - skewMs, store: () => new MemoryStore({ nowMs: () => now }) });
  const [a] = nodes;
  await a!.app.request('/kv/skew?w=3', { method: 'PUT', body: 'v' });
  const context = (await a!.app.request('/kv/skew?r=3')).headers.get('x-ringkv-context')!;
  skewMs = 10 * grace; // the coordinator's clock steps far back for the delete
  await a!.app.request('/kv/skew?w=3', { method: 'DELETE', headers: { 'x-ringkv-context': context } });
  skewMs = 0;
  t.match(await a!.reaper.runOnce(), { reaped: 0 }, 'the grace counts from (at most 30 s before) when the replicas stored it, not from the skewed timestamp');
  now += grace - DEAD_CLOCK_SKEW_MS + 1;
  t.match(await a!.reaper.runOnce(), { reaped: 1 }, 'reaped once the grace has passed here');
});
