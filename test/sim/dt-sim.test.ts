// The data types in the whole-cluster simulation (issue 15): the set workload's cluster and
// full nemesis (crashes, pauses, partitions, loss, joins, leaves, removals, wiped disks, clock
// steps, a zombie), with data-type clients beside it: counter increments and decrements, set
// adds and removes with the context they read (some naming an element the read did not see),
// map counter, set and register field updates, each acknowledged, failed or unknown. After the
// heal and repair: counters within [acked + unknown decrements, acked + unknown increments],
// no acknowledged add lost unless a removal that saw it ran, no element an acknowledged removal
// saw comes back, no phantom element, replicas converged (packages/node/src/testing/
// sim-dt-check.ts). Beside them, a lister pages through a prefix that writers put and delete
// under (sim-list-workload.ts): pages in order, no key twice, and after the heal exactly the
// keys that read as live. CI runs a few seeds; SIM_DT_SEEDS=1000 runs the long one (docs/testing.md).
import t from 'tap';
import { dtPlantedBugs, runClusterSim, DtWorkload } from '@ringkv/node/testing';
import { describeDt, DT_OPTIONS, DtTally, runDtSeed, type DtSeedOutcome } from './dt-run.js';

const SEEDS = Number(process.env.SIM_DT_SEEDS ?? 12);
const FIRST = Number(process.env.SIM_DT_FIRST_SEED ?? 1);
/** Seeds a planted bug may take to be caught (see the figures in docs/testing.md). */
const PLANTED_SEEDS = 150;
const FAILURES_SHOWN = 3;

// A seed takes about a tenth of a second on a quiet machine and up to 6 s on one shared by five
// engineers; the file limit (.taprc, 120 s) is raised so a busy host does not cut the run short.
t.setTimeout(Math.max(600_000, SEEDS * 6_000));

t.test(`${SEEDS} seeds under the full nemesis: data types keep every acknowledged update and converge; listings hold every live key once`, async (t) => {
  const tally = new DtTally();
  const failures: string[] = [];
  const startedMs = performance.now();
  for (let seed = FIRST; seed < FIRST + SEEDS && failures.length < FAILURES_SHOWN; seed++) {
    const outcome = await runDtSeed(seed);
    tally.add(outcome);
    if (!outcome.ok) failures.push(describeDt(outcome));
  }
  t.comment(tally.report(performance.now() - startedMs));
  t.same(failures, [], 'every seed passes both checkers');
  if (failures.length > 0) return;
  // What the run exercised, or passing would prove nothing.
  t.ok(tally.counts.acknowledged >= 20 * SEEDS, `at least 20 acknowledged data-type operations a seed (${tally.counts.acknowledged})`);
  t.ok(tally.counts.unknown > 0, `some operations ended unknown (${tally.counts.unknown})`);
  t.ok(tally.counts.removesChecked >= SEEDS, `acknowledged removals of seen elements checked (${tally.counts.removesChecked})`);
  t.ok(tally.counts.blindRemoves > 0, `acknowledged removals of unseen elements checked (${tally.counts.blindRemoves})`);
  t.ok(tally.siblingsMax <= 1, `each replica stores one data-type sibling per key after the heal, joined by Store.merge (at most ${tally.siblingsMax})`);
  t.ok(tally.listing.pages >= 10 * SEEDS && tally.listing.listings >= SEEDS, `pages checked while the faults ran (${tally.listing.pages} pages, ${tally.listing.listings} whole listings)`);
  t.ok(tally.listing.finalKeys >= SEEDS, `live keys in the final listings (${tally.listing.finalKeys})`);
  for (const kind of ['crash', 'pause', 'partition', 'loss']) t.ok((tally.faults[kind] ?? 0) > 0, `fault "${kind}" injected (${tally.faults[kind] ?? 0})`);
});

t.test('a seed with the data-type workload replays exactly', async (t) => {
  const run = async (seed: number) => {
    let dt: DtWorkload | undefined;
    const result = await runClusterSim({ seed, workloads: [(env) => (dt = new DtWorkload(env, DT_OPTIONS))] });
    return { hash: result.traceHash, history: dt!.history };
  };
  const first = await run(31);
  const again = await run(31);
  t.equal(again.hash, first.hash, 'same trace');
  t.same(again.history, first.history, 'same data-type history');
});

/** Runs seeds from 1 until the data-type checker reports a violation; that outcome, or undefined. */
async function firstViolation(maxSeeds: number): Promise<DtSeedOutcome | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const outcome = await runDtSeed(seed);
    if (!outcome.verdict.ok) return outcome;
  }
  return undefined;
}

for (const bug of ['actorReuse', 'removeUnseen'] as const) {
  t.test(`planted bug ${bug}: the data-type checker catches it within ${PLANTED_SEEDS} seeds, and the seed passes without it`, async (t) => {
    dtPlantedBugs[bug] = true;
    t.teardown(() => {
      dtPlantedBugs[bug] = false;
    });
    const caught = await firstViolation(PLANTED_SEEDS);
    t.ok(caught !== undefined, 'a violation is reported');
    if (caught === undefined) return;
    t.comment(`caught at seed ${caught.result.seed}: ${caught.verdict.violations.join('; ')}`);
    dtPlantedBugs[bug] = false;
    const fixed = await runDtSeed(caught.result.seed);
    t.same(fixed.verdict.violations, [], `seed ${caught.result.seed} passes without the planted bug`);
  });
}
