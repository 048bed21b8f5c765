/**
 * Helpers for integration tests against real processes on 127.0.0.1: spawning `ringkv node`
 * (and other CLI commands) from the built CLI, waiting for the "node started" log line with
 * a deadline, stopping every process a test started by its PID in the test's teardown, a fresh
 * temporary data directory per test, and polling with a deadline instead of sleeping.
 *
 * Every process started through `spawnNode`/`spawnCli`, and every PID passed to `trackPid`, is
 * stopped by PID (SIGTERM, then SIGKILL after a grace period) when the test ends, pass or fail;
 * the test's temporary directories are removed after that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';

/** The part of a tap Test these helpers use. */
export interface TestLike {
  teardown(fn: () => unknown): void;
}

/** The built CLI entry point. */
export const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
/** The repository root (working directory of spawned CLI processes). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const START_DEADLINE_MS = 20_000;
export const STOP_GRACE_MS = 10_000;
export const DEFAULT_SECRET = 'integration-test-secret';
/**
 * The admin token of every process these helpers spawn (RINGKV_ADMIN_TOKEN in their
 * environment, unless a test passes its own env), so CLI admin commands work against the
 * nodes; `http()` sends it to /admin/ routes unless the test sets an Authorization header.
 */
export const DEFAULT_ADMIN_TOKEN = 'integration-test-admin-token';
const defaultEnv = { RINGKV_ADMIN_TOKEN: DEFAULT_ADMIN_TOKEN };

interface Registry {
  /** PIDs to stop, with the ChildProcess when this process spawned it. */
  pids: Map<number, ChildProcess | undefined>;
  dirs: string[];
  agents: Agent[];
}

const registries = new WeakMap<TestLike, Registry>();

/**
 * Every PID any test registered. Teardowns stop them; this is the last resort for when the test
 * process itself is ended (tap's timeout) before its teardowns ran: SIGKILL by PID at exit.
 */
const everyPid = new Map<number, ChildProcess | undefined>();
process.once('exit', () => {
  for (const [pid, child] of everyPid) {
    try {
      if (!hasExited(child) && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * True once a child we spawned has exited (and was reaped, so its PID may be reused by an
 * unrelated process: it must not be signalled any more).
 */
function hasExited(child: ChildProcess | undefined): boolean {
  return child !== undefined && (child.exitCode !== null || child.signalCode !== null);
}

function track(registry: Registry, pid: number, child?: ChildProcess): void {
  registry.pids.set(pid, child);
  everyPid.set(pid, child);
}

/**
 * The test's registry of processes and directories, created with one teardown that stops every
 * tracked PID first and only then closes HTTP agents and removes the directories (so the order
 * in which tap runs teardowns cannot remove a directory under a running node).
 */
function registryOf(t: TestLike): Registry {
  let registry = registries.get(t);
  if (registry === undefined) {
    const created: Registry = { pids: new Map(), dirs: [], agents: [] };
    registry = created;
    registries.set(t, created);
    t.teardown(async () => {
      await Promise.all(
        [...created.pids].map(async ([pid, child]) => {
          if (!hasExited(child)) {
            // A process a test left SIGSTOPped would only see the SIGTERM after the grace.
            if (pidAlive(pid)) signal(pid, 'SIGCONT');
            await stopByPid(pid);
          }
          everyPid.delete(pid);
        }),
      );
      await Promise.all(created.agents.map((agent) => agent.close().catch(() => agent.destroy())));
      await Promise.all(created.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });
  }
  return registry;
}

/** Registers a PID the test did not spawn itself (a grandchild) to be stopped in teardown. */
export function trackPid(t: TestLike, pid: number): void {
  track(registryOf(t), pid);
}

/** A fresh directory under the OS temp dir, removed when the test ends. */
export async function tempDir(t: TestLike, prefix = 'ringkv-it-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  registryOf(t).dirs.push(dir);
  return dir;
}

/** An undici Agent for the test's HTTP requests, closed when the test ends. */
export function httpAgent(t: TestLike): Agent {
  const agent = new Agent({ keepAliveTimeout: 1_000, connections: 64 });
  registryOf(t).agents.push(agent);
  return agent;
}

/**
 * True while `pid` names a process that has not exited. A zombie (exited, not yet reaped, which
 * happens to orphans when PID 1 does not reap) counts as gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // Without /proc (not Linux) trust kill(0); with it, an unreadable stat means it just exited.
    return !existsSync('/proc/self/stat');
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the deadline passes
 * (which rejects with `what` in the message). Exceptions from the condition count as "not yet".
 */
export async function waitFor<T>(condition: () => T | Promise<T>, deadlineMs: number, what = 'condition', intervalMs = 25): Promise<NonNullable<T>> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= until) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Kills a process by PID at once (SIGKILL, as a crash or an OOM kill would: no shutdown code
 * runs) and waits until it is gone. A stopped (SIGSTOPped) process dies too.
 */
export async function killByPid(pid: number): Promise<void> {
  if (!pidAlive(pid)) return;
  signal(pid, 'SIGKILL');
  await waitFor(() => !pidAlive(pid), 10_000, `pid ${pid} to exit after SIGKILL`);
}

/** Resumes a SIGSTOPped process by PID (no-op when it is gone). */
export function continueByPid(pid: number): void {
  signal(pid, 'SIGCONT');
}

/** Stops a process by PID: SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopByPid(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!pidAlive(pid)) return;
  signal(pid, 'SIGTERM');
  try {
    await waitFor(() => !pidAlive(pid), graceMs, `pid ${pid} to exit after SIGTERM`);
    return;
  } catch {
    signal(pid, 'SIGKILL');
  }
  await waitFor(() => !pidAlive(pid), 10_000, `pid ${pid} to exit after SIGKILL`);
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves with the child's exit status, or rejects if it has not exited within `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      reject(new Error(`pid ${child.pid} did not exit within ${ms} ms`));
    }, ms);
    const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal: sig });
    };
    child.once('exit', onExit);
  });
}

/** Output collected from a process, updated as it arrives. */
export interface ProcessLogs {
  /** Complete stdout lines. */
  readonly stdout: string[];
  /** Everything written to stderr. */
  stderr: string;
}

export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: ProcessLogs;
  /** Emits 'line' for each stdout line (after it was added to logs.stdout). */
  readonly lines: Interface;
}

/**
 * Spawns `node <CLI_MAIN> ...args`, collecting stdout lines and stderr; the process is stopped
 * by PID in the test's teardown. `prefix` runs it through a command that execs it in place
 * (`ip netns exec NS`), so the PID is still the node's.
 */
export function spawnCli(t: TestLike, args: readonly string[], env: NodeJS.ProcessEnv = {}, main = CLI_MAIN, prefix: readonly string[] = []): SpawnedProcess {
  const argv = [...prefix, process.execPath, main, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...defaultEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${main}`);
  track(registryOf(t), child.pid, child);
  const logs: ProcessLogs = { stdout: [], stderr: '' };
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => logs.stdout.push(line));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    logs.stderr += chunk;
  });
  return { child, pid: child.pid, logs, lines };
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion (within `deadlineMs`) and returns its exit and output. */
export async function runCli(t: TestLike, args: readonly string[], deadlineMs = START_DEADLINE_MS, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...defaultEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${CLI_MAIN}`);
  track(registryOf(t), child.pid, child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close' (not 'exit') so that all output has been read.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const status = await waitExit(child, deadlineMs);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
  clearTimeout(timer);
  return { ...status, stdout, stderr };
}

export interface NodeOptions {
  readonly id?: string;
  /** Data directory; a fresh temp dir when absent. */
  readonly dir?: string;
  /** Cluster secret passed as --secret; '' passes none (the node then uses RINGKV_SECRET or its dir). */
  readonly secret?: string;
  readonly n?: number;
  /** HTTP port; 0 (OS-chosen) unless a test needs a specific one. */
  readonly port?: number;
  readonly logLevel?: string;
  readonly extraArgs?: readonly string[];
  readonly startDeadlineMs?: number;
  /** Environment on top of the helpers' defaults (RINGKV_ADMIN_TOKEN: '' for none; libfaketime's LD_PRELOAD and FAKETIME). */
  readonly env?: NodeJS.ProcessEnv;
  /** The CLI program to run (default: the workspace's built CLI; bundle.test.ts runs a bundled one). */
  readonly main?: string;
  /** A command that execs the node in place, such as `ip netns exec NS` (see spawnCli). */
  readonly prefix?: readonly string[];
}

export interface NodeProcess extends SpawnedProcess {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly id: string;
  readonly secret: string;
}

/** The argv of `ringkv node` for these options. */
export function nodeArgs(options: NodeOptions & { dir: string }): string[] {
  return [
    'node',
    '--id',
    options.id ?? 'node1',
    '--port',
    String(options.port ?? 0),
    '--gossip-port',
    '0',
    '--dir',
    options.dir,
    '--n',
    String(options.n ?? 1),
    ...(options.secret === '' ? [] : ['--secret', options.secret ?? DEFAULT_SECRET]),
    '--log-level',
    options.logLevel ?? 'info',
    ...(options.extraArgs ?? []),
  ];
}

/**
 * Starts `ringkv node` and resolves once it logged "node started" (with the URL it bound).
 * Rejects with the collected stderr if the process exits first, or when the deadline passes.
 */
export async function spawnNode(t: TestLike, options: NodeOptions = {}): Promise<NodeProcess> {
  const dir = options.dir ?? (await tempDir(t));
  const id = options.id ?? 'node1';
  const secret = options.secret ?? DEFAULT_SECRET;
  const proc = spawnCli(t, nodeArgs({ ...options, dir }), options.env, options.main, options.prefix);
  const deadlineMs = options.startDeadlineMs ?? START_DEADLINE_MS;
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.child.off('close', onClose);
      proc.lines.off('line', onLine);
      if (error !== undefined) reject(error);
      else resolve(value!);
    };
    const onLine = (line: string) => {
      if (!line.includes('"node started"')) return;
      try {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'node started' && typeof parsed.url === 'string') finish(undefined, parsed.url);
      } catch {
        // Not a JSON log line.
      }
    };
    // 'close' comes after the exit and after stdout and stderr were read to their end.
    const onClose = (code: number | null, sig: NodeJS.Signals | null) => {
      finish(new Error(`node ${id} exited (${code ?? sig}) before "node started"; stderr:\n${proc.logs.stderr}`));
    };
    const timer = setTimeout(
      () => finish(new Error(`node ${id} did not log "node started" within ${deadlineMs} ms; stderr:\n${proc.logs.stderr}`)),
      deadlineMs,
    );
    // Lines that arrived before this listener was attached are in logs.stdout.
    for (const line of proc.logs.stdout) onLine(line);
    proc.lines.on('line', onLine);
    proc.child.once('close', onClose);
  });
  return { ...proc, url, port: Number(new URL(url).port), dir, id, secret };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * One HTTP request through undici; the body is read in full. Requests to /admin/ carry the
 * helpers' admin token unless `headers` has an Authorization header of its own.
 */
export async function http(
  dispatcher: Dispatcher,
  method: Dispatcher.HttpMethod,
  url: string,
  options: { headers?: Record<string, string>; body?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const headers = { ...options.headers };
  if (url.includes('/admin/') && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) headers.authorization = `Bearer ${DEFAULT_ADMIN_TOKEN}`;
  const response = await request(url, {
    dispatcher,
    method,
    headers,
    body: options.body ?? null,
    headersTimeout: options.timeoutMs ?? 15_000,
    bodyTimeout: options.timeoutMs ?? 15_000,
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, body, json };
}

/** A response header as one string (the first value when repeated). */
export function headerOf(answer: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The error code of a JSON error body, if any. */
export function errorCode(answer: { json: unknown }): string | undefined {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}
