// Coordinator behaviour over fully wired in-memory nodes, and regression tests for the review
// findings (each named after the bug it pins down).
import t, { type Test } from 'tap';
import { CONTEXT_HEADER } from '@ringkv/protocol';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';
import { MemoryStore } from '../storage/memory-store.js';
import { KvError } from '../errors.js';
import type { MergeOptions, Store } from '../storage/store.js';
import { plantedBugs, type VersionedObject, type VersioningLimits } from '../core/versioned.js';

const text = (o: VersionedObject | undefined) => (o?.siblings ?? []).map((s) => (s.deleted ? '<deleted>' : Buffer.from(s.value).toString())).sort();

/** A store whose inner store can be swapped (data loss) and whose commits can be made to fail. */
class FaultyStore implements Store {
  failPuts = false;
  failGets = false;
  constructor(public inner: Store = new MemoryStore({ nowMs: Date.now })) {}
  get(key: string) {
    if (this.failGets) throw new KvError('KV_ERR_STORAGE', 'injected read failure');
    return this.inner.get(key);
  }
  actorOf(key: string) {
    return this.inner.actorOf(key);
  }
  syncNow() {
    return this.inner.syncNow();
  }
  committed(key: string) {
    return this.inner.committed(key);
  }
  get acceptorRecords() {
    return this.inner.acceptorRecords;
  }
  put(key: string, object: VersionedObject, actor?: string) {
    if (this.failPuts) return Promise.reject(new KvError('KV_ERR_STORAGE_FULL', 'injected disk full'));
    return this.inner.put(key, object, actor);
  }
  merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions) {
    // As a replica write did before Store.merge: the read fails first, then the write.
    if (this.failGets) return Promise.reject(new KvError('KV_ERR_STORAGE', 'injected read failure'));
    if (this.failPuts) return Promise.reject(new KvError('KV_ERR_STORAGE_FULL', 'injected disk full'));
    return this.inner.merge(key, incoming, limits, options);
  }
  get epoch() {
    return this.inner.epoch;
  }
  writeRefusal() {
    // Injected failures are refusals: a coordinator tells before sending that its copy will not hold the dot.
    return this.failPuts ? new KvError('KV_ERR_STORAGE_FULL', 'injected disk full') : this.inner.writeRefusal();
  }
  get hints() {
    return this.inner.hints;
  }
  keyCount() {
    return this.inner.keyCount();
  }
  summarize(start: number, end: number) {
    return this.inner.summarize(start, end);
  }
  digests(start: number, end: number, limit: number) {
    return this.inner.digests(start, end, limit);
  }
  removeIfUnchanged(entries: Parameters<Store['removeIfUnchanged']>[0]) {
    return this.inner.removeIfUnchanged(entries);
  }
  digestOf(key: string) {
    return this.inner.digestOf(key);
  }
  deadBefore(cutoffMs: number, limit: number) {
    return this.inner.deadBefore(cutoffMs, limit);
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
  listKeys(...args: Parameters<Store['listKeys']>) {
    return this.inner.listKeys(...args);
  }
}

function faultyCluster(nodes = 3, config = {}) {
  const stores = Array.from({ length: nodes }, () => new FaultyStore());
  const cluster = memoryCluster({ nodes, config, store: (i) => stores[i]! });
  return { ...cluster, stores };
}

t.test('regression D1 (commit failure): a coordinator whose disk refuses a write never covers it with its next one', async (t) => {
  const { nodes, stores } = faultyCluster();
  const [a] = nodes;
  // N = 3 on 3 nodes: a is a replica of every key. Its disk refuses the write; the two others
  // make w = 2 (the coordinator sends while it commits, issue 12).
  stores[0]!.failPuts = true;
  t.equal((await a!.app.request('/kv/k?w=2', { method: 'PUT', body: 'v1' })).status, 204, 'the quorum is met by the other replicas');
  t.same(text(stores[0]!.inner.get('k')), [], 'the refusing disk holds nothing');
  stores[0]!.failPuts = false;
  // A blind write through the same coordinator: its dot must not claim v1's.
  t.equal((await a!.app.request('/kv/k?w=3', { method: 'PUT', body: 'v2' })).status, 204);
  for (const store of stores.slice(1)) t.same(text(store.inner.get('k')), ['v1', 'v2'], 'the acknowledged v1 survives beside the blind v2');
});

t.test('regression D1 (commit failure, one life): a commit that fails after the dot left renews the epoch', async (t) => {
  for (const planted of [false, true]) {
    plantedBugs.keepEpochAfterLostWrite = planted;
    t.teardown(() => (plantedBugs.keepEpochAfterLostWrite = false));
    let failing = false;
    const disks = Array.from({ length: 3 }, (_, i) => new MemoryStore({ nowMs: Date.now, ...(i === 0 ? { commitFault: () => (failing ? new KvError('KV_ERR_STORAGE', 'injected I/O error') : undefined) } : {}) }));
    const { nodes } = memoryCluster({ nodes: 3, store: (i) => disks[i]! });
    const [a] = nodes;
    t.equal((await a!.app.request('/kv/k?w=3', { method: 'PUT', body: 'v0' })).status, 204);
    const context = (await a!.app.request('/kv/k?r=3')).headers.get(CONTEXT_HEADER)!;
    const epoch = disks[0]!.epoch;
    failing = true;
    t.equal((await a!.app.request('/kv/k?w=2', { method: 'PUT', body: 'v1', headers: { [CONTEXT_HEADER]: context } })).status, 204, 'the quorum is met by the other replicas');
    failing = false;
    t.equal(disks[0]!.lostWrites, 1, 'the commit failed');
    t.same(text(disks[0]!.get('k')), ['v0'], 'the failed commit left the row as it was');
    t.equal(disks[0]!.epoch !== epoch, !planted, planted ? 'the planted bug keeps the epoch' : 'the store took a new epoch');
    // Built on the row (v0), not on v1: v1 and v3 are concurrent.
    t.equal((await a!.app.request('/kv/k?w=3', { method: 'PUT', body: 'v3', headers: { [CONTEXT_HEADER]: context } })).status, 204);
    const kept = text(disks[1]!.get('k'));
    if (planted) t.same(kept, ['v3'], 'with the old epoch, the next dot claims v1 and replicas drop it (the bug this rule prevents)');
    else t.same(kept, ['v1', 'v3'], 'the acknowledged v1 survives beside v3');
  }
});

t.test('regression D2 (lost state): a coordinator that lost its data never covers its old acknowledged dots', async (t) => {
  const { nodes, stores } = faultyCluster();
  const [a] = nodes;
  t.equal((await a!.app.request('/kv/k?w=3', { method: 'PUT', body: 'acked' })).status, 204);
  stores[0]!.inner = new MemoryStore({ nowMs: Date.now }); // node1's disk is replaced: it forgets everything
  t.equal((await a!.app.request('/kv/k?w=3', { method: 'PUT', body: 'blind' })).status, 204);
  for (const store of stores.slice(1)) t.same(text(store.inner.get('k')), ['acked', 'blind'], 'the acknowledged value survives as a sibling');
});

t.test('regression D2 (bursts): counters stay unique and rising when writes outpace the clock', async (t) => {
  const now = 1_000;
  const { nodes } = memoryCluster({ nodes: 1, config: { n: 1 }, nowMs: () => now });
  const [a] = nodes;
  for (let i = 0; i < 50; i++) await a!.app.request(`/kv/k${i % 2}`, { method: 'PUT', body: `${i}` });
  const counters = ['k0', 'k1'].flatMap((k) => a!.store.get(k)!.siblings.map((s) => s.dot.counter));
  t.equal(new Set(counters).size, counters.length, 'no two dots share a counter');
  t.ok(counters.every((c) => c >= now * 1000), 'counters start at the clock in µs');
});

t.test('regression D3: more siblings than clockEntriesMax can still be resolved with their context', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { siblingsMax: 2, clockEntriesMax: 2 } });
  await Promise.all(nodes.map((node, i) => node.app.request('/kv/k?w=1', { method: 'PUT', body: `w${i}` })));
  // Let replication settle: a read at r=3 merges and repairs.
  const read = await nodes[0]!.app.request('/kv/k?r=3');
  t.equal(read.status, 300);
  const context = read.headers.get(CONTEXT_HEADER)!;
  const body = (await read.json()) as { siblings: unknown[] };
  t.equal(body.siblings.length, 3, 'merges kept every concurrent write');
  const resolve = await nodes[1]!.app.request('/kv/k?w=3', { method: 'PUT', body: 'resolved', headers: { [CONTEXT_HEADER]: context } });
  t.equal(resolve.status, 204, 'the context of a 3-entry clock is accepted');
  t.equal(await (await nodes[2]!.app.request('/kv/k?r=3')).text(), 'resolved');
});

t.test('regression A1: a storage error during read repair does not crash the node', async (t) => {
  const { nodes, stores } = faultyCluster();
  t.equal((await nodes[1]!.app.request('/kv/k?w=3', { method: 'PUT', body: 'v' })).status, 204);
  // node1 misses the next write, so a read it coordinates plans a repair of its own copy.
  stores[0]!.failPuts = true;
  const context = (await nodes[1]!.app.request('/kv/k?r=3')).headers.get(CONTEXT_HEADER)!;
  t.equal((await nodes[1]!.app.request('/kv/k?w=2', { method: 'PUT', body: 'v2', headers: { [CONTEXT_HEADER]: context } })).status, 204);
  stores[0]!.failPuts = false;
  t.same(text(stores[0]!.inner.get('k')), ['v'], 'node1 is stale');
  // node1 coordinates the read; its own store fails on the repair's read.
  let reads = 0;
  const original = stores[0]!.inner;
  stores[0]!.inner = {
    epoch: original.epoch,
    writeRefusal: original.writeRefusal.bind(original),
    hints: original.hints,
    acceptorRecords: original.acceptorRecords,
    summarize: original.summarize.bind(original),
    digests: original.digests.bind(original),
    removeIfUnchanged: original.removeIfUnchanged.bind(original),
    deadBefore: original.deadBefore.bind(original),
    digestOf: original.digestOf.bind(original),
    listKeys: original.listKeys.bind(original),
    get: (key: string) => {
      if (++reads > 1) throw new Error('boom');
      return original.get(key);
    },
    actorOf: original.actorOf.bind(original),
    syncNow: original.syncNow.bind(original),
    committed: original.committed.bind(original),
    put: original.put.bind(original),
    // Store.merge reads the key through the store's own get first, as the stores do.
    merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions) {
      try {
        this.get(key);
      } catch (error) {
        return Promise.reject(error);
      }
      return original.merge(key, incoming, limits, options);
    },
    keyCount: () => 0,
    stats: original.stats.bind(original),
    close: original.close.bind(original),
  };
  const read = await nodes[0]!.app.request('/kv/k?r=3');
  t.equal(read.status, 200);
  t.equal(await read.text(), 'v2');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(reads >= 2, 'the repair did read the local store (and failed)');
  // Had the failure escaped, tap would report an unhandled rejection and fail this file.
});

t.test('a node outside the preference list keeps no copy when it forwards', async (t) => {
  const { nodes } = memoryCluster({ nodes: 4, config: { n: 2 } });
  let key = '';
  let outsider = nodes[0]!;
  for (let i = 0; ; i++) {
    key = `k${i}`;
    const owners = nodes[0]!.coordinator.preferenceList(key);
    const found = nodes.find((n) => !owners.includes(n.id));
    if (found) {
      outsider = found;
      break;
    }
  }
  t.equal((await outsider.app.request(`/kv/${key}`, { method: 'PUT', body: 'x' })).status, 204);
  t.equal(outsider.store.get(key), undefined);
  t.equal(await (await outsider.app.request(`/kv/${key}`)).text(), 'x');
});

t.test('regression: a forwarded write that may have been delivered is not coordinated a second time', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 2 } });
  let key = '';
  let outsider = nodes[0]!;
  for (let i = 0; ; i++) {
    key = `fk${i}`;
    const owners = nodes[0]!.coordinator.preferenceList(key);
    const found = nodes.find((n) => !owners.includes(n.id));
    if (found) {
      outsider = found;
      break;
    }
  }
  const [first] = nodes[0]!.coordinator.preferenceList(key);
  const target = nodes.find((n) => n.id === first)!;
  const real = network.handler(outsider.id, target.address)!;
  // The first replica coordinates the write, then the connection breaks before its answer.
  network.register(target.address, {
    tree: (request, sender) => real.tree(request, sender),
    replicaBatch: (ops, sender) => real.replicaBatch(ops, sender),
    coordinate: async (request, sender) => {
      await real.coordinate(request, sender);
      throw new KvError('KV_ERR_PEER_UNREACHABLE', 'connection reset after the request', { delivered: true });
    },
  });
  const res = await outsider.app.request(`/kv/${key}?w=2`, { method: 'PUT', body: 'once' });
  t.equal(res.status, 504, 'outcome unknown, reported as such');
  const read = await target.app.request(`/kv/${key}?r=2`);
  t.equal(read.status, 200, 'one version: the write was not coordinated twice');
  t.equal(await read.text(), 'once');
});

/** A key of whose preference list `outsider` is not a member, and that list. */
function keyOutside(nodes: readonly { id: string; coordinator: { preferenceList(key: string): string[] } }[], outsider: string) {
  for (let i = 0; ; i++) {
    const key = `key-${i}`;
    const replicas = nodes[0]!.coordinator.preferenceList(key);
    if (!replicas.includes(outsider)) return { key, replicas };
  }
}

t.test('issue 19.1: two blind writes through a coordinator without a copy stay siblings', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 5, config: { n: 3 } });
  const outsider = nodes[4]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const primaries = nodes.filter((node) => replicas.includes(node.id));
  // The key's three primaries are unreachable: the outsider coordinates itself, with fallbacks.
  for (const node of nodes) for (const primary of primaries) node.membership.setStatus(primary.id, 'dead');
  for (const node of nodes) for (const primary of primaries) network.setLink(node.id, primary.address, false);
  t.equal((await outsider.app.request(`/kv/${key}?w=1`, { method: 'PUT', body: 'v1' })).status, 204);
  t.equal((await outsider.app.request(`/kv/${key}?w=1`, { method: 'PUT', body: 'v2' })).status, 204);
  for (const node of nodes) for (const primary of primaries) node.membership.setStatus(primary.id, 'alive');
  for (const node of nodes) for (const primary of primaries) network.setLink(node.id, primary.address, true);
  for (const node of nodes) await node.handoff.deliverOnce();
  const read = await primaries[0]!.app.request(`/kv/${key}?r=3`);
  t.equal(read.status, 300, 'both acknowledged writes are siblings');
  const body = (await read.json()) as { siblings: Array<{ value: string }> };
  t.same(body.siblings.map((s) => Buffer.from(s.value, 'base64').toString()).sort(), ['v1', 'v2']);
});

t.test('issue 19.2: a forwarded write keeps pw and sloppy', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 5, config: { n: 3 } });
  const outsider = nodes[4]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const dead = nodes.find((node) => node.id === replicas[2])!;
  const primary = nodes.find((node) => node.id === replicas[0])!;
  for (const node of nodes) node.membership.setStatus(dead.id, 'dead');
  for (const node of nodes) network.setLink(node.id, dead.address, false);
  for (const query of ['w=3&sloppy=false', 'w=3&pw=3']) {
    t.equal((await primary.app.request(`/kv/${key}?${query}`, { method: 'PUT', body: 'x' })).status, 503, `${query} at a primary: 503`);
    t.equal((await outsider.app.request(`/kv/${key}?${query}`, { method: 'PUT', body: 'x' })).status, 503, `${query} through a node outside the list: 503 too`);
  }
  t.equal((await outsider.app.request(`/kv/${key}?w=3`, { method: 'PUT', body: 'x' })).status, 204, 'control: a sloppy w=3 through the outsider counts a fallback');
});

t.test('issue 19.3: a replica that missed writes while still called alive gets them by hints', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, , c] = nodes;
  // c is unreachable, but membership has not noticed: writes are sent to it and fail.
  for (const node of nodes) network.setLink(node.id, c!.address, false);
  for (let i = 0; i < 40; i++) t.equal((await a!.app.request(`/kv/k${i}?w=2`, { method: 'PUT', body: `v${i}` })).status, 204);
  t.equal(c!.store.keyCount(), 0, 'c missed every write');
  t.equal(a!.store.hints.count(), 40, 'the coordinator kept a hint for each');
  for (const node of nodes) network.setLink(node.id, c!.address, true);
  t.match(await a!.handoff.deliverOnce(), { delivered: 40 });
  for (let i = 0; i < 40; i++) t.same(text(c!.store.get(`k${i}`)), [`v${i}`]);
  t.equal(a!.store.hints.count(), 0, 'no hint left');
});

/** Makes the node at `address` silent to everyone: it takes requests and never answers, probes included (a dropped link). */
function silence(network: ReturnType<typeof memoryCluster>['network'], address: string): void {
  const never = () => new Promise<never>(() => {});
  network.register(address, { tree: never, replicaBatch: never, coordinate: never, probe: never });
}

/** Makes the node at `address` slow: its process answers probes at once, its replica ops take `delayMs` (a stalled disk). */
function slow(network: ReturnType<typeof memoryCluster>['network'], address: string, delayMs: number): void {
  const real = network.handler('nobody', address)!;
  network.register(address, {
    tree: (request, sender) => real.tree(request, sender),
    coordinate: (request, sender) => real.coordinate(request, sender),
    replicaBatch: (ops, sender) => new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => real.replicaBatch(ops, sender)),
  });
}

/** A key whose preference list starts with `first`, and that list. */
function keyLedBy(nodes: readonly { coordinator: { preferenceList(key: string): string[] } }[], first: string) {
  for (let i = 0; ; i++) {
    const key = `led-${i}`;
    const replicas = nodes[0]!.coordinator.preferenceList(key);
    if (replicas[0] === first) return { key, replicas };
  }
}

t.test('issue 16.5: a primary that goes silent is replaced by a fallback after one replica deadline, then avoided', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 3, replicaTimeoutMs: 200 } });
  const a = nodes[0]!;
  const { key, replicas } = keyLedBy(nodes, a.id);
  const silent = nodes.find((node) => node.id === replicas[2])!;
  const fallback = nodes.find((node) => !replicas.includes(node.id))!;
  silence(network, silent.address);
  let started = Date.now();
  t.equal((await a.app.request(`/kv/${key}?w=3&timeout_ms=5000`, { method: 'PUT', body: 'v1' })).status, 204, 'w=3 met with a fallback standing in');
  const first = Date.now() - started;
  t.ok(first < 2_000, `answered after one replica deadline, not the request's (${first} ms)`);
  t.equal(fallback.store.hints.count(), 1, 'the fallback holds a hint for the silent primary');
  started = Date.now();
  t.equal((await a.app.request(`/kv/${key}?w=3&timeout_ms=5000`, { method: 'PUT', body: 'v2' })).status, 204);
  const second = Date.now() - started;
  t.ok(second < first, `the next write does not wait for the silent primary again (${second} ms < ${first} ms)`);
  t.equal(a.coordinator.peerHealth().find((p) => p.id === silent.id)?.usable, false, 'the coordinator avoids it');
});

/** Three nodes (N=3, a 200 ms replica deadline floor), each holding k = 'x'. */
async function trio(t: Test) {
  const { nodes, network } = memoryCluster({ nodes: 3, config: { n: 3, replicaTimeoutMs: 200 } });
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  t.equal((await a.app.request('/kv/k?w=3', { method: 'PUT', body: 'x' })).status, 204);
  return { a, b, c, network };
}

t.test('issue 16.5: a read that cannot meet r fails fast with 503, not 504 at the deadline', async (t) => {
  const { a, b, c, network } = await trio(t);
  silence(network, b.address);
  silence(network, c.address);
  // Cut off (no answer to the probe sent after half a floor, 100 ms, within a floor, 200 ms):
  // each op fails at once, the read with 503 after about 300 ms.
  const started = Date.now();
  const res = await a.app.request('/kv/k?r=2&timeout_ms=5000');
  const elapsed = Date.now() - started;
  t.equal(res.status, 503);
  t.match(await res.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', needed: 2, answered: 1 } });
  t.ok(elapsed >= 250 && elapsed < 1_500, `cut off: 503 after the probe went unanswered (${elapsed} ms)`);
  t.equal((await a.app.request('/kv/k?r=1')).status, 200, 'r=1 still served from the local copy');
});

t.test('issue 16.5: a slow replica (its process answers probes) is waited for, not failed', async (t) => {
  const { a, b, c, network } = await trio(t);
  silence(network, c.address);
  slow(network, b.address, 1_200);
  const started = Date.now();
  const res = await a.app.request('/kv/k?r=2&timeout_ms=5000');
  const elapsed = Date.now() - started;
  t.equal(res.status, 200, 'r=2 met once the slow replica answered');
  t.equal(await res.text(), 'x');
  t.ok(elapsed >= 1_100 && elapsed < 4_000, `waited for the slow replica past several floors, not the deadline (${elapsed} ms)`);
});

t.test('issue 16.5: gossip suspecting a silent replica fails its op at the first deadline', async (t) => {
  const { a, b, c, network } = await trio(t);
  silence(network, b.address);
  silence(network, c.address);
  a.membership.setStatus(b.id, 'suspect');
  a.membership.setStatus(c.id, 'suspect');
  const started = Date.now();
  const res = await a.app.request('/kv/k?r=2&timeout_ms=5000');
  const elapsed = Date.now() - started;
  t.equal(res.status, 503);
  t.ok(elapsed < 700, `503 after one replica deadline (${elapsed} ms)`);
});

t.test('issue 16.5: a read at a node outside the preference list never waits on a silent replica', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 2, replicaTimeoutMs: 200 } });
  const outsider = nodes[3]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const owner = nodes.find((node) => node.id === replicas[0])!;
  t.equal((await owner.app.request(`/kv/${key}?w=2`, { method: 'PUT', body: 'x' })).status, 204);
  silence(network, owner.address);
  const started = Date.now();
  const res = await outsider.app.request(`/kv/${key}?r=1&timeout_ms=5000`);
  t.equal(res.status, 200, 'served by the other replica');
  t.equal(await res.text(), 'x');
  t.ok(Date.now() - started < 500, `coordinated where it arrived, answered by the first replica (${Date.now() - started} ms)`);
});

t.test('issue 16.5: a write is not forwarded to a replica that does not answer a probe; the next one takes it', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 5, config: { n: 3, replicaTimeoutMs: 200 } });
  const outsider = nodes[4]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const first = nodes.find((node) => node.id === replicas[0])!;
  silence(network, first.address);
  const started = Date.now();
  const res = await outsider.app.request(`/kv/${key}?w=2&timeout_ms=5000`, { method: 'PUT', body: 'x' });
  const elapsed = Date.now() - started;
  t.equal(res.status, 204, 'written through the next replica');
  t.ok(elapsed < 1_000, `one unanswered probe (200 ms), not the request's deadline (${elapsed} ms)`);
  t.equal(outsider.transport.stats().forwards, 1, 'forwarded once: the silent replica was never handed the write');
  const second = nodes.find((node) => node.id === replicas[1])!;
  t.same(text(second.store.get(key)), ['x']);
});

t.test('issue 16.5: a forward whose target stops answering mid-way is answered 504 (outcome unknown) without waiting for the deadline', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 5, config: { n: 3, replicaTimeoutMs: 200 } });
  const outsider = nodes[4]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const first = nodes.find((node) => node.id === replicas[0])!;
  const real = network.handler(outsider.id, first.address)!;
  // The target takes the forward, then its link goes dark: no answer, no probe answered.
  let dark = false;
  network.register(first.address, {
    tree: (request, sender) => real.tree(request, sender),
    replicaBatch: (ops, sender) => real.replicaBatch(ops, sender),
    probe: () => (dark ? new Promise<never>(() => {}) : Promise.resolve()),
    coordinate: () => {
      dark = true;
      return new Promise<never>(() => {});
    },
  });
  const started = Date.now();
  const res = await outsider.app.request(`/kv/${key}?w=2&timeout_ms=5000`, { method: 'PUT', body: 'x' });
  const elapsed = Date.now() - started;
  t.equal(res.status, 504, 'outcome unknown: the target may still apply it, so it is not sent elsewhere');
  t.equal(outsider.transport.stats().forwards, 1, 'never coordinated twice');
  t.ok(elapsed < 1_500, `answered once the probe went unanswered, not at the 5 s deadline (${elapsed} ms)`);
});

t.test('issue 16.5: a forward target that could not attempt the write (attempted: false) hands it to the next replica', async (t) => {
  const { nodes } = memoryCluster({ nodes: 5, config: { n: 3 } });
  const outsider = nodes[4]!;
  const { key, replicas } = keyOutside(nodes, outsider.id);
  const first = nodes.find((node) => node.id === replicas[0])!;
  // The first replica has just restarted and does not yet see the others alive.
  for (const id of replicas.slice(1)) first.membership.setStatus(id, 'dead');
  const refused = await first.app.request(`/kv/${key}?w=2&sloppy=false`, { method: 'PUT', body: 'x' });
  t.equal(refused.status, 503);
  t.match(await refused.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', answered: 0, attempted: false } }, 'asked directly, it refuses before writing anything');
  const res = await outsider.app.request(`/kv/${key}?w=2&sloppy=false`, { method: 'PUT', body: 'x' });
  t.equal(res.status, 204, 'the outsider went on to the next replica');
  const read = await nodes.find((node) => node.id === replicas[1])!.app.request(`/kv/${key}?r=3`);
  t.equal(read.status, 200, 'one version: the refusal wrote nothing, the next replica coordinated it once');
  t.equal(outsider.transport.stats().forwards, 2);
});
