// The whole-cluster simulation (issues 6 and 19): 5 real nodes (N=3, R=W=2) on the in-memory
// twins, a simulated network and a manual clock, one PRNG per seed. Each seed runs the set
// workload under crashes, restarts, pauses, partitions (one- and two-way), loss, duplication,
// wrong failure-detector verdicts, and ring and clock changes (joins, leaves, removals, wiped
// disks, clock steps, a removed member returning as a zombie), heals, and is judged by the
// fault tier's checker. A failing seed prints its trace and the command that replays it
// (`node scripts/pnpm.mjs sim --seed S`). SIM_SEEDS and SIM_FIRST_SEED change the range (the CI
// default is seeds 1..1000).
import t from 'tap';
import { plantedBugs, runClusterSim } from '@ringkv/node/testing';
import { describe, runSeed, Tally, type SeedOutcome } from './cluster-run.js';

const SEEDS = Number(process.env.SIM_SEEDS ?? 1_000);
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1);
/** Seeds the planted bug may take to be caught (it took 1 when written; see docs/testing.md). */
const PLANTED_BUG_SEEDS = 20;
/** Seeds the planted causality regression (issue 19) may take to be caught. */
const ACTOR_BUG_SEEDS = 1_000;
/** Seeds the planted lost-write epoch bug (issue 12) may take to be caught (it took 53 when written). */
const EPOCH_BUG_SEEDS = 400;
/** Failures reported in full before the run stops early (each carries its trace). */
const FAILURES_SHOWN = 3;

// The 1,000 seeds take about 45-60 s alone on the 2-core machine, more inside a busy full
// suite; the file limit (.taprc, 120 s) is raised so a busy host does not cut them short.
t.setTimeout(420_000);

/** Fault kinds every CI run must have injected at least seeds/25 times (or the run proves little). */
const FAULT_KINDS = [
  'crash', 'pause', 'partition', 'one-way-partition', 'loss', 'falseDeaths',
  'join', 'leave', 'leave-partitioned', 'remove', 'wipe-restart', 'wipe-rejoin-new-id',
  'clock-forward', 'clock-back', 'clock-back-restart', 'crash-during-handoff', 'zombie', 'zone-outage', 'slow-store',
  'crash-before-commit', 'disk-fails',
];

t.test(`${SEEDS} seeds under faults: no acknowledged add lost, no resurrection, replicas converge, siblings bounded`, async (t) => {
  const tally = new Tally();
  const failures: string[] = [];
  const startedMs = performance.now();
  for (let seed = FIRST; seed < FIRST + SEEDS && failures.length < FAILURES_SHOWN; seed++) {
    const outcome = await runSeed(seed);
    tally.add(outcome);
    if (!outcome.ok) failures.push(describe(outcome));
  }
  t.comment(tally.report(performance.now() - startedMs));
  t.same(failures, [], 'every seed passes the checker');
  if (failures.length > 0) return; // stopped early: what it exercised says nothing
  t.equal(tally.seeds, SEEDS, 'every seed ran');
  // The run must have exercised what it claims to, or passing would prove nothing.
  t.ok(tally.acknowledged >= 10 * tally.seeds, `at least 10 acknowledged adds a seed (${(tally.acknowledged / tally.seeds).toFixed(1)})`);
  t.ok(tally.deletedKeysChecked >= tally.seeds, 'at least one deleted key a seed is checked for resurrection');
  for (const kind of FAULT_KINDS) {
    t.ok((tally.faults[kind] ?? 0) >= tally.seeds / 25, `fault "${kind}" injected (${tally.faults[kind] ?? 0} times)`);
  }
  t.ok(tally.messages.lost > 0 && tally.messages.duplicated > 0, 'messages were lost and duplicated');
  t.ok(tally.ringChanged >= tally.seeds / 5, `the ring changed in at least a fifth of the seeds (${tally.ringChanged})`);
  t.ok(tally.reaped > 0, `the reapers reaped tombstones (${tally.reaped})`);
  t.ok(tally.ryw.reads >= 10 * tally.seeds, `reads judged for read-your-writes (${tally.ryw.reads}; ${tally.ryw.misses} missed, reported only)`);
});

t.test('a seed replays exactly: the same trace and history, whatever ran before', async (t) => {
  const first = await runClusterSim({ seed: 4242 });
  await runClusterSim({ seed: 7 });
  const again = await runClusterSim({ seed: 4242 });
  t.equal(again.traceHash, first.traceHash, 'same trace');
  t.equal(again.stats.events, first.stats.events, 'same number of events');
  t.same(again.history, first.history, 'same history');
  const other = await runClusterSim({ seed: 4243 });
  t.not(other.traceHash, first.traceHash, 'another seed runs differently');
});

t.test(`planted bug (a write with a stale context overwrites what it did not see): caught within ${PLANTED_BUG_SEEDS} seeds`, async (t) => {
  plantedBugs.staleContextOverwrites = true;
  t.teardown(() => {
    plantedBugs.staleContextOverwrites = false;
  });
  let caughtAt: number | undefined;
  for (let seed = 1; seed <= PLANTED_BUG_SEEDS && caughtAt === undefined; seed++) {
    const outcome = await runSeed(seed);
    if (outcome.verdict.lost.length > 0) {
      caughtAt = seed;
      t.comment(describe(outcome, false));
    }
  }
  t.ok(caughtAt !== undefined, 'the checker reports lost acknowledged adds');
  t.comment(`caught at seed ${caughtAt} (seeds tried: ${caughtAt ?? PLANTED_BUG_SEEDS})`);
});

/** Runs seeds from 1 until one loses an acknowledged add; that outcome, or undefined. */
async function firstLoss(maxSeeds: number): Promise<SeedOutcome | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const outcome = await runSeed(seed);
    if (outcome.verdict.lost.length > 0) return outcome;
  }
  return undefined;
}

// Issue 19, fix 2: a coordinator that holds no trusted copy of a key must not issue a dot under
// its node actor, whose clock entry would claim earlier dots of that actor it never held (blind
// concurrent writes then collapse into last-writer-wins). The switch plants today's behaviour
// back. The test needs the fix: the seed that catches the planted bug must also pass with the
// switch off, or the switch changed nothing (on a tree without the fix this part fails).
plantedRegression('a coordinator without a copy issues a dot under its node actor', 'actorWithoutCopy', ACTOR_BUG_SEEDS);

// Issue 12: the coordinator commits its own copy while the new version goes out, so a dot can
// reach peers and not its own row (a failed commit, kill -9 before the commit). The store then
// takes a new epoch (storage/store-life.ts) so the row's actor never claims the lost dot. The
// switch keeps the old epoch; as above, the seed that catches it must pass without it.
plantedRegression('a store keeps its epoch after a lost write', 'keepEpochAfterLostWrite', EPOCH_BUG_SEEDS);

/** With `bug` planted some seed up to `maxSeeds` loses an acknowledged add; that seed loses nothing without it. */
function plantedRegression(what: string, bug: 'actorWithoutCopy' | 'keepEpochAfterLostWrite', maxSeeds: number): void {
  t.test(`planted regression (${what}): caught within ${maxSeeds} seeds`, async (t) => {
    plantedBugs[bug] = true;
    t.teardown(() => {
      plantedBugs[bug] = false;
    });
    const caught = await firstLoss(maxSeeds);
    t.ok(caught !== undefined, 'the checker reports a lost acknowledged add');
    if (caught === undefined) return;
    t.comment(describe(caught, false));
    plantedBugs[bug] = false;
    const fixed = await runSeed(caught.result.seed);
    t.same(fixed.verdict.lost, [], `seed ${caught.result.seed} loses nothing without the planted bug (the switch is what lost the write)`);
  });
}
