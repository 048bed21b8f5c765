// Quorum replication across real node processes on loopback (issue 3's acceptance).
//
// Two rings serve all the cases, each started once, since starting a ring is most of a case's
// time on two shared cores: five nodes with N = 3 for placement, forwarding, internal
// authentication and key-aware routing; three nodes with N = 3, the fault layer on and
// anti-entropy off, for siblings, read repair and the killed replica. Each case uses its own
// keys and reads counters as differences over the case, a case that cuts a link heals it, and
// the cases that kill a node come last on their ring.
import t from 'tap';
import { RingkvClient } from '@ringkv/client';
import { Keyring, helloNode, internalHeaders, signRequest } from '@ringkv/node';
import { DEFAULT_SECRET, errorCode, headerOf, http, httpAgent, waitFor, type NodeProcess, killByPid } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';

interface Local { siblings: Array<{ value?: string; deleted?: boolean }> }

async function localCopy(agent: ReturnType<typeof httpAgent>, node: NodeProcess, key: string): Promise<string[] | undefined> {
  const answer = await http(agent, 'GET', `${node.url}/admin/local/${encodeURIComponent(key)}`);
  if (answer.status === 404) return undefined;
  return (answer.json as Local).siblings.map((s) => (s.deleted ? '<deleted>' : Buffer.from(s.value!, 'base64').toString())).sort();
}

/** Cuts (or, with [], heals) `node`'s links to `ids`, gossip included (--fault-injection). */
async function block(agent: ReturnType<typeof httpAgent>, node: NodeProcess, ids: string[]): Promise<void> {
  const body = Buffer.from(JSON.stringify({ block: ids }));
  const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, DEFAULT_SECRET, 'test', '/internal/faults', body)) };
  const answer = await http(agent, 'POST', `${node.url}/internal/faults`, { headers, body });
  if (answer.status !== 200) throw new Error(`${node.id} refused the fault plan: ${answer.status} ${answer.body.toString()}`);
}

async function preflist(agent: ReturnType<typeof httpAgent>, node: NodeProcess, key: string): Promise<string[]> {
  const answer = await http(agent, 'GET', `${node.url}/admin/preflist/${encodeURIComponent(key)}`);
  return (answer.json as { preferenceList: Array<{ id: string }> }).preferenceList.map((m) => m.id);
}

async function metric(agent: ReturnType<typeof httpAgent>, node: NodeProcess, name: string): Promise<number> {
  const text = (await http(agent, 'GET', `${node.url}/metrics`)).body.toString();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Starts the ring on first use; its processes are stopped when the file's tests end. */
function sharedRing(options: Parameters<typeof startRing>[1]): () => Promise<NodeProcess[]> {
  let started: Promise<NodeProcess[]> | undefined;
  return () => (started ??= startRing(t, options));
}
const fiveNodeRing = sharedRing({ nodes: 5, n: 3 });
const threeNodeRing = sharedRing({ nodes: 3, n: 3, extraArgs: ['--fault-injection', '--anti-entropy-interval-ms', '0'] });

t.test('5 nodes, N=3: every key lives on exactly the 3 nodes of its preference list', async (t) => {
  const ring = await fiveNodeRing();
  const agent = httpAgent(t);
  const client = new RingkvClient({ urls: ring.map((n) => n.url), keyAware: false });
  t.teardown(() => client.close());
  const keys = Array.from({ length: 60 }, (_, i) => `placement-${i}`);
  for (const key of keys) await client.put(key, `v-${key}`, { w: 3 });
  let checked = 0;
  for (const key of keys) {
    const owners = await preflist(agent, ring[0]!, key);
    t.equal(owners.length, 3);
    for (const node of ring) {
      const copy = await localCopy(agent, node, key);
      if (owners.includes(node.id)) t.same(copy, [`v-${key}`], `${key} on owner ${node.id}`);
      else t.equal(copy, undefined, `${key} not on ${node.id}`);
      checked++;
    }
  }
  t.equal(checked, 300);
});

t.test('a node outside the preference list forwards a write and coordinates a read itself', async (t) => {
  const ring = await fiveNodeRing();
  const agent = httpAgent(t);
  let key = '';
  let outsider: NodeProcess | undefined;
  for (let i = 0; outsider === undefined; i++) {
    key = `fwd-${i}`;
    const owners = await preflist(agent, ring[0]!, key);
    outsider = ring.find((node) => !owners.includes(node.id));
  }
  const forwardedBefore = await metric(agent, outsider, 'ringkv_forwarded_total');
  t.equal((await http(agent, 'PUT', `${outsider.url}/kv/${key}`, { body: 'via outsider' })).status, 204);
  const read = await http(agent, 'GET', `${outsider.url}/kv/${key}`);
  t.equal(read.status, 200);
  t.equal(read.body.toString(), 'via outsider');
  t.ok(headerOf(read, 'x-ringkv-context'));
  t.equal(await localCopy(agent, outsider, key), undefined, 'the outsider keeps no copy');
  t.equal((await metric(agent, outsider, 'ringkv_forwarded_total')) - forwardedBefore, 1, 'the write was forwarded; the read asked the replicas directly (issue 16.5)');
});

t.test('unauthenticated or forged /internal/ requests get 401 and change nothing', async (t) => {
  const ring = await fiveNodeRing();
  const agent = httpAgent(t);
  const target = ring[0]!;
  const refusedBefore = await metric(agent, target, 'ringkv_internal_refused_total');
  const members = Buffer.from(JSON.stringify({ members: [{ id: 'evil', address: 'http://127.0.0.1:1' }] }));
  const key = new Keyring([DEFAULT_SECRET]).internalKeys[0]!;
  const to = await helloNode(target.url, DEFAULT_SECRET, 'evil');
  const otherNode = await helloNode(ring[1]!.url, DEFAULT_SECRET, 'evil');
  const cases: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['wrong secret', signRequest(new Keyring(['not-the-cluster-secret']).internalKeys[0]!, 'evil', to, '/internal/members', members, Date.now())],
    ['stale time', signRequest(key, 'evil', to, '/internal/members', members, Date.now() - 10 * 60_000)],
    ['signed for another path', signRequest(key, 'evil', to, '/internal/batch', members, Date.now())],
    ['signed for the other node (captured there, replayed here)', signRequest(key, 'evil', otherNode, '/internal/members', members, Date.now())],
  ];
  for (const [what, headers] of cases) {
    const answer = await http(agent, 'POST', `${target.url}/internal/members`, { headers, body: members });
    t.equal(answer.status, 401, what);
    t.equal(errorCode(answer), 'KV_ERR_UNAUTHORIZED', what);
  }
  const tampered = signRequest(key, 'evil', to, '/internal/members', members, Date.now());
  const other = Buffer.from(JSON.stringify({ members: [{ id: 'evil2', address: 'http://127.0.0.1:2' }] }));
  t.equal((await http(agent, 'POST', `${target.url}/internal/members`, { headers: tampered, body: other })).status, 401, 'body swapped under a valid tag');
  const batch = await http(agent, 'POST', `${target.url}/internal/batch`, { body: Buffer.from([1, 0]) });
  t.equal(batch.status, 401);
  const status = await http(agent, 'GET', `${target.url}/admin/status`);
  t.match(status.json, { ringSize: ring.length }, 'membership unchanged');
  t.ok((await metric(agent, target, 'ringkv_internal_refused_total')) - refusedBefore >= 6);
});

t.test('key-aware client routing sends requests to replicas, and survives a stale ring', async (t) => {
  const ring = await fiveNodeRing();
  const agent = httpAgent(t);
  const client = new RingkvClient({ urls: [ring[0]!.url] });
  t.teardown(() => client.close());
  let forwardedBefore = 0;
  for (const node of ring) forwardedBefore += await metric(agent, node, 'ringkv_forwarded_total');
  for (let i = 0; i < 40; i++) await client.put(`ka-${i}`, `v${i}`);
  for (let i = 0; i < 40; i++) t.equal(Buffer.from((await client.get(`ka-${i}`)).value!).toString(), `v${i}`);
  let forwarded = 0;
  for (const node of ring) forwarded += await metric(agent, node, 'ringkv_forwarded_total');
  t.equal(forwarded - forwardedBefore, 0, 'no request needed a forward: each went to a replica');
  // Stale ring: a node the client's copy still lists is gone; requests fall back to the other
  // nodes and succeed (default quorums R = W = 2 of N = 3, so R + W > N: reads see writes).
  await killByPid(ring[1]!.pid); // the last case on this ring
  let unknown = 0;
  for (let i = 0; i < 20; i++) {
    try {
      await client.put(`ka2-${i}`, 'after');
    } catch (error) {
      // Sent on a kept-alive connection to the killed node, a write's outcome is unknown and
      // the client does not repeat it elsewhere (issue 19.7); an application reads, then writes.
      if ((error as { code?: string }).code !== 'KV_ERR_OUTCOME_UNKNOWN') throw error;
      unknown++;
      const seen = await client.get(`ka2-${i}`);
      if (!seen.found) await client.put(`ka2-${i}`, 'after', seen.context ? { context: seen.context } : {});
    }
    t.equal(Buffer.from((await client.get(`ka2-${i}`)).value!).toString(), 'after');
  }
  t.comment(`writes with an unknown outcome after the kill: ${unknown}`);
});

t.test('concurrent writes through different coordinators become siblings everywhere; the merged context collapses them', async (t) => {
  const ring = await threeNodeRing();
  const agent = httpAgent(t);
  await Promise.all([
    http(agent, 'PUT', `${ring[0]!.url}/kv/cart?w=3`, { body: 'apple' }),
    http(agent, 'PUT', `${ring[1]!.url}/kv/cart?w=3`, { body: 'pear' }),
  ]);
  for (const node of ring) t.same(await localCopy(agent, node, 'cart'), ['apple', 'pear'], `siblings on ${node.id}`);
  const read = await http(agent, 'GET', `${ring[2]!.url}/kv/cart?r=3`);
  t.equal(read.status, 300);
  const context = headerOf(read, 'x-ringkv-context')!;
  t.equal((await http(agent, 'PUT', `${ring[2]!.url}/kv/cart?w=3`, { body: 'apple+pear', headers: { 'x-ringkv-context': context } })).status, 204);
  for (const node of ring) t.same(await localCopy(agent, node, 'cart'), ['apple+pear'], `collapsed on ${node.id}`);
});

t.test('R=2 returns the newest value and read repair fixes the replica that missed it', async (t) => {
  // The replica misses the write because its coordinator's link to it is cut (fault layer),
  // not because it was down: a replica that comes back also receives the coordinator's hint
  // within a second (issue 19.3), which raced read repair and made this test flaky. With the
  // link cut the hint cannot be delivered and anti-entropy is off, so only read repair, by
  // another coordinator, can bring it the new value.
  const ring = await threeNodeRing();
  const agent = httpAgent(t);
  const [writer, reader, victim] = [ring[0]!, ring[1]!, ring[2]!];
  const client = new RingkvClient({ urls: [writer.url], keyAware: false });
  t.teardown(() => client.close());
  const repairsBefore = await metric(agent, reader, 'ringkv_read_repairs_total');
  const hintsBefore = await metric(agent, writer, 'ringkv_hints_delivered_total');
  await client.put('doc', 'old', { w: 3 });
  await block(agent, writer, [victim.id]);
  const { context } = await client.get('doc', { r: 2 });
  await client.put('doc', 'new', { w: 2, ...(context ? { context } : {}) });
  t.same(await localCopy(agent, victim, 'doc'), ['old'], 'the replica behind the cut link is stale');
  const read = await http(agent, 'GET', `${reader.url}/kv/doc?r=2`);
  t.equal(read.status, 200);
  t.equal(read.body.toString(), 'new');
  const repaired = await waitFor(async () => ((await localCopy(agent, victim, 'doc'))?.join() === 'new' ? true : undefined), 1_000, 'read repair within 1 s');
  t.ok(repaired);
  t.ok((await metric(agent, reader, 'ringkv_read_repairs_total')) - repairsBefore >= 1, 'the reader counted the repair');
  t.equal((await metric(agent, writer, 'ringkv_hints_delivered_total')) - hintsBefore, 0, 'no hint reached the victim: the repair was the read\'s');
  await block(agent, writer, []); // healed for the next case on this ring
});

t.test('W=2 survives a killed replica; W=3 on a 3-node ring fails fast with needed=3, answered=2', async (t) => {
  const ring = await threeNodeRing();
  const agent = httpAgent(t);
  await killByPid(ring[2]!.pid); // SIGKILL at once; the last case on this ring
  const put2 = await http(agent, 'PUT', `${ring[0]!.url}/kv/k?w=2`, { body: 'two' });
  t.equal(put2.status, 204);
  const started = Date.now();
  const put3 = await http(agent, 'PUT', `${ring[0]!.url}/kv/k3?w=3&timeout_ms=5000`, { body: 'three' });
  const elapsed = Date.now() - started;
  t.equal(put3.status, 503);
  t.equal(errorCode(put3), 'KV_ERR_QUORUM_UNMET');
  t.match(put3.json, { error: { needed: 3, answered: 2 } });
  t.ok(elapsed < 2_500, `failed in ${elapsed} ms, well before the 5000 ms timeout`);
  const read = await http(agent, 'GET', `${ring[1]!.url}/kv/k?r=2`);
  t.equal(read.status, 200);
  t.equal(read.body.toString(), 'two');
});
