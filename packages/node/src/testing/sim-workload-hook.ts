/**
 * How a workload beside the set workload plugs into the cluster simulation (cluster-sim.ts,
 * option `workloads`): it is made from the run's world, runs its clients while the set
 * workload does (under the same nemesis), and after the heal and the set keys' final reads it
 * reads its own keys at R = N. It keeps its history and verdict inputs itself; the run only
 * reports its problems. The data-type workload (sim-dt-workload.ts) is one.
 */
import type { SimClient } from './sim-client.js';
import type { SimClock } from './sim-clock.js';
import type { SimNode } from './sim-node.js';

/** What a workload is given: the run's clock, client, seeded randomness and nodes. */
export interface SimWorkloadEnv {
  readonly clock: SimClock;
  readonly client: SimClient;
  readonly random: () => number;
  /** The nodes a client may send to now (up, not zombies). */
  readonly reachable: () => SimNode[];
  /** A ring member that is up (valid after the heal): where the final reads go. */
  readonly anchor: () => SimNode;
  /** Ring members that are up (valid after the heal). */
  readonly members: () => SimNode[];
  /** The replication factor (final reads are at R = n). */
  readonly n: number;
  readonly trace: (line: string) => void;
}

export interface SimExtraWorkload {
  /** Runs the clients until `untilMs` (simulated); resolves when the last one stopped. */
  run(untilMs: number): Promise<void>;
  /** After the heal: reads the workload's keys at R = n and keeps what they hold. */
  finish(): Promise<void>;
  /** Answers no correct node gives, failed final reads: the run reports them as problems. */
  readonly problems: readonly string[];
}

export type SimWorkloadFactory = (env: SimWorkloadEnv) => SimExtraWorkload;
