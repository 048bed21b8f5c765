// A short real-process fault run (issue 6): kills, restarts, pauses and partitions under a set workload;
// the checker must find no lost, resurrected or unconverged data. Longer soaks:
//   FAULT_SECONDS=600 node_modules/.bin/tap test/fault/fault.test.ts --timeout=0
import t from 'tap';
import { faultRun } from './harness.js';

const seconds = Number(process.env.FAULT_SECONDS ?? 30);
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);

t.test(`${seconds} s of faults on 5 nodes (N=3, R=W=2), seed ${seed}`, { timeout: (seconds + 120) * 1000 }, async (t) => {
  const report = await faultRun(t, { nodes: 5, n: 3, keys: 8, workers: 6, durationMs: seconds * 1000, seed });
  const { verdict } = report;
  t.comment(
    `seed ${seed}: ${report.operations} operations, ${verdict.acknowledged} acknowledged adds, faults ${JSON.stringify(report.faults)}, ` +
      `lost ${verdict.lost.length}, resurrected ${verdict.resurrected.length} (of ${verdict.deletedKeysChecked} keys deleted last), unconverged ${verdict.unconverged.length}, converged ${report.convergeMs} ms after the heal`,
  );
  t.ok(verdict.acknowledged > 50, 'the workload made progress through the faults');
  t.ok((report.faults.kill ?? 0) + (report.faults.pause ?? 0) + (report.faults.partition ?? 0) >= 2, 'faults were injected');
  t.same(verdict.lost, [], 'no acknowledged write lost');
  t.same(verdict.resurrected, [], 'no deleted key came back');
  t.ok(verdict.deletedKeysChecked > 0, 'the resurrection rule was exercised');
  t.same(verdict.unconverged, [], 'every key converged on its replicas');
  t.same(verdict.siblingViolations, [], 'sibling bound held');
});
