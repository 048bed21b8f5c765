// The compare-and-set workload in the whole-cluster simulation (issue 17): beside the set
// workload, 4 clients read (consistent=1), write (consistent=1), claim (if_absent=1) and move
// by version (if_version=V) 3 keys on 5 real nodes (the in-memory twins, a simulated network,
// a manual clock) under the full nemesis: crashes, drains, pauses, partitions (one- and
// two-way), loss, duplication, slow disks, zone outages, joins, leaves, removals, wiped disks
// (same id and new id), clock steps, a removed member back as a zombie. After the heal, one
// consistent read of each key must answer. Each seed's history is judged per key by the
// linearizability checker (testing/linearizability/). Unknown outcomes stay unknown.
//
// The default run is a few seeds; SIM_CAS_SEEDS=1000 (and SIM_CAS_FIRST_SEED) run more, e.g.
//   SIM_CAS_SEEDS=1000 node_modules/.bin/tap test/sim/cas-sim.test.ts
// and `node --import tsx test/sim/cas-replay.ts SEED` prints a seed's CAS trace.
import t from 'tap';
import type { Test } from 'tap';
import { casPlantedBugs } from '@ringkv/node/testing';
import { CasTally, runCasSeed } from './cas-sim-run.js';

const SEEDS = Number(process.env.SIM_CAS_SEEDS ?? 6);
const FIRST = Number(process.env.SIM_CAS_FIRST_SEED ?? 1);
/** Failures reported in full before the run stops early. */
const FAILURES_SHOWN = 3;
/**
 * A seed whose schedule changes the ring while CAS rounds run (joins, leaves, a removal): with the
 * planted bug below its history is not linearizable. Found by running seeds 1.. with the bug (80
 * since the disk faults of 2026-12-03); tried first so the check is fast. Should a change of the
 * nemesis move it, the test searches seeds 1..LEARN_BUG_SEEDS and names the one it found.
 */
const LEARN_BUG_SEED = Number(process.env.SIM_CAS_LEARN_BUG_SEED ?? 80);
const LEARN_BUG_SEEDS = 300;

t.setTimeout(Math.max(120_000, SEEDS * 5_000));

t.test(`${SEEDS} seeds of the CAS workload under the full nemesis: every key's history is linearizable`, async (t) => {
  const tally = new CasTally();
  const failures: string[] = [];
  const startedMs = performance.now();
  for (let seed = FIRST; seed < FIRST + SEEDS && failures.length < FAILURES_SHOWN; seed++) {
    const outcome = await runCasSeed(seed);
    tally.add(outcome);
    if (!outcome.ok) failures.push(`seed ${seed}: ${outcome.failure}\n(replay: node --import tsx test/sim/cas-replay.ts ${seed})\n${outcome.result.trace.join('\n')}`);
  }
  t.comment(tally.report(performance.now() - startedMs));
  t.same(failures, [], 'every seed is linearizable, and every final read answered');
  if (failures.length > 0) return;
  // What the run exercised, or passing would prove nothing.
  t.ok(tally.answered >= 5 * tally.seeds, `at least 5 answered CAS operations a seed (${(tally.answered / tally.seeds).toFixed(1)})`);
  t.ok(tally.ringChanges >= 1, `the ring changed in at least one seed (${tally.ringChanges})`);
  t.ok(tally.unknown > 0 || tally.seeds < 5, `some outcomes were unknown (${tally.unknown})`);
});

/**
 * A planted bug is caught: with `bug` set, the seed `first` (or, should a change of the nemesis
 * move it, one of 1..LEARN_BUG_SEEDS) is not linearizable, and passes once the bug is unset.
 */
async function plantedBugCaught(t: Test, bug: 'answerWithoutLearning' | 'answerBeforeJoined', first: number, name: string): Promise<void> {
  casPlantedBugs[bug] = true;
  t.teardown(() => {
    casPlantedBugs[bug] = false;
  });
  let caught: { seed: number; failure: string } | undefined;
  for (const seed of [first, ...Array.from({ length: LEARN_BUG_SEEDS }, (_, i) => i + 1)]) {
    const outcome = await runCasSeed(seed);
    if (!outcome.ok) {
      caught = { seed, failure: outcome.failure ?? '' };
      break;
    }
  }
  t.ok(caught !== undefined, `a seed fails with the bug (${caught?.seed ?? 'none'}${caught !== undefined && caught.seed !== first ? `; update ${name}, ${first} no longer catches it` : ''})`);
  if (caught === undefined) return;
  t.match(caught.failure, /not linearizable/, 'the checker finds the history not linearizable');
  casPlantedBugs[bug] = false;
  t.ok((await runCasSeed(caught.seed)).ok, 'and passes without it');
}

t.test('planted bug: a replica that answers for a key without learning it after a ring change is caught', (t) =>
  plantedBugCaught(t, 'answerWithoutLearning', LEARN_BUG_SEED, 'LEARN_BUG_SEED'),
);

/**
 * A seed where a node restarted alone (before it joined its ring) takes part in CAS rounds: with
 * the planted bug below its history is not linearizable (86 when the alone restarts came in, on
 * 2026-12-03; the search finds another should the nemesis change).
 */
const JOIN_BUG_SEED = Number(process.env.SIM_CAS_JOIN_BUG_SEED ?? 86);

t.test('planted bug: a node that answers CAS rounds before it joined its ring (restarted alone) is caught', (t) =>
  plantedBugCaught(t, 'answerBeforeJoined', JOIN_BUG_SEED, 'JOIN_BUG_SEED'),
);
