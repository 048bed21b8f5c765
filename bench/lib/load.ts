/**
 * The load generator every ringkv benchmark shares: one phase of operations, either
 *
 * - **closed loop** (fixed concurrency): `clients` loops, each starting its next operation when
 *   the previous one answered; latency is measured from each operation's start; or
 * - **open loop** (fixed offered rate): operation i is scheduled at `start + i / rate` whatever
 *   happened before, and its latency is measured from that scheduled time, so a stalled server
 *   is charged for every request it delayed (coordinated omission avoided, as in wrk2). At most
 *   `maxInflight` operations run at once; one that is due while the cap is reached starts late,
 *   and the wait counts in its latency. Operations still unstarted at the deadline are counted
 *   as `unsent`.
 *
 * Bounded: a phase ends at its deadline or after `maxOps` operations, whichever comes first,
 * and waits at most `drainMs` for operations still in flight. Operations that start during the
 * warm-up are not recorded. Latencies go to one HDR histogram per operation name (µs, 3
 * significant digits).
 */
import * as hdr from 'hdr-histogram-js';
import { Progress } from './progress.js';
import { CpuMeter, wakeups } from './report.js';

/** Largest latency the histograms track (µs); longer ones are recorded as this. */
const HIGHEST_US = 120_000_000;

export function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

export interface OpStats {
  op: string;
  /** Operations recorded (answered or failed) in the measured window. */
  ops: number;
  opsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Failed operations by error code (they are not in the latency histogram). */
  errors: Record<string, number>;
}

export interface PhaseResult {
  /** Seconds of the measured window (after the warm-up, until the last recorded answer). */
  seconds: number;
  mode: 'closed' | 'open';
  clients: number;
  /**
   * Open loop: the offered rate (ops/s), and operations due in the window but never started
   * or still unanswered when the drain time ran out (neither is in the histograms).
   */
  offeredRate?: number;
  unsent?: number;
  stats: OpStats[];
  /** Free-form counters an operation recorded (for example siblings seen). */
  counters: Record<string, number>;
}

/** What an operation reports through; `t0` is a `performance.now()` time. */
export class Recorder {
  readonly histograms = new Map<string, hdr.Histogram>();
  readonly errors = new Map<string, Record<string, number>>();
  readonly counts = new Map<string, number>();
  readonly counters: Record<string, number> = {};
  measureFrom = Infinity;
  lastAnswer = 0;
  total = 0;
  failed = 0;

  private histogramOf(op: string): hdr.Histogram {
    let h = this.histograms.get(op);
    if (h === undefined) {
      h = histogram();
      this.histograms.set(op, h);
    }
    return h;
  }

  /** An operation named `op` that started (or was scheduled) at `t0` answered now. */
  ok(op: string, t0: number): void {
    const now = performance.now();
    this.total++;
    if (t0 < this.measureFrom) return;
    this.histogramOf(op).recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round((now - t0) * 1000))));
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    this.lastAnswer = now;
  }

  /** An operation failed with `code`. */
  fail(op: string, t0: number, code: string): void {
    this.total++;
    this.failed++;
    if (t0 < this.measureFrom) return;
    const errors = this.errors.get(op) ?? {};
    errors[code] = (errors[code] ?? 0) + 1;
    this.errors.set(op, errors);
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    this.lastAnswer = performance.now();
  }

  /** Adds to a named counter (only for operations in the measured window). */
  count(name: string, t0: number, by = 1): void {
    if (t0 >= this.measureFrom) this.counters[name] = (this.counters[name] ?? 0) + by;
  }
}

export interface OpContext {
  /** 0, 1, 2, ... in start order over the whole phase (warm-up included). */
  readonly index: number;
  /** Closed loop: the client loop; open loop: index modulo `clients`. */
  readonly worker: number;
  /** When the operation was due: its start (closed loop) or its scheduled time (open loop). */
  readonly t0: number;
}

/** One operation: records itself through `rec` (ok/fail); must not throw. */
export type Exec = (ctx: OpContext, rec: Recorder) => Promise<void>;

export interface PhaseOptions {
  readonly label: string;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  readonly clients: number;
  /** Offered ops/s: open loop. Absent: closed loop with `clients` loops. */
  readonly rate?: number;
  readonly maxOps: number;
  /** Open loop: most operations in flight (default 4096). */
  readonly maxInflight?: number;
  /** How long to wait for in-flight operations after the deadline (default 30 s). */
  readonly drainMs?: number;
  readonly exec: Exec;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function summarize(rec: Recorder, seconds: number): OpStats[] {
  return [...rec.counts.keys()].sort().map((op) => {
    const h = rec.histograms.get(op);
    const ms = (q: number) => (h === undefined ? 0 : h.getValueAtPercentile(q) / 1000);
    const ops = rec.counts.get(op) ?? 0;
    return {
      op,
      ops,
      opsPerSecond: Math.round(ops / Math.max(seconds, 1e-3)),
      p50Ms: ms(50),
      p90Ms: ms(90),
      p99Ms: ms(99),
      p999Ms: ms(99.9),
      maxMs: h === undefined ? 0 : h.maxValue / 1000,
      errors: rec.errors.get(op) ?? {},
    };
  });
}

/** Runs one phase; see the module comment. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const rec = new Recorder();
  const warmupMs = (options.warmupSeconds ?? 0) * 1000;
  const started = performance.now();
  rec.measureFrom = started + warmupMs;
  const deadline = rec.measureFrom + options.seconds * 1000;
  const progress = new Progress(options.label, warmupMs + options.seconds * 1000);
  const ticker = setInterval(() => progress.update(performance.now() - started, rec.total, rec.failed), 200);
  let next = 0;
  let unsent: number | undefined;
  const inflight = new Set<Promise<void>>();
  try {
    if (options.rate === undefined) {
      await Promise.all(
        Array.from({ length: options.clients }, async (_, worker) => {
          while (performance.now() < deadline && next < options.maxOps) {
            await options.exec({ index: next++, worker, t0: performance.now() }, rec);
          }
        }),
      );
    } else {
      const rate = options.rate;
      const maxInflight = options.maxInflight ?? 4096;
      const launch = (index: number) => {
        const p = options.exec({ index, worker: index % options.clients, t0: started + (index * 1000) / rate }, rec).finally(() => inflight.delete(p));
        inflight.add(p);
      };
      for (;;) {
        const now = performance.now();
        if (now >= deadline || next >= options.maxOps) break;
        const due = Math.min(options.maxOps, Math.floor(((now - started) * rate) / 1000) + 1);
        while (next < due && inflight.size < maxInflight) launch(next++);
        // Sleep until the next operation is due (timers have about 1 ms of granularity).
        await sleep(Math.max(0, Math.min(deadline - now, started + (next * 1000) / rate - now, 50)));
      }
      unsent = Math.max(0, Math.min(options.maxOps, Math.floor(((deadline - started) * rate) / 1000)) - next);
      let timer: NodeJS.Timeout | undefined;
      const drain = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.drainMs ?? 30_000)));
      await Promise.race([Promise.all([...inflight]), drain]);
      clearTimeout(timer);
    }
  } finally {
    clearInterval(ticker);
    progress.done();
  }
  const end = Math.max(Math.min(rec.lastAnswer, performance.now()), rec.measureFrom + 1);
  const seconds = (end - rec.measureFrom) / 1000;
  return {
    seconds,
    mode: options.rate === undefined ? 'closed' : 'open',
    clients: options.clients,
    ...(options.rate === undefined ? {} : { offeredRate: options.rate, unsent: (unsent ?? 0) + inflight.size }),
    stats: summarize(rec, seconds),
    counters: rec.counters,
  };
}

/** The median of some numbers (0 for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface MeteredResult {
  phase: PhaseResult;
  /** The statistics of `op` (zeros if none was recorded). */
  stats: OpStats;
  /** CPU % of one core of each of `pids` over the phase, in their order. */
  cpuPercent: number[];
  /** CPU % of one core of this process (the load generator) over the phase. */
  loadgenCpuPercent: number;
  /**
   * CPU time of all of `pids` (user + system, from /proc/<pid>/stat) per operation of `op`
   * measured: read when the warm-up ends and when the phase ends, so it covers the same window
   * as the operation count. A figure that stays stable on a shared machine where throughput
   * does not.
   */
  cpuMicrosPerOp: number;
  /**
   * Voluntary context switches of all threads of `pids` per operation of `op`, over the same
   * window as `cpuMicrosPerOp` (see `contextSwitches` in report.ts): the wake-ups an operation
   * costs, exact where CPU time on a shared machine is not.
   */
  wakeupsPerOp: number;
}

/** Runs a phase and reads the CPU time `pids` and this process used during it. */
export async function runMetered(options: PhaseOptions, pids: readonly number[], op: string): Promise<MeteredResult> {
  const cpu = new CpuMeter(pids);
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  cpu.start();
  const window = new CpuMeter(pids);
  const warmupMs = (options.warmupSeconds ?? 0) * 1000;
  let wakeups0 = 0;
  const startWindow = (): void => {
    window.start();
    wakeups0 = wakeups(pids);
  };
  if (warmupMs === 0) startWindow();
  const windowTimer = warmupMs === 0 ? undefined : setTimeout(startWindow, warmupMs);
  const phase = await runPhase(options);
  clearTimeout(windowTimer);
  const windowSeconds = window.secondsUsed();
  const windowWakeups = wakeups(pids) - wakeups0;
  const perPid = cpu.stop();
  const used = process.cpuUsage(cpu0);
  const loadgenCpuPercent = Math.round(((used.user + used.system) / 1e3 / (performance.now() - t)) * 1000) / 10;
  const stats = phase.stats.find((s) => s.op === op) ?? { op, ops: 0, opsPerSecond: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, errors: {} };
  const cpuMicrosPerOp = stats.ops === 0 ? 0 : Math.round((windowSeconds * 1e6) / stats.ops);
  const wakeupsPerOp = stats.ops === 0 ? 0 : Math.round((windowWakeups / stats.ops) * 100) / 100;
  return { phase, stats, cpuPercent: pids.map((pid) => perPid[pid] ?? 0), loadgenCpuPercent, cpuMicrosPerOp, wakeupsPerOp };
}
