// The /dt routes on a 3-node in-memory cluster (the real composition over MemoryStore and
// MemoryTransport): counters, sets and maps through any node, storage siblings joined on read
// and collapsed on write, coded errors for bad input and type clashes.
import t from 'tap';
import { memoryCluster } from '@ringkv/node/testing';
import { DATA_TYPE_CONTENT_TYPE } from '@ringkv/protocol';

type Body = { type?: string; value?: unknown; context?: string; error?: { code: string; reason?: string } };

function cluster() {
  const { nodes } = memoryCluster({ nodes: 3, config: { n: 3 } });
  const call = async (i: number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await nodes[i]!.app.request(path, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }), headers });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Body };
  };
  return { nodes, call };
}

t.test('a counter incremented concurrently through every node adds up', async (t) => {
  const { call } = cluster();
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => call(i % 3, 'POST', '/dt/hits', { increment: i + 1 })));
  t.ok(answers.every((a) => a.status === 200), 'every increment acknowledged');
  const expected = (30 * 31) / 2;
  for (const i of [0, 1, 2]) {
    const read = await call(i, 'GET', '/dt/hits?r=3');
    t.same([read.status, read.body.type, read.body.value], [200, 'counter', expected], `node${i + 1} reads ${expected}`);
  }
  const down = await call(1, 'POST', '/dt/hits', { decrement: 65 });
  t.equal(down.body.value, expected - 65, 'a decrement answers the state written');
});

t.test('storage siblings of a data type are joined on read and collapse on the next write', async (t) => {
  const { nodes, call } = cluster();
  await Promise.all([call(0, 'POST', '/dt/s?w=1', { add: ['a'] }), call(1, 'POST', '/dt/s?w=1', { add: ['b'] }), call(2, 'POST', '/dt/s?w=1', { add: ['c'] })]);
  const read = await call(0, 'GET', '/dt/s?r=3');
  t.same(read.body.value, ['a', 'b', 'c'], 'the read joins what concurrent writers left');
  await call(0, 'POST', '/dt/s?r=3&w=3', { add: ['d'] });
  for (const node of nodes) {
    const local = await node.store.get('s');
    t.equal(local?.siblings.length, 1, `${node.id} holds one version after a write that read them all`);
    t.equal(local?.siblings[0]?.contentType, DATA_TYPE_CONTENT_TYPE);
  }
});

t.test('a removal with a read context removes what that read saw; a concurrent add wins', async (t) => {
  const { call } = cluster();
  await call(0, 'POST', '/dt/tags', { add: ['x', 'y'] });
  const seen = await call(1, 'GET', '/dt/tags?r=3');
  await call(2, 'POST', '/dt/tags', { add: ['x'] }); // re-added after the read: not observed by it
  const removed = await call(1, 'POST', '/dt/tags?r=3', { remove: ['x', 'y'], context: seen.body.context });
  t.same(removed.body.value, ['x'], 'y removed; the add of x the read did not see survives');
  const plain = await call(0, 'POST', '/dt/tags?r=3', { remove: ['x'] });
  t.same(plain.body.value, [], 'a removal without context removes what the node read');
});

t.test('maps hold counters, sets, registers, flags and nested maps', async (t) => {
  const { call } = cluster();
  await call(0, 'POST', '/dt/user', { update: { visits: { increment: 2 }, tags: { add: ['new'] }, name: { assign: 'ada' }, admin: { enable: true }, address: { update: { city: { assign: 'Paris' } } } } });
  await call(1, 'POST', '/dt/user?r=3', { update: { visits: { increment: 1 }, admin: { disable: true } }, remove: ['tags'] });
  const read = await call(2, 'GET', '/dt/user?r=3');
  // A disabled flag, like an emptied set, holds no dot: the field is gone (bottom), not false.
  t.same(read.body, { type: 'map', value: { address: { city: 'Paris' }, name: 'ada', visits: 3 }, context: read.body.context });
});

t.test('another type, a plain value, bad operations and bad parameters are coded errors', async (t) => {
  const { nodes, call } = cluster();
  await call(0, 'POST', '/dt/n', { increment: 1 });
  const clash = await call(1, 'POST', '/dt/n', { add: ['a'] });
  t.same([clash.status, clash.body.error?.code], [409, 'KV_ERR_DT_TYPE_MISMATCH'], 'a set operation on a counter');
  await call(0, 'PUT', '/kv/plain', 'hello', { 'content-type': 'text/plain' });
  for (const [method, body] of [['GET', undefined], ['POST', { increment: 1 }]] as const) {
    const plain = await call(2, method, '/dt/plain', body);
    t.same([plain.status, plain.body.error?.code, plain.body.error?.reason], [409, 'KV_ERR_DT_TYPE_MISMATCH', 'not-a-data-type'], `${method} of a plain /kv value`);
  }
  const cases: Array<[string, unknown, number, string]> = [
    ['/dt/n', 'not json', 400, 'KV_ERR_DT_BAD_OPERATION'],
    ['/dt/n', { increment: 'one' }, 400, 'KV_ERR_DT_BAD_OPERATION'],
    ['/dt/s2', { remove: ['a'], context: '!!' }, 400, 'KV_ERR_BAD_CONTEXT'],
    ['/dt/n?w=9', { increment: 1 }, 400, 'KV_ERR_BAD_QUORUM'],
    ['/dt/n?timeout_ms=0', { increment: 1 }, 400, 'KV_ERR_BAD_TIMEOUT'],
    ['/dt/', { increment: 1 }, 400, 'KV_ERR_BAD_KEY'],
  ];
  for (const [path, body, status, code] of cases) {
    const answer = await call(0, 'POST', path, body);
    t.same([answer.status, answer.body.error?.code], [status, code], `${path} ${JSON.stringify(body)}`);
  }
  const missing = await call(0, 'GET', '/dt/never');
  t.same([missing.status, missing.body.error?.code], [404, 'KV_ERR_NOT_FOUND']);
  const still = await call(2, 'GET', '/dt/n?r=3');
  t.equal(still.body.value, 1, 'nothing was written by the refused operations');
  const metrics = await (await nodes[0]!.app.request('/metrics')).text();
  t.match(metrics, /ringkv_requests_total\{op="dt_post",status="400",node="node1"\} 6/, '/dt requests are counted by op and status');
});
