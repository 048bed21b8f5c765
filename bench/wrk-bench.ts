/**
 * ringkv under Debian's `wrk` (an independent C load generator, so the Node client's cost does
 * not hide the server's), with bench/wrk/ringkv.lua for random keys: for each ring in --rings
 * (and the do-nothing Node HTTP server as the ceiling, unless --ceiling false) it loads --keys
 * keys, then runs `wrk -t T -c C -d S --latency -s bench/wrk/ringkv.lua` once per mode in
 * --modes (get: random loaded keys; put: new keys; mix: 50/50), wrk threads spread over the
 * ring's nodes, and prints req/s, latency percentiles, errors and the nodes' CPU %. wrk is
 * closed loop (latency from each send). wrk is installed with apt-get when missing; if that
 * fails the run says so and exits 3. Every process started is stopped by PID; each wrk run is
 * killed if it outlives its duration by 30 s.
 *
 *   pnpm bench:wrk [--rings 1,3] [--modes get,put,mix] [--seconds 10] [--connections 64]
 *                  [--threads 2] [--keys 10000] [--value-bytes 100] [--sync full|normal]
 *                  [--ceiling true|false] [--out FILE]
 *
 * By hand, against a ring from `npm start` (keys bench-0.. loaded first):
 *   WRK_MODE=get WRK_KEYS=10000 WRK_PORTS=7070,7071,7072 wrk -t3 -c64 -d10s --latency \
 *     -s bench/wrk/ringkv.lua http://127.0.0.1:7070
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { RingkvClient } from '@ringkv/client';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { runPhase } from './lib/load.js';
import { startNullServer, type Peer } from './lib/peers.js';
import { CpuMeter, fmt, fsType, machine, markdownTable, writeResult } from './lib/report.js';
import { benchArgs } from './lib/cli.js';
const USAGE = "usage: pnpm bench:wrk [--rings 1,3] [--modes get,put,mix] [--seconds 10] [--connections 64] [flags]\n\nDebian`s wrk (C, closed loop) against the do-nothing server and ringkv rings.";

const { values } = benchArgs({
  options: {
    rings: { type: 'string', default: '1,3' },
    modes: { type: 'string', default: 'get,put,mix' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    keys: { type: 'string', default: '10000' },
    'value-bytes': { type: 'string', default: '100' },
    sync: { type: 'string', default: 'full' },
    ceiling: { type: 'string', default: 'true' },
    out: { type: 'string' },
  },
}, USAGE);
const LUA = fileURLToPath(new URL('./wrk/ringkv.lua', import.meta.url));
const rings = values.rings!.split(',').filter(Boolean).map(Number);
const modes = values.modes!.split(',');
if (modes.some((m) => !['get', 'put', 'mix'].includes(m))) throw new Error('--modes must list get, put and/or mix');
if (values.sync !== 'full' && values.sync !== 'normal') throw new Error('--sync must be full or normal');
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const threadsWanted = Number(values.threads);
const keyCount = Number(values.keys);
const valueBytes = Number(values['value-bytes']);
for (const [name, x] of Object.entries({ seconds, connections, threads: threadsWanted, keys: keyCount, 'value-bytes': valueBytes })) {
  if (!(x > 0) || !Number.isInteger(x)) throw new Error(`--${name} must be a positive integer`);
}

function haveWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version prints its usage and exits 1: it is there.
    return (error as { code?: string }).code !== 'ENOENT';
  }
}

if (!haveWrk()) {
  process.stderr.write('wrk is not installed; trying apt-get install -y wrk...\n');
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    process.stdout.write(`wrk could not be installed (apt-get install -y wrk failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n').at(-1)}); nothing measured.\n`);
    process.exit(3);
  }
  if (!haveWrk()) {
    process.stdout.write('wrk could not be installed; nothing measured.\n');
    process.exit(3);
  }
}

interface WrkSummary {
  requests: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  status_errors: number;
  timeouts: number;
}

/** Runs wrk once against `endpoints` (threads spread over them); bounded to seconds + 30 s. */
function runWrk(endpoints: readonly string[], mode: string): Promise<{ summary?: WrkSummary; output: string; args: string[] }> {
  const threads = Math.max(threadsWanted, endpoints.length);
  const ports = endpoints.map((url) => new URL(url).port).join(',');
  const args = [`-t${threads}`, `-c${Math.max(connections, threads)}`, `-d${seconds}s`, '--latency', '-s', LUA, endpoints[0]!];
  const env = { ...process.env, WRK_MODE: mode, WRK_KEYS: String(keyCount), WRK_VALUE_BYTES: String(valueBytes), WRK_PORTS: ports, WRK_RUN: randomBytes(4).toString('hex') };
  return new Promise((resolve) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('exit', () => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
      resolve({ ...(line ? { summary: JSON.parse(line.slice('WRK_JSON '.length)) as WrkSummary } : {}), output, args });
    });
  });
}

interface Row {
  target: string;
  mode: string;
  summary?: WrkSummary;
  nodeCpuPercent: number;
  args: string[];
  output: string;
}
const rows: Row[] = [];

async function measure(target: string, peer: Peer, preload: boolean): Promise<void> {
  if (preload) {
    const client = new RingkvClient({ urls: peer.endpoints, connectionsPerNode: 32 });
    const value = randomBytes(valueBytes);
    try {
      process.stderr.write(`${target}: loading ${keyCount} keys...\n`);
      await runPhase({ label: 'load', seconds: 1800, clients: 128, maxOps: keyCount, exec: async ({ index, t0 }, rec) => {
        try {
          await client.put(`bench-${index}`, value, { contentType: 'application/octet-stream' });
          rec.ok('put', t0);
        } catch {
          rec.fail('put', t0, 'load');
        }
      } });
    } finally {
      await client.close();
    }
  }
  for (const mode of modes) {
    process.stderr.write(`${target}: wrk ${mode}, ${seconds} s...\n`);
    const cpu = new CpuMeter(peer.pids);
    cpu.start();
    const run = await runWrk(peer.endpoints, mode);
    const nodeCpu = Object.values(cpu.stop()).reduce((a, b) => a + b, 0);
    if (run.summary === undefined) process.stderr.write(`${target}: wrk printed no summary:\n${run.output}\n`);
    rows.push({ target, mode, ...(run.summary ? { summary: run.summary } : {}), nodeCpuPercent: nodeCpu, args: run.args, output: run.output });
  }
}

if (values.ceiling !== 'false') {
  const peer = await startNullServer();
  try {
    await measure('do-nothing Node HTTP server (ceiling)', peer, false);
  } finally {
    await peer.stop();
  }
}
const secret = randomBytes(18).toString('base64url');
for (const count of rings) {
  const n = Math.min(3, count);
  const target = `ringkv ${count} node${count > 1 ? 's' : ''} (N=${n}, R=W=${Math.floor(n / 2) + 1}), sync=${values.sync}`;
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-wrk-'));
  const nodes = await startLocalRing({ count, n, basePort: 0, dir, secret, extraArgs: ['--sync', values.sync!] });
  try {
    await measure(target, { endpoints: nodes.map((node) => node.url), pids: nodes.map((node) => node.child.pid!), stop: async () => undefined }, true);
  } finally {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }
}

const table = markdownTable(
  ['target', 'mode', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'server CPU %'],
  'llrrrrrrlr',
  rows.map((r) => {
    const s = r.summary;
    if (s === undefined) return [r.target, r.mode, 'wrk failed', '', '', '', '', '', '', r.nodeCpuPercent.toFixed(0)];
    const errors = Object.entries({ status: s.status_errors, connect: s.connect_errors, read: s.read_errors, write: s.write_errors, timeout: s.timeouts }).filter(([, k]) => k > 0).map(([what, k]) => `${what} ${k}`).join(', ') || '0';
    return [r.target, r.mode, Math.round(s.rps), fmt(s.p50_ms), fmt(s.p90_ms), fmt(s.p99_ms), fmt(s.p999_ms), fmt(s.max_ms), errors, r.nodeCpuPercent.toFixed(0)];
  }),
);
const meta = { ...machine(), bench: 'wrk', wrk: 'Debian wrk 4.x (closed loop)', seconds, connections, threads: threadsWanted, keyCount, valueBytes, sync: values.sync, fsType: fsType(tmpdir()), lua: 'bench/wrk/ringkv.lua' };
const path = writeResult('wrk', { meta, rows }, values.out);
process.stdout.write(`\n${table}\n\n${JSON.stringify(meta)}\nresult: ${path}\n`);
process.exit(rows.every((r) => r.summary !== undefined) ? 0 : 1);
