// Tombstones and TTL between real node processes (issue 5, fourth and fifth acceptance): a key
// deleted while a replica is down stays deleted on every replica after the grace, the reap and
// the replica's return (anti-entropy and read repair included); a value written with
// ttl_ms=1000 reads 404 on every replica after a second, stays gone, and is reclaimed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { RingkvClient } from '@ringkv/client';
import { http, httpAgent, stopByPid, waitFor, type NodeProcess } from '../helpers/process.js';
import { restartNode, startRing } from '../helpers/ring.js';

// A 2 s grace for the test (the default is an hour; under 60 s the node logs a warning).
const ARGS = ['--tombstone-grace-ms', '2000', '--reap-interval-ms', '300', '--anti-entropy-interval-ms', '500'];

type Status = { keys: number; reaper: { reaped: number; blocked?: string } };

/**
 * Both cases run on one ring, started on first use and stopped when the file's tests end (a ring
 * start is a good part of a case's time on two shared cores). The first case ends with node3
 * back and every replica holding nothing, which is where the second case starts; their keys
 * are distinct.
 */
const fileTest = t;
let ringStarted: Promise<NodeProcess[]> | undefined;
const sharedRing = () => (ringStarted ??= startRing(fileTest, { nodes: 3, n: 3, extraArgs: ARGS }));

t.test('deleted while a replica is down: reaped only after it returns, and never resurrected', async (t) => {
  const ring = await sharedRing();
  const agent = httpAgent(t);
  // Not key-aware: this client never talks to node3, which is killed below (a write sent on a
  // kept-alive connection to a killed node is KV_ERR_OUTCOME_UNKNOWN, issue 19.7).
  const client = new RingkvClient({ urls: ring.slice(0, 2).map((n) => n.url), keyAware: false });
  t.teardown(() => client.close());
  const status = async (node: NodeProcess) => (await http(agent, 'GET', `${node.url}/admin/status`)).json as Status;
  const keys = Array.from({ length: 20 }, (_, i) => `tomb-${i}`);
  await Promise.all(keys.map((key) => client.put(key, `old-${key}`, { w: 3 })));
  const contexts = await Promise.all(keys.map(async (key) => (await client.get(key, { r: 3 })).context!));

  let down = ring[2]!;
  await stopByPid(down.pid);
  await Promise.all(keys.map((key, i) => client.delete(key, { w: 2, context: contexts[i] })));
  // Past the grace, the reaper on node1 runs and is held back by the missing member.
  await waitFor(async () => ((await status(ring[0]!)).reaper.blocked?.includes('node3') ? true : undefined), 20_000, 'node1 reaper blocked by node3 being away');
  t.equal((await status(ring[0]!)).keys, keys.length, 'node1 still holds the tombstones');

  t.ok(existsSync(join(down.dir, 'ringkv.db')), 'node3 was stopped cleanly: it comes back with its old copies');
  // Registered with the file, not this case, so that it outlives the case like the ring.
  down = await restartNode(fileTest, down, ring, 3, ARGS);
  await waitFor(async () => {
    for (const node of ring) if ((await status(node)).keys !== 0) return undefined;
    return true;
  }, 30_000, 'every replica reaps once node3 holds the tombstones too');
  // Forever: more anti-entropy, read repair at R = 3, and every replica asked directly.
  for (const node of ring) t.equal((await http(agent, 'POST', `${node.url}/admin/anti-entropy`)).status, 200);
  for (const key of keys) t.equal((await client.get(key, { r: 3 })).found, false, `${key} reads as not found`);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // a few more anti-entropy and reaper rounds
  for (const node of ring) {
    t.equal((await status(node)).keys, 0, `${node.id} holds nothing`);
    for (const key of keys.slice(0, 5)) t.equal((await http(agent, 'GET', `${node.url}/admin/local/${key}`)).status, 404, `${node.id}: ${key} absent`);
  }
});

t.test('TTL: 404 on every replica after 1 s, gone through anti-entropy, storage reclaimed', async (t) => {
  const ring = await sharedRing();
  const agent = httpAgent(t);
  t.same(await Promise.all(ring.map(async (node) => ((await http(agent, 'GET', `${node.url}/admin/status`)).json as Status).keys)), [0, 0, 0], 'every replica starts empty');
  const client = new RingkvClient({ urls: ring.map((n) => n.url) });
  t.teardown(() => client.close());
  const keys = Array.from({ length: 20 }, (_, i) => `ttl-${i}`);
  const sentAt = Date.now();
  await Promise.all(keys.map((key) => client.put(key, `brief-${key}`, { w: 3, ttlMs: 1_000 })));
  const ackedAt = Date.now(); // every expiry is at most a second after this
  await client.put('kept', 'no ttl', { w: 3 });
  if (Date.now() - sentAt < 900) t.equal((await client.get(keys[0]!, { r: 3 })).found, true, 'readable before its second is up');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, ackedAt + 1_010 - Date.now())));
  for (const node of ring) {
    for (const key of keys) {
      const local = (await http(agent, 'GET', `${node.url}/admin/local/${key}`)).json as { siblings?: Array<{ deleted?: boolean }> } | undefined;
      if (local?.siblings !== undefined && !local.siblings.every((s) => s.deleted)) t.fail(`${node.id}: ${key} still live after 1 s`);
    }
    t.equal((await http(agent, 'GET', `${node.url}/kv/${keys[0]}?r=1`)).status, 404, `${node.id} reads 404`);
  }
  for (const node of ring) t.equal((await http(agent, 'POST', `${node.url}/admin/anti-entropy`)).status, 200);
  for (const key of keys) t.equal((await client.get(key, { r: 3 })).found, false, `${key} stays gone`);
  await waitFor(async () => {
    for (const node of ring) if (((await http(agent, 'GET', `${node.url}/admin/status`)).json as Status).keys !== 1) return undefined;
    return true;
  }, 30_000, 'every replica reclaims the expired keys (only "kept" left)');
  t.equal((await client.get('kept', { r: 3 })).found, true, 'the key without a TTL stays');
});
