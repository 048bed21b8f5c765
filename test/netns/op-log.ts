/**
 * The operation log of the Jepsen-style runs (dt and CAS workloads): every operation's kind,
 * start, end and outcome (acknowledged, failed: surely not applied, unknown: may have been
 * applied), and the figures a run prints and BENCHMARKS.md keeps: operations, outcomes,
 * throughput and latency percentiles of the acknowledged ones, per kind. Pure but for the
 * recording clock, which the caller's `Date.now` readings supply.
 */
import { RingkvError } from '@ringkv/client';

export type OpOutcome = 'acked' | 'failed' | 'unknown';

export interface OpSample {
  readonly op: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly outcome: OpOutcome;
  /** The failure's error code, for the report. */
  readonly code?: string;
}

/** What a failed write's error says: surely not applied, or maybe applied (the client's own verdict). */
export function outcomeOfError(error: unknown): 'failed' | 'unknown' {
  return error instanceof RingkvError && !error.mayHaveApplied ? 'failed' : 'unknown';
}

export function codeOfError(error: unknown): string {
  return error instanceof RingkvError ? error.code : `unexpected: ${String((error as Error)?.message ?? error).slice(0, 120)}`;
}

export interface OpFigures {
  readonly op: string;
  readonly ops: number;
  readonly acked: number;
  readonly failed: number;
  readonly unknown: number;
  /** Acknowledged operations per second over the run. */
  readonly ackedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Failures by error code. */
  readonly codes: Record<string, number>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Figures per operation kind and for all (`op: 'all'`), over `durationMs`. */
export function opFigures(samples: readonly OpSample[], durationMs: number): OpFigures[] {
  const kinds = [...new Set(samples.map((s) => s.op))].sort();
  const of = (op: string, list: readonly OpSample[]): OpFigures => {
    const latencies = list.filter((s) => s.outcome === 'acked').map((s) => Math.round(s.endMs - s.startMs)).sort((a, b) => a - b);
    const codes: Record<string, number> = {};
    for (const s of list) if (s.code !== undefined) codes[s.code] = (codes[s.code] ?? 0) + 1;
    const count = (outcome: OpOutcome) => list.filter((s) => s.outcome === outcome).length;
    return { op, ops: list.length, acked: latencies.length, failed: count('failed'), unknown: count('unknown'), ackedPerSecond: durationMs > 0 ? (latencies.length * 1000) / durationMs : 0, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? 0, codes };
  };
  return [...kinds.map((op) => of(op, samples.filter((s) => s.op === op))), of('all', samples)];
}

export function formatOpFigures(figures: readonly OpFigures[]): string[] {
  return figures.map((f) => `${f.op}: ${f.ops} ops, ${f.acked} acknowledged (${f.ackedPerSecond.toFixed(1)}/s), ${f.unknown} unknown, ${f.failed} failed; acknowledged p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms${Object.keys(f.codes).length > 0 ? `; failures ${JSON.stringify(f.codes)}` : ''}`);
}
