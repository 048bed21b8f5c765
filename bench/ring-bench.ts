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
  },
});
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
async function phase(ring: string, op: 'put' | 'get', client: RingkvClient, value: Uint8Array): Promise<PhaseResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  let ops = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      let i = worker;
      while (performance.now() < deadline && ops < maxOps) {
        const key = `bench-${i % keyCount}`;
        i += clients;
        const t0 = performance.now();
        try {
          if (op === 'put') await client.put(key, value, { contentType: 'application/octet-stream' });
          else await client.get(key);
          histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch (error) {
          const code = error instanceof RingkvError ? error.code : 'EXCEPTION';
          errors[code] = (errors[code] ?? 0) + 1;
        }
        ops++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  return { ring, op, ops, opsPerSecond: Math.round(ops / elapsed), p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99), maxMs: histogram.maxValue / 1000, errors };
}

async function benchRing(count: number): Promise<PhaseResult[]> {
  const n = Math.min(3, count);
  const label = `${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1})`;
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-bench-'));
  const nodes = await startRing(count, n, dir);
  const client = new RingkvClient({ urls: nodes.map((node) => node.url), connectionsPerNode: clients });
  try {
    const value = randomBytes(valueBytes);
    process.stderr.write(`${label}: ${clients} clients, ${seconds} s of PUTs...\n`);
    const put = await phase(label, 'put', client, value);
    process.stderr.write(`${label}: ${seconds} s of GETs...\n`);
    const get = await phase(label, 'get', client, value);
    return [put, get];
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
const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), seconds, clients, valueBytes, keyCount, sync };
process.stdout.write(`\n${lines.join('\n')}\n\n${JSON.stringify(meta)}\n`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/ring-bench-${Date.now()}.json`, import.meta.url), JSON.stringify({ meta, results }, null, 2));
