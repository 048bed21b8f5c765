// Ownership handoff interrupted by SIGKILL of either side (issue 5, bad input and faults): a
// node joins, the receiver is killed mid-transfer and restarted, then a sender is; the handoff
// resumes by itself, nothing acknowledged is lost, and placement ends exact.
import t from 'tap';
import { buildRing, preferenceList } from '@ringkv/protocol';
import { RingkvClient } from '@ringkv/client';
import { http, httpAgent, waitFor, type NodeProcess, killByPid } from '../helpers/process.js';
import { joinNode, restartNode, startRing } from '../helpers/ring.js';

const N = 3;
// A slow handoff (50 keys/s per node, about 15 s for each old owner's share) so that the kills
// land in the middle of it.
const ARGS = ['--anti-entropy-keys-per-second', '50'];
type Status = { keys: number; transfers: { pending: number; handedOff: number } };

t.test('a handoff interrupted by SIGKILL of the receiver, then of a sender, resumes and loses nothing', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: N, extraArgs: ARGS });
  const agent = httpAgent(t);
  const status = async (node: NodeProcess) => (await http(agent, 'GET', `${node.url}/admin/status`)).json as Status;
  const client = new RingkvClient({ urls: ring.map((n) => n.url) });
  t.teardown(() => client.close());
  const keys = Array.from({ length: 3_000 }, (_, i) => `tf-${i}`);
  for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((key) => client.put(key, `v-${key}`, { w: 3 })));

  let receiver = await joinNode(t, ring, 'node4', N, ARGS);
  const senders = ring.filter((n) => n !== receiver);
  const pendingOf = async (nodes: NodeProcess[]) => (await Promise.all(nodes.map(status))).reduce((sum, s) => sum + s.transfers.pending, 0);
  await waitFor(async () => ((await Promise.all(senders.map(status))).some((s) => s.transfers.handedOff > 0) ? true : undefined), 30_000, 'the handoff has begun');
  const before = await pendingOf(senders);
  t.ok(before > 0, `${before} keys still to hand off when the receiver is killed`);
  await killByPid(receiver.pid);
  receiver = await restartNode(t, receiver, ring, N, ARGS);

  // The old owner with the most left to hand off is killed next.
  const remaining = await Promise.all(senders.map(async (node) => ({ node, pending: (await status(node)).transfers.pending })));
  const { node: sender, pending } = remaining.sort((a, b) => b.pending - a.pending)[0]!;
  t.ok(pending > 0, `${sender.id} holds ${pending} keys to hand off when it is killed`);
  await killByPid(sender.pid);
  await restartNode(t, sender, ring, N, ARGS);

  const view = buildRing(ring.map((n) => n.id));
  const owned = new Map(ring.map((n) => [n.id, keys.filter((key) => preferenceList(view, key, N).includes(n.id)).length]));
  await waitFor(async () => {
    for (const node of ring) {
      const s = await status(node);
      if (s.transfers.pending !== 0 || s.keys !== owned.get(node.id)) return undefined;
    }
    return true;
  }, 120_000, 'the handoff completes: every node holds exactly what it owns');
  let missing = 0;
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(
      keys.slice(i, i + 100).map(async (key) => {
        const got = await client.get(key, { r: 2 });
        if (!got.found || got.value === undefined || Buffer.from(got.value).toString() !== `v-${key}`) missing++;
      }),
    );
  }
  t.equal(missing, 0, 'all 3,000 acknowledged writes read back with their values');
});
