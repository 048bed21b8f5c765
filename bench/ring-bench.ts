/**
 * Throughput and latency of a real ring on this machine: starts rings of real node processes
 * (1 node with N=1, then 3 nodes with N=3, R=W=2 by default), drives each with C concurrent
 * clients (the ringkv client library, key-aware routing) doing 100-byte PUTs for S seconds,
 * then GETs of the written keys for S seconds, and prints ops/s, p50/p90/p99/max (HDR
 * histogram) and errors by code, as a Markdown table; the JSON result goes to
 * bench/results/. Every loop is bounded by time and by an operation count, and every
 * process started is stopped by PID.
 *
 *   pnpm bench [--rings 1,3] [--seconds 10] [--clients 64] [--value-bytes 100] [--keys 10000] [--sync full|normal]
 *              [--workload put-get|a|b|c|write] [--distribution uniform|zipfian]
 *
 * Workloads a, b, c are YCSB's (50/50, 95/5 and 100/0 read/update) and `write` is updates
 * only; they first load every key, then run one mixed phase. An update is a read-modify-write
 * (GET for the context, then PUT with it), reported in the `put` row with both requests'
 * latency; the put-get workload's PUTs are blind writes to distinct keys. Zipfian key choice follows
 * YCSB's generator (theta 0.99), so a few keys take most of the traffic.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { RingkvClient, RingkvError } from '@ringkv/client';
import { startLocalRing, stopNodes, type RunningNode } from '@ringkv/cli';

const { values } = parseArgs({
  options: {
    rings: { type: 'string', default: '1,3' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '100' },
    keys: { type: 'string', default: '10000' },
    sync: { type: 'string', default: 'full' },
    'max-ops': { type: 'string', default: '2000000' },
    workload: { type: 'string', default: 'put-get' },
    distribution: { type: 'string', default: 'uniform' },
  },
});
/** Read fraction of each YCSB-style workload (the rest are updates); put-get = two phases. */
const WORKLOADS: Record<string, number | undefined> = { 'put-get': undefined, a: 0.5, b: 0.95, c: 1, write: 0 };
if (!(values.workload! in WORKLOADS)) throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}`);
if (values.distribution !== 'uniform' && values.distribution !== 'zipfian') throw new Error('--distribution must be uniform or zipfian');
const readFraction = WORKLOADS[values.workload!];
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const valueBytes = Number(values['value-bytes']);
const keyCount = Number(values.keys);
const maxOps = Number(values['max-ops']);
const sync = values.sync === 'normal' ? 'normal' : 'full';

interface PhaseResult {
  ring: string;
  op: 'put' | 'get';
  ops: number;
  opsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: Record<string, number>;
}

function startRing(count: number, n: number, dir: string): Promise<RunningNode[]> {
  return startLocalRing({ count, n, basePort: 0, dir, secret: randomBytes(18).toString('base64url'), extraArgs: ['--sync', sync] });
}

/** Runs `clients` loops of `op` until the time or the op budget is spent. */
/** YCSB's zipfian generator (Gray et al.): rank 0 is the hottest key. */
function zipfian(n: number, theta = 0.99): () => number {
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / i ** theta;
  const zeta2 = 1 + 1 / 2 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan);
  return () => {
    const u = Math.random();
    const uz = u * zetan;
    if (uz < 1) return 0;
    if (uz < 1 + 0.5 ** theta) return 1;
    return Math.min(n - 1, Math.floor(n * (eta * u - eta + 1) ** alpha));
  };
}

const nextRank = values.distribution === 'zipfian' ? zipfian(keyCount) : () => Math.floor(Math.random() * keyCount);

type Op = 'put' | 'get';

/**
 * Runs `clients` loops until the time or the op budget is spent. `choose` picks each
 * operation and key; latencies go to one HDR histogram per operation.
 */
async function phase(ring: string, client: RingkvClient, value: Uint8Array, choose: (worker: number, i: number) => { op: Op; key: string }, readModifyWrite = false): Promise<PhaseResult[]> {
  const histograms = { put: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 }), get: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 }) };
  const errors: Record<Op, Record<string, number>> = { put: {}, get: {} };
  const counts: Record<Op, number> = { put: 0, get: 0 };
  let ops = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline && ops < maxOps; i++) {
        const { op, key } = choose(worker, i);
        const t0 = performance.now();
        try {
          if (op === 'get') await client.get(key);
          else if (!readModifyWrite) await client.put(key, value, { contentType: 'application/octet-stream' });
          else {
            // An update carries the context of a read, as a Dynamo client should: blind writes to
            // hot keys would pile up siblings until the per-key bound refuses them.
            const { context } = await client.get(key);
            await client.put(key, value, { contentType: 'application/octet-stream', ...(context ? { context } : {}) });
          }
          histograms[op].recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch (error) {
          const code = error instanceof RingkvError ? error.code : 'EXCEPTION';
          if (process.env.BENCH_DEBUG && (errors[op][code] ?? 0) === 0) process.stderr.write(`${op} ${key}: ${String(error)}\n`);
          errors[op][code] = (errors[op][code] ?? 0) + 1;
        }
        counts[op]++;
        ops++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return (['get', 'put'] as const)
    .filter((op) => counts[op] > 0)
    .map((op) => {
      const ms = (q: number) => histograms[op].getValueAtPercentile(q) / 1000;
      return { ring, op, ops: counts[op], opsPerSecond: Math.round(counts[op] / elapsed), p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99), maxMs: histograms[op].maxValue / 1000, errors: errors[op] };
    });
}

/** Sequential keys for the load and put-get phases: worker w takes w, w + clients, ... */
const sequential = (op: Op) => (worker: number, i: number) => ({ op, key: `bench-${(worker + i * clients) % keyCount}` });

async function benchRing(count: number): Promise<PhaseResult[]> {
  const n = Math.min(3, count);
  const label = `${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1})`;
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-bench-'));
  const nodes = await startRing(count, n, dir);
  const client = new RingkvClient({ urls: nodes.map((node) => node.url), connectionsPerNode: clients });
  try {
    const value = randomBytes(valueBytes);
    if (readFraction === undefined) {
      process.stderr.write(`${label}: ${clients} clients, ${seconds} s of PUTs...\n`);
      const put = await phase(label, client, value, sequential('put'));
      process.stderr.write(`${label}: ${seconds} s of GETs...\n`);
      return [...put, ...(await phase(label, client, value, sequential('get')))];
    }
    process.stderr.write(`${label}: loading ${keyCount} keys...\n`);
    for (let i = 0; i < keyCount; i += clients * 4) {
      await Promise.all(Array.from({ length: Math.min(clients * 4, keyCount - i) }, (_, j) => client.put(`bench-${i + j}`, value).catch(() => undefined)));
    }
    process.stderr.write(`${label}: workload ${values.workload} (${values.distribution}), ${seconds} s...\n`);
    // `return await`: the finally below must not close the client while the phase runs.
    return await phase(`${label}, ${values.workload} ${values.distribution}`, client, value, () => ({
      op: Math.random() < readFraction ? 'get' : 'put',
      key: `bench-${nextRank()}`,
    }), true);
  } finally {
    await client.close();
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: PhaseResult[] = [];
for (const count of values.rings.split(',').map(Number)) results.push(...(await benchRing(count)));

const fmt = (x: number) => x.toFixed(2);
const lines = [
  `| ring | op | ops/s | p50 ms | p90 ms | p99 ms | max ms | errors |`,
  `|---|---|---:|---:|---:|---:|---:|---|`,
  ...results.map((r) => `| ${r.ring} | ${r.op} | ${r.opsPerSecond} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${Object.entries(r.errors).map(([c, k]) => `${c} ${k}`).join(', ') || '0'} |`),
];
const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), seconds, clients, valueBytes, keyCount, sync, workload: values.workload, distribution: values.distribution };
process.stdout.write(`\n${lines.join('\n')}\n\n${JSON.stringify(meta)}\n`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/ring-bench-${Date.now()}.json`, import.meta.url), JSON.stringify({ meta, results }, null, 2));
