/**
 * update() under contention on a real 3-node ring (N=3, default quorums R=W=2): 20 updaters,
 * each its own client, increment one G-counter key K times each through update() with the
 * merging resolver (counter.ts). Racing write-backs become siblings; the next update() merges
 * them. Every acknowledged increment must be in the final count, and nothing else.
 */
import t from 'tap';
import { RingkvClient, gCounterTotal, incrementGCounter, mergeGCounters, type GCounter } from '@ringkv/client';
import { startRing } from '../helpers/ring.js';

const UPDATERS = 20;
const INCREMENTS = 8; // per updater: 160 updates in all, a few seconds on 2 shared cores
const KEY = 'counter/hits';

t.test(`${UPDATERS} concurrent updaters counting on one key lose no increment`, async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const urls = ring.map((node) => node.url);
  const clients = Array.from({ length: UPDATERS }, () => new RingkvClient({ urls, timeoutMs: 10_000, connectionsPerNode: 2 }));
  t.teardown(() => Promise.all(clients.map((client) => client.close())));

  const acknowledged = new Map<string, number>();
  const failures: string[] = [];
  let merges = 0;
  let maxSiblings = 0;
  const updater = async (client: RingkvClient, writer: string): Promise<void> => {
    for (let i = 0; i < INCREMENTS; i++) {
      try {
        const result = await client.update<GCounter>(KEY, (current) => incrementGCounter(current, writer), { resolver: mergeGCounters });
        acknowledged.set(writer, (acknowledged.get(writer) ?? 0) + 1);
        if (result.siblingsMerged > 0) merges++;
        maxSiblings = Math.max(maxSiblings, result.siblingsMerged);
      } catch (error) {
        failures.push(`${writer}#${i}: ${(error as { code?: string }).code ?? String(error)}`);
      }
    }
  };
  const started = Date.now();
  await Promise.all(clients.map((client, i) => updater(client, `w${i}`)));
  t.comment(`${UPDATERS * INCREMENTS} updates in ${Date.now() - started} ms; ${merges} of them merged siblings (at most ${maxSiblings})`);

  t.same(failures, [], 'no update failed on a healthy ring');
  t.ok(merges > 0, 'updaters did race: some reads found siblings from concurrent write-backs');
  const final = await clients[0]!.getJson<GCounter>(KEY, { resolver: mergeGCounters });
  const ackedTotal = [...acknowledged.values()].reduce((a, b) => a + b, 0);
  t.equal(ackedTotal, UPDATERS * INCREMENTS, 'every update was acknowledged');
  t.equal(gCounterTotal(final.value), ackedTotal, `the counter holds every acknowledged increment (${ackedTotal})`);
  for (const [writer, count] of acknowledged) t.equal(final.value?.[writer], count, `${writer}'s entry`);

  // One more update collapses whatever siblings the last racers left: a single value after.
  const settled = await clients[1]!.update<GCounter>(KEY, (current) => incrementGCounter(current, 'last'), { resolver: mergeGCounters });
  t.equal(gCounterTotal(settled.value), ackedTotal + 1);
  const after = await clients[2]!.getJson<GCounter>(KEY);
  t.equal(after.siblings.length, 1, 'the write-back with the read context left one value');
  t.equal(gCounterTotal(after.value), ackedTotal + 1);
});
