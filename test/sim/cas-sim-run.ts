// One seed of the cluster simulation with the compare-and-set workload, judged by the
// linearizability checker per key; shared by test/sim/cas-sim.test.ts and scripts/sim-cas.ts.
import { runClusterSim, type ClusterSimResult } from '@ringkv/node/testing';
import { checkLinearizable } from '../../packages/node/dist/testing/linearizability/index.js';

/** 3 CAS keys, 4 CAS clients beside the set workload's 4: contention on every key. */
export const CAS_SIM = { keys: 3, clients: 4 } as const;

export interface CasSeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  /** Why it failed: the checker's explanation, unexpected answers, final reads that never answered. */
  readonly failure?: string;
  readonly result: ClusterSimResult;
}

export async function runCasSeed(seed: number): Promise<CasSeedOutcome> {
  const result = await runClusterSim({ seed, cas: CAS_SIM, traceLines: 60 });
  const cas = result.cas!;
  const verdict = checkLinearizable(cas.history);
  if (verdict.kind === 'violation') return { seed, ok: false, failure: `not linearizable on ${verdict.key}:\n${verdict.report}`, result };
  if (verdict.kind === 'unknown') return { seed, ok: false, failure: `the checker could not decide (step budget) for ${verdict.unknownKeys.join(', ')}`, result };
  if (cas.problems.length > 0) return { seed, ok: false, failure: cas.problems.join('\n'), result };
  return { seed, ok: true, result };
}

/** Totals over seeds, for the report. */
export class CasTally {
  seeds = 0;
  operations = 0;
  answered = 0;
  unknown = 0;
  failed = 0;
  ringChanges = 0;
  readonly faults: Record<string, number> = {};

  add(outcome: CasSeedOutcome): void {
    const { stats } = outcome.result.cas!;
    this.seeds++;
    this.operations += stats.operations;
    this.answered += stats.answered;
    this.unknown += stats.unknown;
    this.failed += stats.failed;
    for (const [kind, count] of Object.entries(outcome.result.stats.faults)) this.faults[kind] = (this.faults[kind] ?? 0) + count;
    const f = outcome.result.stats.faults;
    if ((f.join ?? 0) + (f.leave ?? 0) + (f['leave-partitioned'] ?? 0) + (f.remove ?? 0) + (f['wipe-rejoin-new-id'] ?? 0) > 0) this.ringChanges++;
  }

  report(elapsedMs: number): string {
    return `${this.seeds} seeds in ${(elapsedMs / 1000).toFixed(1)} s: ${this.operations} CAS operations (${this.answered} answered, ${this.unknown} unknown outcomes, ${this.failed} surely not applied or unanswered reads); the ring changed in ${this.ringChanges} seeds; faults ${JSON.stringify(this.faults)}`;
  }
}
