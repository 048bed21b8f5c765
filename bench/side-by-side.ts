/**
 * ringkv side by side with what a user would compare it with, in one run, on this machine:
 * the same load generator (lib/http-load.ts: undici Pools, closed loop of --clients or open
 * loop at --rate) against
 *
 * - `ceiling`: a do-nothing Node HTTP server (bench/null-server.mjs), the most any Node store
 *   measured this way can do on these cores;
 * - `ringkv1`: one ringkv node (N=1, R=W=1), and `ringkv3`: three nodes (N=3, R=W=2), each with
 *   every SQLite synchronous mode in --sync (`full` fsyncs every group commit, the equal of
 *   etcd's fsync of its WAL; `normal` survives a process crash but not a power cut);
 * - `etcd3`: etcd 3.4 with 3 members, started by ../shared/peers/etcd-bench.sh (installed from
 *   Debian's archive if missing), through its v3 JSON gateway. If etcd cannot be installed or
 *   started, the run says why and measures the rest.
 *
 * Rounds alternate: each round runs every target once (a different one first each round),
 * starting it fresh, loading --keys keys, then --warmup + --seconds of PUTs (to new keys, so
 * both stores insert and ringkv makes no siblings) and as long of GETs of loaded keys, then
 * stopping it, so only the measured target runs. Printed: a Markdown table of medians over
 * rounds (with the CPU % each target's processes and the load generator used, and the CPU time
 * per operation summed over all of a target's processes, read from /proc/<pid>/stat when the
 * warm-up ends and when the phase ends, beside the wake-ups per operation: voluntary context
 * switches of all their threads over the same window) and the ratios issues 7 and 12 set goals
 * for, of throughput, p99 and CPU per operation. `--peer-transport stream,http` measures the 3-node
 * ring once per node-to-node transport in the same run (an A/B, docs/transport.md).
 * `--baseline DIR` adds the 3-node ring of another checkout, built (for example a `git worktree`
 * of the previous commit after `npm run build` there), to the same rounds, and the ratio of
 * this checkout to it: the A/B of a change against the commit before it, measured in one run.
 * `--ops put` measures only the write phase (a profile of writes alone, with --profile).
 * The JSON result (every round) goes to bench/results/ or --out.
 *
 *   pnpm bench:compare [--rounds 3] [--seconds 10] [--warmup 2] [--clients 64] [--rate OPS_PER_S]
 *                      [--keys 10000] [--value-bytes 100] [--sync full,normal]
 *                      [--targets ceiling,ringkv1,ringkv3,etcd3] [--data-dir DIR] [--out FILE]
 *                      [--peer-transport stream[,http]] [--baseline CHECKOUT_DIR] [--ops put,get]
 *                      [--profile DIR]   (every ringkv node writes a V8 .cpuprofile there)
 *
 * Data of ringkv and etcd go under one directory (--data-dir, default a new one in the temp
 * directory) so both fsync on the same file system; its type is printed.
 */
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { median, runMetered, runPhase, type OpStats, type PhaseResult } from './lib/load.js';
import { loadOptions, loadSettings, positive, syncModes, profileArgs } from './lib/options.js';
import { httpOps, type Protocol } from './lib/http-load.js';
import { startEtcd, startNullServer, type Peer } from './lib/peers.js';
import { errorsText, fmt, fsType, machine, markdownTable, writeResult } from './lib/report.js';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: pnpm bench:compare [--targets ceiling,ringkv1,ringkv3,etcd3] [--sync full,normal] [--rounds 3] [--baseline DIR] [flags]\n\nSide by side with one load generator: the do-nothing server, ringkv 1 and 3 nodes, etcd 3 members; ops/s, percentiles and CPU µs per operation, and the ratios the issues set goals for.`;

const { values } = benchArgs({
  options: {
    ...loadOptions('2'),
    rounds: { type: 'string', default: '3' },
    sync: { type: 'string', default: 'full,normal' },
    targets: { type: 'string', default: 'ceiling,ringkv1,ringkv3,etcd3' },
    'data-dir': { type: 'string' },
    'peer-transport': { type: 'string', default: 'stream' },
    baseline: { type: 'string' },
    ops: { type: 'string', default: 'put,get' },
  },
}, USAGE);
const phases = values.ops!.split(',').filter((x) => x.length > 0);
if (phases.length === 0 || phases.some((x) => x !== 'put' && x !== 'get')) throw new Error('--ops must list put and/or get');
const transports = values['peer-transport']!.split(',').filter((x) => x.length > 0);
if (transports.length === 0 || transports.some((x) => x !== 'stream' && x !== 'http')) throw new Error('--peer-transport must list stream and/or http');
const rounds = Math.round(positive('rounds', values.rounds));
const { seconds, warmup, clients, rate, keyCount, valueBytes, maxOps, out } = loadSettings(values);
const syncs = syncModes(values.sync);
const wanted = values.targets!.split(',');
const KINDS = ['ceiling', 'ringkv1', 'ringkv3', 'etcd3'];
if (wanted.some((kind) => !KINDS.includes(kind))) throw new Error(`--targets must list some of ${KINDS.join(', ')}`);

interface Target {
  readonly name: string;
  readonly protocol: Protocol;
  start(round: number): Promise<Peer>;
}

const base = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'ringkv-compare-'));
mkdirSync(base, { recursive: true });
const baseFsType = fsType(base);
const secret = randomBytes(18).toString('base64url');

/** The baseline checkout's CLI script and its commit, when --baseline is given. */
const baseline = values.baseline === undefined ? undefined : baselineBuild(values.baseline);

function baselineBuild(dir: string): { main: string; label: string } {
  const main = join(dir, 'packages', 'cli', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`--baseline ${dir}: no ${main} (build that checkout first: npm run build)`);
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the label says so
  }
  return { main, label: `baseline ${commit}` };
}

function ringkv(count: number, sync: string, transport = 'stream', other?: { main: string; label: string }): Target {
  const n = Math.min(3, count);
  // The transport is named only when the run compares transports (names stay as they were).
  const named = count > 1 && transports.length > 1 ? `, transport=${transport}` : '';
  return {
    name: `ringkv ${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1}), sync=${sync}${named}${other ? `, ${other.label}` : ''}`,
    protocol: 'ringkv',
    async start(round) {
      const dir = join(base, `ringkv-${count}-${sync}-${transport}${other ? '-baseline' : ''}-r${round}`);
      const nodes = await startLocalRing({ count, n, basePort: 0, dir, secret, extraArgs: ['--sync', sync, '--peer-transport', transport], nodeArgs: profileArgs(values.profile), ...(other ? { main: other.main } : {}) });
      return {
        endpoints: nodes.map((node) => node.url),
        pids: nodes.map((node) => node.child.pid!),
        stop: async () => {
          await stopNodes(nodes);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

const targets: Target[] = [];
for (const kind of wanted) {
  if (kind === 'ceiling') targets.push({ name: 'do-nothing Node HTTP server (ceiling)', protocol: 'ringkv', start: () => startNullServer() });
  if (kind === 'ringkv1') for (const sync of syncs) targets.push(ringkv(1, sync));
  if (kind === 'ringkv3') for (const sync of syncs) for (const transport of transports) targets.push(ringkv(3, sync, transport));
  if (kind === 'ringkv3' && baseline) for (const sync of syncs) targets.push(ringkv(3, sync, transports[0], baseline));
  if (kind === 'etcd3') targets.push({ name: 'etcd 3.4, 3 members (fsync)', protocol: 'etcd', start: () => startEtcd(3, join(base, 'etcd'), join(base, 'etcd-state')) });
}

interface RoundResult {
  target: string;
  round: number;
  op: 'put' | 'get';
  phase: PhaseResult;
  stats: OpStats;
  targetCpuPercent: number;
  loadgenCpuPercent: number;
  cpuMicrosPerOp: number;
  wakeupsPerOp: number;
}

const results: RoundResult[] = [];
/** Targets that could not start, with why; they are not tried again. */
const unavailable = new Map<string, string>();
const value = randomBytes(valueBytes);
const load = { seconds, warmupSeconds: warmup, clients, maxOps, ...(rate === undefined ? {} : { rate }) };

async function measure(target: Target, round: number): Promise<void> {
  process.stderr.write(`round ${round}: ${target.name}: starting...\n`);
  let peer: Peer;
  try {
    peer = await target.start(round);
  } catch (error) {
    unavailable.set(target.name, (error as Error).message);
    process.stderr.write(`round ${round}: ${target.name}: NOT MEASURED: ${(error as Error).message}\n`);
    return;
  }
  const ops = httpOps(target.protocol, peer.endpoints, clients, value);
  try {
    process.stderr.write(`round ${round}: ${target.name}: loading ${keyCount} keys...\n`);
    await runPhase({ label: 'load', seconds: 1800, clients, maxOps: keyCount, exec: ops.put((i) => `k${i}`) });
    for (const op of phases as Array<'put' | 'get'>) {
      const exec = op === 'put' ? ops.put((i) => `p${round}-${i}`) : ops.get(() => `k${Math.floor(Math.random() * keyCount)}`);
      const { phase, stats, cpuPercent, loadgenCpuPercent, cpuMicrosPerOp, wakeupsPerOp } = await runMetered({ ...load, label: `${target.name} ${op}`, exec }, peer.pids, op);
      const targetCpu = cpuPercent.reduce((a, b) => a + b, 0);
      results.push({ target: target.name, round, op, phase, stats, targetCpuPercent: Math.round(targetCpu * 10) / 10, loadgenCpuPercent, cpuMicrosPerOp, wakeupsPerOp });
      process.stderr.write(`round ${round}: ${target.name}: ${op} ${stats.opsPerSecond} ops/s, p99 ${fmt(stats.p99Ms)} ms, ${cpuMicrosPerOp} CPU-µs/op, ${wakeupsPerOp} wake-ups/op, errors ${errorsText(stats.errors)}\n`);
    }
  } finally {
    await ops.close();
    await peer.stop();
    // Flush the file system before the next target starts: the writeback of this target's data
    // and the discards of its deleted files (ext4 mounted with `discard` here) otherwise land
    // on the next target's fsyncs. Without it the second target of a round measured up to 20 %
    // slower than the first, whichever it was (four-round A/B of one commit, 2026-12-04).
    execFileSync('sync');
  }
}

try {
  for (let round = 1; round <= rounds; round++) {
    // Alternate: round r starts with target r - 1, so no target always runs first or last.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const target of order) if (!unavailable.has(target.name)) await measure(target, round);
  }
} finally {
  if (values['data-dir'] === undefined) rmSync(base, { recursive: true, force: true });
}

interface Summary {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  errors: Record<string, number>;
  targetCpuPercent: number;
  loadgenCpuPercent: number;
  cpuMicrosPerOp: number;
  wakeupsPerOp: number;
  rounds: number;
}

/** Medians over rounds of one target's op; errors summed. */
function summary(target: string, op: 'put' | 'get'): Summary | undefined {
  const rs = results.filter((r) => r.target === target && r.op === op);
  if (rs.length === 0) return undefined;
  const errors: Record<string, number> = {};
  for (const r of rs) for (const [code, k] of Object.entries(r.stats.errors)) errors[code] = (errors[code] ?? 0) + k;
  const m = (f: (r: RoundResult) => number) => median(rs.map(f));
  return {
    opsPerSecond: Math.round(m((r) => r.stats.opsPerSecond)),
    p50Ms: m((r) => r.stats.p50Ms),
    p99Ms: m((r) => r.stats.p99Ms),
    p999Ms: m((r) => r.stats.p999Ms),
    maxMs: Math.max(...rs.map((r) => r.stats.maxMs)),
    errors,
    targetCpuPercent: Math.round(m((r) => r.targetCpuPercent)),
    loadgenCpuPercent: Math.round(m((r) => r.loadgenCpuPercent)),
    cpuMicrosPerOp: Math.round(m((r) => r.cpuMicrosPerOp)),
    wakeupsPerOp: m((r) => r.wakeupsPerOp),
    rounds: rs.length,
  };
}

const rows: (string | number)[][] = [];
for (const target of targets) {
  for (const op of ['put', 'get'] as const) {
    const s = summary(target.name, op);
    if (s === undefined) rows.push([target.name, op, 'not measured', '', '', '', '', '', '', '', '', '', '0']);
    else rows.push([target.name, op, s.opsPerSecond, fmt(s.p50Ms), fmt(s.p99Ms), fmt(s.p999Ms), fmt(s.maxMs), errorsText(s.errors), s.targetCpuPercent, s.cpuMicrosPerOp, s.wakeupsPerOp.toFixed(2), s.loadgenCpuPercent, s.rounds]);
  }
}
const table = markdownTable(['target', 'op', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'target CPU %', 'CPU µs/op', 'wake-ups/op', 'loadgen CPU %', 'rounds'], 'llrrrrrlrrrrr', rows);

/** Ratio rows: a / b for throughput, p99 and CPU per op, with the goal when issue 7 or 12 sets one. */
const ratioRows: (string | number)[][] = [];
const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || y === 0 ? 'n/a' : `${(x / y).toFixed(2)}x`);
function compare(a: string | undefined, b: string | undefined, what: string, throughputGoal: string, p99Goal: string, cpuGoal = ''): void {
  for (const op of ['put', 'get'] as const) {
    const sa = a === undefined ? undefined : summary(a, op);
    const sb = b === undefined ? undefined : summary(b, op);
    const why = sa === undefined || sb === undefined ? ' (not measured: see below)' : '';
    ratioRows.push([`${what}, ${op}${why}`, ratio(sa?.opsPerSecond, sb?.opsPerSecond), throughputGoal, ratio(sa?.p99Ms, sb?.p99Ms), p99Goal, ratio(sa?.cpuMicrosPerOp, sb?.cpuMicrosPerOp), op === 'put' ? cpuGoal : '', ratio(sa?.wakeupsPerOp, sb?.wakeupsPerOp)]);
  }
}
/**
 * The same ratios taken round by round (the two targets ran one after the other in each
 * round), then the median of those: on a machine whose speed drifts between rounds (a shared
 * host), this pairs each measurement with its neighbour in time instead of with a median
 * taken over all rounds.
 */
function comparePaired(a: string | undefined, b: string | undefined, what: string): void {
  if (a === undefined || b === undefined || rounds < 2) return;
  for (const op of ['put', 'get'] as const) {
    const byRound = (name: string) => new Map(results.filter((r) => r.target === name && r.op === op).map((r) => [r.round, r]));
    const ra = byRound(a);
    const rb = byRound(b);
    const pairs = [...ra.keys()].filter((round) => rb.has(round)).map((round) => [ra.get(round)!, rb.get(round)!] as const);
    if (pairs.length === 0) continue;
    const paired = (f: (r: RoundResult) => number) => `${median(pairs.map(([x, y]) => f(x) / f(y))).toFixed(2)}x`;
    ratioRows.push([`${what}, ${op}, median of ${pairs.length} per-round ratios`, paired((r) => r.stats.opsPerSecond), '', paired((r) => r.stats.p99Ms), '', paired((r) => r.cpuMicrosPerOp), '', paired((r) => r.wakeupsPerOp)]);
  }
}
const find = (prefix: string, sync?: string) => targets.find((t) => t.name.startsWith(prefix) && (sync === undefined || t.name.endsWith(`sync=${sync}`)))?.name;
const etcd = find('etcd');
const ceiling = find('do-nothing');
const findTransport = (sync: string, transport: string) => targets.find((t) => t.name.startsWith('ringkv 3 nodes') && t.name.includes(`sync=${sync}, transport=${transport}`))?.name;
for (const sync of syncs) {
  const three = transports.length > 1 ? findTransport(sync, transports[0]!) : find('ringkv 3 nodes', sync);
  const one = find('ringkv 1 node ', sync);
  if (etcd && three) compare(three, etcd, `ringkv 3 nodes sync=${sync} / etcd 3 members${sync === 'full' ? ' (equal durability)' : ' (ringkv weaker)'}`, sync === 'full' ? '>= 2x' : '', sync === 'full' ? '<= 0.5x' : '', sync === 'full' ? '<= 0.5x' : '');
  if (etcd && three) comparePaired(three, etcd, `ringkv 3 nodes sync=${sync} / etcd 3 members`);
  if (transports.length > 1) compare(findTransport(sync, 'stream'), findTransport(sync, 'http'), `ringkv 3 nodes sync=${sync}: transport stream / http`, '', '');
  if (baseline) {
    const before = targets.find((t) => t.name.startsWith('ringkv 3 nodes') && t.name.includes(`sync=${sync}`) && t.name.endsWith(baseline.label))?.name;
    compare(three, before, `ringkv 3 nodes sync=${sync}: this checkout / ${baseline.label}`, '', '');
    comparePaired(three, before, `ringkv 3 nodes sync=${sync}: this checkout / ${baseline.label}`);
  }
  if (ceiling && three) compare(three, ceiling, `ringkv 3 nodes sync=${sync} / ceiling`, '>= 0.5x', '');
  if (one && three) compare(three, one, `ringkv 3 nodes / 1 node, sync=${sync}`, '>= 0.5x', '');
  if (ceiling && one) compare(one, ceiling, `ringkv 1 node sync=${sync} / ceiling`, '', '');
}
if (syncs.length > 1) {
  for (const prefix of ['ringkv 1 node ', 'ringkv 3 nodes']) {
    const normal = find(prefix, 'normal');
    const full = find(prefix, 'full');
    if (normal && full) compare(normal, full, `${prefix.trim()}: sync=normal / sync=full`, '', '');
  }
}
const ratios = ratioRows.length === 0 ? '(no ratios: fewer than two of the compared targets were asked for)' : markdownTable(['ratio', 'ops/s', 'goal', 'p99', 'goal', 'CPU µs/op', 'goal', 'wake-ups/op'], 'lrlrlrlr', ratioRows);

const meta = {
  ...machine(),
  bench: 'side-by-side',
  rounds,
  seconds,
  warmup,
  clients,
  rate: rate ?? null,
  mode: rate === undefined ? 'closed' : 'open',
  keyCount,
  valueBytes,
  syncModes: syncs,
  peerTransports: transports,
  baseline: baseline?.label ?? null,
  dataDir: base,
  fsType: baseFsType,
  putKeys: 'new keys (p<round>-<i>)',
  getKeys: 'uniform over the loaded keys',
};
const notMeasured = [
  ...[...unavailable].map(([name, why]) => `NOT MEASURED: ${name}: ${why}`),
  ...results.filter((r) => (r.phase.unsent ?? 0) > 0).map((r) => `round ${r.round}, ${r.target}, ${r.op}: ${r.phase.unsent} scheduled operations not sent or unanswered (offered rate above what it sustains; not in the percentiles)`),
];
const path = writeResult('side-by-side', { meta, unavailable: Object.fromEntries(unavailable), results }, out);
process.stdout.write(
  `\n${table}\n\n${ratios}\n\n${notMeasured.length > 0 ? `${notMeasured.join('\n')}\n\n` : ''}Data on ${meta.fsType} (${base}); ${meta.mode} loop, ${rate === undefined ? `${clients} clients` : `${rate} ops/s offered`}, ${valueBytes}-byte values, medians of ${rounds} round(s) of ${seconds} s.\n${JSON.stringify(meta)}\nresult: ${path}\n`,
);
