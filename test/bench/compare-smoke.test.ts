// A few-second smoke run of the side-by-side, scaling and wrk benchmark scripts: they run,
// stop what they started and print well-formed tables and JSON. Figures are not asserted on
// (benchmarks are not timed tests), and etcd is left out (CI does not install it).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/process.js';
import { runBenchScript } from '../helpers/bench.js';
import { ensureDebianPackage, which } from '../helpers/debian-package.js';

t.test('bench/side-by-side.ts compares the ceiling with a 1-node ring', async (t) => {
  const out = join(await tempDir(t, 'ringkv-bench-smoke-'), 'result.json');
  const { code, stdout } = await runBenchScript(t, 'bench/side-by-side.ts', ['--rounds', '1', '--seconds', '1', '--warmup', '0', '--keys', '50', '--clients', '4', '--sync', 'full', '--targets', 'ceiling,ringkv1', '--out', out]);
  t.equal(code, 0, 'exits 0');
  t.match(stdout, /\| do-nothing Node HTTP server \(ceiling\) \| put \| \d+ /, 'a ceiling row');
  t.match(stdout, /\| ringkv 1 node \(N=1, R=W=1\), sync=full \| get \| \d+ /, 'a ringkv row');
  t.match(stdout, /\| ratio \| ops\/s \| goal \| p99 \| goal \| CPU µs\/op \| goal \|/, 'the ratios table, with CPU per op');
  t.match(stdout, /\| target CPU % \| CPU µs\/op \| wake-ups\/op \| loadgen CPU % \|/, 'a CPU-µs-per-op column and a wake-ups-per-op column');
  // A node's PUT sleeps and wakes at least for its fsyncs: wake-ups per op cannot be zero.
  t.match(stdout, /\| ringkv 1 node \(N=1, R=W=1\), sync=full \| put \| \d+ (\| [^|]+ ){7}\| (0\.0[1-9]|0\.[1-9]\d|[1-9]\d*\.\d\d) \|/, 'a ringkv put row with nonzero wake-ups per op');
  t.match(stdout, /\| ringkv 1 node \(N=1, R=W=1\), sync=full \| put \| \d+ (\| [^|]+ ){6}\| [1-9]\d* \|/, 'a ringkv put row with a nonzero CPU µs/op');
  t.match(stdout, /\| ringkv 1 node sync=full \/ ceiling, put \| [\d.]+x \|[^|]*\| [\d.]+x \|[^|]*\| [\d.]+x \|/, 'a ratio of CPU per op');
  const result = JSON.parse(readFileSync(out, 'utf8')) as { results: { target: string; op: string; stats: { ops: number }; cpuMicrosPerOp: number; wakeupsPerOp: number }[] };
  t.equal(result.results.length, 4, 'put and get for both targets in the JSON result');
  t.ok(result.results.every((r) => r.stats.ops > 0), 'every phase recorded operations');
  t.ok(result.results.filter((r) => r.target.startsWith('ringkv')).every((r) => r.cpuMicrosPerOp > 0), 'ringkv phases have CPU per op, from /proc');
  t.ok(result.results.filter((r) => r.target.startsWith('ringkv') && r.op === 'put').every((r) => r.wakeupsPerOp > 0), 'ringkv PUT phases have wake-ups per op, from /proc');
});

t.test('bench/scaling.ts measures a ring and a small key sweep', async (t) => {
  const out = join(await tempDir(t, 'ringkv-bench-smoke-'), 'result.json');
  const { code, stdout } = await runBenchScript(t, 'bench/scaling.ts', ['--rings', '1', '--seconds', '1', '--warmup', '0', '--keys', '50', '--clients', '4', '--key-counts', '100,200', '--sweep-seconds', '1', '--out', out]);
  t.equal(code, 0, 'exits 0');
  t.match(stdout, /\| 1 node \(N=1, R=W=1\) \| put \| \d+ .*\| \d+ \| \d+ \| \d+ \|/, 'a ring row with CPU columns');
  t.match(stdout, /\| 200 \| \d+ \| [\d.]+ \/ [\d.]+ \| \d+ \|/, 'a key-sweep row');
  const result = JSON.parse(readFileSync(out, 'utf8')) as { keys: { keys: number; dataBytes: number; rssBytes: number[] }[] };
  t.same(result.keys.map((k) => k.keys), [100, 200], 'both key counts');
  t.ok(result.keys.every((k) => k.dataBytes > 0 && (k.rssBytes[0] ?? 0) > 0), 'data size and RSS recorded');
});

t.test('bench/wrk-bench.ts runs wrk with the Lua script against a 1-node ring', async (t) => {
  // wrk comes from Debian's archive; the setup installs it when missing (never a skip).
  ensureDebianPackage('wrk', () => which('wrk'));
  const { code, stdout } = await runBenchScript(t, 'bench/wrk-bench.ts', ['--rings', '1', '--modes', 'get,put', '--seconds', '1', '--connections', '4', '--keys', '50', '--ceiling', 'false']);
  t.equal(code, 0, 'exits 0');
  t.match(stdout, /\| ringkv 1 node \(N=1, R=W=1\), sync=full \| get \| \d+ /, 'a GET row');
  t.match(stdout, /\| ringkv 1 node \(N=1, R=W=1\), sync=full \| put \| \d+ [^\n]*\| 0 \| \d+ \|/, 'a PUT row without errors');
});
