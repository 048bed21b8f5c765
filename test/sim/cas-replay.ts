// Replays one seed of the CAS cluster simulation (test/sim/cas-sim.test.ts) and prints its
// trace: the CAS operations (of one key, if given), the nemesis and the ring changes.
//   node --import tsx test/sim/cas-replay.ts SEED [KEY]
import { runClusterSim } from '@ringkv/node/testing';
import { CAS_SIM } from './cas-sim-run.js';

const seed = Number(process.argv[2]);
const key = process.argv[3];
if (!Number.isSafeInteger(seed)) {
  console.error('usage: node --import tsx test/sim/cas-replay.ts SEED [KEY]');
  process.exit(64);
}
const result = await runClusterSim({ seed, cas: CAS_SIM, traceLines: 1_000_000 });
for (const line of result.trace) {
  if ((line.includes('cas ') && (key === undefined || line.includes(` ${key} `))) || /nemesis|ring |heal|zombie|final/.test(line)) console.log(line);
}
console.log(JSON.stringify(result.cas?.stats));
