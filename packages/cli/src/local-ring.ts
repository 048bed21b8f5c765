/**
 * A ring of node processes on this machine: spawns `ringkv node` children, waits until each
 * answers /admin/status, and stops them by PID (SIGTERM, then SIGKILL after a grace period).
 * Used by `ringkv up`; each node logs to <dir>/<id>.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { internalHeaders, resolveAdminToken } from '@ringkv/node';

export interface RingNodeSpec {
  readonly id: string;
  readonly port: number;
  readonly dir: string;
  /** UDP/TCP gossip port; 0 lets the OS pick. */
  readonly gossipPort?: number;
}

export interface RunningNode extends RingNodeSpec {
  /** Base URL; known once the node logged "node started" (port 0 is chosen by the OS). */
  url: string;
  /** Gossip address host:port, from the same log line. */
  gossipAddress: string;
  readonly child: ChildProcess;
  readonly logFile: string;
}

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

export interface SpawnOptions {
  readonly n: number;
  readonly secret: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Extra `ringkv node` arguments. */
  readonly extraArgs?: readonly string[];
  /** Gossip addresses to join through. */
  readonly seeds?: readonly string[];
  /**
   * Node.js runtime flags, before the script (for example `--cpu-prof --cpu-prof-dir DIR` to
   * profile a node under a benchmark).
   */
  readonly nodeArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The CLI script to run: default this package's own; a benchmark's A/B names another
   * checkout's build (`<checkout>/packages/cli/dist/main.js`).
   */
  readonly main?: string;
}

/** Starts one `ringkv node` process. */
export function spawnNode(spec: RingNodeSpec, options: SpawnOptions): RunningNode {
  const { n, secret, host = '127.0.0.1', extraArgs = [], seeds = [], nodeArgs = [], env = {}, main = cliMain } = options;
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  const logFile = `${spec.dir}.log`;
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs, main, 'node', '--id', spec.id, '--port', String(spec.port), '--gossip-port', String(spec.gossipPort ?? 0),
      '--dir', spec.dir, '--n', String(n), '--host', host, '--log-level', 'info',
      ...(seeds.length > 0 ? ['--seeds', seeds.join(',')] : []), ...extraArgs,
    ],
    { env: { ...process.env, RINGKV_SECRET: secret, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const node: RunningNode = { ...spec, url: spec.port === 0 ? '' : `http://${host}:${spec.port}`, gossipAddress: '', child, logFile };
  // The node's JSON log goes to its file; its "node started" line tells the bound URL.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    if (line.includes('"node started"')) {
      try {
        const started = JSON.parse(line) as { url: string; gossipAddress: string | null };
        node.url = started.url;
        node.gossipAddress = started.gossipAddress ?? '';
      } catch {
        // Not a JSON log line; ignore.
      }
    }
  });
  child.once('exit', () => log.end());
  return node;
}

/** Resolves when the node answers /admin/status; rejects if it exits or the deadline passes. */
export async function waitReady(node: RunningNode, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`node ${node.id} exited (${node.child.exitCode ?? node.child.signalCode}) during start-up; see ${node.logFile}`);
    }
    if (node.url === '' || node.gossipAddress === '') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      const response = await request(`${node.url}/admin/status`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`node ${node.id} did not answer at ${node.url} within ${deadlineMs} ms; see ${node.logFile}`);
}

/** Stops a child process by PID: SIGTERM, then SIGKILL if still running after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops the processes by PID: SIGTERM, then SIGKILL for any still running after `graceMs`. */
export async function stopNodes(nodes: readonly RunningNode[], graceMs = 15_000): Promise<void> {
  await Promise.all(nodes.map((node) => stopChild(node.child, graceMs)));
}

/**
 * Node i gets HTTP port basePort + i and gossip port basePort + 1000 + i, or OS-chosen ports
 * for every node when basePort is 0.
 */
export function nodeSpecs(count: number, basePort: number, dir: string): RingNodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `node${i + 1}`,
    port: basePort === 0 ? 0 : basePort + i,
    gossipPort: basePort === 0 ? 0 : basePort + 1000 + i,
    dir: join(dir, `node${i + 1}`),
  }));
}

/**
 * Tells every node the full member list (authenticated POST /internal/members), then waits
 * until each reports a ring of that size: the ring has converged when this resolves.
 */
export async function joinRing(nodes: readonly RunningNode[], secret: string, deadlineMs: number): Promise<void> {
  const body = Buffer.from(JSON.stringify({ members: nodes.map((node) => ({ id: node.id, address: node.url })) }));
  const until = Date.now() + deadlineMs;
  for (const node of nodes) {
    const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, secret, 'ringkv-cli', '/internal/members', body)) };
    const response = await request(`${node.url}/internal/members`, { method: 'POST', body, headers, headersTimeout: 5_000, bodyTimeout: 5_000 });
    const text = await response.body.text();
    if (response.statusCode !== 204) throw new Error(`node ${node.id} refused its member list: ${response.statusCode} ${text}`);
  }
  for (const node of nodes) {
    for (;;) {
      const response = await request(`${node.url}/admin/status`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
      const status = (await response.body.json()) as { ringSize?: number };
      if (status.ringSize === nodes.length) break;
      if (Date.now() > until) throw new Error(`node ${node.id} did not see the full ring within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Waits until every node reports a ring of `size` members, all alive (gossip has converged). */
export async function waitConverged(nodes: readonly RunningNode[], size: number, deadlineMs: number, onProgress?: (converged: number, total: number) => void): Promise<void> {
  const until = Date.now() + deadlineMs;
  const converged = new Set<string>();
  for (;;) {
    for (const node of nodes) {
      if (converged.has(node.id)) continue;
      const response = await request(`${node.url}/admin/status`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
      const status = (await response.body.json()) as { ringSize?: number; members?: { alive?: number } };
      if (status.ringSize === size && status.members?.alive === size) converged.add(node.id);
    }
    onProgress?.(converged.size, nodes.length);
    if (converged.size === nodes.length) return;
    const waiting = nodes.find((node) => !converged.has(node.id))!;
    if (Date.now() > until) throw new Error(`node ${waiting.id} did not see all ${size} members alive within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface LocalRingOptions {
  readonly count: number;
  readonly n: number;
  /** HTTP base port (node i on basePort + i, gossip on basePort + 1000 + i); 0 = OS-chosen. */
  readonly basePort: number;
  readonly dir: string;
  readonly secret: string;
  /** The admin token of every node; default: the one kept in `dir`/admin-token (created if missing). */
  readonly adminToken?: string;
  /** Extra `ringkv node` arguments for every node (for example `--sync normal`). */
  readonly extraArgs?: readonly string[];
  /** Node.js runtime flags for every node process (for example `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** The CLI script every node runs (SpawnOptions.main). */
  readonly main?: string;
  readonly deadlineMs?: number;
}

/**
 * Starts a local ring the way `ringkv up` does: node1 alone, the others joining through its
 * gossip address, then waits until every node sees every member alive. If start-up fails,
 * every process it started is stopped before the error is thrown.
 */
export async function startLocalRing(options: LocalRingOptions): Promise<RunningNode[]> {
  const deadlineMs = options.deadlineMs ?? 30_000;
  const specs = nodeSpecs(options.count, options.basePort, options.dir);
  const env = { RINGKV_ADMIN_TOKEN: resolveAdminToken(options.adminToken, options.dir, process.env) };
  const spawnOptions: SpawnOptions = { n: options.n, secret: options.secret, extraArgs: options.extraArgs ?? [], nodeArgs: options.nodeArgs ?? [], env, ...(options.main === undefined ? {} : { main: options.main }) };
  const nodes = [spawnNode(specs[0]!, spawnOptions)];
  try {
    await waitReady(nodes[0]!, deadlineMs);
    const seed = nodes[0]!.gossipAddress;
    nodes.push(...specs.slice(1).map((spec) => spawnNode(spec, { ...spawnOptions, seeds: [seed] })));
    await Promise.all(nodes.map((node) => waitReady(node, deadlineMs)));
    await waitConverged(nodes, options.count, deadlineMs);
    return nodes;
  } catch (error) {
    await stopNodes(nodes);
    throw error;
  }
}
