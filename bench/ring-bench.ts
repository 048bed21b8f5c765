/**
 * Throughput and latency of a real ring on this machine: starts rings of real node processes
 * (1 node with N=1, then 3 nodes with N=3, R=W=2 by default), drives each through the ringkv
 * client library (key-aware routing) and prints ops/s, p50/p90/p99/p99.9/max (HDR histogram)
 * and errors by code as a Markdown table; the JSON result goes to bench/results/ (or --out).
 * Every loop is bounded by time and by an operation count, and every process started is
 * stopped by PID. A progress bar is drawn on stderr when it is a terminal.
 *
 *   pnpm bench [--rings 1,3] [--seconds 10] [--warmup 0] [--clients 64] [--rate OPS_PER_S]
 *              [--value-bytes 100] [--keys 10000] [--hot-keys 8] [--sync full|normal]
 *              [--workload put-get|a|b|c|write|siblings] [--distribution uniform|zipfian]
 *              [--max-ops 2000000] [--max-inflight 4096] [--out FILE.json] [--profile DIR]
 *
 * Load: without --rate, closed loop (--clients loops, each waits for its answer); with --rate,
 * open loop (operations scheduled at that total rate, latency measured from the scheduled
 * time so queueing is not hidden; --clients is then the connections per node). See
 * bench/lib/load.ts.
 *
 * Workloads a, b, c are YCSB's (50/50, 95/5 and 100/0 read/update) and `write` is updates
 * only; they first load every key, then run one mixed phase. An update is a read-modify-write
 * (GET for the context, then PUT with it), reported in the `put` row with both requests'
 * latency; the put-get workload's PUTs are blind writes to sequential keys (key i % --keys),
 * so a PUT phase of more operations than --keys rewrites keys without a context and leaves
 * siblings, which the GET phase then reads (the siblings per read are printed when any).
 * `siblings` is the sibling-heavy load: many writers doing blind writes (no context) to
 * --hot-keys keys, 10 % reads; a blind write refused at the sibling bound (409
 * KV_ERR_TOO_MANY_SIBLINGS, counted in the put row's errors) makes its writer resolve the key
 * (GET of every sibling, PUT with that context), timed in the `resolve` row; the JSON result
 * counts the siblings each read returned. Zipfian key choice follows YCSB's generator (theta
 * 0.99), so a few keys take most of the traffic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RingkvClient, RingkvError } from '@ringkv/client';
import { startLocalRing, stopNodes, type RunningNode } from '@ringkv/cli';
import { runPhase, type Exec, type OpStats, type PhaseResult } from './lib/load.js';
import { LATENCY_HEADER, fsType, latencyCells, machine, markdownTable, writeResult } from './lib/report.js';
import { loadOptions, loadSettings, positive, syncModes, profileArgs } from './lib/options.js';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: pnpm bench [--rings 1,3] [--seconds 10] [--clients 64 | --rate OPS_PER_S] [--workload put-get|a|b|c|write|siblings] [flags]\n\nRings of each size in --rings, loaded through @ringkv/client: ops/s and latency percentiles per phase (BENCHMARKS.md, How to reproduce).`;

const { values } = benchArgs({
  options: {
    ...loadOptions('0'),
    rings: { type: 'string', default: '1,3' },
    'hot-keys': { type: 'string', default: '8' },
    sync: { type: 'string', default: 'full' },
    'max-inflight': { type: 'string', default: '4096' },
    workload: { type: 'string', default: 'put-get' },
    distribution: { type: 'string', default: 'uniform' },
  },
}, USAGE);
/** Read fraction of each mixed workload (the rest are writes); put-get = two phases. */
const WORKLOADS: Record<string, number | undefined> = { 'put-get': undefined, a: 0.5, b: 0.95, c: 1, write: 0, siblings: 0.1 };
if (!(values.workload! in WORKLOADS)) throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}`);
if (values.distribution !== 'uniform' && values.distribution !== 'zipfian') throw new Error('--distribution must be uniform or zipfian');
const workload = values.workload!;
const readFraction = WORKLOADS[workload];
const siblingHeavy = workload === 'siblings';
const { seconds, warmup, clients, rate, valueBytes, keyCount, maxOps, out } = loadSettings(values);
const hotKeys = Math.round(positive('hot-keys', values['hot-keys']));
const maxInflight = positive('max-inflight', values['max-inflight']);
const [sync] = syncModes(values.sync);

interface RingResult {
  ring: string;
  phase: string;
  result: PhaseResult;
}

function startRing(count: number, n: number, dir: string): Promise<RunningNode[]> {
  return startLocalRing({ count, n, basePort: 0, dir, secret: randomBytes(18).toString('base64url'), extraArgs: ['--sync', sync!], nodeArgs: profileArgs(values.profile) });
}

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

const rankSpace = siblingHeavy ? hotKeys : keyCount;
const nextRank = values.distribution === 'zipfian' ? zipfian(rankSpace) : () => Math.floor(Math.random() * rankSpace);
const codeOf = (error: unknown) => (error instanceof RingkvError ? error.code : 'EXCEPTION');

function debug(op: string, key: string, error: unknown): void {
  if (process.env.BENCH_DEBUG) process.stderr.write(`${op} ${key}: ${String(error)}\n`);
}

/** The operations of each workload, over one client. */
function execs(client: RingkvClient, value: Uint8Array) {
  const put: Exec = async ({ index, t0 }, rec) => {
    const key = `bench-${index % keyCount}`;
    try {
      await client.put(key, value, { contentType: 'application/octet-stream' });
      rec.ok('put', t0);
    } catch (error) {
      debug('put', key, error);
      rec.fail('put', t0, codeOf(error));
    }
  };
  const get = (key: string): Exec => async ({ t0 }, rec) => {
    try {
      const { siblings } = await client.get(key);
      rec.ok('get', t0);
      rec.count('reads', t0);
      rec.count('siblingsRead', t0, siblings.length);
      if (siblings.length > (rec.counters.siblingsMax ?? 0) && t0 >= rec.measureFrom) rec.counters.siblingsMax = siblings.length;
    } catch (error) {
      debug('get', key, error);
      rec.fail('get', t0, codeOf(error));
    }
  };
  const sequentialGet: Exec = (ctx, rec) => get(`bench-${ctx.index % keyCount}`)(ctx, rec);
  // An update carries the context of a read, as a Dynamo client should: blind writes to hot
  // keys would pile up siblings until the per-key bound refuses them.
  const update = (key: string): Exec => async ({ t0 }, rec) => {
    try {
      const { context } = await client.get(key);
      await client.put(key, value, { contentType: 'application/octet-stream', ...(context ? { context } : {}) });
      rec.ok('put', t0);
    } catch (error) {
      debug('update', key, error);
      rec.fail('put', t0, codeOf(error));
    }
  };
  // Sibling-heavy: a blind write; at the sibling bound the writer resolves the key.
  const blind = (key: string): Exec => async ({ t0 }, rec) => {
    try {
      await client.put(key, value, { contentType: 'application/octet-stream' });
      rec.ok('put', t0);
      return;
    } catch (error) {
      debug('blind put', key, error);
      rec.fail('put', t0, codeOf(error));
      if (codeOf(error) !== 'KV_ERR_TOO_MANY_SIBLINGS') return;
    }
    const t1 = performance.now();
    try {
      const { context, siblings } = await client.get(key);
      rec.count('siblingsResolved', t0, siblings.length);
      await client.put(key, value, { contentType: 'application/octet-stream', ...(context ? { context } : {}) });
      rec.ok('resolve', t1);
    } catch (error) {
      debug('resolve', key, error);
      rec.fail('resolve', t1, codeOf(error));
    }
  };
  const mixed: Exec = (ctx, rec) => {
    const read = Math.random() < readFraction!;
    const key = `${siblingHeavy ? 'hot' : 'bench'}-${nextRank()}`;
    return read ? get(key)(ctx, rec) : siblingHeavy ? blind(key)(ctx, rec) : update(key)(ctx, rec);
  };
  return { put, sequentialGet, mixed };
}

async function benchRing(count: number): Promise<RingResult[]> {
  const n = Math.min(3, count);
  const label = `${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1})`;
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-bench-'));
  const nodes = await startRing(count, n, dir);
  const client = new RingkvClient({ urls: nodes.map((node) => node.url), connectionsPerNode: clients });
  const load = { seconds, warmupSeconds: warmup, clients, maxOps, maxInflight, ...(rate === undefined ? {} : { rate }) };
  const loadText = rate === undefined ? `${clients} clients` : `${rate} ops/s offered`;
  try {
    const ops = execs(client, randomBytes(valueBytes));
    if (readFraction === undefined) {
      process.stderr.write(`${label}: ${loadText}, ${seconds} s of PUTs...\n`);
      const put = await runPhase({ ...load, label: `${label} put`, exec: ops.put });
      process.stderr.write(`${label}: ${seconds} s of GETs...\n`);
      const get = await runPhase({ ...load, label: `${label} get`, exec: ops.sequentialGet });
      return [{ ring: label, phase: 'put', result: put }, { ring: label, phase: 'get', result: get }];
    }
    if (!siblingHeavy) {
      process.stderr.write(`${label}: loading ${keyCount} keys...\n`);
      const loaded = await runPhase({ label: `${label} load`, seconds: 3600, clients: clients * 4, maxOps: keyCount, exec: ops.put });
      const failed = loaded.stats.reduce((sum, s) => sum + Object.values(s.errors).reduce((a, b) => a + b, 0), 0);
      if (failed > 0) process.stderr.write(`${label}: ${failed} of ${keyCount} loading writes failed\n`);
    }
    const what = siblingHeavy ? `${hotKeys} hot keys` : values.distribution;
    process.stderr.write(`${label}: workload ${workload} (${what}), ${loadText}, ${seconds} s...\n`);
    const result = await runPhase({ ...load, label: `${label} ${workload}`, exec: ops.mixed });
    return [{ ring: label, phase: `${workload} ${values.distribution}`, result }];
  } finally {
    await client.close();
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: RingResult[] = [];
for (const count of values.rings!.split(',').map(Number)) results.push(...(await benchRing(count)));

/** A row's ring label: the workload for mixed loads, the offered rate for open loops. */
function rowLabel(r: RingResult): string {
  const parts = [r.ring];
  if (readFraction !== undefined) parts.push(siblingHeavy ? `siblings ${hotKeys} hot keys ${values.distribution}` : r.phase);
  if (r.result.offeredRate !== undefined) parts.push(`open loop ${r.result.offeredRate}/s`);
  return parts.join(', ');
}
const rows = results.flatMap((r) => r.result.stats.map((s: OpStats) => [rowLabel(r), s.op, ...latencyCells(s)]));
const table = markdownTable(['ring', 'op', ...LATENCY_HEADER], 'llrrrrrrl', rows);
const meta = { ...machine(), bench: 'ring-bench', seconds, warmup, clients, rate: rate ?? null, mode: rate === undefined ? 'closed' : 'open', valueBytes, keyCount, hotKeys: siblingHeavy ? hotKeys : null, sync, fsType: fsType(tmpdir()), workload, distribution: values.distribution };
const notes = results
  .map((r) => {
    const extra = [];
    if (r.result.unsent) extra.push(`${r.result.unsent} scheduled operations not sent or unanswered (not in the percentiles: the offered rate is above what the ring sustains)`);
    const c = r.result.counters;
    if (c.reads && c.siblingsRead !== undefined && (siblingHeavy || (c.siblingsMax ?? 0) > 1)) extra.push(`siblings per read: mean ${(c.siblingsRead / c.reads).toFixed(1)}, max ${c.siblingsMax ?? 0}`);
    return extra.length === 0 ? '' : `${rowLabel(r)}: ${extra.join('; ')}`;
  })
  .filter((line) => line !== '');
const path = writeResult('ring-bench', { meta, results }, out);
process.stdout.write(`\n${table}\n${notes.length > 0 ? `\n${notes.join('\n')}\n` : ''}\n${JSON.stringify(meta)}\nresult: ${path}\n`);
