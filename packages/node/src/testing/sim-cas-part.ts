/**
 * The compare-and-set part of a cluster simulation run (ClusterSim's `cas` option): the CAS
 * workload during the faults, and after the heal one consistent read of every CAS key, which
 * must answer (the healed ring is available) and joins the history, so a state lost while the
 * ring changed shows as a read the checker cannot place.
 */
import type { Operation } from './linearizability/history.js';
import type { SimClient } from './sim-client.js';
import type { SimClock } from './sim-clock.js';
import type { SimNode } from './sim-node.js';
import { CasWorkload, type CasWorkloadStats } from './sim-cas-workload.js';

/** What the CAS part hands back with the run's result. */
export interface CasSimOutcome {
  readonly history: readonly Operation[];
  readonly stats: CasWorkloadStats;
  /** Answers no correct node gives, and final reads that did not answer. */
  readonly problems: readonly string[];
}

/** timeout_ms of a CAS request: a learn after a ring change and a few backed-off ballots fit. */
const CAS_REQUEST_TIMEOUT_MS = 400;
/** Attempts of a final read before it is reported. */
const FINAL_READ_ATTEMPTS = 8;

export class CasSimPart {
  private readonly workload: CasWorkload;
  private readonly keys: string[];
  private readonly problems: string[] = [];

  constructor(clock: SimClock, client: SimClient, random: () => number, up: () => SimNode[], options: { readonly keys: number; readonly clients: number }, trace: (line: string) => void) {
    this.keys = Array.from({ length: options.keys }, (_, i) => `cas-${i}`);
    this.workload = new CasWorkload(clock, client, random, up, { keys: this.keys, clients: options.clients, thinkMsMax: 10, requestTimeoutMs: CAS_REQUEST_TIMEOUT_MS }, trace);
  }

  run(untilMs: number): Promise<void> {
    return this.workload.run(untilMs);
  }

  /** One consistent read of each key on the healed ring, retried a few times. */
  async finalReads(anchor: () => SimNode): Promise<void> {
    for (const key of this.keys) {
      let answered = false;
      for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS && !answered; attempt++) {
        const op = await this.workload.perform('final', anchor(), key, { kind: 'read' });
        answered = op.outcome.status === 'ok';
      }
      if (!answered) this.problems.push(`the final consistent read of ${key} never answered`);
    }
  }

  outcome(): CasSimOutcome {
    return { history: this.workload.history, stats: this.workload.stats, problems: [...this.workload.unexpected, ...this.problems] };
  }
}
