// The node-to-node stream (docs/transport.md) against hostile and broken input, on real sockets
// on 127.0.0.1: a wrong or replayed handshake is refused before a byte of the stream is read;
// garbage after authentication closes that connection after at most one frame header, logged
// with a coded reason, and other connections carry on; backpressure on both sides; reconnect
// with backoff.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { KvError, Keyring, MemoryStore, internalHeaders, startNode, testConfig, validateConfig, type Member, type RingkvNode } from '@ringkv/node';
import {
  CHALLENGE_PATH,
  ChallengeTable,
  checkChallengeRequest,
  encodeBatch,
  encodeFrameHeader,
  FRAME_TYPES,
  newNonce,
  signChallengeRequest,
  signDial,
  STREAM_PATH,
  STREAM_PROTOCOL,
  StreamAcceptor,
  StreamTransport,
  HttpTransport,
  type PeerHandler,
  type ReplicaOp,
} from '@ringkv/node/testing';
import { rejectsWith } from './helpers/compare.js';

const SECRET = 'stream-transport-secret';
const keys = new Keyring([SECRET]).streamKeys;

/** A node on 127.0.0.1 with an in-memory store; closed in teardown. */
async function startB(t: Test, options: { httpPort?: number; peerTimeoutMs?: number; id?: string; faultInjection?: boolean } = {}): Promise<{ node: RingkvNode; store: MemoryStore }> {
  const store = new MemoryStore({ nowMs: Date.now });
  const config = validateConfig(
    { nodeId: options.id ?? 'node-b', secret: SECRET, host: '127.0.0.1', httpPort: options.httpPort ?? 0, n: 2, peerTimeoutMs: options.peerTimeoutMs ?? 2_000, processMetrics: false, faultInjection: options.faultInjection ?? false },
    testConfig,
  );
  const node = await startNode(config, { store });
  t.teardown(() => node.close());
  const members = { members: [{ id: 'node-a', address: 'http://127.0.0.1:1' }, { id: config.nodeId, address: node.url }] };
  const body = Buffer.from(JSON.stringify(members));
  const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, SECRET, 'test', '/internal/members', body)) };
  const answer = await request(`${node.url}/internal/members`, { method: 'POST', headers, body, reset: true });
  await answer.body.text();
  if (answer.statusCode !== 204) throw new Error(`members refused: ${answer.statusCode}`);
  return { node, store };
}

/** Step 1 of the handshake, as node-a: B's id, epoch and a challenge. */
async function challengeOf(url: string, sender = 'node-a', key: Uint8Array = keys[0]!): Promise<{ node: string; epoch: string; challenge: string }> {
  const answer = await request(`${url}${CHALLENGE_PATH}`, { method: 'POST', headers: signChallengeRequest(key, sender, Date.now(), newNonce()), reset: true });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`challenge refused: ${answer.statusCode} ${text}`);
  return JSON.parse(text) as { node: string; epoch: string; challenge: string };
}

/** The upgrade request's bytes with `headers`. */
function upgradeRequest(port: number, headers: Record<string, string>): string {
  const lines = Object.entries({ host: `127.0.0.1:${port}`, connection: 'Upgrade', upgrade: STREAM_PROTOCOL, ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `GET ${STREAM_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

interface Raw {
  readonly socket: Socket;
  /** Status of the answer to the upgrade request. */
  readonly status: number;
  /** Resolves when the server closed the connection (rejects after `ms`). */
  closed(ms?: number): Promise<void>;
}

/** Sends `bytes` on a fresh connection; resolves once the answer's head has arrived. */
function rawExchange(t: Test, port: number, bytes: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    t.teardown(() => socket.destroy());
    let head = Buffer.alloc(0);
    let ended = false;
    const ends: Array<() => void> = [];
    socket.on('close', () => {
      ended = true;
      ends.forEach((f) => f());
    });
    socket.on('error', () => {});
    const closed = (ms = 5_000) =>
      new Promise<void>((done, fail) => {
        if (ended) return done();
        const timer = setTimeout(() => fail(new Error(`connection still open after ${ms} ms`)), ms);
        ends.push(() => (clearTimeout(timer), done()));
      });
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0), closed });
    };
    socket.on('data', onData);
    socket.on('close', () => reject(new Error(`closed before an answer: ${head.toString('latin1')}`)));
    socket.write(bytes);
  });
}

/** A batch frame putting `key` (what an attacker would append to a replayed handshake). */
function putFrame(requestId: number, key: string): Buffer {
  const object = { clock: [{ id: 'evil', counter: 1, timestampMs: 1 }], siblings: [{ dot: { id: 'evil', counter: 1 }, deleted: false, value: new Uint8Array([1]), contentType: '', timestampMs: 1 }] };
  const body = encodeBatch([{ kind: 'put', key, object } as ReplicaOp]);
  return Buffer.concat([encodeFrameHeader(FRAME_TYPES.batch, requestId, 5_000, body.length), body]);
}

/** A complete, valid dial of B as node-a: the upgrade request's headers. */
async function validDial(url: string): Promise<Record<string, string>> {
  const { node, epoch, challenge } = await challengeOf(url);
  return signDial(keys[0]!, { sender: 'node-a', to: { id: node, epoch }, challenge, nonce: newNonce() });
}

t.test('a wrong or replayed handshake is refused before a byte of the stream is read', async (t) => {
  const { node, store } = await startB(t);
  const stats = node.streams.stats;

  t.test('no authentication, another secret, an unissued challenge: 401, closed, nothing read', async (t) => {
    const other = new Keyring(['a-different-secret']).streamKeys[0]!;
    const { epoch, challenge } = await challengeOf(node.url);
    const forged = signDial(other, { sender: 'node-a', to: { id: 'node-b', epoch }, challenge, nonce: newNonce() });
    const unissued = signDial(keys[0]!, { sender: 'node-a', to: { id: 'node-b', epoch }, challenge: 'never-issued-challenge', nonce: newNonce() });
    const cases: Array<[string, Record<string, string>]> = [
      ['no authentication', {}],
      ['signed with another secret', forged],
      ['a challenge B never issued', unissued],
    ];
    for (const [what, headers] of cases) {
      const before = { ...stats, closed: { ...stats.closed } };
      // The frame goes out in the same write: a server that read past the headers would apply it.
      const raw = await rawExchange(t, node.port, Buffer.concat([Buffer.from(upgradeRequest(node.port, headers)), putFrame(1, `forged-${what}`)]));
      t.equal(raw.status, 401, `${what}: 401`);
      await raw.closed();
      t.equal(stats.accepted, before.accepted, `${what}: no stream accepted`);
      t.equal(stats.refused, before.refused + 1, `${what}: counted as refused`);
      t.same(stats.closed, before.closed, `${what}: no stream existed to read a frame from`);
      t.equal(store.get(`forged-${what}`), undefined, `${what}: nothing applied`);
    }
    await t.rejects(challengeOf(node.url, 'node-a', other), /401/, 'a challenge needs the key too');
  });

  t.test('a captured handshake replayed to the same node, to another node, and after a restart', async (t) => {
    const headers = await validDial(node.url);
    const first = await rawExchange(t, node.port, upgradeRequest(node.port, headers));
    t.equal(first.status, 101, 'the original dial is accepted');
    first.socket.write(putFrame(1, 'legit'));
    await waitFor(() => store.get('legit') !== undefined, 'the legit put applied');
    first.socket.destroy();
    const accepted = stats.accepted;

    const replay = await rawExchange(t, node.port, Buffer.concat([Buffer.from(upgradeRequest(node.port, headers)), putFrame(1, 'replayed')]));
    t.equal(replay.status, 401, 'replayed to the same node: 401');
    await replay.closed();
    t.equal(stats.accepted, accepted, 'not accepted');
    t.equal(store.get('replayed'), undefined, 'its frame was never read');

    const c = await startB(t, { id: 'node-c' });
    const misdirected = await rawExchange(t, c.node.port, Buffer.concat([Buffer.from(upgradeRequest(c.node.port, headers)), putFrame(1, 'replayed')]));
    t.equal(misdirected.status, 401, 'replayed to another node: 401');
    t.equal(c.node.streams.stats.accepted, 0);
    t.equal(c.store.get('replayed'), undefined);

    // A handshake captured before a restart (challenged, never used), replayed after it.
    const unused = await validDial(node.url);
    const port = node.port;
    await node.close();
    const restarted = await startB(t, { httpPort: port });
    const stale = await rawExchange(t, port, Buffer.concat([Buffer.from(upgradeRequest(port, unused)), putFrame(1, 'replayed')]));
    t.equal(stale.status, 401, 'replayed after a restart: 401');
    t.equal(restarted.node.streams.stats.accepted, 0, 'not accepted');
    t.equal(restarted.store.get('replayed'), undefined);
  });
});

/** Waits for `condition` with a deadline (no sleeping as synchronisation). */
async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function member(node: RingkvNode, id = 'node-b'): Member {
  return { id, address: node.url, status: 'alive', incarnation: 0 };
}

function transportOf(t: Test, options: Partial<ConstructorParameters<typeof StreamTransport>[0]> = {}): StreamTransport {
  const transport = new StreamTransport({
    selfId: 'node-a',
    keys: () => keys,
    nowMs: Date.now,
    random: Math.random,
    peerTimeoutMs: 2_000,
    frameBytesMax: 1024 * 1024,
    batchOpsMax: 64,
    inflightMax: 64,
    queueOpsMax: 10_000,
    ...options,
  });
  t.teardown(() => transport.close());
  return transport;
}

t.test('garbage after authentication closes that stream after one frame header; the others carry on', async (t) => {
  const { node, store } = await startB(t, { peerTimeoutMs: 500 });
  const stats = node.streams.stats;
  const transport = transportOf(t);
  t.same(await transport.replica(member(node), { kind: 'get', key: 'k' }), { ok: true }, 'a legit stream from node-a');
  const acceptedBefore = stats.accepted;
  const huge = Buffer.alloc(64 * 1024, 0x5a);
  const cases: Array<[string, Buffer, string, number]> = [
    ['an unknown type', Buffer.concat([Buffer.from('00001000420000000000000100001000', 'hex'), huge]), 'unknown-type', 16],
    ['a claimed 2 GiB frame', Buffer.concat([encodeFrameHeader(FRAME_TYPES.batch, 1, 1_000, 2 ** 31), huge]), 'oversize-frame', 16],
    ['an answer type', Buffer.concat([encodeFrameHeader(FRAME_TYPES.batchResult, 1, 0, 1_000), huge]), 'unknown-type', 16],
    ['nonzero flags', Buffer.concat([Buffer.from('00000010010100000000000100001000', 'hex'), huge]), 'malformed-header', 16],
    ['random bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(100)), 'unknown-type', 16],
  ];
  for (const [what, garbage, reason, consumed] of cases) {
    const raw = await rawExchange(t, node.port, upgradeRequest(node.port, await validDial(node.url)));
    t.equal(raw.status, 101, `${what}: authenticated`);
    raw.socket.write(garbage);
    await raw.closed();
    await waitFor(() => stats.lastClosed?.reason === reason, `${what}: closed as ${reason}`).catch(() => {});
    t.equal(stats.lastClosed?.reason, reason, `${what}: closed, reason ${reason}`);
    t.equal(stats.lastClosed?.consumedBytes, consumed, `${what}: ${consumed} bytes read as frames, of ${garbage.length} sent`);
  }
  const raw = await rawExchange(t, node.port, upgradeRequest(node.port, await validDial(node.url)));
  raw.socket.write(Buffer.concat([putFrame(5, 'in-order'), putFrame(5, 'repeated-id')]));
  await raw.closed();
  t.equal(stats.lastClosed?.reason, 'unknown-request', 'a request id that does not rise');
  t.equal(store.get('repeated-id'), undefined, 'the frame with the repeated id was not served');
  const bad = await rawExchange(t, node.port, upgradeRequest(node.port, await validDial(node.url)));
  bad.socket.write(Buffer.concat([encodeFrameHeader(FRAME_TYPES.batch, 1, 1_000, 8), Buffer.from('notabody')]));
  await bad.closed();
  t.equal(stats.lastClosed?.reason, 'undecodable-body', 'a body that does not decode');
  const slow = await rawExchange(t, node.port, upgradeRequest(node.port, await validDial(node.url)));
  const started = Date.now();
  slow.socket.write(putFrame(1, 'slow').subarray(0, 30)); // a header and part of its body, then nothing
  await slow.closed(5_000);
  t.equal(stats.lastClosed?.reason, 'slow-peer', 'a frame that stops half way: slow-peer');
  t.ok(Date.now() - started >= 400, `closed after the frame timeout (${Date.now() - started} ms)`);
  t.equal(store.get('slow'), undefined);
  const accepted = stats.accepted;
  t.same(await transport.replica(member(node), { kind: 'get', key: 'k' }), { ok: true }, 'node-a’s stream still works');
  t.equal(stats.accepted, accepted, 'on the same connection (no new stream accepted)');
  t.equal(acceptedBefore + cases.length + 3, accepted, 'each garbage stream had been accepted, then closed alone');
});

/** A bare acceptor (the real one) behind a minimal HTTP server with the challenge route. */
async function bareAcceptor(t: Test, handler: PeerHandler, options: { port?: number; servingMax?: number } = {}) {
  const self = { id: 'node-b', epoch: newNonce().slice(0, 16) };
  const challenges = new ChallengeTable(Date.now, newNonce);
  const acceptor = new StreamAcceptor({
    keys: () => keys,
    self,
    challenges,
    peer: handler,
    isRemoved: () => false,
    peerCertificateRequired: false,
    refused: () => {},
    log: { warn: () => {}, debug: () => {} },
    isStopping: () => false,
    nowMs: Date.now,
    frameBytesMax: 1024 * 1024,
    frameTimeoutMs: 2_000,
    ...(options.servingMax === undefined ? {} : { servingMax: options.servingMax }),
  });
  let challengesIssued = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    try {
      const sender = checkChallengeRequest({ get: (n) => (typeof req.headers[n] === 'string' ? (req.headers[n] as string) : null) }, keys, Date.now(), 30_000);
      challengesIssued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ node: self.id, epoch: self.epoch, challenge: challenges.issue(sender) }));
    } catch {
      res.writeHead(401).end();
    }
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => acceptor.upgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      acceptor.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.teardown(stop);
  return { acceptor, port, member: { id: 'node-b', address: `http://127.0.0.1:${port}`, status: 'alive', incarnation: 0 } as Member, stop, challenges: () => challengesIssued };
}

const hang: PeerHandler = { replicaBatch: () => new Promise(() => {}), coordinate: () => new Promise(() => {}), tree: () => new Promise(() => {}) };

t.test('backpressure: past the in-flight bytes bound, requests fail at once with KV_ERR_OVERLOADED', async (t) => {
  const peer = await bareAcceptor(t, hang);
  const transport = transportOf(t, { inflightBytesMax: 8 * 1024, peerTimeoutMs: 10_000 });
  const object = { clock: [{ id: 'a', counter: 1, timestampMs: 1 }], siblings: [{ dot: { id: 'a', counter: 1 }, deleted: false, value: new Uint8Array(3_000), contentType: '', timestampMs: 1 }] };
  const outcomes: Array<Promise<unknown>> = [];
  let overloaded: KvError | undefined;
  for (let i = 0; i < 10 && overloaded === undefined; i++) {
    const started = Date.now();
    const op = transport.replica(peer.member, { kind: 'put', key: `k${i}`, object });
    op.catch((error: unknown) => {
      if (error instanceof KvError && error.code === 'KV_ERR_OVERLOADED') overloaded ??= Object.assign(error, { elapsedMs: Date.now() - started });
    });
    outcomes.push(op);
    await new Promise((resolve) => setTimeout(resolve, 20)); // one batch per turn
  }
  t.ok(overloaded, 'a request was refused as overloaded');
  t.equal(overloaded?.details['limit'], 8 * 1024);
  t.ok(((overloaded as unknown as { elapsedMs: number }).elapsedMs ?? 1e9) < 100, 'at once, not at the deadline');
  t.ok(outcomes.length >= 2 && outcomes.length <= 4, `one to three 3 KB batches fit in 8 KiB first (${outcomes.length} sent)`);
  for (const o of outcomes) o.catch(() => {});
});

t.test('receiver: requests wait for a serving slot and are dropped unserved once their budget passed', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let trees = 0;
  const handler: PeerHandler = {
    replicaBatch: async (ops) => (await gate, ops.map(() => ({ ok: true as const }))),
    coordinate: async () => ({ ok: true as const }),
    tree: () => (trees++, { kind: 'summaries', summaries: [] }),
  };
  const peer = await bareAcceptor(t, handler, { servingMax: 1 });
  const transport = transportOf(t);
  const slow = transport.replica(peer.member, { kind: 'get', key: 'k' });
  await waitFor(() => peer.acceptor.stats.accepted === 1, 'the stream is up');
  await rejectsWith(t, transport.tree(peer.member, { kind: 'summaries', sets: [] }, 150), ['KV_ERR_TIMEOUT'], 'a tree request stuck behind it');
  await new Promise((resolve) => setTimeout(resolve, 50)); // its budget is now past on the receiver too
  release();
  t.same(await slow, { ok: true }, 'the first request is answered');
  await waitFor(() => peer.acceptor.stats.expired === 1, 'the expired request dropped');
  t.equal(trees, 0, 'its work never started');
  t.same(await transport.tree(peer.member, { kind: 'summaries', sets: [] }, 1_000), { kind: 'summaries', summaries: [] }, 'the stream carries on; its late answer was not mistaken for another');
  t.equal(trees, 1);
});

t.test('a PING is answered at once, ahead of requests waiting for a serving slot (liveness, not the disk)', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const handler: PeerHandler = {
    replicaBatch: async (ops) => (await gate, ops.map(() => ({ ok: true as const }))),
    coordinate: async () => ({ ok: true as const }),
    tree: () => ({ kind: 'summaries', summaries: [] }),
  };
  const peer = await bareAcceptor(t, handler, { servingMax: 1 });
  const transport = transportOf(t);
  const stuck = [transport.replica(peer.member, { kind: 'get', key: 'a' })];
  await waitFor(() => peer.acceptor.stats.accepted === 1, 'the stream is up');
  // A second batch waits behind the first for the only serving slot.
  await new Promise((resolve) => setImmediate(resolve));
  stuck.push(transport.replica(peer.member, { kind: 'get', key: 'b' }));
  const started = Date.now();
  await transport.probe(peer.member, 1_000);
  t.ok(Date.now() - started < 500, `the probe was answered while both batches wait (${Date.now() - started} ms)`);
  release();
  t.same(await Promise.all(stuck), [{ ok: true }, { ok: true }], 'the batches are answered afterwards, unmistaken for the PONG');
});

t.test("the fault layer's slow store: batches wait, probes are answered at once; bad fault plans are refused", async (t) => {
  const { node } = await startB(t, { faultInjection: true });
  const plan = async (body: string) => {
    const bytes = Buffer.from(body);
    const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, SECRET, 'test', '/internal/faults', bytes)) };
    const answer = await request(`${node.url}/internal/faults`, { method: 'POST', headers, body: bytes });
    return { status: answer.statusCode, json: (await answer.body.json()) as { storeDelayMs?: number; error?: { code: string } } };
  };
  for (const bad of ['{}', '[]', 'null', 'nonsense', '{"storeDelayMs": -1}', '{"storeDelayMs": 60001}', '{"storeDelayMs": "500"}', '{"storeDelayMs": 1.5}', '{"block": "node-a"}']) {
    const answer = await plan(bad);
    t.equal(answer.status, 400, `${bad}: 400`);
    t.equal(answer.json.error?.code, 'KV_ERR_BAD_REQUEST', `${bad}: coded`);
  }
  t.same((await plan('{"storeDelayMs": 400}')).json, { block: [], storeDelayMs: 400 }, 'a slow store set, partitions untouched');
  const transport = transportOf(t);
  const peer = member(node);
  let started = Date.now();
  t.same(await transport.replica(peer, { kind: 'get', key: 'k' }), { ok: true });
  const batchMs = Date.now() - started;
  t.ok(batchMs >= 400, `a batch waits for the slow store (${batchMs} ms)`);
  started = Date.now();
  const [probed] = await Promise.all([transport.probe(peer, 1_000).then(() => Date.now() - started), transport.replica(peer, { kind: 'get', key: 'k2' })]);
  t.ok(probed < batchMs, `a probe is answered while a batch waits (${probed} ms)`);
  t.same((await plan('{"storeDelayMs": 0}')).json, { block: [], storeDelayMs: 0 }, 'healed');
});

t.test('an address that comes back as another member is reached as that member (a wiped node rejoining under a new id on its old ports)', async (t) => {
  const first = await startB(t, { id: 'node-b' });
  const port = first.node.port;
  const stream = transportOf(t);
  const http = new HttpTransport({ selfId: 'node-a', keys: () => new Keyring([SECRET]).internalKeys, nowMs: Date.now, peerTimeoutMs: 2_000, connectionsPerPeer: 2, responseBytesMax: 1024 * 1024, batchOpsMax: 64, inflightMax: 4, queueOpsMax: 10_000 });
  t.teardown(() => http.close());
  for (const transport of [stream, http]) t.same(await transport.replica(member(first.node, 'node-b'), { kind: 'get', key: 'k' }), { ok: true }, 'node-b answers');
  await first.node.close();
  const second = await startB(t, { id: 'node-c', httpPort: port });
  t.equal(second.node.url, first.node.url, 'the same address');
  for (const [name, transport] of [['stream', stream], ['http', http]] as const) {
    const answer = await transport.replica(member(second.node, 'node-c'), { kind: 'get', key: 'k' });
    t.same(answer, { ok: true }, `${name}: node-c answers at node-b's old address (node-b is gone)`);
  }
});

t.test('reconnect: a closed stream is redialled; failed dials back off (fast refusals meanwhile), then recover', async (t) => {
  const handler: PeerHandler = { replicaBatch: async (ops) => ops.map(() => ({ ok: true as const })), coordinate: async () => ({ ok: true as const }), tree: () => ({ kind: 'summaries', summaries: [] }) };
  const first = await bareAcceptor(t, handler);
  const transport = transportOf(t, { reconnectBaseMs: 200, reconnectMaxMs: 400, random: () => 0 });
  const get = () => transport.replica(first.member, { kind: 'get', key: 'k' });
  t.same(await get(), { ok: true });
  await first.stop();
  const failures: string[] = [];
  const downStarted = Date.now();
  while (Date.now() - downStarted < 600) {
    await get().then(
      () => failures.push('ok?'),
      (error: KvError) => failures.push(error.code === 'KV_ERR_PEER_UNREACHABLE' && /redialling/.test(error.message) ? 'fast' : `dial:${error.code}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const dials = failures.filter((f) => f.startsWith('dial:'));
  // Dials at about 0, 100, 300, 500 ms (backoff 100, 200, 200 with no jitter), plus possibly one
  // request that met the old connection as it was closing.
  t.ok(dials.length >= 2 && dials.length <= 5, `few real dials while down (${dials.length} of ${failures.length} requests)`);
  t.ok(dials.every((d) => d === 'dial:KV_ERR_PEER_UNREACHABLE'), 'each a coded unreachable');
  t.ok(failures.filter((f) => f === 'fast').length >= failures.length / 2, 'the rest refused at once while backing off');
  const second = await bareAcceptor(t, handler, { port: Number(new URL(first.member.address).port) });
  let answered = false;
  const deadline = Date.now() + 3_000;
  while (!answered && Date.now() < deadline) {
    answered = await get().then(() => true, () => false);
    if (!answered) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(answered, 'requests succeed again once the peer is back');
  t.equal(second.acceptor.stats.accepted, 1, 'over one new stream');
});
