import { randomUUID } from 'node:crypto';
import { RingkvClient, gCounterTotal, incrementGCounter, mergeGCounters, type GCounter } from '@ringkv/client';

/** One updater: its own writer id, `times` increments of the shared counter. */
async function countVisits(kv: RingkvClient, times: number): Promise<number> {
  const writer = randomUUID(); // unique per concurrent updater
  let acknowledged = 0;
  for (let i = 0; i < times; i++) {
    await kv.update<GCounter>('visits', (current) => incrementGCounter(current, writer), { resolver: mergeGCounters });
    acknowledged++;
  }
  return acknowledged;
}

export async function counter(urls: string[]) {
  const kv = new RingkvClient({ urls });
  // Five updaters at once: their write-backs race and become siblings, merged by the next update.
  const counts = await Promise.all(Array.from({ length: 5 }, () => countVisits(kv, 4)));
  const read = await kv.getJson<GCounter>('visits', { resolver: mergeGCounters });
  await kv.close();
  return { acknowledged: counts.reduce((a, b) => a + b, 0), total: gCounterTotal(read.value) };
}
