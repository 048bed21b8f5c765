// The per-key Paxos core in a seeded simulation (issue 17): acceptors crash and restart, the
// network loses, duplicates, delays and reorders, clients crash, and the keys' preference list
// moves mid-run through a joint phase; every seed's history must be linearizable. Then planted
// bugs, which the checker must catch. PAXOS_SIM_SEEDS raises the seed count (the default, 200,
// and the planted bugs keep this file near 10 s on the 2-core machine; 1,000 seeds take 17-35 s).
import t from 'tap';
import { runPaxosSim, type PaxosSimResult } from './paxos-sim.js';

const SEEDS = Number(process.env.PAXOS_SIM_SEEDS ?? 200);
const FIRST = Number(process.env.PAXOS_SIM_FIRST_SEED ?? 1);

t.setTimeout(600_000);

function describe(result: PaxosSimResult): string {
  const verdict = result.verdict;
  const why = verdict.kind === 'violation' ? `key ${verdict.key}\n${verdict.report}` : JSON.stringify(verdict);
  return `seed ${result.seed}: ${verdict.kind}\n${why}\nreplay: runPaxosSim({ seed: ${result.seed}, trace: true }) in test/consensus/paxos-sim.ts`;
}

t.test(`${SEEDS} seeds of CAS under faults and a preference-list move: 0 linearizability violations`, async (t) => {
  const totals = { operations: 0, ok: 0, unknown: 0, failed: 0, casApplied: 0, casRefused: 0, acceptorCrashes: 0, clientCrashes: 0, staleLayoutRefusals: 0, messagesLost: 0, messagesDuplicated: 0 };
  let movedToNewList = 0;
  const failures: string[] = [];
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    const result = runPaxosSim({ seed });
    if (result.verdict.kind !== 'ok') failures.push(describe(result));
    for (const name of Object.keys(totals) as Array<keyof typeof totals>) totals[name] += result.stats[name];
    if (result.stats.finalLayout === 3) movedToNewList++;
    if (failures.length >= 3) break;
  }
  t.same(failures, [], 'every history is linearizable (checked, not unknown)');
  t.comment(JSON.stringify({ seeds: SEEDS, movedToNewList, ...totals }));
  // The run proves something only if it exercised what it claims to.
  t.ok(totals.casApplied > SEEDS && totals.casRefused > SEEDS, 'CAS both won and lost, often');
  t.ok(totals.unknown > SEEDS / 4, 'outcomes were unknown (client crashes, give-ups after an accept went out)');
  t.ok(totals.acceptorCrashes > SEEDS && totals.clientCrashes > SEEDS / 2, 'acceptors and clients crashed');
  t.ok(totals.messagesLost > 0 && totals.messagesDuplicated > 0, 'messages were lost and duplicated');
  t.ok(totals.staleLayoutRefusals > SEEDS / 2, 'rounds on an old layout were fenced off');
  t.ok(movedToNewList >= SEEDS * 0.9, `the preference list moved to the new list in ${movedToNewList} of ${SEEDS} seeds`);
  t.ok(totals.ok > totals.operations * 0.6, 'most operations completed');
});

t.test('a seed replays exactly', async (t) => {
  for (const seed of [FIRST, FIRST + 7]) {
    const a = runPaxosSim({ seed });
    const b = runPaxosSim({ seed });
    t.equal(a.fingerprint, b.fingerprint, `seed ${seed}: same events`);
    t.same(a.history, b.history, `seed ${seed}: same history`);
  }
  t.not(runPaxosSim({ seed: FIRST }).fingerprint, runPaxosSim({ seed: FIRST + 1 }).fingerprint, 'different seeds differ');
  const traced = runPaxosSim({ seed: FIRST, trace: true });
  t.ok(traced.trace.length > 100, 'a trace can be asked for');
});

/**
 * Seeds each planted bug may take to be caught (first caught at seeds 1, 1, 13 and 90 when
 * written; the forgotten promise needs a rare interleaving, a few seeds in 1,000, which
 * forgotten-promise.test.ts also plays directly).
 */
const PLANTED: Array<[Parameters<typeof runPaxosSim>[0]['bug'] & string, number, string]> = [
  ['skip-read', 10, 'a proposer that does not read the accepted states'],
  ['skip-joint-phase', 40, 'a move straight to the new list, no joint phase'],
  ['no-layout-fence', 150, 'acceptors that accept rounds on an old layout'],
  ['forget-promise-on-restart', 400, 'an acceptor that forgets its promise on restart'],
];

for (const [bug, seedsMax, what] of PLANTED) {
  t.test(`planted bug caught: ${what}`, async (t) => {
    let caughtAt: number | undefined;
    for (let seed = 1; seed <= seedsMax && caughtAt === undefined; seed++) {
      const result = runPaxosSim({ seed, bug });
      if (result.verdict.kind === 'violation') caughtAt = seed;
    }
    t.ok(caughtAt !== undefined, `${bug}: a violation within ${seedsMax} seeds (first at seed ${caughtAt})`);
  });
}
