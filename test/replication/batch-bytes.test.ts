/**
 * Batched replica reads are bounded in bytes (issue 18, "Resource bounds"). A hot key with 64
 * large siblings read by 300 concurrent requests used to be copied once per op into the same
 * batch answer, which then exceeded the response limit and failed every other key of the
 * batch. Now the sender sends one get per key per batch, and the receiver keeps its answer
 * under the limit: an object that does not fit fails alone with KV_ERR_OVERLOADED.
 * Two real nodes in this process (startNode, MemoryStore, port 0), over real sockets.
 */
import t, { type Test } from 'tap';
import { Keyring, MemoryStore, helloNode, signRequest, startNode, testConfig, validateConfig, type Member, type RingkvNode } from '@ringkv/node';
import { decodeBatchResults, encodeBatch, update, type VersionedObject } from '@ringkv/node/testing';
import { http, httpAgent } from '../helpers/process.js';
// HttpTransport is not exported by the package; the built module is the one node.ts uses.
import { HttpTransport } from '../../packages/node/dist/transport/http-transport.js';

const SECRET = 'batch-bytes-secret';
const VALUE_BYTES = 64 * 1024;
const SIBLINGS = 64;
const limits = { siblingsMax: SIBLINGS, clockEntriesMax: SIBLINGS };
// Small enough that a full batch and one whole object (4 MiB of values) fit, as validateConfig demands.
const overrides = { valueBytesMax: VALUE_BYTES, siblingsMax: SIBLINGS, clockEntriesMax: SIBLINGS, batchOpsMax: 16, batchBytesMax: 1024 * 1024, internalBodyBytesMax: 5 * 1024 * 1024 };

/** A key holding SIBLINGS concurrent values of VALUE_BYTES each (4 MiB of values). */
function hotObject(): VersionedObject {
  let object: VersionedObject | undefined;
  for (let i = 0; i < SIBLINGS; i++) {
    object = update(object, { coordinatorId: `writer-${String(i).padStart(2, '0')}`, context: [], deleted: false, value: Buffer.alloc(VALUE_BYTES, i), contentType: 'application/octet-stream', nowMs: 1_000 + i }, limits);
  }
  return object!;
}

async function node(t: Test, nodeId: string, store: MemoryStore): Promise<RingkvNode> {
  const config = validateConfig({ nodeId, secret: SECRET, host: '127.0.0.1', httpPort: 0, n: 2, processMetrics: false, ...overrides }, testConfig);
  const started = await startNode(config, { store });
  t.teardown(() => started.close());
  return started;
}

t.test('300 concurrent reads of a 4 MiB hot key beside 20 other keys: every read succeeds, no batch fails', async (t) => {
  const storeB = new MemoryStore({ nowMs: Date.now });
  const b = await node(t, 'node-b', storeB);
  await storeB.put('hot', hotObject());
  for (let i = 0; i < 20; i++) await storeB.put(`cold-${i}`, update(undefined, { coordinatorId: 'w', context: [], deleted: false, value: Buffer.from(`v${i}`), contentType: 'text/plain', nowMs: 1 }, limits));
  const transport = new HttpTransport({
    selfId: 'node-a',
    keys: () => new Keyring([SECRET]).internalKeys,
    nowMs: Date.now,
    peerTimeoutMs: 20_000,
    connectionsPerPeer: 4,
    responseBytesMax: overrides.internalBodyBytesMax,
    batchOpsMax: overrides.batchOpsMax,
    inflightMax: 4,
    queueOpsMax: 10_000,
    batchBytesMax: overrides.batchBytesMax,
  });
  t.teardown(() => transport.close());
  const peer: Member = { id: 'node-b', address: b.url, status: 'alive', incarnation: 0 };
  const reads = Array.from({ length: 320 }, (_, i) => transport.replica(peer, { kind: 'get', key: i % 16 === 15 ? `cold-${(i >> 4) % 20}` : 'hot' }));
  const results = await Promise.allSettled(reads);
  const failed = results.filter((r) => r.status === 'rejected' || !r.value.ok);
  t.equal(failed.length, 0, `every read answered (${failed.length} failed${failed.length > 0 ? `: ${JSON.stringify(failed[0])}`.slice(0, 300) : ''})`);
  const hot = results.filter((r, i) => i % 16 !== 15 && r.status === 'fulfilled') as Array<PromiseFulfilledResult<{ ok: true; object?: VersionedObject }>>;
  t.equal(hot.length, 300);
  t.ok(hot.every((r) => r.value.object?.siblings.length === SIBLINGS), 'each hot read got all 64 siblings');
  const stats = transport.stats();
  t.equal(stats.batchesFailed, 0, 'no batch failed');
  t.ok(stats.opsSent < 320, `gets of one key shared an op per batch: ${stats.opsSent} ops sent for 320 reads in ${stats.batchesSent} batches`);
  t.comment(`${stats.opsSent} ops in ${stats.batchesSent} batches for 320 reads`);
});

t.test('a batch from a sender that does not coalesce: the answer stays under the body limit, the huge key fails alone with KV_ERR_OVERLOADED, the others are answered', async (t) => {
  const store = new MemoryStore({ nowMs: Date.now });
  const b = await node(t, 'node-b', store);
  await store.put('hot', hotObject());
  await store.put('cold', update(undefined, { coordinatorId: 'w', context: [], deleted: false, value: Buffer.from('small'), contentType: 'text/plain', nowMs: 1 }, limits));
  const body = encodeBatch([{ kind: 'get', key: 'hot' }, { kind: 'get', key: 'cold' }, { kind: 'get', key: 'hot' }, { kind: 'get', key: 'missing' }, { kind: 'get', key: 'hot' }]);
  const to = await helloNode(b.url, SECRET, 'old-sender');
  const headers = { 'content-type': 'application/octet-stream', ...signRequest(new Keyring([SECRET]).internalKeys[0]!, 'old-sender', to, '/internal/batch', body, Date.now()) };
  const answer = await http(httpAgent(t), 'POST', `${b.url}/internal/batch`, { headers, body });
  t.equal(answer.status, 200);
  t.ok(answer.body.length <= overrides.internalBodyBytesMax, `the answer is ${answer.body.length} bytes, under the ${overrides.internalBodyBytesMax}-byte limit (three copies would be ${3 * SIBLINGS * VALUE_BYTES})`);
  const results = decodeBatchResults(answer.body);
  t.equal(results.length, 5);
  const hot = [results[0]!, results[2]!, results[4]!];
  t.equal(hot.filter((r) => r.ok && r.object?.siblings.length === SIBLINGS).length, 1, 'one copy of the huge key fits and is answered');
  t.equal(hot.filter((r) => !r.ok && r.code === 'KV_ERR_OVERLOADED').length, 2, 'the copies that do not fit fail alone, with a coded error');
  t.ok(results[1]!.ok && results[1]!.object?.siblings.length === 1, 'the small key of the same batch is answered');
  t.same(results[3], { ok: true }, 'and so is the missing one');
});
