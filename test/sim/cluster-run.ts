/**
 * One seed of the whole-cluster simulation judged by the fault tier's history checker
 * (test/fault/checker.ts): the simulation (@ringkv/node/testing, cluster-sim.ts) produces the
 * history and the final state, the checker the verdict. Shared by the CI test, the replay
 * command and the long soak.
 */
import { plantedBugs, runClusterSim, type ClusterSimOptions, type ClusterSimResult } from '@ringkv/node/testing';
import { check, readYourWrites, type ReadYourWrites, type Verdict } from '../fault/checker.js';

export interface SeedOutcome {
  readonly result: ClusterSimResult;
  readonly verdict: Verdict;
  /** Read-your-writes misses: reported, never a failure (sloppy quorums do not promise it). */
  readonly ryw: ReadYourWrites;
  /** The checker's verdict and the simulation's own problems (unexpected answers, stuck hints). */
  readonly ok: boolean;
}

export async function runSeed(seed: number, options: Omit<ClusterSimOptions, 'seed'> = {}): Promise<SeedOutcome> {
  const result = await runClusterSim({ seed, ...options });
  const verdict = check(result.history, result.final, result.siblingsMax);
  return { result, verdict, ryw: readYourWrites(result.history), ok: verdict.ok && result.problems.length === 0 };
}

/** A short report of one seed: the verdict, the counts, and on failure the last events. */
export function describe(outcome: SeedOutcome, withTrace = !outcome.ok): string {
  const { result, verdict, ryw } = outcome;
  const lines = [
    `seed ${result.seed}: ${outcome.ok ? 'ok' : 'FAILED'}; ${result.stats.operations} ops, ${verdict.acknowledged} acknowledged adds, ` +
      `${result.stats.events} events, ${result.stats.simulatedMs.toFixed(0)} simulated ms, faults ${JSON.stringify(result.stats.faults)}, trace ${result.traceHash}`,
    `  read-your-writes (reported, not judged): ${ryw.misses} of ${ryw.reads} reads missed an acknowledged add`,
  ];
  const list = (name: string, items: readonly string[]) => items.length > 0 && lines.push(`  ${name} (${items.length}): ${items.slice(0, 10).join('; ')}`);
  list('lost', verdict.lost);
  list('resurrected', verdict.resurrected);
  list('unconverged', verdict.unconverged);
  list('sibling bound', verdict.siblingViolations);
  list('problems', result.problems);
  list('read-your-writes misses', ryw.examples);
  if (withTrace) lines.push(`  last ${result.trace.length} events:`, ...result.trace.map((line) => `    ${line}`));
  if (!outcome.ok) lines.push(`  replay: ${replayCommand(result.seed)}`);
  return lines.join('\n');
}

/** The planted bugs switched on now, by name (plantedBugs in core/versioned.ts). */
export function plantedNow(): string[] {
  return Object.entries(plantedBugs).filter(([, on]) => on).map(([name]) => name);
}

/** Switches on the named planted bugs (and off the others); throws on an unknown name. */
export function plant(names: readonly string[]): void {
  for (const name of names) if (!(name in plantedBugs)) throw new Error(`no planted bug ${JSON.stringify(name)} (known: ${Object.keys(plantedBugs).join(', ')})`);
  for (const name of Object.keys(plantedBugs) as Array<keyof typeof plantedBugs>) plantedBugs[name] = names.includes(name);
}

/** The command that replays `seed` as it ran (with the planted bugs that were on). */
export function replayCommand(seed: number): string {
  const planted = plantedNow();
  return `node scripts/pnpm.mjs sim --seed ${seed}${planted.length > 0 ? ` --planted ${planted.join(',')}` : ''}`;
}

/** Totals over many seeds, for the CI comment and the soak report. */
export class Tally {
  seeds = 0;
  operations = 0;
  acknowledged = 0;
  deletedKeysChecked = 0;
  events = 0;
  simulatedMs = 0;
  readonly violations = { lost: 0, resurrected: 0, unconverged: 0, siblingBound: 0, problems: 0 };
  readonly faults: Record<string, number> = {};
  readonly messages = { sent: 0, lost: 0, duplicated: 0 };
  readonly ryw = { reads: 0, misses: 0 };
  /** Keys reaped (tombstones past the grace), and seeds whose cluster ended with a changed ring. */
  reaped = 0;
  ringChanged = 0;
  readonly failedSeeds: number[] = [];

  add({ result, verdict, ryw, ok }: SeedOutcome): void {
    this.ryw.reads += ryw.reads;
    this.ryw.misses += ryw.misses;
    this.reaped += result.stats.reaped;
    if (result.stats.nodesEver > 5 || result.stats.ring.length !== 5) this.ringChanged++;
    this.seeds++;
    this.operations += result.stats.operations;
    this.acknowledged += verdict.acknowledged;
    this.deletedKeysChecked += verdict.deletedKeysChecked;
    this.events += result.stats.events;
    this.simulatedMs += result.stats.simulatedMs;
    this.violations.lost += verdict.lost.length;
    this.violations.resurrected += verdict.resurrected.length;
    this.violations.unconverged += verdict.unconverged.length;
    this.violations.siblingBound += verdict.siblingViolations.length;
    this.violations.problems += result.problems.length;
    for (const [kind, count] of Object.entries(result.stats.faults)) this.faults[kind] = (this.faults[kind] ?? 0) + count;
    for (const key of ['sent', 'lost', 'duplicated'] as const) this.messages[key] += result.stats.messages[key];
    if (!ok) this.failedSeeds.push(result.seed);
  }

  report(wallMs: number): string {
    const faults = Object.entries(this.faults).map(([kind, count]) => `${kind} ${count}`).join(', ');
    return [
      `seeds run: ${this.seeds} (failed: ${this.failedSeeds.length === 0 ? 'none' : this.failedSeeds.slice(0, 20).join(', ')})`,
      `operations: ${this.operations}; acknowledged adds: ${this.acknowledged}; deleted keys checked for resurrection: ${this.deletedKeysChecked}`,
      `lost: ${this.violations.lost}; resurrected: ${this.violations.resurrected}; unconverged: ${this.violations.unconverged}; ` +
        `sibling-bound violations: ${this.violations.siblingBound}; other problems: ${this.violations.problems}`,
      `read-your-writes (reported, not judged): ${this.ryw.misses} of ${this.ryw.reads} reads missed an acknowledged add (${((100 * this.ryw.misses) / Math.max(1, this.ryw.reads)).toFixed(2)} %)`,
      `faults injected: ${faults}`,
      `seeds that ended with a changed ring: ${this.ringChanged}; tombstones reaped: ${this.reaped}`,
      `messages: ${this.messages.sent} sent, ${this.messages.lost} lost, ${this.messages.duplicated} duplicated`,
      `events: ${this.events}; simulated: ${(this.simulatedMs / 1000).toFixed(1)} s; wall: ${(wallMs / 1000).toFixed(1)} s (${(wallMs / Math.max(1, this.seeds)).toFixed(1)} ms a seed)`,
    ].join('\n');
  }
}
