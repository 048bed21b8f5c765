/**
 * What the benchmarks print and keep: machine facts, per-process CPU and memory read from
 * /proc (Linux), sizes on disk, Markdown tables, and the JSON result file in bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpStats } from './load.js';

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK; 100 on Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; undefined if gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: state is field 3,
    // utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of each thread of a process, user and system apart, from /proc/<pid>/task/<tid>/stat
 * (the main thread is the one whose id is the pid); threads that end meanwhile are left out.
 */
export function threadCpuSeconds(pid: number): Array<{ main: boolean; user: number; system: number }> {
  const threads: Array<{ main: boolean; user: number; system: number }> = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.push({ main: tid === String(pid), user: Number(rest[11]) / CLK_TCK, system: Number(rest[12]) / CLK_TCK });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/** Resident memory of a process in bytes (VmRSS), undefined if gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Context switches of a process summed over all its threads (/proc/<pid>/task/<tid>/status):
 * `voluntary` counts a thread blocking because it had nothing to do (epoll, a futex, a disk
 * wait), so each is a wake-up some event paid for later; `involuntary` counts preemptions.
 * On this virtual machine a wake-up costs tens of µs of CPU (a futex or socket write that
 * wakes a sleeping thread on another vCPU), so wake-ups per operation is a physical figure the
 * code can move where throughput on a shared machine is not. Undefined if the process is gone.
 */
export function contextSwitches(pid: number): { voluntary: number; involuntary: number } | undefined {
  try {
    let voluntary = 0;
    let involuntary = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let status: string;
      try {
        status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      } catch {
        continue; // the thread ended between the listing and the read
      }
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
    return { voluntary, involuntary };
  } catch {
    return undefined;
  }
}

/** Voluntary context switches (wake-ups) of all of `pids` and their threads, summed. */
export function wakeups(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (contextSwitches(pid)?.voluntary ?? 0), 0);
}

/** CPU use of some processes over an interval: call `start`, then `stop` for % of one core. */
export class CpuMeter {
  private before = new Map<number, number>();
  private at = 0;
  constructor(private readonly pids: readonly number[]) {}
  start(): void {
    this.at = performance.now();
    this.before = new Map(this.pids.map((pid) => [pid, cpuSeconds(pid) ?? 0]));
  }
  /** CPU seconds (user + system) all the processes used since `start`, summed. */
  secondsUsed(): number {
    return this.pids.reduce((sum, pid) => sum + Math.max(0, (cpuSeconds(pid) ?? this.before.get(pid) ?? 0) - (this.before.get(pid) ?? 0)), 0);
  }
  /** Per PID: CPU % of one core since `start` (100 = one core busy). */
  stop(): Record<number, number> {
    const wall = (performance.now() - this.at) / 1000;
    return Object.fromEntries(this.pids.map((pid) => [pid, Math.round((((cpuSeconds(pid) ?? 0) - (this.before.get(pid) ?? 0)) / wall) * 1000) / 10]));
  }
}

/** Total size in bytes of the files under `dir` (recursively). */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** The file system type holding `dir` (ext4, tmpfs, ...), which decides what an fsync costs. */
export function fsType(dir: string): string {
  try {
    return execFileSync('findmnt', ['-no', 'FSTYPE', '-T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function machine(): Record<string, unknown> {
  return { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) };
}

export const fmt = (x: number) => x.toFixed(2);
export const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : (bytes / 2 ** 20).toFixed(1));

export function errorsText(errors: Record<string, number>): string {
  return Object.entries(errors).map(([code, k]) => `${code} ${k}`).join(', ') || '0';
}

/** A Markdown table: header cells, alignment per column ('l' or 'r'), rows. */
export function markdownTable(header: readonly string[], align: string, rows: readonly (readonly (string | number)[])[]): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The latency cells every table shares: ops/s, p50, p90, p99, p99.9, max, errors. */
export function latencyCells(s: OpStats): (string | number)[] {
  return [s.opsPerSecond, fmt(s.p50Ms), fmt(s.p90Ms), fmt(s.p99Ms), fmt(s.p999Ms), fmt(s.maxMs), errorsText(s.errors)];
}
export const LATENCY_HEADER = ['ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors'];

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Writes the JSON result to `out`, or to bench/results/<name>-<time>.json; returns the path. */
export function writeResult(name: string, result: unknown, out?: string): string {
  const path = out ?? join(RESULTS_DIR, `${name}-${Date.now()}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
