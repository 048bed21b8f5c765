// Listing keys over fully wired in-memory nodes (docs/listing.md): walking the pages of
// GET /kv from any node gives every live key exactly once, in byte order, with and without a
// prefix, with a node down, with r > 1, and across a leave and a join made between two pages.
import t, { type Test } from 'tap';
import { memoryCluster, type ClusterNode } from '../testing/memory-cluster.js';
import { compareKeys } from '../storage/key-listing.js';

const keys = Array.from({ length: 200 }, (_, i) => `${['a/', 'b/', 'é/', '𝄞/'][i % 4]}${String(i).padStart(4, '0')}`);
const deleted = new Set(keys.filter((_, i) => i % 10 === 3));
const live = keys.filter((key) => !deleted.has(key)).sort(compareKeys);

async function load(t: Test, first: ClusterNode, n = 3): Promise<void> {
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => first.app.request(`/kv/${encodeURIComponent(key)}?w=${n}`, { method: 'PUT', body: key })));
  // A delete with the read's context: a blind one would leave the value as a sibling.
  for (const key of deleted) {
    const context = (await first.app.request(`/kv/${encodeURIComponent(key)}?r=${n}`)).headers.get('x-ringkv-context')!;
    t.equal((await first.app.request(`/kv/${encodeURIComponent(key)}?w=${n}`, { method: 'DELETE', headers: { 'x-ringkv-context': context } })).status, 204);
  }
}

interface Page {
  keys: string[];
  next: string | null;
}

async function page(node: ClusterNode, query: string): Promise<Page> {
  const response = await node.app.request(`/kv?${query}`);
  if (response.status !== 200) throw new Error(`GET /kv?${query}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Page;
}

/** Walks every page from `after`, at most `pagesMax`; calls `between` after each page. */
async function walk(t: Test, node: () => ClusterNode, options: { prefix?: string; limit: number; r?: number; pagesMax?: number; between?: (pages: number) => Promise<void> }): Promise<string[]> {
  const seen: string[] = [];
  let after = '';
  for (let pages = 1; pages <= (options.pagesMax ?? 1_000); pages++) {
    const query = new URLSearchParams({ prefix: options.prefix ?? '', after, limit: String(options.limit), ...(options.r ? { r: String(options.r) } : {}) });
    const { keys: got, next } = await page(node(), query.toString());
    t.ok(got.length <= options.limit, 'no page is longer than the limit');
    seen.push(...got);
    if (next === null) return seen;
    after = next;
    await options.between?.(pages);
  }
  throw new Error('the listing did not end');
}

function exactlyOnce(t: Test, seen: readonly string[], expected: readonly string[], what: string): void {
  t.equal(new Set(seen).size, seen.length, `${what}: no key twice`);
  t.same(seen, expected, `${what}: every live key, in byte order`);
}

async function settle(nodes: ClusterNode[]): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const moved = await Promise.all(nodes.map((node) => node.transfer.runOnce()));
    if (moved.every((count) => count === 0)) return;
  }
  throw new Error('transfers did not settle in 100 rounds');
}

t.test('every live key exactly once, with and without a prefix, from every node', async (t) => {
  const { nodes } = memoryCluster({ nodes: 5, config: { n: 3 } });
  await load(t, nodes[0]!);
  for (const node of nodes) exactlyOnce(t, await walk(t, () => node, { limit: 37 }), live, `from ${node.id}, pages of 37`);
  for (const prefix of ['a/', 'é/', '𝄞/', 'b/01']) {
    exactlyOnce(t, await walk(t, () => nodes[2]!, { prefix, limit: 13 }), live.filter((key) => key.startsWith(prefix)), `prefix ${prefix}`);
  }
  exactlyOnce(t, await walk(t, () => nodes[1]!, { limit: 1000 }), live, 'one page of 1,000');
  exactlyOnce(t, await walk(t, () => nodes[3]!, { limit: 50, r: 3 }), live, 'r=3: three replicas per range, merged');
  t.same(await page(nodes[0]!, 'prefix=zz'), { keys: [], next: null }, 'a prefix with no key');
});

t.test('a node down: its ranges are asked at another replica; r above what is reachable is 503', async (t) => {
  const { nodes } = memoryCluster({ nodes: 5, config: { n: 3 } });
  await load(t, nodes[0]!);
  for (const node of nodes) node.membership.setStatus('node4', 'dead');
  exactlyOnce(t, await walk(t, () => nodes[0]!, { limit: 41 }), live, 'node4 dead, r=1');
  exactlyOnce(t, await walk(t, () => nodes[0]!, { limit: 41, r: 2 }), live, 'node4 dead, r=2');
  const refused = await nodes[0]!.app.request('/kv?r=3');
  t.equal(refused.status, 503, 'r=3 with an owner of some range dead');
  t.match(await refused.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', needed: 3, answered: 2 } });
});

t.test('a node that does not answer is routed around within the request', async (t) => {
  const { nodes } = memoryCluster({ nodes: 4, config: { n: 2 } });
  await load(t, nodes[0]!, 2);
  // node3 still looks alive but refuses every listing question.
  nodes[2]!.replica.tree = async () => {
    throw new Error('not answering');
  };
  exactlyOnce(t, await walk(t, () => nodes[0]!, { limit: 60 }), live, 'node3 silent');
});

t.test('a leave and a join between pages: still every live key exactly once', async (t) => {
  const { nodes } = memoryCluster({ nodes: 5, config: { n: 3 } });
  for (const node of nodes) node.membership.setStatus('node5', 'left'); // joins later
  await load(t, nodes[0]!);
  const seen = await walk(t, () => nodes[0]!, {
    limit: 29,
    between: async (pages) => {
      if (pages === 3) {
        for (const node of nodes) node.membership.setStatus('node2', 'left');
        await settle(nodes);
      }
      if (pages === 6) {
        for (const node of nodes) node.membership.setStatus('node5', 'alive');
        await settle(nodes);
      }
    },
  });
  exactlyOnce(t, seen, live, 'node2 left after page 3, node5 joined after page 6');
  exactlyOnce(t, await walk(t, () => nodes[4]!, { limit: 100, prefix: 'a/' }), live.filter((key) => key.startsWith('a/')), 'from the newcomer');
});

t.test('bad options are coded 400s before any work', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  for (const [query, code] of [['limit=0', 'KV_ERR_BAD_REQUEST'], ['limit=1001', 'KV_ERR_BAD_REQUEST'], ['limit=x', 'KV_ERR_BAD_REQUEST'], ['r=4', 'KV_ERR_BAD_QUORUM'], ['timeout_ms=0', 'KV_ERR_BAD_TIMEOUT'], [`prefix=${'p'.repeat(1025)}`, 'KV_ERR_BAD_REQUEST'], [`after=${'p'.repeat(1025)}`, 'KV_ERR_BAD_REQUEST']] as const) {
    const response = await nodes[0]!.app.request(`/kv?${query}`);
    t.equal(response.status, 400, query);
    t.match(await response.json(), { error: { code } }, `${query}: ${code}`);
  }
  t.equal((await nodes[0]!.app.request('/kv?limit=1000')).status, 200, 'limit=1000 is allowed');
  const put = await nodes[0]!.app.request('/kv', { method: 'PUT', body: 'x' });
  t.equal(put.status, 405, 'PUT /kv: method not allowed');
  t.equal(put.headers.get('allow'), 'GET');
  t.equal((await nodes[0]!.app.request('/kv/')).status, 400, '/kv/ is still an empty key');
});
