// Compare-and-set wired into the server, in-process (testing/memory-cluster.ts: the real
// composition over the in-memory twins): the HTTP answers of if_absent, if_version and
// consistent reads; coded 400s for bad options; a retry with the same request id after a forced
// unknown outcome applied once; and a CAS-register workload of concurrent clients with a node
// crash and restart mid-run, its history judged by the linearizability checker.
import t from 'tap';
import { memoryCluster, type ClusterNode } from '@ringkv/node/testing';
import { checkLinearizable, type Operation, type RegisterCall, type Outcome } from '../../packages/node/dist/testing/linearizability/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const VERSION = 'x-ringkv-version';
const REQUEST_ID = 'x-ringkv-request-id';

async function put(node: ClusterNode, key: string, query: string, value: string, headers: Record<string, string> = {}) {
  return node.app.request(`/kv/${key}?${query}`, { method: 'PUT', body: utf8(value), headers: { 'content-type': 'text/plain', ...headers } });
}
const read = (node: ClusterNode, key: string) => node.app.request(`/kv/${key}?consistent=1`);

t.test('if_absent, if_version and consistent reads answer 204 / 412 / 200 / 404 with the version', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3 });
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  const missing = await read(a, 'user');
  t.equal(missing.status, 404);
  t.equal(missing.headers.get(VERSION), '0');
  const claim = await put(a, 'user', 'if_absent=1', 'alice');
  t.equal(claim.status, 204, 'the first claim applies');
  t.equal(claim.headers.get(VERSION), '1');
  const second = await put(b, 'user', 'if_absent=1', 'bob');
  t.equal(second.status, 412, 'the second claim, on another node, fails its condition');
  t.match(await second.json(), { error: { code: 'KV_ERR_PRECONDITION', version: 1, exists: true } });
  const got = await read(c, 'user');
  t.equal(got.status, 200);
  t.equal(await got.text(), 'alice');
  t.equal(got.headers.get('content-type'), 'text/plain');
  t.equal(got.headers.get(VERSION), '1');
  t.equal((await put(b, 'user', 'if_version=0', 'carol')).status, 412, 'a stale version fails');
  const next = await put(b, 'user', 'if_version=1', 'carol');
  t.equal(next.status, 204, 'the current version applies');
  t.equal(next.headers.get(VERSION), '2');
  t.equal(await (await read(a, 'user')).text(), 'carol');
  const gone = await c.app.request('/kv/user?if_version=2', { method: 'DELETE' });
  t.equal(gone.status, 204, 'a conditional delete');
  const after = await read(a, 'user');
  t.equal(after.status, 404);
  t.equal(after.headers.get(VERSION), '3');
  t.equal((await put(a, 'user', 'if_absent=1', 'dave')).status, 204, 'a deleted key can be claimed again');
  t.equal((await a.app.request('/kv/user')).status, 404, 'a plain GET reads the causal object, which CAS does not write (docs/cas.md)');
});

t.test('bad CAS options are coded 400s, before any round', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3 });
  const a = nodes[0]!;
  const cases: Array<[string, string, Record<string, string>]> = [
    ['PUT', 'if_absent=yes', {}],
    ['PUT', 'if_version=-1', {}],
    ['PUT', 'if_version=1.5', {}],
    ['PUT', 'if_version=99999999999999999', {}],
    ['PUT', 'if_version=1&if_absent=1', {}],
    ['PUT', 'if_absent=1&w=2', {}],
    ['PUT', 'if_absent=1&ttl_ms=100', {}],
    ['GET', 'if_version=1', {}],
    ['GET', 'consistent=true', {}],
    ['PUT', 'if_absent=1', { [REQUEST_ID]: 'x'.repeat(129) }],
    ['PUT', 'if_absent=1', { [REQUEST_ID]: 'has space' }],
    ['PUT', 'if_absent=1', { 'x-ringkv-context': 'abc' }],
  ];
  for (const [method, query, headers] of cases) {
    const response = await a.app.request(`/kv/k?${query}`, { method, headers, ...(method === 'PUT' ? { body: utf8('v') } : {}) });
    t.equal(response.status, 400, `${method} ?${query} ${JSON.stringify(headers).slice(0, 40)}`);
    t.equal(((await response.json()) as { error: { code: string } }).error.code, 'KV_ERR_BAD_REQUEST');
  }
  t.equal(a.store.acceptorRecords.count(), 0, 'no round ran');
  t.equal((await put(a, 'k', 'if_absent=1', 'v', { [REQUEST_ID]: 'x'.repeat(128) })).status, 204, '128 characters are fine');
});

t.test('a retried write with the same request id after a forced unknown outcome is applied once', async (t) => {
  const { nodes } = memoryCluster({ nodes: 3 });
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  // b and c apply accepts but hold their answers until the first request gave up: the
  // coordinator cannot learn the outcome.
  let silent = true;
  const held: Array<() => void> = [];
  for (const node of [b, c]) {
    const original = node.replica.replicaBatch.bind(node.replica);
    node.replica.replicaBatch = async (ops, sender) => {
      const results = await original(ops, sender);
      if (silent && ops.some((op) => op.kind === 'paxos' && op.message.kind === 'accept')) await new Promise<void>((resolve) => held.push(resolve));
      return results;
    };
  }
  const first = await put(a, 'lock', 'if_absent=1&timeout_ms=1500', 'owner-1', { [REQUEST_ID]: 'req-42' });
  t.equal(first.status, 504, 'the outcome is unknown');
  t.match(await first.json(), { error: { code: 'KV_ERR_TIMEOUT', maybeApplied: true } });
  t.ok(held.length >= 2, 'accepts reached b and c and were applied there');
  silent = false;
  for (const release of held) release(); // late answers, to a request that is over
  const retry = await put(b, 'lock', 'if_absent=1', 'owner-1', { [REQUEST_ID]: 'req-42' });
  t.equal(retry.status, 204, 'the retry with the same id is told it applied (not "already taken")');
  t.equal(retry.headers.get(VERSION), '1', 'applied once: version 1');
  const again = await put(c, 'lock', 'if_absent=1', 'owner-1', { [REQUEST_ID]: 'req-42' });
  t.equal(again.headers.get(VERSION), '1', 'a third send is still the same single change');
  const fresh = await put(a, 'lock', 'if_absent=1', 'owner-2', { [REQUEST_ID]: 'req-43' });
  t.equal(fresh.status, 412, 'another request id is a different write, and the key is taken');
  const got = await read(c, 'lock');
  t.equal(await got.text(), 'owner-1');
  t.equal(got.headers.get(VERSION), '1');
  // The same as a history: the unknown claim, then the retry that reports it applied once.
  const history: Operation[] = [
    { process: 'p1', key: 'lock', call: { kind: 'cas', expected: null, value: 'owner-1' }, invokedAt: 0, outcome: { status: 'unknown' } },
    { process: 'p2', key: 'lock', call: { kind: 'cas', expected: null, value: 'owner-2' }, invokedAt: 3, outcome: { status: 'ok', completedAt: 4, result: { kind: 'cas', ok: false } } },
    { process: 'p3', key: 'lock', call: { kind: 'read' }, invokedAt: 5, outcome: { status: 'ok', completedAt: 6, result: { kind: 'read', value: 'owner-1', version: 1 } } },
  ];
  t.equal(checkLinearizable(history).kind, 'ok');
});

/** Jepsen-style register workload: clients pick a node and an operation; the history is checked. */
t.test('CAS register workload: 4 clients, 3 nodes, a node crashed and restarted mid-run: linearizable', async (t) => {
  const { network, nodes } = memoryCluster({ nodes: 3 });
  const history: Operation[] = [];
  const clock = () => performance.now();
  let down: ClusterNode | undefined;
  let opsWhileDown = 0;
  const OPS = 25;
  const client = async (id: number) => {
    const versions = new Map<string, number>();
    for (let i = 0; i < OPS; i++) {
      const candidates = nodes.filter((n) => n !== down);
      if (down !== undefined) opsWhileDown++;
      const node = candidates[(id + i) % candidates.length]!;
      // Every client claims claim-0, claim-1, ... in turn (racing the others for each), and
      // reads, writes and moves 'hot' forward by version in between.
      const claimKey = `claim-${Math.floor(i / 4)}`;
      const value = `c${id}-${i}`;
      const pick = (id + i) % 4;
      const key = pick === 2 || (pick === 0 && i % 2 === 1) ? claimKey : 'hot';
      const version = versions.get(key) ?? 0;
      const call: RegisterCall = pick === 0 ? { kind: 'read' } : pick === 1 ? { kind: 'write', value } : pick === 2 ? { kind: 'cas', expected: null, value } : { kind: 'cas-version', expected: version, value };
      const invokedAt = clock();
      let response: Response;
      if (call.kind === 'read') response = await read(node, key);
      else if (call.kind === 'write') response = await put(node, key, 'consistent=1&timeout_ms=3000', value);
      else if (call.kind === 'cas') response = await put(node, key, 'if_absent=1&timeout_ms=3000', value);
      else response = await put(node, key, `if_version=${version}&timeout_ms=3000`, value);
      const completedAt = clock();
      const seen = response.headers.get(VERSION);
      if (seen !== null) versions.set(key, Number(seen));
      let outcome: Outcome;
      if (response.status === 504) outcome = { status: 'unknown' };
      else if (response.status === 503) outcome = { status: 'failed', completedAt };
      else if (call.kind === 'read') outcome = { status: 'ok', completedAt, result: { kind: 'read', value: response.status === 200 ? await response.text() : null, version: versions.get(key) ?? 0 } };
      else if (call.kind === 'write') outcome = { status: 'ok', completedAt, result: { kind: 'write' } };
      else outcome = { status: 'ok', completedAt, result: { kind: 'cas', ok: response.status === 204 } };
      t.ok([200, 204, 404, 412, 503, 504].includes(response.status), `answer ${response.status}`);
      history.push({ process: `c${id}`, key, call, invokedAt, outcome });
    }
  };
  const crash = async () => {
    // After the run has started, node3 crashes (it answers nobody and coordinates nothing),
    // then restarts with what it persisted: its store's acceptor records.
    while (history.length < 20) await new Promise((resolve) => setImmediate(resolve));
    down = nodes[2]!;
    network.unregister(down.address);
    while (history.length < 60) await new Promise((resolve) => setImmediate(resolve));
    network.register(down.address, down.replica);
    down = undefined;
  };
  await Promise.all([client(0), client(1), client(2), client(3), crash()]);
  t.equal(history.length, 4 * OPS);
  t.ok(opsWhileDown >= 20, `operations ran while node3 was down (${opsWhileDown})`);
  const answered = history.filter((op) => op.outcome.status === 'ok').length;
  t.ok(answered >= 3 * OPS, `most operations answered (${answered} of ${history.length})`);
  const verdict = checkLinearizable(history);
  t.equal(verdict.kind, 'ok', verdict.kind === 'violation' ? verdict.report : JSON.stringify(verdict));
  const won = (kind: string) => history.filter((op) => op.call.kind === kind && op.outcome.status === 'ok' && op.outcome.result.kind === 'cas' && op.outcome.result.ok).length;
  t.ok(won('cas') >= 3, `claims won (${won('cas')})`);
  t.ok(won('cas-version') >= 1, `if_version sets applied (${won('cas-version')})`);
  for (const claimKey of new Set(history.filter((op) => op.call.kind === 'cas').map((op) => op.key))) {
    const winners = history.filter((op) => op.key === claimKey && op.call.kind === 'cas' && op.outcome.status === 'ok' && op.outcome.result.kind === 'cas' && op.outcome.result.ok);
    t.ok(winners.length <= 1, `${claimKey}: at most one claim won`);
  }
});

t.test('with two of three replicas unreachable a claim fails fast with 503, surely not applied', async (t) => {
  const { network, nodes } = memoryCluster({ nodes: 3 });
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  network.unregister(b.address);
  network.unregister(c.address);
  const started = performance.now();
  const answer = await put(a, 'k', 'if_absent=1&timeout_ms=20000', 'v');
  const elapsedMs = performance.now() - started;
  t.equal(answer.status, 503);
  t.match(await answer.json(), { error: { code: 'KV_ERR_QUORUM_UNMET', attempted: false } });
  t.ok(elapsedMs < 10_000, `well before the 20 s deadline (${Math.round(elapsedMs)} ms: each attempt fails at once, then backs off)`);
  network.register(b.address, b.replica);
  // A key no replica has learned at this layout is learned from EVERY ring member first
  // (docs/cas.md "Membership changes"): with c still away, the claim cannot apply yet.
  const early = await put(a, 'k', 'if_absent=1&timeout_ms=1000', 'v');
  t.equal(early.status, 503, 'a key not yet learned waits for every ring member, surely not applied');
  network.register(c.address, c.replica);
  t.equal((await put(a, 'k', 'if_absent=1', 'v')).status, 204, 'with the ring back, the same claim applies');
  network.unregister(c.address);
  t.equal((await put(b, 'k', 'if_absent=1', 'w')).status, 412, 'once learned, a majority decides without c: the key is taken');
  const got = await read(b, 'k');
  t.equal(await got.text(), 'v');
});


// A member that left and handed every acceptor record over tells the ring so (a `handed-over`
// notice): learns after the change of ring stop waiting for it. Before, every key learned after
// a leave waited for the departed member until it was forgotten (10 minutes): the 10-minute
// real-process run with leaves failed all 165 of its final consistent reads (BENCHMARKS.md).
t.test('after a leave, keys are learned without the departed member once it said it handed everything over', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 3 } });
  const [a, b, , d] = nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode];
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
  for (const key of keys) t.equal((await put(a, key, 'if_absent=1', `v-${key}`)).status, 204, `${key} claimed on the 4-node ring`);
  // node4 leaves: every member (itself included) sees it left; the ring is now node1..node3.
  for (const node of nodes) node.membership.setStatus('node4', 'left');
  t.equal(await d.replica.cas.handOverOnce(), true, 'node4 hands every record over (and tells the ring)');
  // node4 stops: nothing reaches it any more.
  for (const node of nodes) network.setLink(node.id, d.address, false);
  for (const key of keys) {
    const answer = await read(a, key);
    t.equal(answer.status, 200, `${key} reads at once after the leave (got ${answer.status})`);
    t.equal(await answer.text(), `v-${key}`, `${key} kept its value`);
  }
  t.equal((await put(b, 'k0', 'if_version=1', 'after')).status, 204, 'and takes the next compare-and-set');
});

t.test('a handed-over notice counts only from the node it names, at the incarnation it left at', async (t) => {
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 3 } });
  const [a, b, , d] = nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode];
  t.equal((await put(a, 'k', 'if_absent=1', 'v')).status, 204);
  for (const node of nodes) node.membership.setStatus('node4', 'left');
  // node2 claims node4 handed over: refused, and node4 (unreachable, never told) still counts.
  const forged = await b.replica.replicaBatch([{ kind: 'paxos', key: 'node4', message: { kind: 'handed-over', key: 'node4', ballot: { counter: 0, node: '' }, layout: 0 } }], 'node2');
  t.match(forged[0], { ok: false, code: 'KV_ERR_BAD_REQUEST' }, 'a notice for another node is refused');
  const stale = await a.replica.replicaBatch([{ kind: 'paxos', key: 'node4', message: { kind: 'handed-over', key: 'node4', ballot: { counter: 0, node: '' }, layout: 7 } }], 'node4');
  t.match(stale[0], { ok: true, paxos: { kind: 'nack' } }, 'a notice at another incarnation than the one node4 left at is ignored');
  for (const node of nodes) network.setLink(node.id, d.address, false);
  t.equal((await read(a, 'k')).status, 503, 'so a learn still waits for node4: surely not applied');
});
