/**
 * A ring of node processes on this machine: spawns `ringkv node` children, waits until each
 * answers /admin/status, and stops them by PID (SIGTERM, then SIGKILL after a grace period).
 * Used by `ringkv up`; each node logs to <dir>/<id>.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export interface RingNodeSpec {
  readonly id: string;
  readonly port: number;
  readonly dir: string;
}

export interface RunningNode extends RingNodeSpec {
  readonly url: string;
  readonly child: ChildProcess;
  readonly logFile: string;
}

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

export function spawnNode(spec: RingNodeSpec, n: number, secret: string, host = '127.0.0.1'): RunningNode {
  mkdirSync(spec.dir, { recursive: true });
  const logFile = `${spec.dir}.log`;
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [cliMain, 'node', '--id', spec.id, '--port', String(spec.port), '--dir', spec.dir, '--n', String(n), '--host', host],
    { env: { ...process.env, RINGKV_SECRET: secret }, stdio: ['ignore', log, 'inherit'] },
  );
  closeSync(log);
  return { ...spec, url: `http://${host}:${spec.port}`, child, logFile };
}

/** Resolves when the node answers /admin/status; rejects if it exits or the deadline passes. */
export async function waitReady(node: RunningNode, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`node ${node.id} exited (${node.child.exitCode ?? node.child.signalCode}) during start-up; see ${node.logFile}`);
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

/** Stops the processes by PID: SIGTERM, then SIGKILL for any still running after `graceMs`. */
export async function stopNodes(nodes: readonly RunningNode[], graceMs = 15_000): Promise<void> {
  await Promise.all(
    nodes.map(
      (node) =>
        new Promise<void>((resolve) => {
          const child = node.child;
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

export function nodeSpecs(count: number, basePort: number, dir: string): RingNodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ id: `node${i + 1}`, port: basePort + i, dir: join(dir, `node${i + 1}`) }));
}
