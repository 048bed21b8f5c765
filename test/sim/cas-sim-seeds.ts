// The long run of the CAS cluster simulation with a line per seed, for runs too long to wait
// for tap's summary: node --import tsx test/sim/cas-sim-seeds.ts FIRST COUNT
// Prints each failing seed's explanation and, every 50 seeds and at the end, the totals.
import { CasTally, runCasSeed } from './cas-sim-run.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 1_000);
if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || count < 1) {
  console.error('usage: node --import tsx test/sim/cas-sim-seeds.ts FIRST COUNT');
  process.exit(64);
}
const tally = new CasTally();
const startedMs = performance.now();
let failures = 0;
for (let seed = first; seed < first + count; seed++) {
  const outcome = await runCasSeed(seed);
  tally.add(outcome);
  if (!outcome.ok) {
    failures++;
    console.log(`seed ${seed} FAILED: ${outcome.failure}`);
  }
  if ((seed - first + 1) % 50 === 0) console.log(`${tally.report(performance.now() - startedMs)}; ${failures} failed`);
}
console.log(`done: ${tally.report(performance.now() - startedMs)}; ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
