// The Transport contract over both implementations: the in-process twin (MemoryTransport on a
// MemoryNetwork) and HttpTransport between two real nodes on 127.0.0.1 (OS-chosen ports). Then
// what only the HTTP transport can meet: peers that refuse, stall or answer garbage.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { KvError, Keyring, MemoryStore, checkBody, checkRequest, internalHeaders, startNode, testConfig, validateConfig, type Member, type RingkvNode, type StaticPeer } from '@ringkv/node';
import { layoutDigestOf, answerHello, Coordinator, PeerHealth, RingView, realTimers, encodeBatchResults, encodeCoordinateResult, HELLO_PATH, MemoryNetwork, MemoryTransport, ReplicaService, StaticMembership } from '@ringkv/node/testing';
// HttpTransport is not exported by the package; the built module is the one node.ts uses.
import { HttpTransport } from '../packages/node/dist/transport/http-transport.js';
import { StreamTransport } from '../packages/node/dist/transport/stream-transport.js';
import { PAIR_LIMITS, transportContract, type TransportPair } from './contract/transport.contract.js';
import { rejectsWith } from './helpers/compare.js';

type Logger = ConstructorParameters<typeof Coordinator>[0]['logger'];

/** A pino-shaped logger that drops everything. */
function silentLogger(): Logger {
  const logger: Record<string, unknown> = {};
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) logger[level] = () => {};
  logger['child'] = () => logger;
  return logger as unknown as Logger;
}

const versioning = { siblingsMax: PAIR_LIMITS.siblingsMax, clockEntriesMax: PAIR_LIMITS.clockEntriesMax };
const queueLimits = { batchOpsMax: PAIR_LIMITS.batchOpsMax, inflightMax: PAIR_LIMITS.inflightMax, queueOpsMax: PAIR_LIMITS.queueOpsMax };

// ---- MemoryTransport: two nodes wired by hand (store, membership, transport, coordinator,
// replica service), each ReplicaService registered on the network as the node's PeerHandler.

function memoryNode(network: MemoryNetwork, id: string, peers: readonly StaticPeer[]) {
  const address = `memory://${id}`;
  const store = new MemoryStore({ nowMs: Date.now });
  const membership = new StaticMembership(id, address, peers);
  const transport = new MemoryTransport(network, id, queueLimits);
  const coordinator = new Coordinator({
    selfId: id,
    n: PAIR_LIMITS.n,
    ringView: new RingView(membership, 16, PAIR_LIMITS.n),
    membership,
    transport,
    store,
    limits: versioning,
    nowMs: Date.now,
    timers: realTimers,
    logger: silentLogger(),
    failGraceMs: 200,
    sloppyQuorum: true,
    random: Math.random,
    health: new PeerHealth(),
    replicaTimeoutMs: 500,
  });
  network.register(address, new ReplicaService(store, versioning, () => coordinator, () => false));
  return { id, address, store, membership, transport };
}

async function memoryPair(): Promise<TransportPair> {
  const network = new MemoryNetwork();
  const peers = [
    { id: 'node-a', address: 'memory://node-a' },
    { id: 'node-b', address: 'memory://node-b' },
  ];
  const a = memoryNode(network, 'node-a', peers);
  const b = memoryNode(network, 'node-b', peers);
  const peerB = a.membership.member('node-b')!;
  return {
    transport: a.transport,
    peerB,
    storeB: b.store,
    stop: async () => network.setLink('node-a', peerB.address, false),
    close: async () => {
      await Promise.all([a.transport.close(), b.transport.close()]);
      await Promise.all([a.store.close(), b.store.close()]);
    },
  };
}

transportContract(t, 'MemoryTransport', memoryPair);

// ---- HttpTransport: two real nodes (startNode, port 0, MemoryStore), A's transport injected so
// the test holds it; both told the member list after start-up, as `ringkv up` does.

const SECRET = 'transport-contract-secret';

function nodeConfig(nodeId: string, secret = SECRET) {
  return validateConfig(
    {
      nodeId,
      secret,
      host: '127.0.0.1',
      httpPort: 0,
      n: PAIR_LIMITS.n,
      siblingsMax: PAIR_LIMITS.siblingsMax,
      clockEntriesMax: PAIR_LIMITS.clockEntriesMax,
      batchOpsMax: PAIR_LIMITS.batchOpsMax,
      peerInflightMax: PAIR_LIMITS.inflightMax,
      peerQueueOpsMax: PAIR_LIMITS.queueOpsMax,
      peerTimeoutMs: 2_000,
      processMetrics: false,
    },
    testConfig,
  );
}

function httpTransport(selfId: string, options: { secret?: string; peerTimeoutMs?: number; responseBytesMax?: number } = {}): HttpTransport {
  return new HttpTransport({
    selfId,
    keys: () => new Keyring([options.secret ?? SECRET]).internalKeys,
    nowMs: Date.now,
    peerTimeoutMs: options.peerTimeoutMs ?? 2_000,
    connectionsPerPeer: 4,
    responseBytesMax: options.responseBytesMax ?? 16 * 1024 * 1024,
    ...queueLimits,
  });
}

/** Starts a node and closes it in teardown (whatever happens to the test). */
async function node(t: Test, nodeId: string, parts: Parameters<typeof startNode>[1], secret = SECRET): Promise<RingkvNode> {
  const started = await startNode(nodeConfig(nodeId, secret), parts);
  t.teardown(() => started.close());
  return started;
}

/** Tells `target` the member list through the signed POST /internal/members, as `ringkv up` does. */
async function tellMembers(target: RingkvNode, members: readonly StaticPeer[], secret: string): Promise<void> {
  const body = Buffer.from(JSON.stringify({ members }));
  const headers = { 'content-type': 'application/json', ...(await internalHeaders(target.url, secret, 'test', '/internal/members', body)) };
  const answer = await request(`${target.url}/internal/members`, { method: 'POST', headers, body });
  const text = await answer.body.text();
  if (answer.statusCode !== 204) throw new Error(`${target.url} refused the member list: ${answer.statusCode} ${text}`);
}

/** A's side of the node-to-node stream, with the pair's queue limits. */
function streamTransport(selfId: string): StreamTransport {
  return new StreamTransport({
    selfId,
    keys: () => new Keyring([SECRET]).streamKeys,
    nowMs: Date.now,
    random: Math.random,
    peerTimeoutMs: 2_000,
    frameBytesMax: 16 * 1024 * 1024,
    ...queueLimits,
  });
}

async function httpPair(t: Test, secretB = SECRET, transport: HttpTransport | StreamTransport = httpTransport('node-a')): Promise<TransportPair> {
  const a = await node(t, 'node-a', { store: new MemoryStore({ nowMs: Date.now }), transport });
  const storeB = new MemoryStore({ nowMs: Date.now });
  const b = await node(t, 'node-b', { store: storeB }, secretB);
  const members = [
    { id: 'node-a', address: a.url },
    { id: 'node-b', address: b.url },
  ];
  await tellMembers(a, members, SECRET);
  await tellMembers(b, members, secretB);
  return {
    transport,
    peerB: a.membership.member('node-b')!,
    storeB,
    casLayout: layoutDigestOf([{ id: 'node-a', zone: '' }, { id: 'node-b', zone: '' }]),
    stop: () => b.close(),
    close: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

transportContract(t, 'HttpTransport (real nodes on 127.0.0.1)', (t) => httpPair(t));
transportContract(t, 'StreamTransport (real nodes on 127.0.0.1)', (t) => httpPair(t, SECRET, streamTransport('node-a')));

// ---- HTTP only.


/** The fake peer's id and boot epoch, as its hello answers them. */
const FAKE = { id: 'fake', epoch: 'fakeEpoch0000000' };

function headersOf(req: IncomingMessage): Headers {
  return new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]));
}

/**
 * A hand-written peer on 127.0.0.1 that answers hellos as a node would (so the transport gets
 * to send its requests) and every other /internal/ request as `handle` says.
 */
async function fakePeer(t: Test, handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<Member> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== HELLO_PATH) return handle(req, res, Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answerHello(headersOf(req), new Keyring([SECRET]).internalKeys, FAKE, Date.now())));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { id: 'fake', address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, status: 'alive', incarnation: 0 };
}

const NO_RESULT = ['KV_ERR_PEER_UNREACHABLE', 'KV_ERR_TIMEOUT'];

t.test('HttpTransport against peers that refuse, stall or answer garbage', async (t) => {
  t.test('a node with another secret refuses the batch (401): the ops fail, nothing is applied', async (t) => {
    const pair = await httpPair(t, 'a-different-secret');
    t.teardown(() => pair.close());
    const before = pair.transport.stats();
    const error = await rejectsWith(
      t,
      pair.transport.replica(pair.peerB, { kind: 'put', key: 'forged', object: { clock: [{ id: 'x', counter: 1, timestampMs: 1 }], siblings: [] } }),
      ['KV_ERR_PEER_UNREACHABLE'],
      'a put to a node with another secret',
    );
    t.equal(error?.details['status'], 401, 'the peer answered 401');
    t.equal(pair.storeB.get('forged'), undefined, 'nothing was applied');
    t.equal(pair.transport.stats().batchesFailed, before.batchesFailed + 1);
    await rejectsWith(
      t,
      pair.transport.coordinate(pair.peerB, { kind: 'get', key: 'forged', r: 1, timeoutMs: 1_000 }, 1_000),
      ['KV_ERR_PEER_UNREACHABLE'],
      'a forward to it',
    );
  });

  t.test('a peer that never answers: the batch fails with KV_ERR_TIMEOUT', async (t) => {
    const peer = await fakePeer(t, () => {}); // reads the request, never answers
    const transport = httpTransport('node-a', { peerTimeoutMs: 200 });
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(peer, { kind: 'get', key: 'k' }), ['KV_ERR_TIMEOUT'], 'a get to a silent peer');
    t.equal(transport.stats().batchesFailed, 1);
  });

  t.test('a peer that sends its headers and then stalls the body: a coded timeout, not a raw undici error', async (t) => {
    const peer = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write(Buffer.from([1])); // then nothing more
    });
    const transport = httpTransport('node-a', { peerTimeoutMs: 200 });
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(peer, { kind: 'get', key: 'k' }), NO_RESULT, 'a get whose answer stalls');
    t.equal(transport.stats().batchesFailed, 1);
  });

  t.test('a peer whose answer exceeds responseBytesMax: a coded error, not a raw undici error', async (t) => {
    const peer = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(64 * 1024));
    });
    const transport = httpTransport('node-a', { responseBytesMax: 4 * 1024 });
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(peer, { kind: 'get', key: 'k' }), NO_RESULT, 'a get whose answer is too large');
    t.equal(transport.stats().batchesFailed, 1);
  });

  t.test('a peer that answers 200 with garbage: no result came, so PEER_UNREACHABLE', async (t) => {
    const peer = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('<html>not a batch</html>');
    });
    const transport = httpTransport('node-a');
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(peer, { kind: 'get', key: 'k' }), NO_RESULT, 'a get answered with garbage');
    t.equal(transport.stats().batchesFailed, 1);
  });

  t.test('a peer that answers fewer results than ops: the batch fails with PEER_UNREACHABLE', async (t) => {
    const peer = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(encodeBatchResults([{ ok: true }]));
    });
    const transport = httpTransport('node-a');
    t.teardown(() => transport.close());
    const ops = [transport.replica(peer, { kind: 'get', key: 'a' }), transport.replica(peer, { kind: 'get', key: 'b' })];
    for (const [i, op] of ops.entries()) await rejectsWith(t, op, ['KV_ERR_PEER_UNREACHABLE'], `op ${i}`);
    t.same(transport.stats(), { opsSent: 2, batchesSent: 1, batchesFailed: 1, forwards: 0, probes: 0 });
  });

  t.test('requests are signed: the peer sees a valid signature over the exact path, body, receiver and epoch', async (t) => {
    const seen: Array<{ path: string; sender: string }> = [];
    const peer = await fakePeer(t, (req, res, body) => {
      try {
        const claims = checkRequest(headersOf(req), req.headers['content-length'] ?? null, new Keyring([SECRET]).internalKeys, FAKE, req.url ?? '', Date.now());
        checkBody(claims, body);
        seen.push({ path: req.url ?? '', sender: claims.sender });
      } catch {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(encodeBatchResults([{ ok: true }]));
    });
    const transport = httpTransport('node-a');
    t.teardown(() => transport.close());
    t.same(await transport.replica(peer, { kind: 'get', key: 'k' }), { ok: true });
    t.same(seen, [{ path: '/internal/batch', sender: 'node-a' }]);
  });
});

// ---- Regression tests (review of the transport and internal routes).

/** A peer that writes a 200 with a long body one byte every `everyMs`, until the test ends. */
async function drippingPeer(t: Test, everyMs: number): Promise<Member> {
  const timers: NodeJS.Timeout[] = [];
  t.teardown(() => timers.forEach(clearInterval));
  return fakePeer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' });
    timers.push(setInterval(() => res.write(Buffer.from([1])), everyMs));
  });
}

async function elapsed<T>(fn: () => Promise<T>): Promise<[T | undefined, unknown, number]> {
  const started = Date.now();
  try {
    return [await fn(), undefined, Date.now() - started];
  } catch (error) {
    return [undefined, error, Date.now() - started];
  }
}

t.test('HttpTransport regressions', async (t) => {
  t.test('total deadline: a peer dripping one byte per 100 ms cannot keep a batch in flight past peerTimeoutMs', async (t) => {
    const peer = await drippingPeer(t, 100);
    const transport = httpTransport('node-a', { peerTimeoutMs: 400 });
    t.teardown(() => transport.close());
    const [, error, ms] = await elapsed(() => transport.replica(peer, { kind: 'get', key: 'k' }));
    t.ok(error instanceof KvError && error.code === 'KV_ERR_TIMEOUT', `KV_ERR_TIMEOUT (got ${String(error)})`);
    t.ok(ms >= 350 && ms < 1_500, `failed at the deadline (${ms} ms), although the peer never went idle for 400 ms`);
    t.same(transport.stats(), { opsSent: 1, batchesSent: 1, batchesFailed: 1, forwards: 0, probes: 0 });
  });

  t.test('total deadline: a forward gets timeoutMs plus the hop allowance, then KV_ERR_TIMEOUT, even from a dripping peer', async (t) => {
    const peer = await drippingPeer(t, 100);
    const transport = httpTransport('node-a', { peerTimeoutMs: 60_000 });
    t.teardown(() => transport.close());
    const [, error, ms] = await elapsed(() => transport.coordinate(peer, { kind: 'get', key: 'k', r: 1, timeoutMs: 100 }, 100));
    t.ok(error instanceof KvError && error.code === 'KV_ERR_TIMEOUT', `KV_ERR_TIMEOUT (got ${String(error)})`);
    t.ok(ms >= 1_000 && ms < 2_500, `after 100 + 1000 ms (${ms} ms)`);
  });

  t.test('the response body is read inside the error mapping: a body that stalls is KV_ERR_TIMEOUT, a body over responseBytesMax and a reset are KV_ERR_PEER_UNREACHABLE', async (t) => {
    const stalled = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write(Buffer.from([1]));
    });
    const large = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(64 * 1024));
    });
    const reset = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write(Buffer.from([1]), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const transport = httpTransport('node-a', { peerTimeoutMs: 300, responseBytesMax: 4 * 1024 });
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(stalled, { kind: 'get', key: 'k' }), ['KV_ERR_TIMEOUT'], 'a stalled body');
    await rejectsWith(t, transport.replica(large, { kind: 'get', key: 'k' }), ['KV_ERR_PEER_UNREACHABLE'], 'a body over responseBytesMax');
    await rejectsWith(t, transport.replica(reset, { kind: 'get', key: 'k' }), ['KV_ERR_PEER_UNREACHABLE'], 'a connection reset mid-body');
    await rejectsWith(t, transport.coordinate(large, { kind: 'get', key: 'k', r: 1, timeoutMs: 100 }, 100), ['KV_ERR_PEER_UNREACHABLE'], 'a forward answered with too large a body');
    t.equal(transport.stats().batchesFailed, 3);
  });

  t.test('a 200 with an undecodable body is KV_ERR_PEER_UNREACHABLE, not KV_ERR_BAD_REQUEST: batch results and coordinate results', async (t) => {
    const garbage = await fakePeer(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('<html>not a frame</html>');
    });
    // A well-framed answer whose object breaks the invariants (a dot its clock does not cover).
    const bad = { clock: [{ id: 'x', counter: 1, timestampMs: 1 }], siblings: [{ dot: { id: 'x', counter: 2 }, deleted: false, value: new Uint8Array([1]), contentType: '', timestampMs: 1 }] };
    const invalid = await fakePeer(t, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(req.url === '/internal/batch' ? encodeBatchResults([{ ok: true, object: bad }]) : encodeCoordinateResult({ ok: true, object: bad }));
    });
    const transport = httpTransport('node-a');
    t.teardown(() => transport.close());
    await rejectsWith(t, transport.replica(garbage, { kind: 'get', key: 'k' }), ['KV_ERR_PEER_UNREACHABLE'], 'batch answered with garbage');
    await rejectsWith(t, transport.coordinate(garbage, { kind: 'get', key: 'k', r: 1, timeoutMs: 500 }, 500), ['KV_ERR_PEER_UNREACHABLE'], 'forward answered with garbage');
    await rejectsWith(t, transport.replica(invalid, { kind: 'get', key: 'k' }), ['KV_ERR_PEER_UNREACHABLE'], 'batch answered with an invalid object');
    await rejectsWith(t, transport.coordinate(invalid, { kind: 'get', key: 'k', r: 1, timeoutMs: 500 }, 500), ['KV_ERR_PEER_UNREACHABLE'], 'forward answered with an invalid object');
  });

  t.test('close(): a pool whose request does not finish within the grace is destroyed; the op fails with KV_ERR_SHUTTING_DOWN', async (t) => {
    let arrived = false;
    const silent = await fakePeer(t, () => void (arrived = true)); // reads the request, never answers
    const transport = new HttpTransport({
      selfId: 'node-a',
      keys: () => new Keyring([SECRET]).internalKeys,
      nowMs: Date.now,
      peerTimeoutMs: 30_000,
      connectionsPerPeer: 1,
      responseBytesMax: 1024 * 1024,
      closeGraceMs: 150,
      ...queueLimits,
    });
    const inflight = transport.replica(silent, { kind: 'get', key: 'k' });
    inflight.catch(() => {});
    // The batch is on the wire: the peer has it (a condition with a deadline, not a sleep).
    for (const deadline = Date.now() + 10_000; !arrived && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
    t.ok(arrived, 'the peer received the batch');
    const [, , ms] = await elapsed(() => transport.close());
    t.ok(ms >= 100 && ms < 1_500, `close() resolved after the grace (${ms} ms), not after the 30 s peer timeout`);
    await rejectsWith(t, inflight, ['KV_ERR_SHUTTING_DOWN'], 'the op in flight');
    const [, , again] = await elapsed(() => transport.close());
    t.ok(again < 50, 'a second close() resolves at once');
  });
});

t.test('MemoryTransport regressions', async (t) => {
  const member = (id: string): Member => ({ id, address: `memory://${id}`, status: 'alive', incarnation: 0 });

  t.test('after close(), replica() and coordinate() reject with KV_ERR_SHUTTING_DOWN and nothing reaches the peer', async (t) => {
    const network = new MemoryNetwork();
    let calls = 0;
    network.register('memory://b', {
      replicaBatch: async (ops) => (calls++, ops.map(() => ({ ok: true as const }))),
      coordinate: async () => (calls++, { ok: true as const }),
      tree: () => (calls++, { kind: 'summaries' as const, summaries: [] }),
    });
    const transport = new MemoryTransport(network, 'a', queueLimits);
    t.same(await transport.replica(member('b'), { kind: 'get', key: 'k' }), { ok: true }, 'control: open, it delivers');
    await transport.close();
    await rejectsWith(t, transport.replica(member('b'), { kind: 'get', key: 'k' }), ['KV_ERR_SHUTTING_DOWN'], 'replica() after close()');
    await rejectsWith(t, transport.coordinate(member('b'), { kind: 'get', key: 'k', r: 1, timeoutMs: 100 }, 100), ['KV_ERR_SHUTTING_DOWN'], 'coordinate() after close()');
    t.equal(calls, 1, 'only the call before close() reached the peer');
  });

  t.test('coordinate() honours timeoutMs: a peer that does not answer in time is KV_ERR_TIMEOUT (timeout + hop allowance, like HTTP)', async (t) => {
    const network = new MemoryNetwork();
    network.register('memory://b', {
      replicaBatch: () => new Promise(() => {}),
      coordinate: () => new Promise(() => {}),
      tree: () => ({ kind: 'summaries' as const, summaries: [] }),
    });
    // A virtual timer, so the test does not wait the second of hop allowance.
    const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
    const setTimer = (fn: () => void, ms: number) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    };
    const transport = new MemoryTransport(network, 'a', queueLimits, undefined, setTimer);
    t.teardown(() => transport.close());
    const pending = transport.coordinate(member('b'), { kind: 'get', key: 'k', r: 1, timeoutMs: 250 }, 250);
    t.equal(timers.length, 1, 'one deadline timer');
    t.equal(timers[0]!.ms, 1_250, 'at timeoutMs + FORWARD_HOP_ALLOWANCE_MS, the deadline HttpTransport uses');
    timers[0]!.fn();
    await rejectsWith(t, pending, ['KV_ERR_TIMEOUT'], 'a silent peer');
    // With real timers too.
    const real = new MemoryTransport(network, 'a', queueLimits);
    t.teardown(() => real.close());
    const [, error, ms] = await elapsed(() => real.coordinate(member('b'), { kind: 'get', key: 'k', r: 1, timeoutMs: 50 }, 50));
    t.ok(error instanceof KvError && error.code === 'KV_ERR_TIMEOUT', `real timer: KV_ERR_TIMEOUT (got ${String(error)})`);
    t.ok(ms >= 1_000 && ms < 2_500, `real timer: after 50 + 1000 ms (${ms} ms)`);
  });

  t.test('coordinate(): an answer in time cancels the deadline timer; a cut link is KV_ERR_PEER_UNREACHABLE', async (t) => {
    const network = new MemoryNetwork();
    network.register('memory://b', { replicaBatch: async () => [], coordinate: async () => ({ ok: true as const }), tree: () => ({ kind: 'summaries' as const, summaries: [] }) });
    let cancelled = 0;
    const transport = new MemoryTransport(network, 'a', queueLimits, undefined, () => () => void cancelled++);
    t.teardown(() => transport.close());
    t.same(await transport.coordinate(member('b'), { kind: 'get', key: 'k', r: 1, timeoutMs: 100 }, 100), { ok: true });
    t.equal(cancelled, 1, 'the timer was cancelled');
    network.setLink('a', 'memory://b', false);
    await rejectsWith(t, transport.coordinate(member('b'), { kind: 'get', key: 'k', r: 1, timeoutMs: 100 }, 100), ['KV_ERR_PEER_UNREACHABLE'], 'a cut link');
    t.equal(cancelled, 2);
  });
});
