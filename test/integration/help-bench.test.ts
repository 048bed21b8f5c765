/**
 * Every bench script answers `--help` with its usage and flags and exit 0, and an unknown flag
 * with one line and exit 64 instead of a stack trace (issue 13, point 2). Real processes (tsx),
 * two scripts at a time. The `ringkv` commands' half is help.test.ts.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, waitExit } from '../helpers/process.js';

const DEADLINE_MS = 60_000;

/**
 * Runs a bench script and returns its exit code and output. The .ts ones run in node with tsx's
 * loader (`--import tsx`), as `tsx <script>` runs them, without the tsx command's own node
 * process in front: 34 runs of a second of CPU each on a shared core.
 */
async function runScript(t: Test, script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const isTs = script.endsWith('.ts');
  const command = isTs ? ['--import', 'tsx', script] : [script];
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

/** Every script in bench/ (the .ts ones run with tsx) and the profile summariser: none is forgotten. */
const scripts = [
  ...readdirSync(join(REPO_ROOT, 'bench'))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => `bench/${name}`),
  'bench/profile-summary.mjs',
];

t.test('every bench script: --help prints usage and flags and exits 0; an unknown flag exits 64 in one line', async (t) => {
  t.ok(scripts.length > 10, 'the bench scripts are found');
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < scripts.length) await check(scripts[next++]!);
  }));
  async function check(script: string): Promise<void> {
    const help = await runScript(t, script, ['--help']);
    t.equal(help.code, 0, `${script} --help exits 0`);
    t.match(help.stdout, /^usage: /, `${script} --help prints its usage`);
    t.match(help.stdout, /\nflags:\n/, `${script} --help lists its flags`);
    const bad = await runScript(t, script, ['--no-such-flag']);
    t.equal(bad.code, 64, `${script} --no-such-flag exits 64`);
    t.notMatch(bad.stderr, /\n\s+at /, `${script}: no stack trace`);
  }
});
