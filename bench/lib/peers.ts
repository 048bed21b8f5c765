/**
 * The processes the side-by-side and wrk runs compare ringkv with: the do-nothing Node HTTP
 * server (bench/null-server.mjs) and an etcd cluster started by ../shared/peers/etcd-bench.sh
 * (which installs etcd from Debian's archive when it is missing). Everything on 127.0.0.1;
 * everything started is stopped by PID, and every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from '@ringkv/cli';

export const ETCD_SCRIPT = fileURLToPath(new URL('../../../shared/peers/etcd-bench.sh', import.meta.url));
const NULL_SERVER = fileURLToPath(new URL('../null-server.mjs', import.meta.url));

export interface Peer {
  readonly endpoints: string[];
  readonly pids: number[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True while `pid` is an etcd process (so a PID reused by something else is never signalled). */
function etcdAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'etcd';
  } catch {
    return false;
  }
}

/** Starts the do-nothing server; resolves once it printed its URL (at most 10 s). */
export async function startNullServer(): Promise<Peer> {
  const child = spawn(process.execPath, [NULL_SERVER, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the do-nothing server did not start within 10 s')), 10_000);
      child.once('exit', (code) => reject(new Error(`the do-nothing server exited (${code})`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      });
    });
    return { endpoints: [url], pids: [child.pid!], stop: () => stopChild(child, 5_000) };
  } catch (error) {
    await stopChild(child, 5_000);
    throw error;
  }
}

/** True if nothing listens on 127.0.0.1:port. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs the etcd script with `args`, bounded by `timeoutMs` (killed by PID past it). */
function runScript(args: string[], stateDir: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [ETCD_SCRIPT, ...args], { env: { ...process.env, ETCD_BENCH_STATE: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${String(error)}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** PIDs the etcd script recorded for the members it started. */
function etcdPids(stateDir: string): number[] {
  try {
    return readFileSync(`${stateDir}/pids`, 'utf8').split('\n').map(Number).filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

/** Stops by PID any member the script's own stop left running (SIGKILL after 5 s). */
async function reapEtcd(pids: readonly number[]): Promise<void> {
  for (const pid of pids) if (etcdAlive(pid)) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && pids.some(etcdAlive); i++) await sleep(100);
  for (const pid of pids) if (etcdAlive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts an etcd cluster of `members` on 127.0.0.1 (client ports 23791…, peer ports 23801…)
 * with its data under `dataDir` (etcd fsyncs its WAL; on tmpfs that costs nothing). Throws
 * with a one-line reason when etcd cannot be installed or started.
 */
export async function startEtcd(members: number, dataDir: string, stateDir: string): Promise<Peer> {
  if (!existsSync(ETCD_SCRIPT)) throw new Error(`${ETCD_SCRIPT} not found`);
  for (let i = 1; i <= members; i++) {
    for (const port of [23790 + i, 23800 + i]) {
      if (!(await portFree(port))) throw new Error(`port ${port} is in use (another etcd-bench run?)`);
    }
  }
  mkdirSync(stateDir, { recursive: true });
  // Installing from Debian's archive can take a few minutes the first time.
  const started = await runScript(['start', String(members), dataDir], stateDir, 600_000);
  const pids = etcdPids(stateDir);
  const endpoints = started.stdout.trim().split('\n').at(-1) ?? '';
  if (started.code !== 0 || !endpoints.startsWith('http://')) {
    await runScript(['stop'], stateDir, 30_000);
    await reapEtcd(pids);
    const reason = started.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ') || `exit ${started.code}`;
    throw new Error(`etcd could not be installed or started: ${reason}`);
  }
  return {
    endpoints: endpoints.split(','),
    pids,
    stop: async () => {
      await runScript(['stop'], stateDir, 30_000);
      await reapEtcd(pids);
    },
  };
}
