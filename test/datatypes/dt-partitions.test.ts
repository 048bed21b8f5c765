// Data types through a 4-node in-memory cluster with N=3 (the real composition) under shifting one-way
// link cuts, with r and w of 1 to 3 at random, so that concurrent writers meet as siblings and
// writes fail with an unknown outcome (w=3 across a cut: the local copy landed, the quorum did
// not), which retires the writer's actor, and a node outside a key's preference list reads
// replicas that may miss its own last write: the cases the actor rule (dt-actors.ts) exists for. Seeded choice of operations,
// nodes and cuts. After the links heal and reads at r=3 repair every replica: counters and map
// counters equal their acknowledged increments (plus at most the unknown ones), every
// acknowledged add that no removal saw is present, and every node reads the same.
import t from 'tap';
import { memoryCluster, seededRandom } from '@ringkv/node/testing';

const ROUNDS = 40;
const OPS_PER_ROUND = 6;
/** Seeds run on every test run; DT_SEED=K runs seed K alone (to replay a failure). */
const SEEDS = process.env.DT_SEED === undefined ? [15, 16, 17, 18, 19, 20] : [Number(process.env.DT_SEED)];

type Answer = { status: number; body: { value?: unknown; context?: string } };

for (const SEED of SEEDS) t.test(`data types converge without losing acknowledged updates under link cuts (seed ${SEED})`, async (t) => {
  const { network, nodes } = memoryCluster({ nodes: 4, config: { n: 3 } });
  const random = seededRandom(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const call = async (i: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> => {
    const res = await nodes[i]!.app.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };

  const counter = { acked: 0, unknown: 0 };
  const field = { acked: 0, unknown: 0 };
  const added = new Set<string>();
  const maybeRemoved = new Set<string>();
  const tokens: string[] = [];
  let serial = 0;

  const operation = async (): Promise<void> => {
    const at = Math.floor(random() * nodes.length);
    const q = `?r=${1 + Math.floor(random() * 3)}&w=${1 + Math.floor(random() * 3)}`;
    const roll = random();
    if (roll < 0.35) {
      const answer = await call(at, 'POST', `/dt/c${q}`, { increment: 1 });
      if (answer.status === 200) counter.acked++;
      else if (answer.status >= 500) counter.unknown++;
    } else if (roll < 0.6) {
      const element = `e${serial++}`;
      const answer = await call(at, 'POST', `/dt/s${q}`, { add: [element] });
      if (answer.status === 200) {
        added.add(element);
        tokens.push(answer.body.context!);
      } else if (answer.status >= 500) maybeRemoved.add(element); // unknown: not checked either way
    } else if (roll < 0.75 && added.size > 0) {
      // Remove an element with a context some earlier answer handed out (maybe stale).
      const element = pick([...added]);
      maybeRemoved.add(element);
      await call(at, 'POST', `/dt/s${q}`, { remove: [element], context: pick(tokens) });
    } else {
      const answer = await call(at, 'POST', `/dt/m${q}`, { update: { visits: { increment: 1 }, [`f${Math.floor(random() * 4)}`]: { assign: serial++ } } });
      if (answer.status === 200) field.acked++;
      else if (answer.status >= 500) field.unknown++;
    }
  };

  for (let round = 0; round < ROUNDS; round++) {
    // Each round cuts each one-way link with probability 0.3.
    for (const from of nodes) for (const to of nodes) if (from !== to) network.setLink(from.id, to.address, random() >= 0.3);
    await Promise.all(Array.from({ length: OPS_PER_ROUND }, operation));
  }
  for (const from of nodes) for (const to of nodes) network.setLink(from.id, to.address, true);
  t.comment(`counter ${JSON.stringify(counter)}, map visits ${JSON.stringify(field)}, ${added.size} adds acknowledged`);

  // Reads at r=3 through every node repair the replicas; repeat until all agree (bounded).
  let reads: Answer[][] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    reads = await Promise.all(nodes.map((_, i) => i).map((i) => Promise.all(['c', 's', 'm'].map((key) => call(i, 'GET', `/dt/${key}?r=3`)))));
    if (new Set(reads.map((r) => JSON.stringify(r.map((a) => a.body.value)))).size === 1) break;
  }
  t.equal(new Set(reads.map((r) => JSON.stringify(r.map((a) => a.body.value)))).size, 1, 'every node reads the same counter, set and map');
  const [c, s, m] = reads[0]!;
  const hits = c!.body.value as number;
  t.ok(hits >= counter.acked && hits <= counter.acked + counter.unknown, `counter ${hits} within [${counter.acked}, ${counter.acked + counter.unknown}]`);
  const present = new Set(s!.body.value as string[]);
  t.same([...added].filter((e) => !maybeRemoved.has(e) && !present.has(e)), [], 'every acknowledged add that no removal touched is present');
  const visits = (m!.body.value as { visits: number }).visits;
  t.ok(visits >= field.acked && visits <= field.acked + field.unknown, `map counter ${visits} within [${field.acked}, ${field.acked + field.unknown}]`);
  const actors = JSON.parse(Buffer.from(c!.body.context!, 'base64url').toString()) as { vv: unknown[]; cloud: unknown[] };
  t.comment(`the counter's context holds ${actors.vv.length} actors and ${actors.cloud.length} cloud dots after ${counter.acked} increments`);
  t.ok(actors.vv.length > 3, 'failed writes retired actors (the rule was exercised)');
  t.equal(actors.cloud.length, 0, 'no dot cloud left: every actor issued its dots in one chain');
});
