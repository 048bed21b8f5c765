/**
 * How ringkv scales on this machine, in two parts (both bounded in time and operation count;
 * every node started is stopped by PID):
 *
 * 1. `rings`: rings of 1, 3, 5 and 8 node processes (N = min(3, nodes), R=W = majority),
 *    driven through the ringkv client (key-aware routing): --keys keys loaded, then --warmup +
 *    --seconds of PUTs to new keys and as long of GETs of loaded keys. Printed per ring: ops/s,
 *    latency, and the CPU % of every node process (from /proc/<pid>/stat before and after the
 *    phase; 100 % = one core) and of the load generator: the nodes share the machine's cores
 *    with each other and with the load generator, and these columns show what limits them.
 * 2. `keys`: one ring (--sweep-nodes, default 1) grown to each of --key-counts keys in turn
 *    (10k, 100k, 1M by default); at each size, --sweep-seconds of writes to new keys and of
 *    reads of random loaded keys, then each node's resident memory and the size of its data
 *    directory (database, WAL and hints).
 *
 *   pnpm bench:scaling [--parts rings,keys] [--rings 1,3,5,8] [--seconds 10] [--warmup 2]
 *                      [--clients 64] [--rate OPS_PER_S] [--keys 10000] [--value-bytes 100]
 *                      [--sync full|normal] [--key-counts 10000,100000,1000000]
 *                      [--sweep-seconds 10] [--sweep-nodes 1] [--out FILE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RingkvClient, RingkvError } from '@ringkv/client';
import { startLocalRing, stopNodes, type RunningNode } from '@ringkv/cli';
import { runMetered, runPhase, type Exec, type OpStats } from './lib/load.js';
import { loadOptions, loadSettings, positive, syncModes } from './lib/options.js';
import { dirBytes, errorsText, fmt, fsType, machine, markdownTable, mib, rssBytes, writeResult } from './lib/report.js';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: pnpm bench:scaling [--rings 1,3,5,8] [--key-counts 10000,100000,1000000] [flags]\n\nRings of growing size (ops/s, latency, CPU % per node), then one node grown to each key count (latency, RSS, bytes per key).`;

const { values } = benchArgs({
  options: {
    ...loadOptions('2'),
    parts: { type: 'string', default: 'rings,keys' },
    rings: { type: 'string', default: '1,3,5,8' },
    sync: { type: 'string', default: 'full' },
    'key-counts': { type: 'string', default: '10000,100000,1000000' },
    'sweep-seconds': { type: 'string', default: '10' },
    'sweep-nodes': { type: 'string', default: '1' },
  },
}, USAGE);
const parts = values.parts!.split(',');
if (parts.some((p) => p !== 'rings' && p !== 'keys')) throw new Error('--parts must list rings and/or keys');
const [sync] = syncModes(values.sync);
const { seconds, warmup, clients, rate, keyCount, valueBytes, maxOps, out } = loadSettings(values);
const numbers = (name: string, text: string) => text.split(',').map((x) => Math.round(positive(name, x)));
const ringSizes = numbers('rings', values.rings!);
const keyCounts = numbers('key-counts', values['key-counts']!).sort((a, b) => a - b);
const sweepSeconds = positive('sweep-seconds', values['sweep-seconds']);
const sweepNodes = Math.round(positive('sweep-nodes', values['sweep-nodes']));

const value = randomBytes(valueBytes);
const secret = randomBytes(18).toString('base64url');
const load = { warmupSeconds: warmup, clients, maxOps, ...(rate === undefined ? {} : { rate }) };
const codeOf = (error: unknown) => (error instanceof RingkvError ? error.code : 'EXCEPTION');

const put = (client: RingkvClient, keyOf: (i: number) => string): Exec => async ({ index, t0 }, rec) => {
  try {
    await client.put(keyOf(index), value, { contentType: 'application/octet-stream' });
    rec.ok('put', t0);
  } catch (error) {
    rec.fail('put', t0, codeOf(error));
  }
};
const get = (client: RingkvClient, keyOf: () => string): Exec => async ({ t0 }, rec) => {
  try {
    const { found } = await client.get(keyOf());
    rec.ok('get', t0);
    if (!found) rec.count('misses', t0);
  } catch (error) {
    rec.fail('get', t0, codeOf(error));
  }
};

function ringLabel(count: number): string {
  const n = Math.min(3, count);
  return `${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1})`;
}

/** Starts a ring, runs `body` with it and a client, stops every node and removes the data. */
async function withRing<T>(count: number, body: (nodes: RunningNode[], client: RingkvClient, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-scaling-'));
  const nodes = await startLocalRing({ count, n: Math.min(3, count), basePort: 0, dir, secret, extraArgs: ['--sync', sync!] });
  const client = new RingkvClient({ urls: nodes.map((node) => node.url), connectionsPerNode: clients });
  try {
    return await body(nodes, client, dir);
  } finally {
    await client.close();
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads keys k<from>..k<to - 1>; returns the seconds it took. */
async function loadKeys(label: string, client: RingkvClient, from: number, to: number): Promise<number> {
  const t = performance.now();
  const result = await runPhase({ label, seconds: 7200, clients: clients * 2, maxOps: to - from, exec: put(client, (i) => `k${from + i}`) });
  const failed = result.stats.reduce((sum, s) => sum + Object.values(s.errors).reduce((a, b) => a + b, 0), 0);
  if (failed > 0) process.stderr.write(`${label}: ${failed} of ${to - from} loading writes failed\n`);
  return (performance.now() - t) / 1000;
}

interface RingRow {
  ring: string;
  nodes: number;
  op: 'put' | 'get';
  stats: OpStats;
  nodeCpuPercent: number[];
  loadgenCpuPercent: number;
  /** CPU time of all the ring's nodes per operation (lib/load.ts runMetered). */
  cpuMicrosPerOp: number;
}

const notes: string[] = [];

/** One phase with CPU metering of the nodes and of this process. */
async function metered(nodes: RunningNode[], label: string, secs: number, exec: Exec, op: 'put' | 'get') {
  const m = await runMetered({ ...load, seconds: secs, label, exec }, nodes.map((node) => node.child.pid!), op);
  if ((m.phase.unsent ?? 0) > 0) notes.push(`${label}: ${m.phase.unsent} scheduled operations not sent or unanswered (offered rate above what it sustains; not in the percentiles)`);
  return { stats: m.stats, perNode: m.cpuPercent, loadgen: m.loadgenCpuPercent, cpuMicrosPerOp: m.cpuMicrosPerOp };
}

const ringRows: RingRow[] = [];
if (parts.includes('rings')) {
  for (const count of ringSizes) {
    const ring = ringLabel(count);
    await withRing(count, async (nodes, client) => {
      process.stderr.write(`${ring}: loading ${keyCount} keys...\n`);
      await loadKeys(`${ring} load`, client, 0, keyCount);
      for (const op of ['put', 'get'] as const) {
        process.stderr.write(`${ring}: ${op}...\n`);
        const exec = op === 'put' ? put(client, (i) => `p${i}`) : get(client, () => `k${Math.floor(Math.random() * keyCount)}`);
        const m = await metered(nodes, `${ring} ${op}`, seconds, exec, op);
        ringRows.push({ ring, nodes: count, op, stats: m.stats, nodeCpuPercent: m.perNode, loadgenCpuPercent: m.loadgen, cpuMicrosPerOp: m.cpuMicrosPerOp });
      }
    });
  }
}

interface KeyRow {
  keys: number;
  write: OpStats;
  read: OpStats;
  rssBytes: number[];
  dataBytes: number;
  loadSeconds: number;
  nodeCpuPercent: { write: number[]; read: number[] };
}

const keyRows: KeyRow[] = [];
if (parts.includes('keys')) {
  const ring = ringLabel(sweepNodes);
  await withRing(sweepNodes, async (nodes, client, dir) => {
    let loaded = 0;
    for (const target of keyCounts) {
      process.stderr.write(`${ring}: growing to ${target} keys...\n`);
      const loadSeconds = await loadKeys(`${target} keys load`, client, loaded, target);
      loaded = target;
      const write = await metered(nodes, `${target} keys write`, sweepSeconds, put(client, (i) => `w${target}-${i}`), 'put');
      const read = await metered(nodes, `${target} keys read`, sweepSeconds, get(client, () => `k${Math.floor(Math.random() * loaded)}`), 'get');
      keyRows.push({
        keys: target,
        write: write.stats,
        read: read.stats,
        rssBytes: nodes.map((node) => rssBytes(node.child.pid!) ?? 0),
        dataBytes: dirBytes(dir),
        loadSeconds,
        nodeCpuPercent: { write: write.perNode, read: read.perNode },
      });
    }
  });
}

const tables: string[] = [];
if (ringRows.length > 0) {
  tables.push(
    markdownTable(
      ['ring', 'op', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'CPU % per node', 'nodes CPU %', 'CPU µs/op', 'loadgen CPU %'],
      'llrrrrrlrrrr',
      ringRows.map((r) => [r.ring, r.op, r.stats.opsPerSecond, fmt(r.stats.p50Ms), fmt(r.stats.p99Ms), fmt(r.stats.p999Ms), fmt(r.stats.maxMs), errorsText(r.stats.errors), r.nodeCpuPercent.map((x) => x.toFixed(0)).join(' / '), r.nodeCpuPercent.reduce((a, b) => a + b, 0).toFixed(0), r.cpuMicrosPerOp, r.loadgenCpuPercent.toFixed(0)]),
    ),
  );
}
if (keyRows.length > 0) {
  tables.push(
    markdownTable(
      ['keys', 'write ops/s', 'write p50 / p99 ms', 'read ops/s', 'read p50 / p99 ms', 'errors', 'RSS MiB per node', 'data MiB', 'bytes per key and replica', 'load s'],
      'rrlrlllrrr',
      keyRows.map((r) => [
        r.keys,
        r.write.opsPerSecond,
        `${fmt(r.write.p50Ms)} / ${fmt(r.write.p99Ms)}`,
        r.read.opsPerSecond,
        `${fmt(r.read.p50Ms)} / ${fmt(r.read.p99Ms)}`,
        errorsText({ ...r.write.errors, ...r.read.errors }),
        r.rssBytes.map((b) => mib(b)).join(' / '),
        mib(r.dataBytes),
        Math.round(r.dataBytes / Math.max(1, r.keys) / Math.min(3, sweepNodes)),
        r.loadSeconds.toFixed(0),
      ]),
    ),
  );
}
const meta = { ...machine(), bench: 'scaling', parts, seconds, warmup, clients, rate: rate ?? null, mode: rate === undefined ? 'closed' : 'open', keyCount, valueBytes, sync, fsType: fsType(tmpdir()), keyCounts, sweepSeconds, sweepNodes };
const path = writeResult('scaling', { meta, rings: ringRows, keys: keyRows }, out);
process.stdout.write(`\n${tables.join('\n\n')}\n\n${notes.length > 0 ? `${notes.join('\n')}\n\n` : ''}${JSON.stringify(meta)}\nresult: ${path}\n`);
