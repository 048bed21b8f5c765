/**
 * Where a 3-node ring's CPU per PUT goes by thread: each node's main thread (JavaScript, SQLite,
 * the syscalls it makes) against its other threads (libuv's pool running the WAL fsyncs, V8's
 * GC and compiler helpers), user and system time apart, read from /proc/<pid>/task/<tid>/stat
 * over the measured window. Starts a fresh local ring (N=3, R=W=2, --sync full), PUTs new keys
 * of --value-bytes from --clients closed loops, or open loop at --rate, for --seconds after
 * --warmup, stops the ring. Also prints the writes per group commit over the window (each node's
 * ringkv_store_writes_total / ringkv_store_commits_total from /metrics). Linux only.
 *
 *   tsx bench/thread-cpu.ts [--rate OPS_PER_S] [--seconds 10] [--warmup 2] [--clients 64] [--value-bytes 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { runPhase } from './lib/load.js';
import { httpOps } from './lib/http-load.js';
import { threadCpuSeconds } from './lib/report.js';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/thread-cpu.ts [--rate OPS_PER_S] [--seconds 10] [--warmup 2] [--clients 64] [--value-bytes 100]\n\nCPU-µs per replicated PUT of a fresh 3-node ring, by thread kind (main, others) and user/system time.`;

const { values } = benchArgs({
  options: {
    rate: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    clients: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '100' },
  },
}, USAGE);
const rate = values.rate === undefined ? undefined : Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clients = Number(values.clients);
const valueBytes = Number(values['value-bytes']);
if ((rate !== undefined && !(rate > 0)) || !(seconds > 0) || !(warmup >= 0) || !(clients > 0) || !(valueBytes >= 0)) throw new Error(USAGE);

/** CPU seconds of the nodes' threads so far, by "main user", "main system", "other user", "other system". */
function threadSeconds(pids: readonly number[]): Map<string, number> {
  const seconds = new Map<string, number>();
  const add = (name: string, value: number) => seconds.set(name, (seconds.get(name) ?? 0) + value);
  for (const pid of pids) {
    for (const thread of threadCpuSeconds(pid)) {
      const kind = thread.main ? 'main' : 'other';
      add(`${kind} user`, thread.user);
      add(`${kind} system`, thread.system);
    }
  }
  return seconds;
}

/** Committed writes and group commits so far, summed over the nodes (their /metrics). */
async function commits(urls: readonly string[], token: string): Promise<{ writes: number; commits: number }> {
  let writes = 0;
  let commits = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    writes += value('ringkv_store_writes_total');
    commits += value('ringkv_store_commits_total');
  }
  return { writes, commits };
}

const dir = mkdtempSync(join(tmpdir(), 'ringkv-thread-cpu-'));
const adminToken = randomBytes(16).toString('hex');
const nodes = await startLocalRing({ count: 3, n: 3, basePort: 0, dir, secret: randomBytes(32).toString('hex'), adminToken, extraArgs: ['--sync', 'full'] });
const ops = httpOps('ringkv', nodes.map((node) => node.url), clients, randomBytes(valueBytes));
try {
  const pids = nodes.map((node) => node.child.pid!);
  const load = { clients, maxOps: Number.MAX_SAFE_INTEGER, ...(rate === undefined ? {} : { rate }) };
  if (warmup > 0) await runPhase({ ...load, label: 'warm-up', seconds: warmup, exec: ops.put((i) => `w${i}`) });
  const urls = nodes.map((node) => node.url);
  const commits0 = await commits(urls, adminToken);
  const before = threadSeconds(pids);
  const phase = await runPhase({ ...load, label: 'measured', seconds, exec: ops.put((i) => `m${i}`) });
  const after = threadSeconds(pids);
  const commits1 = await commits(urls, adminToken);
  const done = phase.stats.find((s) => s.op === 'put')?.ops ?? 0;
  if (done === 0) throw new Error('no PUT completed');
  const perOp = (name: string) => (((after.get(name) ?? 0) - (before.get(name) ?? 0)) * 1e6) / done;
  const names = ['main user', 'main system', 'other user', 'other system'];
  console.log(`${rate === undefined ? `closed loop, ${clients} clients` : `open loop, ${rate} PUTs/s offered`}: ${done} PUTs in ${seconds} s\n`);
  console.log(`| ${names.join(' | ')} | total |\n|${' ---: |'.repeat(names.length + 1)}`);
  console.log(`| ${names.map((name) => perOp(name).toFixed(0)).join(' | ')} | ${names.reduce((sum, name) => sum + perOp(name), 0).toFixed(0)} |`);
  const writes = commits1.writes - commits0.writes;
  const groups = commits1.commits - commits0.commits;
  console.log(`\n${writes} node-writes in ${groups} group commits: ${(writes / groups).toFixed(1)} writes per commit`);
} finally {
  await ops.close();
  await stopNodes(nodes);
  rmSync(dir, { recursive: true, force: true });
}
