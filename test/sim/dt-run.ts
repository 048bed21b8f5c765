/**
 * One seed of the whole-cluster simulation with the data-type and listing workloads beside the
 * set workload (packages/node/src/testing/sim-dt-workload.ts, sim-list-workload.ts), judged by
 * the data-type checker (sim-dt-check.ts), the listing workload's own checks and the fault
 * tier's set checker. Shared by the CI test and the long run (SIM_DT_SEEDS=1000).
 */
import { checkDt, DtWorkload, ListWorkload, runClusterSim, type ClusterSimResult, type DtVerdict } from '@ringkv/node/testing';
import { check, type Verdict } from '../fault/checker.js';

/** The data-type clients: the set workload's request timeout and w (cluster-sim.ts); r is 1 or 2. */
export const DT_OPTIONS = { clients: 8, thinkMsMax: 5, requestTimeoutMs: 100, rMax: 2, w: 2 };
/** Listing: 24 keys, 3 writers, 1 lister paging 1 to 8 keys a page. */
export const LIST_OPTIONS = { keys: 24, writers: 3, thinkMsMax: 5, requestTimeoutMs: 100, pagesMax: 100 };

export interface DtSeedOutcome {
  readonly result: ClusterSimResult;
  readonly dt: DtWorkload;
  readonly list: ListWorkload;
  readonly verdict: DtVerdict;
  readonly setVerdict: Verdict;
  readonly ok: boolean;
}

export async function runDtSeed(seed: number): Promise<DtSeedOutcome> {
  let dt: DtWorkload | undefined;
  let list: ListWorkload | undefined;
  const result = await runClusterSim({ seed, workloads: [(env) => (dt = new DtWorkload(env, DT_OPTIONS)), (env) => (list = new ListWorkload(env, LIST_OPTIONS))] });
  const verdict = checkDt(dt!.history, dt!.final);
  const setVerdict = check(result.history, result.final, result.siblingsMax);
  return { result, dt: dt!, list: list!, verdict, setVerdict, ok: verdict.ok && list!.violations.length === 0 && setVerdict.ok && result.problems.length === 0 };
}

/** A short report of one seed; the trace's last events when it failed. */
export function describeDt(outcome: DtSeedOutcome, withTrace = !outcome.ok): string {
  const { result, dt, list, verdict, setVerdict } = outcome;
  const lines = [
    `seed ${result.seed}: ${outcome.ok ? 'ok' : 'FAILED'}; ${dt.operations} data-type ops (${JSON.stringify(verdict.counts)}), faults ${JSON.stringify(result.stats.faults)}, trace ${result.traceHash}`,
    `  final: ${JSON.stringify(Object.fromEntries(dt.final))}`,
  ];
  const listed = (name: string, items: readonly string[]) => items.length > 0 && lines.push(`  ${name} (${items.length}): ${items.slice(0, 10).join('; ')}`);
  listed('data-type violations', verdict.violations);
  listed('listing violations', list.violations);
  listed('set lost', setVerdict.lost);
  listed('set resurrected', setVerdict.resurrected);
  listed('set unconverged', setVerdict.unconverged);
  listed('problems', result.problems);
  if (withTrace) lines.push(`  last ${result.trace.length} events:`, ...result.trace.map((line) => `    ${line}`));
  if (!outcome.ok) lines.push(`  replay: SIM_DT_SEEDS=1 SIM_DT_FIRST_SEED=${result.seed} node_modules/.bin/tap test/sim/dt-sim.test.ts`);
  return lines.join('\n');
}

/** Totals over many seeds. */
export class DtTally {
  seeds = 0;
  operations = 0;
  readonly counts = { acknowledged: 0, failed: 0, unknown: 0, addsChecked: 0, removesChecked: 0, notRemoved: 0, blindRemoves: 0 };
  readonly faults: Record<string, number> = {};
  siblingsMax = 0;
  readonly listing = { pages: 0, listings: 0, finalKeys: 0, violations: 0 };
  readonly failedSeeds: number[] = [];

  add({ result, dt, list, verdict, ok }: DtSeedOutcome): void {
    for (const key of ['pages', 'listings', 'finalKeys'] as const) this.listing[key] += list.counts[key];
    this.listing.violations += list.violations.length;
    this.seeds++;
    this.operations += dt.operations;
    for (const key of ['acknowledged', 'failed', 'unknown', 'addsChecked', 'removesChecked', 'notRemoved'] as const) this.counts[key] += verdict.counts[key];
    this.counts.blindRemoves += dt.history.filter((e) => e.kind === 'remove' && !e.seen && e.outcome === 'acknowledged').length;
    for (const [kind, count] of Object.entries(result.stats.faults)) this.faults[kind] = (this.faults[kind] ?? 0) + count;
    for (const state of dt.final.values()) this.siblingsMax = Math.max(this.siblingsMax, ...state.siblings);
    if (!ok) this.failedSeeds.push(result.seed);
  }

  report(wallMs: number): string {
    return [
      `seeds run: ${this.seeds} (failed: ${this.failedSeeds.length === 0 ? 'none' : this.failedSeeds.slice(0, 20).join(', ')})`,
      `data-type operations: ${this.operations}; ${JSON.stringify(this.counts)}`,
      `stored data-type siblings per replica after the heal, at most: ${this.siblingsMax}`,
      `listing: ${this.listing.pages} pages checked during faults, ${this.listing.listings} listings complete, ${this.listing.finalKeys} live keys in the final listings, ${this.listing.violations} violations`,
      `faults injected: ${Object.entries(this.faults).map(([kind, count]) => `${kind} ${count}`).join(', ')}`,
      `wall: ${(wallMs / 1000).toFixed(1)} s (${(wallMs / Math.max(1, this.seeds)).toFixed(1)} ms a seed)`,
    ].join('\n');
  }
}
