// The client's retries of put() and delete() with their request id (issue 17.3,
// docs/idempotency.md), over real sockets: each URL is a small HTTP server in front of one node
// of an in-memory cluster (testing/memory-cluster.ts), so the client's own transport, failover
// and retry run as in production while the test decides which answers are lost.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { RingkvClient } from '@ringkv/client';
import { memoryCluster, type ClusterNode } from '@ringkv/node/testing';

type Cluster = ReturnType<typeof memoryCluster>;

/**
 * Serves `node`'s app on a loopback port. `loseAnswer(req)`: apply the request, then reset the
 * connection instead of answering (the client cannot know the write landed).
 */
async function serve(t: Test, node: ClusterNode, seen: string[], loseAnswer: (method: string) => boolean = () => false): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []));
      seen.push(`${node.id} ${req.method} ${req.headers['x-ringkv-request-id'] ?? ''}`);
      void Promise.resolve(node.app.request(req.url!, { method: req.method!, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) })).then(async (answer) => {
        if (loseAnswer(req.method!)) return void res.socket?.destroy();
        res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function links(cluster: Cluster, from: ClusterNode, to: readonly ClusterNode[], up: boolean): void {
  for (const node of to) cluster.network.setLink(from.id, node.address, up);
}

const siblingsOf = (node: ClusterNode, key: string) => (node.store.get(key)?.siblings ?? []).length;

t.test('a put whose answer was lost is sent again with its id and applied once', async (t) => {
  const cluster = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
  const seen: string[] = [];
  let lost = 0;
  const urls = [await serve(t, a, seen, (method) => method === 'PUT' && lost++ === 0), await serve(t, b, seen)];
  const kv = new RingkvClient({ urls, keyAware: false, timeoutMs: 2_000 });
  t.teardown(() => kv.close());
  await kv.put('k', 'v1');
  t.equal(seen.length, 2, `sent twice: ${seen.join(' | ')}`);
  const ids = seen.map((line) => line.split(' ')[2]);
  t.ok(ids[0] !== '' && ids[0] === ids[1], 'with one request id');
  t.same(cluster.nodes.map((node) => siblingsOf(node, 'k')), [1, 1, 1], 'one sibling on every replica');
  const read = await kv.get('k', { r: 3 });
  t.equal(Buffer.from(read.value!).toString(), 'v1', 'a read sees the one value');
});

t.test('a 503 after the coordinator wrote its copy: the retry through another node collapses with it', async (t) => {
  const cluster = memoryCluster({ nodes: 3, config: { n: 3 } });
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  links(cluster, a, [b, c], false);
  links(cluster, b, [a], false);
  const seen: string[] = [];
  const [urlA, urlB] = [await serve(t, a, seen), await serve(t, b, seen)];
  const kv = new RingkvClient({ urls: [urlA, urlB], keyAware: false, timeoutMs: 2_000 });
  t.teardown(() => kv.close());
  await kv.put('k', 'v1', { w: 2, sloppy: false });
  t.match(seen, [/^node1 PUT /, /^node2 PUT /], 'a 503 from node1, then the retry acknowledged by node2 and node3');
  t.same([siblingsOf(a, 'k'), siblingsOf(b, 'k'), siblingsOf(c, 'k')], [1, 1, 1], 'one attempt on node1, the other on node2 and node3');
  links(cluster, a, [b, c], true);
  links(cluster, b, [a], true);
  const read = await kv.get('k', { r: 3 });
  t.same(read.siblings.length, 1, 'the read merges the two attempts into one sibling');
  t.equal(Buffer.from(read.value!).toString(), 'v1');

  // Control: the same lost answer, and the caller writes again itself (a fresh id): two writes.
  const only = (url: string) => {
    const client = new RingkvClient({ urls: [url], keyAware: false, timeoutMs: 2_000 });
    t.teardown(() => client.close());
    return client;
  };
  links(cluster, a, [b, c], false);
  links(cluster, b, [a], false);
  const failed = await only(urlA).put('k2', 'v1', { w: 2, sloppy: false, retries: 0 }).catch((e: unknown) => e);
  t.match(failed, { code: 'KV_ERR_QUORUM_UNMET', mayHaveApplied: true }, 'retries: 0 hands the unknown outcome to the caller');
  await only(urlB).put('k2', 'v1', { w: 2, sloppy: false });
  links(cluster, a, [b, c], true);
  links(cluster, b, [a], true);
  t.equal((await kv.get('k2', { r: 3 })).siblings.length, 2, 'a fresh id is another write: two siblings');
});
