// Request deadlines are measured on the timers' monotonic clock (timers.ts monotonicMs), never
// on the wall clock: found by the data-type simulation (seed 502, a clock-back fault): a node
// whose wall clock was stepped back 437 ms kept a forwarded write waiting ~540 ms past its
// 100 ms timeout, and the writes of that key queued behind it ran long after their clients had
// given up, after the final reads (replicas differed when compared).
import t from 'tap';
import { memoryCluster } from '../testing/memory-cluster.js';
import { DataTypeService } from './dt-service.js';
import { defaultDataTypeLimits } from '@ringkv/protocol';
import type { KvService } from './kv-service.js';
import type { PeerHandler } from '../transport/transport.js';

t.test('a forwarded write whose wall clock is stepped back an hour mid-request still ends at its timeout', async (t) => {
  let offsetMs = 0;
  const wall = () => 1_700_000_000_000 + offsetMs;
  const { nodes, network } = memoryCluster({ nodes: 4, config: { n: 3 }, nowMs: wall });
  const entry = nodes[3]!;
  let key = '';
  for (let i = 0; ; i++) {
    key = `k${i}`;
    if (!entry.coordinator.preferenceList(key).includes(entry.id)) break;
  }
  // The first replica answers probes and nothing else; its first probe is when the clock of the
  // whole (in-process) ring steps back an hour: after the entry node computed its deadline,
  // before it forwards (coordinator.ts forward checks the target's liveness first).
  const target = nodes.find((n) => n.id === entry.coordinator.preferenceList(key)[0])!;
  const never = () => new Promise<never>(() => {});
  const silent: PeerHandler = {
    replicaBatch: never,
    coordinate: never,
    tree: never,
    probe: () => {
      if (offsetMs === 0) offsetMs = -3_600_000;
      return Promise.resolve();
    },
  };
  network.register(target.address, silent);
  const guard = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref());
  const answer = await Promise.race([entry.app.request(`/kv/${key}?w=2&timeout_ms=300`, { method: 'PUT', body: 'v' }), guard]);
  t.equal(offsetMs, -3_600_000, 'the clock was stepped during the request');
  t.not(answer, 'hung', 'the request ended (with its deadline on the wall clock it waited an hour)');
  if (answer === 'hung') return;
  t.equal(answer.status, 504, 'at its timeout: 504, outcome unknown');
});

t.test('a data-type write queued behind a slow one fails at its own timeout and writes nothing', async (t) => {
  let mono = 0;
  const releases: Array<() => void> = [];
  let puts = 0;
  const kv: KvService = {
    get: async () => undefined,
    put: () => {
      puts++;
      return new Promise<void>((resolve) => releases.push(resolve));
    },
  };
  const service = new DataTypeService({ kv, limits: defaultDataTypeLimits, nowMs: () => 1_700_000_000_000, monotonicMs: () => mono, random: Math.random, actorKeysMax: 100, queuedPerKeyMax: 10, n: 3 });
  const options = { r: 1, w: 2, timeoutMs: 100 };
  const first = service.update('c', { kind: 'counter', increment: 1 }, options);
  const second = service.update('c', { kind: 'counter', increment: 1 }, options);
  await t.resolves(waitUntil(() => releases.length === 1), 'the first write reached the store');
  mono += 150; // the second write's timeout passes while it waits its turn
  releases[0]!();
  await first;
  await t.rejects(second, { code: 'KV_ERR_TIMEOUT' }, 'the queued write fails at its timeout');
  t.equal(puts, 1, 'and wrote nothing');
});

/** Resolves once `condition` holds (checked each turn, at most 1,000 turns). */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}
