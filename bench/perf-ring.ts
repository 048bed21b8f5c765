/**
 * Where a 3-node ring's CPU per operation goes, by Linux perf rather than V8's profiler. A V8
 * profile of three processes sharing two cores charges a function for the time its process sat
 * preempted (the group commit, an fsync hand-off or a socket write look several times larger
 * than they cost), and it cannot see the kernel. perf samples only on-CPU time, kernel included.
 *
 * Starts a fresh local ring (N=3, R=W=2, --sync full) with `node --perf-basic-prof` (so perf
 * can name JavaScript frames), loads --keys keys for GETs, then runs PUTs of new keys or GETs of
 * loaded keys (closed loop, or open loop at --rate) for --warmup and --seconds, while
 * `perf record -g` samples the three node processes over the measured window. Prints the CPU-µs
 * per operation (from /proc), the share of samples by where the sampled instruction was (kernel,
 * the node binary: V8 and Node's C++, JIT code, SQLite, libc), the kernel's share by syscall,
 * the inclusive share of the project's main stages (overlapping: a stage's callees count in it)
 * converted to µs per operation, and the top functions by self samples. Needs `perf` (Debian:
 * linux-perf) and root or perf_event_paranoid <= 1. With --out DIR, perf.data is kept there and
 * the nodes' /tmp/perf-<pid>.map files are left for `perf report`; otherwise both are deleted.
 *
 *   tsx bench/perf-ring.ts [--ops put|get] [--rate OPS_PER_S] [--seconds 5] [--warmup 8] [--clients 64] [--keys 5000] [--frequency 1999] [--out DIR]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { runPhase } from './lib/load.js';
import { httpOps } from './lib/http-load.js';
import { cpuSeconds } from './lib/report.js';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: tsx bench/perf-ring.ts [--ops put|get] [--rate OPS_PER_S] [--seconds 5] [--warmup 8] [--clients 64] [--keys 5000] [--frequency 1999] [--out DIR]\n\nWhere a fresh 3-node ring's CPU per PUT or GET goes, sampled by Linux perf (kernel included): by code location, by syscall, by stage, and the top functions.`;

const { values } = benchArgs({
  options: {
    ops: { type: 'string', default: 'put' },
    rate: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '8' },
    clients: { type: 'string', default: '64' },
    keys: { type: 'string', default: '5000' },
    frequency: { type: 'string', default: '1999' },
    out: { type: 'string' },
  },
}, USAGE);
const op = values.ops;
const rate = values.rate === undefined ? undefined : Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clients = Number(values.clients);
const keys = Number(values.keys);
const frequency = Number(values.frequency);
if ((op !== 'put' && op !== 'get') || (rate !== undefined && !(rate > 0)) || !(seconds > 0) || !(warmup >= 0) || !(clients > 0) || !(keys > 0) || !(frequency > 0)) {
  throw new Error(USAGE);
}
if (spawnSync('perf', ['--version']).status !== 0) {
  process.stderr.write('perf is not installed (Debian: apt-get install linux-perf); nothing measured\n');
  process.exit(1);
}

/** The project's main stages, each the frames that mark it, `|` between alternatives (an inclusive share: callees count). */
const STAGES: ReadonlyArray<[label: string, frame: string]> = [
  ['group commit (SQLite transaction: rows, WAL frames)', 'commitBatch'],
  ['  of which SQLite commit (WAL frames, page cache)', 'sqlite3VdbeHalt'],
  ['  of which WAL frame writes', 'pagerWalFrames'],
  ['  of which page-cache truncate at commit', 'pcache1TruncateUnsafe'],
  ['point reads (better-sqlite3 get)', 'Statement::JS_get'],
  ['WAL fsync (libuv pool thread)', '__x64_sys_fsync'],
  ['client HTTP request, parse to handler (sync part)', 'parserOnHeadersComplete'],
  ['client HTTP response write', 'responseViaResponseObject'],
  ['context tag (HMAC)', 'encodeContext'],
  ['replica ops served (stream transport)', 'stream-serve.js'],
  ['frames written (TurnWriter uncork)', 'frame.js'],
  ['object encode', 'encodeObject|encodeFresh'],
  ['object decode', 'decodeObject'],
  ['garbage collection (scavenges, sweeping)', 'Heap::'],
];

type Sample = { readonly frames: readonly string[]; readonly kernel: boolean; readonly dso: string };

/** perf script's samples: the leaf first, each frame "symbol (dso)". */
function parseScript(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').slice(1).map((line) => line.trim()).filter((line) => line.length > 0);
    if (lines.length === 0) continue;
    const frames = lines.map((line) => line.replace(/^[0-9a-f]+ /, ''));
    const dso = /\(([^()]*)\)$/.exec(frames[0]!)?.[1] ?? '';
    samples.push({ frames, kernel: dso.includes('kernel'), dso });
  }
  return samples;
}

function dsoKind(dso: string): string {
  if (dso.includes('kernel')) return 'kernel';
  if (dso.includes('perf-') && dso.endsWith('.map')) return 'JIT (JavaScript)';
  if (dso.endsWith('/node') || dso === 'node') return 'node binary (V8, Node C++)';
  if (dso.includes('better_sqlite3')) return 'SQLite (better-sqlite3)';
  if (dso.includes('libc')) return 'libc';
  return 'other';
}

function share(samples: readonly Sample[], match: (sample: Sample) => boolean): number {
  return samples.filter(match).length / samples.length;
}

function report(samples: readonly Sample[], usPerOp: number): void {
  const row = (label: string, fraction: number) => `| ${label} | ${(fraction * 100).toFixed(1)} % | ${(fraction * usPerOp).toFixed(1)} |`;
  const head = (title: string) => `\n| ${title} | samples | CPU-µs per op |\n|---|---:|---:|`;
  const kinds = new Map<string, number>();
  for (const sample of samples) kinds.set(dsoKind(sample.dso), (kinds.get(dsoKind(sample.dso)) ?? 0) + 1);
  console.log(head('where the sampled instruction was'));
  for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(row(kind, count / samples.length));
  const syscalls = new Map<string, number>();
  for (const sample of samples.filter((s) => s.kernel)) {
    const frame = sample.frames.find((f) => /^(__x64_sys_|__do_sys_|ksys_|tcp_sendmsg |tcp_recvmsg )/.test(f));
    const name = frame === undefined ? '(interrupts, scheduler, softirq)' : frame.split(' ')[0]!;
    syscalls.set(name, (syscalls.get(name) ?? 0) + 1);
  }
  console.log(head('kernel, by the syscall it ran for'));
  for (const [name, count] of [...syscalls].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(row(name, count / samples.length));
  console.log(head('stage (inclusive, overlapping)'));
  for (const [label, frame] of STAGES) console.log(row(label, share(samples, (s) => s.frames.some((f) => frame.split('|').some((part) => f.includes(part))))));
  const self = new Map<string, number>();
  for (const sample of samples) {
    const name = sample.frames[0]!.replace(/ \([^()]*\)$/, '').replace('file:///', '').slice(0, 100);
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  console.log(head('top functions by self samples'));
  for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(row(`\`${name.replace(/\|/g, '/')}\``, count / samples.length));
}

function record(pids: readonly number[], file: string): Promise<void> {
  const child = spawn('perf', ['record', '-q', '-F', String(frequency), '-g', '-p', pids.join(','), '-o', file, '--', 'sleep', String(seconds)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf record exited with ${code}`)))));
}

const dir = mkdtempSync(join(tmpdir(), 'ringkv-perf-ring-'));
const outDir = values.out ?? dir;
const nodes = await startLocalRing({ count: 3, n: 3, basePort: 0, dir, secret: randomBytes(32).toString('hex'), adminToken: randomBytes(16).toString('hex'), extraArgs: ['--sync', 'full'], nodeArgs: ['--perf-basic-prof'] });
const pids = nodes.map((node) => node.child.pid!);
const ops = httpOps('ringkv', nodes.map((node) => node.url), clients, randomBytes(100));
try {
  const load = { clients, maxOps: Number.MAX_SAFE_INTEGER, ...(rate === undefined ? {} : { rate }) };
  if (op === 'get') await runPhase({ clients, maxOps: keys, label: 'load', seconds: 600, exec: ops.put((i) => `k${i}`) });
  const exec = op === 'put' ? ops.put((i) => `m${i}`) : ops.get((i) => `k${i % keys}`);
  if (warmup > 0) await runPhase({ ...load, label: 'warm-up', seconds: warmup, exec });
  const before = pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const file = join(outDir, 'perf.data');
  const [phase] = await Promise.all([runPhase({ ...load, label: 'measured', seconds, exec }), record(pids, file)]);
  const after = pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const done = phase.stats.find((s) => s.op === op)?.ops ?? 0;
  if (done === 0) throw new Error(`no ${op} completed`);
  const usPerOp = ((after - before) * 1e6) / done;
  const script = spawnSync('perf', ['script', '-i', file, '-F', 'ip,sym,dso'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const samples = parseScript(script.stdout);
  console.log(`${op.toUpperCase()}, ${rate === undefined ? `closed loop, ${clients} clients` : `open loop, ${rate} ops/s offered`}: ${Math.round(done / seconds)} ops/s, ${usPerOp.toFixed(0)} CPU-µs per op over the three nodes (perf's own sampling included), ${samples.length} samples`);
  report(samples, usPerOp);
} finally {
  await ops.close();
  await stopNodes(nodes);
  // With --out the map files stay in /tmp: perf report on the kept perf.data needs them to name JIT frames.
  if (values.out === undefined) for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  rmSync(dir, { recursive: true, force: true });
}
