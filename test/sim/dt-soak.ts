/**
 * The long data-type and listing run (docs/testing.md): seeds FROM..FROM+SEEDS-1 of
 * test/sim/dt-run.ts, a progress line every 50 seeds and the tally at the end; every failing
 * seed is described in full. Exits 1 if any seed failed.
 *
 *   npx tsx test/sim/dt-soak.ts [SEEDS=1000] [FROM=1]
 *
 * (`SIM_DT_SEEDS=1000 node_modules/.bin/tap test/sim/dt-sim.test.ts` runs the same seeds and
 * stops at the third failure.) Two halves may run side by side: `… 500 1` and `… 500 501`.
 */
import { describeDt, DtTally, runDtSeed } from './dt-run.js';

const seeds = Number(process.argv[2] ?? 1_000);
const from = Number(process.argv[3] ?? 1);
const tally = new DtTally();
const startedMs = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  const outcome = await runDtSeed(seed);
  tally.add(outcome);
  if (!outcome.ok) console.log(describeDt(outcome));
  if ((seed - from + 1) % 50 === 0) console.log(`progress: ${seed - from + 1} seeds, ${tally.failedSeeds.length} failed, ${((performance.now() - startedMs) / 1000).toFixed(0)} s`);
}
console.log(tally.report(performance.now() - startedMs));
process.exitCode = tally.failedSeeds.length === 0 ? 0 : 1;
