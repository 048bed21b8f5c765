// SWIM gossip between real node processes on loopback (issue 4's real-process acceptance).
import t from 'tap';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { Keyring } from '@ringkv/node';
import { encodePacket } from '@ringkv/node/testing';
import { DEFAULT_SECRET, http, httpAgent, pidAlive, waitFor, type NodeProcess, killByPid } from '../helpers/process.js';

const GOSSIP_KEY = new Keyring([DEFAULT_SECRET]).gossipKeys[0]!;
import { restartNode, startRing, waitConverged } from '../helpers/ring.js';
import { sampleValue } from '../helpers/metrics.js';

type Members = Array<{ id: string; status: string }>;

/**
 * The packet cases share one 3-node ring, started on first use and stopped when the file's
 * tests end (a ring start is most of such a case's time on two shared cores). Each case reads
 * the drop counters as differences over the case; the one that streams 200 MiB at a node comes
 * last and aims at the node the others did not.
 */
let packetRingStarted: Promise<NodeProcess[]> | undefined;
const packetRing = () => (packetRingStarted ??= startRing(t, { nodes: 3, n: 3 }));

async function statusSeenBy(agent: ReturnType<typeof httpAgent>, observer: NodeProcess, id: string): Promise<string | undefined> {
  const members = (await http(agent, 'GET', `${observer.url}/admin/members`)).json as Members;
  return members.find((m) => m.id === id)?.status;
}

/** A gossip metric of the node (docs/metrics.md), e.g. ringkv_gossip_packets_dropped_total{reason}. */
async function gossipMetric(agent: ReturnType<typeof httpAgent>, node: NodeProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue((await http(agent, 'GET', `${node.url}/metrics`)).body.toString(), name, labels);
}

/** Gossip packets the node dropped unread for `reason`. */
const droppedFor = (agent: ReturnType<typeof httpAgent>, node: NodeProcess, reason: string) => gossipMetric(agent, node, 'ringkv_gossip_packets_dropped_total', { reason });

function gossipAddressOf(node: NodeProcess): { host: string; port: number } {
  const line = node.logs.stdout.find((l) => l.includes('"node started"'))!;
  const address = (JSON.parse(line) as { gossipAddress: string }).gossipAddress;
  return { host: address.slice(0, address.lastIndexOf(':')), port: Number(address.slice(address.lastIndexOf(':') + 1)) };
}

t.test('5 nodes: a kill -9 is marked dead by every survivor; after a restart it is alive everywhere', async (t) => {
  const ring = await startRing(t, { nodes: 5, n: 3 });
  const agent = httpAgent(t);
  const victim = ring[4]!;
  const survivors = ring.slice(0, 4);
  const killedAt = Date.now();
  await killByPid(victim.pid);
  for (const observer of survivors) {
    await waitFor(async () => (await statusSeenBy(agent, observer, victim.id)) === 'dead' || undefined, 30_000, `${observer.id} marks ${victim.id} dead`);
  }
  t.comment(`all survivors marked the killed node dead after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
  for (const observer of survivors) t.equal(await statusSeenBy(agent, observer, victim.id), 'dead', `${observer.id} sees it dead`);
  const status = (await http(agent, 'GET', `${survivors[0]!.url}/admin/status`)).json as { ringSize: number };
  t.equal(status.ringSize, 5, 'a dead node keeps its ring position');
  const restartedAt = Date.now();
  const back = await restartNode(t, victim, ring, 3);
  t.comment(`alive everywhere ${Date.now() - restartedAt} ms after the restart began (process start included)`);
  for (const observer of ring) t.equal(await statusSeenBy(agent, observer, back.id), 'alive', `${observer.id} sees it alive`);
});

t.test('forged, stale, replayed, oversize and garbage gossip packets are dropped and counted', async (t) => {
  const ring = await packetRing();
  const agent = httpAgent(t);
  const target = ring[0]!;
  const { host, port } = gossipAddressOf(target);
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const send = (packet: Buffer) => new Promise<void>((resolve, reject) => socket.send(packet, port, host, (e) => (e ? reject(e) : resolve())));
  const ping = { type: 'gossip' as const, from: 'intruder', updates: [{ kind: 'dead' as const, id: ring[1]!.id, incarnation: 9e15, from: 'intruder' }] };
  const before = {
    unauthenticated: await droppedFor(agent, target, 'unauthenticated'),
    stale: await droppedFor(agent, target, 'stale'),
    replayed: await droppedFor(agent, target, 'replayed'),
    oversize: await droppedFor(agent, target, 'oversize'),
    malformed: await droppedFor(agent, target, 'malformed'),
  };
  await send(encodePacket(new Keyring(['the-wrong-secret']).gossipKeys[0]!, ping, Date.now(), target.id));
  await send(encodePacket(GOSSIP_KEY, ping, Date.now() - 10 * 60_000, target.id));
  await send(encodePacket(GOSSIP_KEY, ping, Date.now(), ring[1]!.id)); // bound to the other member
  const valid = encodePacket(GOSSIP_KEY, { type: 'gossip', from: 'tester', updates: [] }, Date.now(), target.id);
  await send(valid);
  await send(valid);
  await send(Buffer.alloc(3_000, 1));
  await send(Buffer.from('not a packet at all, but long enough to pass the header length check'));
  await send(encodePacket(GOSSIP_KEY, { type: 'gossip', from: 'x', updates: 'nope' } as never, Date.now(), target.id));
  await waitFor(async () => ((await droppedFor(agent, target, 'malformed')) >= before.malformed + 1 ? true : undefined), 5_000, 'packets processed');
  t.equal(await droppedFor(agent, target, 'unauthenticated'), before.unauthenticated + 3, 'wrong secret, bound to another member, and garbage');
  t.equal(await droppedFor(agent, target, 'stale'), before.stale + 1, 'a packet from 10 minutes ago');
  t.equal(await droppedFor(agent, target, 'replayed'), before.replayed + 1, 'the second copy of a valid packet');
  t.equal(await droppedFor(agent, target, 'oversize'), before.oversize + 1);
  t.equal(await droppedFor(agent, target, 'malformed'), before.malformed + 1, 'a signed packet of the wrong shape');
  t.equal(await statusSeenBy(agent, target, ring[1]!.id), 'alive', 'the forged death notice changed nothing');
  await waitConverged(t, ring, ring.length);
});

/** Resident and peak resident memory of a process, in bytes (/proc/<pid>/status). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

t.test('regression: an authenticated gossip message with a malformed address is dropped as malformed; the process does not exit and nothing spreads', async (t) => {
  const ring = await packetRing();
  const agent = httpAgent(t);
  const target = ring[0]!;
  const { host, port } = gossipAddressOf(target);
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const send = (packet: Buffer) => new Promise<void>((resolve, reject) => socket.send(packet, port, host, (e) => (e ? reject(e) : resolve())));
  const before = await droppedFor(agent, target, 'malformed');
  const zombie = (gossipAddress: string) => ({ type: 'gossip' as const, from: 'node2', updates: [{ kind: 'alive' as const, id: 'zombie', incarnation: 1, gossipAddress, httpAddress: 'http://127.0.0.1:1' }] });
  const bad: unknown[] = [
    zombie('127.0.0.1:99999'),
    zombie('127.0.0.1:0'),
    zombie('no-port'),
    { type: 'ping-req', seq: 1, from: 'node2', target: 'node3', targetAddress: '127.0.0.1:70000', updates: [] },
    { type: 'ping-req', seq: 2, from: 'node2', target: 'node3', targetAddress: ':::', updates: [] },
  ];
  for (const message of bad) await send(encodePacket(GOSSIP_KEY, message as never, Date.now(), target.id));
  await waitFor(async () => ((await droppedFor(agent, target, 'malformed')) >= before + bad.length ? true : undefined), 5_000, 'the malformed messages were counted');
  t.equal(await droppedFor(agent, target, 'malformed'), before + bad.length, 'each dropped as malformed');
  t.equal(await gossipMetric(agent, target, 'ringkv_gossip_handler_errors_total'), 0, 'nothing reached a handler and threw');
  t.ok(pidAlive(target.pid), 'the process is alive');
  for (const node of ring) t.equal(await statusSeenBy(agent, node, 'zombie'), undefined, `${node.id} never heard of the zombie member`);
  await waitConverged(t, ring, ring.length);
});

t.test('5,000 garbage datagrams change nothing', async (t) => {
  const ring = await packetRing();
  const agent = httpAgent(t);
  const target = ring[0]!;
  const { host, port } = gossipAddressOf(target);
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const dropped = async () => (await droppedFor(agent, target, 'unauthenticated')) + (await droppedFor(agent, target, 'oversize'));
  const before = await dropped();
  const malformedBefore = await droppedFor(agent, target, 'malformed');
  let seed = 5_000;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5_000; i++) {
    const packet = Buffer.alloc(1 + Math.floor(random() * 2_000), 0).map(() => Math.floor(random() * 256));
    if (i % 3 === 0) packet[0] = 2; // the right version byte, to reach the decryption
    await new Promise<void>((resolve) => socket.send(packet, port, host, () => resolve()));
    // In batches, so the node's socket buffer is not what drops them (UDP on a busy machine).
    if ((i + 1) % 100 === 0) await waitFor(async () => ((await dropped()) - before >= 0.8 * (i + 1) ? true : undefined), 10_000, `batch ${(i + 1) / 100} counted`);
  }
  const counted = await waitFor(async () => {
    const now = await dropped();
    return now - before >= 4_000 ? now - before : undefined;
  }, 15_000, 'the garbage was counted');
  t.comment(`${counted} of 5,000 garbage datagrams counted as dropped`);
  t.equal(await gossipMetric(agent, target, 'ringkv_gossip_handler_errors_total'), 0);
  t.equal((await droppedFor(agent, target, 'malformed')) - malformedBefore, 0, 'no garbage was taken for an authentic message');
  for (const node of ring) for (const other of ring) t.equal(await statusSeenBy(agent, node, other.id), 'alive', `${node.id} sees ${other.id} alive`);
  t.equal((await http(agent, 'PUT', `${target.url}/kv/after-garbage?w=2`, { body: 'v' })).status, 204, 'the ring still replicates');
});

t.test('200 MiB of garbage streamed at the gossip TCP port after a frame header: RSS grows less than 64 MiB and the node keeps serving', async (t) => {
  const ring = await packetRing();
  const agent = httpAgent(t);
  const target = ring[2]!;
  const { host, port } = gossipAddressOf(target);
  const unauthenticatedBefore = await droppedFor(agent, target, 'unauthenticated');
  const before = memoryOf(target.pid);
  const total = 200 * 1024 * 1024;
  const sent = await new Promise<number>((resolve) => {
    const socket = connect({ host, port });
    let written = 0;
    const chunk = Buffer.alloc(256 * 1024, 0x5a);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(16 * 1024 * 1024); // the largest frame the node accepts
    const done = () => resolve(written);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      socket.write(header);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
  const after = memoryOf(target.pid);
  const growth = after.peak - before.rss;
  t.comment(`client wrote ${(sent / 1024 / 1024).toFixed(1)} MiB before the node closed; RSS ${(before.rss / 1024 / 1024).toFixed(0)} → peak ${(after.peak / 1024 / 1024).toFixed(0)} MiB`);
  t.ok(sent < total, `the node cut the stream off (after ${(sent / 1024 / 1024).toFixed(1)} MiB)`);
  t.ok(growth < 64 * 1024 * 1024, `peak RSS grew ${(growth / 1024 / 1024).toFixed(1)} MiB (< 64 MiB)`);
  t.ok((await droppedFor(agent, target, 'unauthenticated')) - unauthenticatedBefore >= 1, 'the frame was dropped as unauthenticated');
  t.equal(await gossipMetric(agent, target, 'ringkv_gossip_handler_errors_total'), 0);
  t.equal((await http(agent, 'PUT', `${target.url}/kv/after-tcp-garbage?w=2`, { body: 'v' })).status, 204, 'the node still serves and replicates');
  await waitConverged(t, ring, ring.length);
});
