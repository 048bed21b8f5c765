// A few-second smoke run of the benchmark script, so CI proves it still works. The figures
// it prints are not asserted on: benchmarks are not timed tests.
import t, { type Test } from 'tap';
import { waitExit, REPO_ROOT } from '../helpers/process.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs the bench script with `args` (bounded to 60 s); returns its exit code and stdout. */
async function runBench(t: Test, args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bench/ring-bench.ts', '--rings', '1', '--seconds', '1', '--clients', '4', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { code: (await waitExit(child, 60_000)).code, stdout };
}

t.test('bench/ring-bench.ts runs a 1-node ring and prints its table', async (t) => {
  const { code, stdout } = await runBench(t, ['--keys', '100']);
  t.equal(code, 0, 'exits 0');
  t.match(stdout, /\| ring \| op \| ops\/s \| p50 ms/, 'prints the Markdown table');
  t.match(stdout, /\| 1 node \(N=1, R=W=1\) \| put \| \d+ /, 'with a PUT row');
  t.match(stdout, /\| 1 node \(N=1, R=W=1\) \| get \| \d+ /, 'and a GET row');
});

for (const [workload, distribution] of [['a', 'zipfian'], ['write', 'uniform']] as const) {
  t.test(`bench/ring-bench.ts runs workload ${workload} (${distribution})`, async (t) => {
    const { code, stdout } = await runBench(t, ['--keys', '50', '--workload', workload, '--distribution', distribution]);
    t.equal(code, 0, 'exits 0');
    t.match(stdout, new RegExp(`\\| 1 node \\(N=1, R=W=1\\), ${workload} ${distribution} \\| put \\| \\d+ `), 'an update row');
    t.notMatch(stdout, /KV_ERR_/, 'no request failed');
  });
}
