/**
 * Runs one benchmark script for a smoke test: `tsx <script> <args>` from the repository root,
 * bounded in time. The script runs in its own process group, so the teardown can stop it and
 * every node it started (SIGKILL to the group, by its id) if the test ends first.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, waitExit, type TestLike } from './process.js';

export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runBenchScript(t: TestLike, script: string, args: readonly string[], deadlineMs = 90_000): Promise<BenchRun> {
  const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  t.teardown(() => {
    try {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  return { code: (await waitExit(child, deadlineMs)).code, stdout, stderr };
}
