/**
 * The cluster simulation from the command line (root script `sim`; build first, as the script
 * does):
 *
 *   pnpm sim --seed S [--trace N] [--planted-bug | --planted NAME[,NAME]]
 *       replays seed S exactly and prints its verdict, counts and last N events (default 60);
 *   pnpm sim --seeds COUNT [--from S] [--report FILE] [--planted-bug | --planted NAME[,NAME]]
 *       the long soak: COUNT seeds from S (default 1), progress every 1,000, then a short
 *       report (seeds run, operations, acknowledged adds, violations, faults injected), also
 *       written to FILE when given. SIM_SEEDS=COUNT works in place of --seeds.
 *
 * `--planted-bug` plants plantedBugs.staleContextOverwrites; `--planted` names any of the
 * plantedBugs switches (core/versioned.ts), e.g. `--planted actorWithoutCopy`.
 *
 * Exits 1 when any seed failed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describe, plant, plantedNow, runSeed, Tally } from './cluster-run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    from: { type: 'string' },
    trace: { type: 'string' },
    report: { type: 'string' },
    'planted-bug': { type: 'boolean' },
    planted: { type: 'string' },
  },
});

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer (got ${JSON.stringify(text)})`);
    process.exit(2);
  }
  return value;
}

try {
  plant([...(values['planted-bug'] ? ['staleContextOverwrites'] : []), ...(values.planted ?? '').split(',').filter(Boolean)]);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const count = values.seeds ?? process.env.SIM_SEEDS;
if (values.seed !== undefined) {
  const outcome = await runSeed(integer('seed', values.seed, 0), { traceLines: integer('trace', values.trace, 60) });
  console.log(describe(outcome, true));
  process.exit(outcome.ok ? 0 : 1);
} else if (count !== undefined) {
  const from = integer('from', values.from, 1);
  const seeds = integer('seeds', count, 0);
  const tally = new Tally();
  const startedMs = performance.now();
  for (let seed = from; seed < from + seeds; seed++) {
    const outcome = await runSeed(seed);
    tally.add(outcome);
    if (!outcome.ok) console.log(describe(outcome));
    if (tally.seeds % 1_000 === 0) console.log(`${tally.seeds} seeds, ${tally.failedSeeds.length} failed, ${((performance.now() - startedMs) / 1000).toFixed(0)} s`);
  }
  const planted = plantedNow();
  const report = `cluster simulation soak, seeds ${from}..${from + seeds - 1}${planted.length > 0 ? ` (planted: ${planted.join(', ')})` : ''}\n${tally.report(performance.now() - startedMs)}\n`;
  console.log(report);
  if (values.report !== undefined) writeFileSync(values.report, report);
  process.exit(tally.failedSeeds.length === 0 ? 0 : 1);
} else {
  console.error('usage: pnpm sim --seed S [--trace N] [--planted-bug | --planted NAME[,NAME]] | pnpm sim --seeds COUNT [--from S] [--report FILE] [--planted-bug | --planted NAME[,NAME]]');
  process.exit(2);
}
