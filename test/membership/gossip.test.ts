// SWIM gossip between real node processes on loopback (issue 4's real-process acceptance).
import t from 'tap';
import { createSocket } from 'node:dgram';
import { encodePacket } from '@ringkv/node/testing';
import { DEFAULT_SECRET, http, httpAgent, stopByPid, waitFor, type NodeProcess } from '../helpers/process.js';
import { restartNode, startRing, waitConverged } from '../helpers/ring.js';

type Members = Array<{ id: string; status: string }>;

async function statusSeenBy(agent: ReturnType<typeof httpAgent>, observer: NodeProcess, id: string): Promise<string | undefined> {
  const members = (await http(agent, 'GET', `${observer.url}/admin/members`)).json as Members;
  return members.find((m) => m.id === id)?.status;
}

async function gossipCounter(agent: ReturnType<typeof httpAgent>, node: NodeProcess, counter: string): Promise<number> {
  const text = (await http(agent, 'GET', `${node.url}/metrics`)).body.toString();
  const line = text.split('\n').find((l) => l.startsWith(`ringkv_gossip{counter="${counter}"`));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

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
  await stopByPid(victim.pid, 0);
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
  const ring = await startRing(t, { nodes: 2, n: 2 });
  const agent = httpAgent(t);
  const target = ring[0]!;
  const { host, port } = gossipAddressOf(target);
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const send = (packet: Buffer) => new Promise<void>((resolve, reject) => socket.send(packet, port, host, (e) => (e ? reject(e) : resolve())));
  const ping = { type: 'gossip' as const, from: 'intruder', updates: [{ kind: 'dead' as const, id: ring[1]!.id, incarnation: 9e15, from: 'intruder' }] };
  const before = {
    unauthenticated: await gossipCounter(agent, target, 'dropped_unauthenticated'),
    stale: await gossipCounter(agent, target, 'dropped_stale'),
    replayed: await gossipCounter(agent, target, 'dropped_replayed'),
    oversize: await gossipCounter(agent, target, 'dropped_oversize'),
    malformed: await gossipCounter(agent, target, 'dropped_malformed'),
  };
  await send(encodePacket('the-wrong-secret', ping, Date.now()));
  await send(encodePacket(DEFAULT_SECRET, ping, Date.now() - 10 * 60_000));
  const valid = encodePacket(DEFAULT_SECRET, { type: 'gossip', from: 'tester', updates: [] }, Date.now());
  await send(valid);
  await send(valid);
  await send(Buffer.alloc(3_000, 1));
  await send(Buffer.from('not a packet at all, but long enough to pass the header length check'));
  await send(encodePacket(DEFAULT_SECRET, { type: 'gossip', from: 'x', updates: 'nope' } as never, Date.now()));
  await waitFor(async () => ((await gossipCounter(agent, target, 'dropped_malformed')) >= before.malformed + 1 ? true : undefined), 5_000, 'packets processed');
  t.equal(await gossipCounter(agent, target, 'dropped_unauthenticated'), before.unauthenticated + 2, 'wrong secret and garbage');
  t.equal(await gossipCounter(agent, target, 'dropped_stale'), before.stale + 1, 'a packet from 10 minutes ago');
  t.equal(await gossipCounter(agent, target, 'dropped_replayed'), before.replayed + 1, 'the second copy of a valid packet');
  t.equal(await gossipCounter(agent, target, 'dropped_oversize'), before.oversize + 1);
  t.equal(await gossipCounter(agent, target, 'dropped_malformed'), before.malformed + 1, 'a signed packet of the wrong shape');
  t.equal(await statusSeenBy(agent, target, ring[1]!.id), 'alive', 'the forged death notice changed nothing');
  await waitConverged(t, ring, 2);
});
