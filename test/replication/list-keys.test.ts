// Listing keys on a ring of real processes (docs/listing.md): 3 nodes, N = 2, so every page
// needs other nodes' answers over the stream transport. A few thousand keys, some deleted,
// walked in pages of 100 from every node: every live key exactly once, in byte order, with and
// without a prefix; `ringkv ls --all` prints the same.
import t from 'tap';
import { RingkvClient } from '@ringkv/client';
import { http, httpAgent, runCli } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';

const KEYS = 2_000;
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

t.test('3 nodes, N=2: pages of 100 from every node give every live key exactly once', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 2 });
  const agent = httpAgent(t);
  const client = new RingkvClient({ urls: ring.map((node) => node.url) });
  t.teardown(() => client.close());
  const keys = Array.from({ length: KEYS }, (_, i) => `${['user/', 'order/', 'é/'][i % 3]}${i.toString(36).padStart(4, '0')}`);
  for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((key) => client.put(key, 'v', { w: 2 })));
  const deleted = new Set(keys.filter((_, i) => i % 17 === 0));
  // Each delete carries its read's context: a blind one would leave the value as a sibling.
  await Promise.all([...deleted].map(async (key) => client.delete(key, { w: 2, context: (await client.get(key, { r: 2 })).context! })));
  const live = keys.filter((key) => !deleted.has(key)).sort(byteOrder);

  const walk = async (url: string, prefix: string) => {
    const seen: string[] = [];
    let after = '';
    for (let pages = 0; pages < 200; pages++) {
      const query = new URLSearchParams({ prefix, after, limit: '100' });
      const answer = await http(agent, 'GET', `${url}/kv?${query}`);
      t.equal(answer.status, 200, 'a page is 200');
      const page = answer.json as { keys: string[]; next: string | null };
      if (page.keys.length > 100) t.fail('a page holds more than the limit');
      seen.push(...page.keys);
      if (page.next === null) return seen;
      after = page.next;
    }
    throw new Error('the listing did not end in 200 pages');
  };
  for (const node of ring) {
    const seen = await walk(node.url, '');
    t.equal(new Set(seen).size, seen.length, `${node.id}: no key twice`);
    t.equal(seen.length, live.length, `${node.id}: ${live.length} live keys listed`);
    t.same(seen, live, `${node.id}: exactly the live keys, in byte order`);
  }
  for (const prefix of ['order/', 'é/']) {
    const seen = await walk(ring[1]!.url, prefix);
    t.same(seen, live.filter((key) => key.startsWith(prefix)), `prefix ${prefix}: exactly its live keys`);
  }
  const cli = await runCli(t, ['ls', '--all', '--prefix', 'user/', '--limit', '1000', '--url', ring[2]!.url], 60_000);
  t.equal(cli.code, 0, 'ringkv ls --all exits 0');
  t.same(cli.stdout.split('\n').filter((line) => line !== ''), live.filter((key) => key.startsWith('user/')), 'ringkv ls --all prints every live key under the prefix');
  const bad = await runCli(t, ['ls', '--limit', '1001', '--url', ring[0]!.url], 60_000);
  t.equal(bad.code, 64, 'ringkv ls --limit 1001 is a usage error');
});
