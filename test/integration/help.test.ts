/**
 * Every `ringkv` command and every bench script answers `--help` with its usage and exit 0
 * (issue 13, point 2), names every flag it parses, and answers an unknown flag with one line
 * and exit 64 instead of a stack trace. Table-driven; real processes.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { nodeOptions } from '@ringkv/cli';
import { REPO_ROOT, runCli, waitExit } from '../helpers/process.js';

const DEADLINE_MS = 60_000;

/** Each command and the flags it parses (node's come from the parser itself). */
const commands: Record<string, readonly string[]> = {
  up: ['nodes', 'n', 'port', 'dir'],
  node: Object.keys(nodeOptions),
  get: ['r', 'json', 'url', 'timeout-ms', 'token', 'cacert'],
  put: ['w', 'context', 'content-type', 'url', 'timeout-ms', 'token', 'cacert'],
  del: ['w', 'context', 'url', 'timeout-ms', 'token', 'cacert'],
  dt: ['r', 'w', 'context', 'url', 'timeout-ms', 'token', 'cacert'],
  status: ['json', 'watch', 'interval-ms', 'url', 'token', 'dir', 'cacert'],
  ring: ['json', 'url', 'token', 'dir', 'cacert'],
  members: ['json', 'url', 'token', 'dir', 'cacert'],
  preflist: ['json', 'url', 'token', 'dir', 'cacert'],
  leave: ['url', 'token', 'dir', 'cacert'],
  remove: ['url', 'token', 'dir', 'cacert'],
  transfers: ['json', 'url', 'token', 'dir', 'cacert'],
  local: ['json', 'url', 'token', 'dir', 'cacert'],
  repair: ['peer', 'json', 'url', 'token', 'dir', 'cacert'],
  'anti-entropy': ['peer', 'json', 'url', 'token', 'dir', 'cacert'],
  snapshot: ['out', 'url', 'token', 'dir', 'cacert'],
  restore: ['from', 'dir', 'tombstone-grace-ms'],
  watch: ['r', 'context', 'json', 'count', 'poll-timeout-ms', 'url', 'token', 'cacert'],
};

t.test('ringkv <command> --help: usage, every flag, exit 0', async (t) => {
  for (const [command, flags] of Object.entries(commands)) {
    for (const ask of ['--help', '-h']) {
      const result = await runCli(t, [command, ask], DEADLINE_MS);
      t.equal(result.code, 0, `ringkv ${command} ${ask} exits 0`);
      t.match(result.stdout, new RegExp(`^usage: ringkv ${command}`), `ringkv ${command} ${ask} prints its usage`);
      if (ask === '-h') continue;
      const missing = flags.filter((flag) => !result.stdout.includes(`--${flag}`));
      t.same(missing, [], `ringkv ${command} --help names every flag it parses`);
    }
  }
  const top = await runCli(t, ['--help'], DEADLINE_MS);
  t.equal(top.code, 0, 'ringkv --help exits 0');
  for (const command of Object.keys(commands)) t.match(top.stdout, new RegExp(`\\n  ${command} `), `ringkv --help lists ${command}`);
  const bad = await runCli(t, ['up', '--no-such-flag'], DEADLINE_MS);
  t.equal(bad.code, 64, 'an unknown flag is a usage error (64)');
  t.notMatch(bad.stderr, /\n\s+at /, 'without a stack trace');
});

/** Runs a bench script with tsx and returns its exit code and output. */
async function runScript(t: Test, script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const isTs = script.endsWith('.ts');
  const command = isTs ? [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script] : [script];
  const child = spawn(process.execPath, [...command, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const status = await waitExit(child, DEADLINE_MS);
  await closed;
  return { code: status.code, stdout, stderr };
}

const scripts = [
  'bench/ring-bench.ts',
  'bench/side-by-side.ts',
  'bench/scaling.ts',
  'bench/wrk-bench.ts',
  'bench/store-micro.ts',
  'bench/transport-micro.ts',
  'bench/metrics-micro.ts',
  'bench/detection-bench.ts',
  'bench/detection-sim.ts',
  'bench/stall-bench.ts',
  'bench/datatypes-metadata.ts',
  'bench/watch-bench.ts',
  'bench/profile-summary.mjs',
];

t.test('every bench script: --help prints usage and flags and exits 0; an unknown flag exits 64 in one line', async (t) => {
  for (const script of scripts) {
    const help = await runScript(t, script, ['--help']);
    t.equal(help.code, 0, `${script} --help exits 0`);
    t.match(help.stdout, /^usage: /, `${script} --help prints its usage`);
    t.match(help.stdout, /\nflags:\n/, `${script} --help lists its flags`);
    const bad = await runScript(t, script, ['--no-such-flag']);
    t.equal(bad.code, 64, `${script} --no-such-flag exits 64`);
    t.notMatch(bad.stderr, /\n\s+at /, `${script}: no stack trace`);
  }
});
